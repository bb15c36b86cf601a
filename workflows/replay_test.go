package workflows_test

import (
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"

	hrssworker "hrss-backoffice/worker"
)

// TestReplayCommittedHistories replays every history exported from real
// runs (e2e tests with UPDATE_HISTORIES=1) against today's workflow code.
// A change that breaks determinism for running workflows fails here; guard
// such changes with workflow.GetVersion.
func TestReplayCommittedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no committed histories to replay")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			hrssworker.RegisterWorkflows(r)
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}

// The replayer must notice a change: a history whose recorded activity was
// swapped for another must fail to replay.
func TestReplayDetectsNonDeterminism(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "histories", "registration_approved.json"))
	if err != nil {
		t.Fatal(err)
	}
	tampered := []byte(replaceFirst(string(src), `"name": "ApproveApplication"`, `"name": "CloseApplication"`))
	if string(tampered) == string(src) {
		t.Fatal("the history has no ApproveApplication activity to tamper with")
	}
	f := filepath.Join(t.TempDir(), "tampered.json")
	if err := os.WriteFile(f, tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	r := worker.NewWorkflowReplayer()
	hrssworker.RegisterWorkflows(r)
	if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err == nil {
		t.Fatal("a tampered history replayed without error")
	}
}

func replaceFirst(s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	return s
}
