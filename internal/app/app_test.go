package app

import (
	"hrss-backoffice/internal/config"
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

// REGISTRATION_REVISION reaches the API: a rollout that sets an older
// revision gets reviews of that revision (docs/operations.md).
func TestAPIStartsReviewsOfTheConfiguredRevision(t *testing.T) {
	for _, rev := range []int{0, 1} {
		a := &App{Config: config.Config{RegistrationRevision: rev}}
		d, err := a.APIDeps()
		if err != nil {
			t.Fatal(err)
		}
		if d.RegistrationRevision != rev {
			t.Errorf("REGISTRATION_REVISION=%d: the API starts revision %d", rev, d.RegistrationRevision)
		}
	}
}
