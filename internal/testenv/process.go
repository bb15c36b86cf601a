package testenv

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// startProcess runs bin with args for the test, in a process group of its
// own, writing its output to logPath. When the test ends it is
// interrupted and, after grace, killed with its group. The returned check
// fails the test with the log when the process has stopped (call it while
// waiting for the process to be ready).
func startProcess(t testing.TB, what, logPath string, grace time.Duration, bin string, args ...string) (check func()) {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", what, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(grace):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		_ = logFile.Close()
	})
	return func() {
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("%s stopped:\n%s", what, log)
		default:
		}
	}
}
