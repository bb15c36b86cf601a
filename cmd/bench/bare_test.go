package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
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

// The shaped baseline carries the decision out after its checks, as the
// registration review does; the minimal one runs both at once. With the
// checks taking a minute and the decision arriving after a second, the
// decision's activity (a minute too) ends at 2m or at 1m1s.
func TestShapedBareDecidesAfterItsChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		wf   any
		want time.Duration
	}{{"BareReviewShaped", BareReviewShaped, time.Minute}, {"BareReview", BareReview, time.Second}} {
		var s testsuite.WorkflowTestSuite
		env := s.NewTestWorkflowEnvironment()
		registerBare(env)
		start := env.Now()
		var ends []time.Duration
		env.OnActivity(BareStep, mock.Anything).Run(func(mock.Arguments) { ends = append(ends, env.Now().Sub(start)) }).
			After(time.Minute).Return(nil)
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow("decide", "u1", &testsuite.TestUpdateCallback{OnAccept: func() {}, OnReject: func(error) {},
				OnComplete: func(interface{}, error) {}})
		}, time.Second)
		env.ExecuteWorkflow(tc.wf)
		if len(ends) != 2 || ends[1].Round(time.Second) != tc.want+time.Minute {
			t.Fatalf("%s: activities ended at %v, want the decision's at %v", tc.name, ends, tc.want+time.Minute)
		}
	}
}
