package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
)

// C3.1/C1.5, C2.2, C3.2, C3.3, C3.5: the intake sweeper asks, for each
// untaken document older than the safe delay, the run that would hold it
// (the workflow and Update IDs the API uses), sweeps at its interval and
// continues as new after a bounded number of sweeps.
func TestIntakeSweeperNamesTheRunOfEachDocument(t *testing.T) {
	env := newEnv(t)
	listed := []activities.UntakenIntake{
		{Kind: activities.IntakeApplication, ID: "app-1"},
		{Kind: activities.IntakeSupplement, ID: "sup-1", ParentID: "app-2"},
		{Kind: activities.IntakeCase, ID: "case-1", Sub: KindViolation},
		{Kind: activities.IntakeSubmission, ID: "sub-1", Sub: KindFraud, ParentID: "case-2"},
		{Kind: activities.IntakeSubmission, ID: "sub-2", ParentID: "sanction-1"},
		{Kind: activities.IntakeDataChange, ID: "dc-1"},
		{Kind: activities.IntakeDeregistration, ID: "dr-1", Sub: "account", ParentID: "acct-1"},
		{Kind: activities.IntakeDeregistration, ID: "dr-2", Sub: "services", ParentID: "acct-1"},
		{Kind: activities.IntakeReset, ID: "reset-1", ParentID: "acct-2"},
	}
	var queries []activities.UntakenQuery
	var asked [][]activities.UntakenIntake
	env.OnActivity(a.ListUntakenIntakes, mock.Anything, mock.Anything).Return(func(_ context.Context, q activities.UntakenQuery) ([]activities.UntakenIntake, error) {
		queries = append(queries, q)
		if len(queries) == 1 {
			return listed, nil
		}
		return nil, nil
	})
	env.OnActivity(a.DiscardUntakenIntakes, mock.Anything, mock.Anything).Return(func(_ context.Context, l []activities.UntakenIntake) (int, error) {
		asked = append(asked, l)
		return 2, nil
	})
	env.ExecuteWorkflow(IntakeSweeper, IntakeSweepInput{Settings: IntakeSweepSettings{Every: time.Hour, After: 6 * time.Hour}})

	require.True(t, env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can))
	require.Len(t, asked, 1)
	type run struct{ wf, update, alt string }
	var got []run
	for _, it := range asked[0] {
		got = append(got, run{it.WorkflowID, it.UpdateID, it.AltWorkflowID})
	}
	require.Equal(t, []run{
		{"registration/app-1", "", ""},
		{"registration/app-2", "sup-1", ""},
		{"violation/case-1", "", ""},
		{"fraud/case-2", "sub-1", ""},
		{"sanction/sanction-1", "sub-2", ""},
		{"data-change/dc-1", "", ""},
		{"deregistration/acct-1", "", ""},
		{ServiceCancellationWorkflowID("dr-2"), "", ""},
		{"password-reset/reset-1", "reset-1", "compromise/acct-2"},
	}, got)
	require.Equal(t, 6*time.Hour, queries[0].OlderThan)
	require.Len(t, queries, sweepsPerRun, "one page per sweep (a short page is the last)")
	require.Equal(t, time.Hour, queries[2].AsOf.Sub(queries[1].AsOf), "a sweep every hour")
}
