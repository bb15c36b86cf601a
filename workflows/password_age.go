package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
)

// sweepsPerRun bounds a run's history: after this many sweeps the workflow
// continues as new with its counters.
const sweepsPerRun = 30

// PasswordAgeReminder is the one long-running workflow that recommends a
// change of old passwords (C3.3(2)) for all accounts: every SweepEvery it
// walks the accounts in pages, one activity per page doing set-based SQL
// (mark, notice, audit), never a timer per account. A user whose password
// is older than MaxAge gets a site notice, again every RemindEvery, until a
// change. The settings signal replaces the settings from the next sweep on.
func PasswordAgeReminder(ctx workflow.Context, in PasswordAgeInput) error {
	p := &passwordAge{st: PasswordAgeStatus{Status: StatusIdle, Settings: in.Settings.WithDefaults(),
		Sweeps: in.Sweeps, TotalReminded: in.TotalReminded}}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (PasswordAgeStatus, error) { return p.st, nil }); err != nil {
		return err
	}
	settings := workflow.GetSignalChannel(ctx, SignalPasswordAgeSettings)
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	for run := 0; ; run++ {
		if err := p.sweep(ctx); err != nil {
			return err
		}
		if run+1 >= sweepsPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			p.drainSettings(settings)
			return workflow.NewContinueAsNewError(ctx, PasswordAgeReminder,
				PasswordAgeInput{Settings: p.st.Settings, Sweeps: p.st.Sweeps, TotalReminded: p.st.TotalReminded})
		}
		// Sleep until the next sweep; a settings signal wakes the workflow
		// so that a shorter interval takes effect at once.
		for {
			p.st.NextSweepAt = p.st.LastSweepAt.Add(p.st.Settings.SweepEvery)
			wait := p.st.NextSweepAt.Sub(workflow.Now(ctx))
			if wait <= 0 {
				break
			}
			timerCtx, cancel := workflow.WithCancel(ctx)
			timer := workflow.NewTimer(timerCtx, wait)
			sel := workflow.NewSelector(ctx)
			fired := false
			sel.AddFuture(timer, func(workflow.Future) { fired = true })
			sel.AddReceive(settings, func(ch workflow.ReceiveChannel, _ bool) {
				var s PasswordSettings
				ch.Receive(ctx, &s)
				p.st.Settings = s.WithDefaults()
			})
			sel.Select(ctx)
			cancel()
			if fired {
				break
			}
		}
	}
}

type passwordAge struct {
	st PasswordAgeStatus
}

func (p *passwordAge) sweep(ctx workflow.Context) error {
	s := p.st.Settings
	asOf := workflow.Now(ctx).UTC()
	p.st.Status = StatusSweeping
	p.st.LastReminded, p.st.Pages = 0, 0
	page := activities.SweepPage{SweepID: asOf.Format(time.RFC3339), AsOf: asOf, MaxAge: s.MaxAge,
		RemindEvery: s.RemindEvery, Limit: s.PageSize}
	for {
		var res activities.SweepPageResult
		if err := workflow.ExecuteActivity(ctx, a.RemindOldPasswords, page).Get(ctx, &res); err != nil {
			return err
		}
		p.st.Pages++
		p.st.LastReminded += res.Reminded
		p.st.TotalReminded += res.Reminded
		if res.Done || res.Last == "" {
			break
		}
		page.After = res.Last
	}
	p.st.Sweeps++
	p.st.LastSweepAt = asOf
	p.st.Status = StatusIdle
	return nil
}

// drainSettings applies settings signals still buffered before a
// continue-as-new, so none is lost.
func (p *passwordAge) drainSettings(ch workflow.ReceiveChannel) {
	for {
		var s PasswordSettings
		if !ch.ReceiveAsync(&s) {
			return
		}
		p.st.Settings = s.WithDefaults()
	}
}
