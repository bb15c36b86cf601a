package app

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// No binary links the test harness (issue 16): the commands build the
// application through this package and plain packages, never through
// internal/testenv or internal/testdb, which are for tests only.
func TestNoBinaryLinksTheTestHarness(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	cmd := exec.Command(goBin, "list", "-deps", "./cmd/...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./cmd/...: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "hrss-backoffice/internal/testenv" || pkg == "hrss-backoffice/internal/testdb" {
			t.Errorf("a command links %s", pkg)
		}
	}
}
