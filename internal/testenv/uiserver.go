package testenv

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// UIServerBinary is the pinned Temporal web UI server (scripts/lib.sh,
// ensure_ui_server): $TEMPORAL_UI_SERVER, else the repository's
// .tools/bin/temporal-ui-server. Without it the test is skipped, unless
// HRSS_INTEGRATION=1 (then it fails).
func UIServerBinary(t testing.TB) string {
	t.Helper()
	return toolBinary(t, "TEMPORAL_UI_SERVER", "temporal-ui-server", "the Temporal UI server")
}

// ReserveUIURL picks a free port for a web UI started later with
// StartUIServer (the stack needs the UI's URL before the UI needs the
// stack's codec endpoint).
func ReserveUIURL(t testing.TB) string {
	t.Helper()
	UIServerBinary(t)
	return fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
}

// StartUIServer runs the web UI at uiURL (from ReserveUIURL) for the
// Temporal frontend at address, decoding through codecEndpoint with the
// browser's credentials, the way `make run` runs it; it stops when the test
// ends.
func StartUIServer(t testing.TB, uiURL, address, codecEndpoint string) {
	t.Helper()
	bin := UIServerBinary(t)
	var port int
	if _, err := fmt.Sscanf(uiURL, "http://127.0.0.1:%d", &port); err != nil {
		t.Fatalf("UI URL %q: %v", uiURL, err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`temporalGrpcAddress: %s
host: 127.0.0.1
port: %d
enableUi: true
defaultNamespace: default
notifyOnNewVersion: false
hideLogs: true
cors:
  cookieInsecure: true
codec:
  endpoint: %s
  passAccessToken: false
  includeCredentials: true
`, address, port, codecEndpoint)
	if err := os.WriteFile(filepath.Join(dir, "config", "hrss.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "ui-server.log")
	alive := startProcess(t, "the Temporal UI server", logPath, 10*time.Second,
		bin, "--root", dir, "--config", "config", "--env", "hrss", "start")
	Eventually(t, 60*time.Second, "the Temporal web UI", func() bool {
		alive()
		resp, err := http.Get(uiURL + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}
