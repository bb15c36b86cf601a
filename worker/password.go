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
	return ensureOne(ctx, c, taskQueue, workflows.PasswordAgeWorkflowID(taskQueue),
		workflows.RunRecord{Kind: workflows.KindPasswordAge, Clause: "C3.3(2)", Console: "/console/operations"},
		workflows.SignalPasswordAgeSettings, settings, workflows.PasswordAgeReminder, workflows.PasswordAgeInput{Settings: settings})
}

// EnsureIntakeSweeper starts the one intake sweeper of the task queue if
// it is not running and hands it the current settings (signal-with-start).
func EnsureIntakeSweeper(ctx context.Context, c client.Client, taskQueue string, settings workflows.IntakeSweepSettings) error {
	settings = settings.WithDefaults()
	return ensureOne(ctx, c, taskQueue, workflows.IntakeSweepWorkflowID(taskQueue),
		workflows.RunRecord{Kind: workflows.KindIntakeSweep, Clause: "C1.5", Console: "/console/operations"},
		workflows.SignalIntakeSweepSettings, settings, workflows.IntakeSweeper, workflows.IntakeSweepInput{Settings: settings})
}

// ensureOne signals the settings to the task queue's single run of wf
// (workflow ID id), starting it with input and its run record if it is not
// running.
func ensureOne(ctx context.Context, c client.Client, taskQueue, id string, rec workflows.RunRecord, signal string, settings any,
	wf any, input any) error {
	opts := client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}
	opts.TypedSearchAttributes, opts.Memo = rec.Search(workflows.StatusIdle, time.Now()), rec.Memo()
	_, err := c.SignalWithStartWorkflow(ctx, id, signal, settings, opts, wf, input)
	return err
}
