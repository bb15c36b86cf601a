package worker

import (
	"time"

	"context"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/workflows"
)

// EnsurePasswordAgeReminder starts the one password-age workflow of the
// task queue if it is not running, and hands it the current settings
// (signal-with-start), so a restart with new settings takes effect without
// a second workflow.
func EnsurePasswordAgeReminder(ctx context.Context, c client.Client, taskQueue string, settings workflows.PasswordSettings) error {
	settings = settings.WithDefaults()
	opts := client.StartWorkflowOptions{
		ID:                       workflows.PasswordAgeWorkflowID(taskQueue),
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}
	rec := workflows.RunRecord{Kind: workflows.KindPasswordAge, Clause: "C3.3(2)", Console: "/console/operations"}
	opts.TypedSearchAttributes, opts.Memo = rec.Search(workflows.StatusIdle, time.Now()), rec.Memo()
	_, err := c.SignalWithStartWorkflow(ctx, opts.ID, workflows.SignalPasswordAgeSettings, settings, opts,
		workflows.PasswordAgeReminder, workflows.PasswordAgeInput{Settings: settings})
	return err
}

// EnsureIntakeSweeper starts the one intake sweeper of the task queue if
// it is not running and hands it the current settings (signal-with-start).
func EnsureIntakeSweeper(ctx context.Context, c client.Client, taskQueue string, settings workflows.IntakeSweepSettings) error {
	settings = settings.WithDefaults()
	opts := client.StartWorkflowOptions{
		ID:                       workflows.IntakeSweepWorkflowID(taskQueue),
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}
	rec := workflows.RunRecord{Kind: workflows.KindIntakeSweep, Clause: "C1.5", Console: "/console/operations"}
	opts.TypedSearchAttributes, opts.Memo = rec.Search(workflows.StatusIdle, time.Now()), rec.Memo()
	_, err := c.SignalWithStartWorkflow(ctx, opts.ID, workflows.SignalIntakeSweepSettings, settings, opts,
		workflows.IntakeSweeper, workflows.IntakeSweepInput{Settings: settings})
	return err
}
