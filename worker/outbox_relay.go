package worker

import (
	"context"

	"go.temporal.io/sdk/client"

	"hrss-backoffice/workflows"
)

// EnsureOutboxRelay starts the one outbox relay of the task queue if it is
// not running and hands it the current settings (signal-with-start).
func EnsureOutboxRelay(ctx context.Context, c client.Client, taskQueue string, settings workflows.OutboxRelaySettings) error {
	settings = settings.WithDefaults()
	return ensureOne(ctx, c, taskQueue, workflows.OutboxRelayWorkflowID(taskQueue),
		workflows.RunRecord{Kind: workflows.KindOutboxRelay, Clause: "C1.5", Console: "/console/operations"},
		workflows.SignalOutboxRelaySettings, settings, workflows.OutboxRelay, workflows.OutboxRelayInput{Settings: settings})
}
