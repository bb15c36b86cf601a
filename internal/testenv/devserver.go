package testenv

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"hrss-backoffice/workflows"
)

// TemporalCLI is the Temporal CLI for tests that need a dev server of their
// own: $TEMPORAL_CLI, else the repository's .tools/bin/temporal (where `make
// run` and `make test` install it). Without it the test is skipped, unless
// HRSS_INTEGRATION=1 (then it fails).
func TemporalCLI(t testing.TB) string {
	t.Helper()
	return toolBinary(t, "TEMPORAL_CLI", "temporal", "the Temporal CLI")
}

// toolBinary is a pinned tool for the tests: $env, else the repository's
// .tools/bin/name (where scripts/lib.sh installs it). Without it the test
// is skipped, unless HRSS_INTEGRATION=1 (then it fails).
func toolBinary(t testing.TB, env, name, what string) string {
	t.Helper()
	bin := os.Getenv(env)
	if bin == "" {
		_, file, _, _ := runtime.Caller(0)
		bin = filepath.Join(filepath.Dir(file), "..", "..", ".tools", "bin", name)
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("HRSS_INTEGRATION") == "1" {
			t.Fatalf("%s is missing (%s) but HRSS_INTEGRATION=1: set %s", what, bin, env)
		}
		t.Skipf("%s is missing (%s): set %s", what, bin, env)
	}
	return bin
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartDevServerWithUI starts a Temporal dev server with its web UI on free
// ports (in memory, with the search attributes of workflows.SearchAttributeNames),
// waits until both answer, and stops it when the test ends. It returns the
// frontend address and the UI's URL.
func StartDevServerWithUI(t testing.TB) (address, uiURL string) {
	t.Helper()
	d := startDevServer(t, "")
	return d.Address, d.UIURL
}

// DevServer is a dev server a test started itself.
type DevServer struct {
	Address, UIURL string
	// DBFile is its SQLite file ("" when in memory); LogFile its output.
	DBFile, LogFile string
}

// StartDevServerWithFile starts a dev server (with UI) that persists to a
// SQLite file in the test's temporary directory, logging at info level, so
// a test can search what the server stored and logged.
func StartDevServerWithFile(t testing.TB) DevServer {
	t.Helper()
	return startDevServer(t, filepath.Join(t.TempDir(), "temporal.db"))
}

func startDevServer(t testing.TB, dbFile string) DevServer {
	t.Helper()
	cli := TemporalCLI(t)
	port, uiPort := freePort(t), freePort(t)
	for uiPort == port {
		uiPort = freePort(t)
	}
	address := fmt.Sprintf("127.0.0.1:%d", port)
	uiURL := fmt.Sprintf("http://127.0.0.1:%d", uiPort)
	logPath := filepath.Join(t.TempDir(), "temporal.log")
	args := []string{"server", "start-dev", "--ip", "127.0.0.1", "--port", fmt.Sprint(port),
		"--ui-port", fmt.Sprint(uiPort), "--headless=false", "--namespace", "default",
		"--log-level", "warn"}
	for _, name := range slices.Sorted(maps.Keys(workflows.SearchAttributeNames)) {
		args = append(args, "--search-attribute", name+"="+workflows.SearchAttributeNames[name])
	}
	if dbFile != "" {
		args = append(args, "--db-filename", dbFile, "--log-level", "info")
	}
	alive := startProcess(t, "the Temporal dev server", logPath, 15*time.Second, cli, args...)
	ready := func() bool {
		alive()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c, err := client.DialContext(ctx, client.Options{HostPort: address, Logger: quietLogger{}})
		if err != nil {
			return false
		}
		defer c.Close()
		if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			return false
		}
		resp, err := http.Get(uiURL + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	Eventually(t, 90*time.Second, "the Temporal dev server and its web UI", ready)
	return DevServer{Address: address, UIURL: uiURL, DBFile: dbFile, LogFile: logPath}
}
