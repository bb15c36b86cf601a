package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/api"
	"hrss-backoffice/internal/payloadcodec"
	"hrss-backoffice/internal/sealed"
	"hrss-backoffice/internal/testdb"
	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// The fault-injection test's machinery (faults_test.go): restarting
// Postgres and the cluster's services, the pair of API instances, and the
// worker processes it kills.

// restartPostgres restarts the cluster in dataDir with pg_ctl (as the
// postgres user when running as root, since the server refuses root),
// waiting until it accepts connections again. Its settings live in the
// cluster's configuration, so it comes back on the same port.
func restartPostgres(t *testing.T, dataDir string) {
	pgCtl := "pg_ctl"
	if dir := os.Getenv("PG_BIN_DIR"); dir != "" {
		pgCtl = filepath.Join(dir, "pg_ctl")
	}
	argv := []string{pgCtl, "-D", dataDir, "-m", "fast", "-w", "-t", "60", "restart"}
	if logFile := os.Getenv("HRSS_PG_LOG"); logFile != "" {
		argv = append(argv, "-l", logFile)
	}
	if os.Geteuid() == 0 {
		argv = append([]string{"runuser", "-u", "postgres", "--"}, argv...)
	}
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Errorf("restart Postgres: %v\n%s", err, out)
	}
}

// killAndRestartClusterService SIGKILLs one service of the cluster
// scripts/test.sh started and starts it again with the same command line,
// environment and working directory, appending to its log, and writes the
// new PID to its PID file (scripts/test.sh stops it from there).
func killAndRestartClusterService(t *testing.T, svc string) {
	pid := testenv.ClusterServicePID(t, svc)
	proc := fmt.Sprintf("/proc/%d/", pid)
	cmdline, err := os.ReadFile(proc + "cmdline")
	require.NoError(t, err)
	environ, err := os.ReadFile(proc + "environ")
	require.NoError(t, err)
	cwd, err := os.Readlink(proc + "cwd")
	require.NoError(t, err)
	argv := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	require.Contains(t, strings.Join(argv, " "), "--service "+svc, "PID %d is the %s service", pid, svc)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	// Gone, or a zombie until scripts/test.sh reaps it.
	testenv.Eventually(t, 20*time.Second, "the "+svc+" service to die", func() bool {
		st, err := os.ReadFile(proc + "stat")
		if err != nil {
			return true
		}
		fields := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:]))
		return len(fields) > 0 && fields[0] == "Z"
	})
	logFile, err := os.OpenFile(filepath.Join(os.Getenv("HRSS_CLUSTER_LOG_DIR"), "temporal-"+svc+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = strings.Split(strings.TrimRight(string(environ), "\x00"), "\x00")
	cmd.Dir = cwd
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	require.NoError(t, cmd.Start(), "restart the %s service", svc)
	go func() { _ = cmd.Wait(); _ = logFile.Close() }()
	require.NoError(t, os.WriteFile(filepath.Join(os.Getenv("HRSS_CLUSTER_RUN_DIR"), "temporal-"+svc+".pid"),
		[]byte(fmt.Sprintf("%d\n", cmd.Process.Pid)), 0o644))
	t.Logf("SIGKILLed the %s service (pid %d) and started it again (pid %d)", svc, pid, cmd.Process.Pid)
}

// apiPair is two API instances on one handler (the same database and
// Temporal client), reached by turns; one can be cut off (listener and open
// connections closed at once, as when its process dies) and replaced.
type apiPair struct {
	mu      sync.Mutex
	handler http.Handler
	srv     [2]*httptest.Server
	down    [2]bool
	next    int
}

// url is the instance for the next request, by turns. A request sent to
// the instance that is down gets no answer and is retried like any other
// failed request (the retry goes to the next instance).
func (a *apiPair) url() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.next++
	i := a.next % 2
	if a.srv[i] == nil {
		i = 0
	}
	return a.srv[i].URL
}

func (a *apiPair) cut(i int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.srv[i].CloseClientConnections()
	a.srv[i].Listener.Close()
	a.down[i] = true
}

func (a *apiPair) restore(i int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.srv[i].Close()
	a.srv[i] = httptest.NewServer(a.handler)
	a.down[i] = false
}

func (a *apiPair) closeAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.srv {
		if s != nil {
			s.Close()
		}
	}
}

// proc is a child process that can be killed and started again.
type proc struct {
	t    *testing.T
	name string
	argv []string
	env  []string
	log  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *proc) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(p.t, err)
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(p.t, cmd.Start(), p.name)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = f.Close(); close(done) }()
	p.cmd, p.done = cmd, done
}

func (p *proc) stop(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	p.cmd = nil
}

func freeTCPPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// faultsTemporal is the Temporal the fault-injection test runs on: the
// cluster scripts/test.sh started (its services are killed by the test),
// or a file-backed dev server of its own in dir, which the test restarts
// (temporal; nil on the cluster).
func faultsTemporal(t *testing.T, cluster bool, dir string) (address string, temporal *proc) {
	if cluster {
		// The cluster scripts/test.sh started; the test kills its services.
		address = os.Getenv("TEMPORAL_ADDRESS")
		for _, svc := range []string{"history", "matching", "frontend"} {
			testenv.ClusterServicePID(t, svc)
		}
	} else {
		// A file-backed Temporal dev server of our own, restartable.
		port := freeTCPPort(t)
		address = fmt.Sprintf("127.0.0.1:%d", port)
		argv := []string{testenv.TemporalCLI(t), "server", "start-dev",
			"--headless", "--ip", "127.0.0.1", "--port", fmt.Sprint(port), "--namespace", "default", "--db-filename", filepath.Join(dir, "temporal.db"),
			"--log-level", "error"}
		// The same search attributes as every other dev server of ours.
		for _, name := range slices.Sorted(maps.Keys(workflows.SearchAttributeNames)) {
			argv = append(argv, "--search-attribute", name+"="+workflows.SearchAttributeNames[name])
		}
		temporal = &proc{t: t, name: "temporal", log: filepath.Join(dir, "temporal.log"), argv: argv}
		temporal.start()
		t.Cleanup(func() { temporal.stop(syscall.SIGTERM) })
	}
	return address, temporal
}

// buildHrss builds cmd/hrss into a temporary directory, for the tests that
// run `hrss worker` as processes; it answers the directory and the binary.
func buildHrss(t *testing.T) (dir, bin string) {
	dir = t.TempDir()
	bin = filepath.Join(dir, "hrss")
	build := exec.Command("go", "build", "-o", bin, "../cmd/hrss")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	require.NoError(t, build.Run())
	return dir, bin
}

// procStack is what the tests with worker processes share: a database, the
// sealing and payload keys, a client with the codec, the API in process on
// an httptest server (Stack.URL), and the environment of `hrss worker`.
type procStack struct {
	*testenv.Stack
	handler   http.Handler
	srv       *httptest.Server
	workerEnv []string
}

// newProcStack builds it against the Temporal frontend at address (waiting
// for it to answer), on a task queue named after prefix; tune adjusts the
// API's settings.
func newProcStack(t *testing.T, address, prefix string, tune func(*api.Deps)) procStack {
	db, dbURL := testdb.New(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	pickupKey := base64.StdEncoding.EncodeToString(key)
	box, err := sealed.NewBox(pickupKey)
	require.NoError(t, err)
	keys := payloadcodec.NewKey("f1")
	codec, err := payloadcodec.Parse(keys)
	require.NoError(t, err)
	var c client.Client
	testenv.Eventually(t, 60*time.Second, "the Temporal frontend", func() bool {
		c, err = client.Dial(client.Options{HostPort: address, Namespace: "default", Logger: quiet{},
			DataConverter: payloadcodec.DataConverter(codec), FailureConverter: payloadcodec.FailureConverter(codec)})
		if err != nil {
			return false
		}
		if _, err = c.CheckHealth(context.Background(), &client.CheckHealthRequest{}); err != nil {
			c.Close()
			return false
		}
		return true
	})
	t.Cleanup(c.Close)
	tq := prefix + "-" + uuid.NewString()
	require.NoError(t, api.BootstrapAdmin(db, testenv.AdminUsername, testenv.AdminPassword, testenv.FastHash))
	deps := api.Deps{DB: db, Temporal: c, Box: box, TaskQueue: tq, Namespace: "default", Hash: testenv.FastHash, Codec: codec,
		AnonLimits: api.NoAnonLimits, AnswerFloor: -1, MobileCodes: api.MobileCodeSettings{Off: true},
		RegistrationRevision: workflows.RegistrationRevision} // as REGISTRATION_REVISION's default
	if tune != nil {
		tune(&deps)
	}
	e, err := api.New(deps)
	require.NoError(t, err)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return procStack{
		Stack:   &testenv.Stack{T: t, DB: db, Temporal: c, TaskQueue: tq, URL: srv.URL, Box: box, Codec: codec},
		handler: e, srv: srv,
		workerEnv: []string{"DATABASE_URL=" + dbURL, "TEMPORAL_ADDRESS=" + address, "TEMPORAL_TASK_QUEUE=" + tq,
			"PICKUP_KEY=" + pickupKey, "PAYLOAD_KEYS=" + keys, "WORKER_METRICS_ADDR=127.0.0.1:0"},
	}
}
