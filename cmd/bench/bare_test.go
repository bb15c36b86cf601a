package main

import (
	"testing"

	"go.temporal.io/sdk/testsuite"
)

// The bare baseline must itself work: one activity, an update running a
// second, completion.
func TestBareReviewCompletesAfterItsUpdate(t *testing.T) {
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
	env.ExecuteWorkflow(BareReview)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil || got != "approved" {
		t.Fatalf("completed=%v err=%v got=%q", env.IsWorkflowCompleted(), env.GetWorkflowError(), got)
	}
}
