package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
)

// KindOutboxRelay is the HrssKind of the outbox relay.
const KindOutboxRelay = "outbox_relay"

// SignalOutboxRelaySettings replaces the relay's settings.
const SignalOutboxRelaySettings = "outbox_relay_settings"

// OutboxRelayWorkflowID names the one outbox relay of a task queue.
func OutboxRelayWorkflowID(taskQueue string) string { return "outbox-relay/" + taskQueue }

// OutboxRelaySettings: how often the relay looks for due messages.
type OutboxRelaySettings struct {
	Every time.Duration
	Batch int
}

// DefaultOutboxRelaySettings: every minute, up to 200 messages a source.
var DefaultOutboxRelaySettings = OutboxRelaySettings{Every: time.Minute, Batch: 200}

// WithDefaults fills zero fields.
func (s OutboxRelaySettings) WithDefaults() OutboxRelaySettings {
	if s.Every <= 0 {
		s.Every = DefaultOutboxRelaySettings.Every
	}
	if s.Batch <= 0 {
		s.Batch = DefaultOutboxRelaySettings.Batch
	}
	return s
}

// OutboxRelayInput carries the settings and counters across continue-as-new.
type OutboxRelayInput struct {
	Settings OutboxRelaySettings
	Passes   int
	Sent     int
}

// relayPassesPerRun bounds a run's history before it continues as new.
const relayPassesPerRun = 500

// OutboxRelay retries the applicants' notices whose first send failed
// (activities.RelayOutbox): a pass every Every, timers and one activity
// each, so it is deterministic; counts only, no message data, in its
// history.
func OutboxRelay(ctx workflow.Context, in OutboxRelayInput) error {
	st := in
	st.Settings = in.Settings.WithDefaults()
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (OutboxRelayInput, error) { return st, nil }); err != nil {
		return err
	}
	settings := workflow.GetSignalChannel(ctx, SignalOutboxRelaySettings)
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	for n := 0; ; n++ {
		var r activities.RelayResult
		pass := activities.RelayInput{Prefix: activities.RelayedSourcePrefix, Batch: st.Settings.Batch}
		if err := workflow.ExecuteActivity(ctx, a.RelayOutbox, pass).Get(ctx, &r); err != nil {
			return err
		}
		st.Passes++
		st.Sent += r.Sent
		if n+1 >= relayPassesPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			for {
				var s OutboxRelaySettings
				if !settings.ReceiveAsync(&s) {
					break
				}
				st.Settings = s.WithDefaults()
			}
			return workflow.NewContinueAsNewError(ctx, OutboxRelay, st)
		}
		timer := workflow.NewTimer(ctx, st.Settings.Every)
		for fired := false; !fired; {
			sel := workflow.NewSelector(ctx)
			sel.AddFuture(timer, func(workflow.Future) { fired = true })
			sel.AddReceive(settings, func(ch workflow.ReceiveChannel, _ bool) {
				var s OutboxRelaySettings
				ch.Receive(ctx, &s)
				st.Settings = s.WithDefaults()
			})
			sel.Select(ctx)
		}
	}
}
