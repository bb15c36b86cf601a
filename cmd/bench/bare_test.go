package main

import (
	"testing"

	"go.temporal.io/sdk/testsuite"
)

// The bare baselines must themselves work: one activity, an update running
// a second, completion (the shaped one after its pickup window's timer).
func TestBareReviewCompletesAfterItsUpdate(t *testing.T) {
	for _, wf := range []any{BareReview, BareReviewShaped} {
		bareCompletes(t, wf)
	}
}

func bareCompletes(t *testing.T, wf any) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	registerBare(env)
	var got string
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow("decide", "u1", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { t.Errorf("rejected: %v", err) },
			OnComplete: func(res interface{}, err error) {
				if err != nil {
					t.Errorf("update: %v", err)
					return
				}
				got = res.(string)
			},
		})
	}, 0)
	env.ExecuteWorkflow(wf)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil || got != "approved" {
		t.Fatalf("completed=%v err=%v got=%q", env.IsWorkflowCompleted(), env.GetWorkflowError(), got)
	}
}
