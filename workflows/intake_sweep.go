package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
)

// KindIntakeSweep is the HrssKind of the intake sweeper.
const KindIntakeSweep = "intake_sweep"

// SignalIntakeSweepSettings replaces the sweeper's settings.
const SignalIntakeSweepSettings = "intake_sweep_settings"

// IntakeSweepWorkflowID names the one intake sweeper of a task queue.
func IntakeSweepWorkflowID(taskQueue string) string { return "intake-sweep/" + taskQueue }

// IntakeSweepSettings: how often to sweep, and how old an untaken intake
// document must be before it is removed. After is the safe delay: far
// longer than any API call that may still be on its way (the API gives up
// within a minute) or a worker outage during which an accepted Update
// waits.
type IntakeSweepSettings struct {
	Every time.Duration
	After time.Duration
	// PageSize bounds the documents looked at per activity.
	PageSize int
}

// DefaultIntakeSweepSettings: sweep every 15 minutes documents older than
// 6 hours.
var DefaultIntakeSweepSettings = IntakeSweepSettings{Every: 15 * time.Minute, After: 6 * time.Hour, PageSize: 200}

// WithDefaults fills zero fields.
func (s IntakeSweepSettings) WithDefaults() IntakeSweepSettings {
	d := DefaultIntakeSweepSettings
	if s.Every <= 0 {
		s.Every = d.Every
	}
	if s.After <= 0 {
		s.After = d.After
	}
	if s.PageSize <= 0 {
		s.PageSize = d.PageSize
	}
	return s
}

// IntakeSweepInput carries the settings and counters across
// continue-as-new.
type IntakeSweepInput struct {
	Settings IntakeSweepSettings
	Sweeps   int
	Removed  int
}

// IntakeSweepStatus answers QueryStatus.
type IntakeSweepStatus struct {
	Settings    IntakeSweepSettings
	Sweeps      int
	Removed     int
	LastSweepAt time.Time
}

// IntakeSweeper owns the intake documents that never started a process
// (the API keeps a document whenever its start or Update had an unknown
// outcome: api/intake.go). Every Every it lists the documents still in
// their first state and older than After, works out which run would hold
// each (the same workflow IDs and Update IDs the API uses), and has an
// activity remove those no run holds. Timers and activities only, so it is
// deterministic; the removal is idempotent (first-state conditions, one
// audit entry per document).
func IntakeSweeper(ctx workflow.Context, in IntakeSweepInput) error {
	st := IntakeSweepStatus{Settings: in.Settings.WithDefaults(), Sweeps: in.Sweeps, Removed: in.Removed}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (IntakeSweepStatus, error) { return st, nil }); err != nil {
		return err
	}
	settings := workflow.GetSignalChannel(ctx, SignalIntakeSweepSettings)
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	for run := 0; ; run++ {
		asOf := workflow.Now(ctx).UTC()
		for {
			var list []activities.UntakenIntake
			q := activities.UntakenQuery{AsOf: asOf, OlderThan: st.Settings.After, Limit: st.Settings.PageSize}
			if err := workflow.ExecuteActivity(ctx, a.ListUntakenIntakes, q).Get(ctx, &list); err != nil {
				return err
			}
			if len(list) == 0 {
				break
			}
			for i := range list {
				list[i].WorkflowID, list[i].UpdateID, list[i].AltWorkflowID = intakeRun(list[i])
			}
			var removed int
			if err := workflow.ExecuteActivity(ctx, a.DiscardUntakenIntakes, list).Get(ctx, &removed); err != nil {
				return err
			}
			st.Removed += removed
			if len(list) < st.Settings.PageSize || removed == 0 {
				// A full page of documents that runs hold: the rest
				// wait for the next sweep.
				break
			}
		}
		st.Sweeps++
		st.LastSweepAt = asOf
		if run+1 >= sweepsPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			for {
				var s IntakeSweepSettings
				if !settings.ReceiveAsync(&s) {
					break
				}
				st.Settings = s.WithDefaults()
			}
			return workflow.NewContinueAsNewError(ctx, IntakeSweeper, IntakeSweepInput{Settings: st.Settings, Sweeps: st.Sweeps, Removed: st.Removed})
		}
		for {
			wait := st.LastSweepAt.Add(st.Settings.Every).Sub(workflow.Now(ctx))
			if wait <= 0 {
				break
			}
			timerCtx, cancel := workflow.WithCancel(ctx)
			timer := workflow.NewTimer(timerCtx, wait)
			fired := false
			sel := workflow.NewSelector(ctx)
			sel.AddFuture(timer, func(workflow.Future) { fired = true })
			sel.AddReceive(settings, func(ch workflow.ReceiveChannel, _ bool) {
				var s IntakeSweepSettings
				ch.Receive(ctx, &s)
				st.Settings = s.WithDefaults()
			})
			sel.Select(ctx)
			cancel()
			if fired {
				break
			}
		}
	}
}

// intakeRun names the run that would hold a document: its workflow ID, the
// Update ID that carried it (for documents handed over by an Update), and
// a second workflow that may hold it by Update (a reset of a locked
// account goes to the account's compromise workflow).
func intakeRun(it activities.UntakenIntake) (wfID, updateID, altWfID string) {
	switch it.Kind {
	case activities.IntakeApplication:
		return RegistrationWorkflowID(it.ID), "", ""
	case activities.IntakeSupplement:
		return RegistrationWorkflowID(it.ParentID), it.ID, ""
	case activities.IntakeCase:
		if it.Sub == KindViolation {
			return ViolationWorkflowID(it.ID), "", ""
		}
		return FraudWorkflowID(it.ID), "", ""
	case activities.IntakeSubmission:
		switch it.Sub {
		case KindFraud:
			return FraudWorkflowID(it.ParentID), it.ID, ""
		case KindViolation:
			return ViolationWorkflowID(it.ParentID), it.ID, ""
		}
		return SanctionWorkflowID(it.ParentID), it.ID, ""
	case activities.IntakeDataChange:
		return DataChangeWorkflowID(it.ID), "", ""
	case activities.IntakeDeregistration:
		if it.Sub == "services" {
			return ServiceCancellationWorkflowID(it.ID), "", ""
		}
		return DeregistrationWorkflowID(it.ParentID), "", ""
	case activities.IntakeReset:
		return PasswordResetWorkflowID(it.ID), it.ID, CompromiseWorkflowID(it.ParentID)
	}
	return "", "", ""
}
