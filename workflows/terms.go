package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
)

// TermsCampaign notifies every user whose agreement is in force on an
// older version of a published terms revision (C2.7): an inbox notice per
// user and queued SMS / e-mail messages, written page by page with
// set-based SQL over account-ID key ranges; then it sends the channel
// messages, and catches up users approved on an older version while it
// ran. It continues as new before its history reaches 2,000 events,
// carrying its cursors and counters. Operators pause and resume it
// (Updates) and read its progress (query).
func TermsCampaign(ctx workflow.Context, in CampaignInput) (CampaignResult, error) {
	f := &fanout{kind: activities.FanoutTerms, ref: in.Version, source: activities.TermsSource(in.Version),
		publishedBy: in.PublishedBy, set: in.Settings.WithDefaults()}
	if in.State != nil {
		f.st = *in.State
	}
	done, err := f.start(ctx)
	if err != nil || done {
		return f.result(), err
	}
	next := in
	next.State = &f.st
	return CampaignResult{}, workflow.NewContinueAsNewError(ctx, TermsCampaign, next)
}

// Announcement places an administrator's announcement of a service
// interruption or rule change (C2.7) in the inbox of every affected user,
// with the same paging as the terms campaign.
func Announcement(ctx workflow.Context, in AnnouncementInput) (CampaignResult, error) {
	f := &fanout{kind: activities.FanoutAnnouncement, ref: in.AnnouncementID, source: activities.AnnouncementSource(in.AnnouncementID),
		set: in.Settings.WithDefaults()}
	if in.State != nil {
		f.st = *in.State
	}
	done, err := f.start(ctx)
	if err != nil {
		return f.result(), err
	}
	if done {
		if in.Window != nil && workflow.GetVersion(ctx, "interruption-window", workflow.DefaultVersion, 1) == 1 {
			err = interruptServices(ctx, in.AnnouncementID, *in.Window)
		}
		return f.result(), err
	}
	next := in
	next.State = &f.st
	return CampaignResult{}, workflow.NewContinueAsNewError(ctx, Announcement, next)
}

// interruptServices pauses the announced services when the window starts
// and gives them back when it ends: timers, so the status returns by
// itself.
func interruptServices(ctx workflow.Context, announcementID string, w InterruptionWindow) error {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	in := activities.ServicePauseInput{AnnouncementID: announcementID}
	if wait := w.StartsAt.Sub(workflow.Now(ctx)); wait > 0 {
		if err := workflow.Sleep(ctx, wait); err != nil {
			return err
		}
	}
	if workflow.Now(ctx).Before(w.EndsAt) {
		if err := workflow.ExecuteActivity(ctx, a.BeginServicePause, in).Get(ctx, nil); err != nil {
			return err
		}
		if err := workflow.Sleep(ctx, w.EndsAt.Sub(workflow.Now(ctx))); err != nil {
			return err
		}
	}
	return workflow.ExecuteActivity(ctx, a.EndServicePause, in).Get(ctx, nil)
}

// ServiceChange tells the users holding a service about new eligibility
// rules or its retirement (C2.7), and on retirement closes the service for
// each of them once, in the same page as the notice. It is the terms
// campaign's fan-out without the catch-up: the change is applied in its
// first activity, so a later approval already meets the new catalogue.
func ServiceChange(ctx workflow.Context, in ServiceChangeInput) (CampaignResult, error) {
	f := &fanout{kind: activities.FanoutServiceChange, ref: in.ChangeID, source: activities.ServiceChangeSource(in.ChangeID),
		publishedBy: in.RequestedBy, set: in.Settings.WithDefaults()}
	if in.State != nil {
		f.st = *in.State
	}
	done, err := f.start(ctx)
	if err != nil || done {
		return f.result(), err
	}
	next := in
	next.State = &f.st
	return CampaignResult{}, workflow.NewContinueAsNewError(ctx, ServiceChange, next)
}

type fanout struct {
	kind, ref, source, publishedBy string
	set                            CampaignSettings
	st                             CampaignState
	shownStatus                    string
}

func (f *fanout) searchKind() string {
	switch f.kind {
	case activities.FanoutAnnouncement:
		return KindAnnouncement
	case activities.FanoutServiceChange:
		return KindServiceChange
	}
	return KindTermsCampaign
}

func (f *fanout) start(ctx workflow.Context) (bool, error) {
	if err := f.setup(ctx); err != nil {
		return false, err
	}
	return f.run(ctx)
}

func (f *fanout) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryProgress, func() (CampaignProgress, error) {
		return f.progress(ctx), nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdatePause, f.pause,
		workflow.UpdateHandlerOptions{Validator: f.validatePause}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateResume, f.resume,
		workflow.UpdateHandlerOptions{Validator: f.validateResume})
}

func (f *fanout) progress(ctx workflow.Context) CampaignProgress {
	done := 0
	for _, s := range f.st.Shards {
		if s.Done {
			done++
		}
	}
	return CampaignProgress{Kind: f.searchKind(), Ref: f.ref, Phase: f.st.Phase, Paused: f.st.Paused,
		StartedAt: f.st.StartedAt, EffectiveAt: f.st.EffectiveAt, ShardsTotal: len(f.st.Shards), ShardsDone: done,
		Counters: f.st.Counters, Run: f.st.Run, HistoryLength: workflow.GetInfo(ctx).GetCurrentHistoryLength()}
}

// ---- pause and resume: validators refuse before anything is recorded ----

func (f *fanout) mayControl(req PauseRequest) error {
	if !req.Actor.May(authz.CampaignControl) {
		return forbidden("only a terms editor or an administrator may pause or resume a campaign")
	}
	if f.st.Phase == PhaseDone {
		return conflict("the campaign is completed")
	}
	return nil
}

func (f *fanout) validatePause(req PauseRequest) error {
	if err := f.mayControl(req); err != nil {
		return err
	}
	if f.st.Paused {
		return conflict("the campaign is already paused")
	}
	return nil
}

func (f *fanout) validateResume(req PauseRequest) error {
	if err := f.mayControl(req); err != nil {
		return err
	}
	if !f.st.Paused {
		return conflict("the campaign is not paused")
	}
	return nil
}

func (f *fanout) pause(ctx workflow.Context, req PauseRequest) (CampaignProgress, error) {
	if err := f.validatePause(req); err != nil {
		return CampaignProgress{}, err
	}
	f.st.Paused = true
	f.st.PauseSeq++
	f.showStatus(ctx)
	err := f.recordStatus(ctx, StatusPaused, req.Actor.ID)
	return f.progress(ctx), err
}

func (f *fanout) resume(ctx workflow.Context, req PauseRequest) (CampaignProgress, error) {
	if err := f.validateResume(req); err != nil {
		return CampaignProgress{}, err
	}
	f.st.Paused = false
	f.showStatus(ctx)
	err := f.recordStatus(ctx, "running", req.Actor.ID)
	return f.progress(ctx), err
}

func (f *fanout) recordStatus(ctx workflow.Context, status, actor string) error {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	in := activities.StatusInput{Kind: f.kind, Ref: f.ref, Status: status, Actor: actor, Seq: f.st.PauseSeq}
	return workflow.ExecuteActivity(ctx, a.SetFanoutStatus, in).Get(ctx, nil)
}

func (f *fanout) showStatus(ctx workflow.Context) {
	status := f.st.Phase
	if f.st.Paused {
		status = StatusPaused
	}
	if status == f.shownStatus {
		return
	}
	f.shownStatus = status
	upsertStatus(ctx, f.searchKind(), status)
}

// ---- main body ----

// run returns true when the fan-out is complete, false when the run must
// continue as new.
func (f *fanout) run(ctx workflow.Context) (bool, error) {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	f.st.Run++
	begin := activities.BeginInput{Kind: f.kind, Ref: f.ref, PublishedBy: f.publishedBy}
	if f.st.Phase == "" {
		var b activities.BeginResult
		if err := workflow.ExecuteActivity(ctx, a.BeginFanout, begin).Get(ctx, &b); err != nil {
			return false, err
		}
		f.st.StartedAt, f.st.EffectiveAt, f.st.Counters.UsersTargeted = b.StartedAt, b.EffectiveAt, b.UsersTargeted
		f.st.Shards = makeShards(f.set.Concurrency * 4)
		f.st.Phase = PhaseSweep
	}
	for f.st.Phase != PhaseDone {
		f.showStatus(ctx)
		if f.overBudget(ctx) {
			return false, f.drainHandlers(ctx)
		}
		if f.st.Paused {
			if err := workflow.Await(ctx, func() bool { return !f.st.Paused }); err != nil {
				return false, err
			}
			continue
		}
		var more bool
		var err error
		switch f.st.Phase {
		case PhaseSweep:
			if more, err = f.sweep(ctx); err == nil && !more {
				err = workflow.ExecuteActivity(ctx, a.MarkSweepDone, begin).Get(ctx, nil)
				f.st.Phase = PhaseDispatch
				if f.kind == activities.FanoutAnnouncement {
					f.st.Phase = PhaseDone // announcements use the inbox only
				}
			}
		case PhaseDispatch:
			if more, err = f.dispatch(ctx); err == nil && !more {
				f.st.Phase = PhaseCatchUp
				if f.kind == activities.FanoutServiceChange {
					f.st.Phase = PhaseDone // the change is in the catalogue before the first page
				}
			}
		case PhaseCatchUp:
			var finished bool
			if finished, err = f.catchUp(ctx); err == nil && finished {
				f.st.Phase = PhaseDone
			}
		default:
			return false, fmt.Errorf("unknown phase %q", f.st.Phase)
		}
		if err != nil {
			return false, err
		}
	}
	f.showStatus(ctx)
	if err := f.recordStatus(ctx, "completed", ""); err != nil {
		return false, err
	}
	return true, f.drainHandlers(ctx)
}

func (f *fanout) drainHandlers(ctx workflow.Context) error {
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

func (f *fanout) result() CampaignResult {
	return CampaignResult{Counters: f.st.Counters, Runs: f.st.Run}
}

// overBudget says the run should hand over to a new one: its history
// reached the configured length, or the server suggests it.
func (f *fanout) overBudget(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetCurrentHistoryLength() >= f.set.MaxEventsPerRun || info.GetContinueAsNewSuggested()
}

// makeShards splits the UUID key space into n slices by the first 32 bits.
// Account IDs are random (v4), so the slices hold about as many users each.
func makeShards(n int) []Shard {
	shards := make([]Shard, n)
	for i := range shards {
		shards[i].Lo = uuidPrefix(uint64(i) << 32 / uint64(n))
		if i+1 < n {
			shards[i].Hi = uuidPrefix(uint64(i+1) << 32 / uint64(n))
		}
	}
	return shards
}

func uuidPrefix(v uint64) string {
	return fmt.Sprintf("%08x-0000-0000-0000-000000000000", v)
}

// sweep runs pages over the shards, at most Concurrency at once, until all
// are done (false) or the run must hand over or pause (true / paused):
// then it stops launching and lets the pages in flight finish first.
func (f *fanout) sweep(ctx workflow.Context) (bool, error) {
	pageCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: f.set.PageTimeout, RetryPolicy: activityOptions.RetryPolicy})
	sel := workflow.NewSelector(ctx)
	inFlight := make([]bool, len(f.st.Shards))
	pending := 0
	var firstErr error
	for {
		stop := firstErr != nil || f.st.Paused || f.overBudget(ctx)
		if !stop {
			for i := range f.st.Shards {
				if pending >= f.set.Concurrency {
					break
				}
				if f.st.Shards[i].Done || inFlight[i] {
					continue
				}
				f.launchPage(pageCtx, sel, i, inFlight, &pending, &firstErr)
			}
		}
		if pending == 0 {
			if firstErr != nil {
				return false, firstErr
			}
			all := true
			for _, s := range f.st.Shards {
				all = all && s.Done
			}
			if all {
				return false, nil
			}
			return true, nil // over budget or paused
		}
		sel.Select(ctx)
	}
}

func (f *fanout) launchPage(ctx workflow.Context, sel workflow.Selector, i int, inFlight []bool, pending *int, firstErr *error) {
	sh := f.st.Shards[i]
	in := activities.PageInput{Kind: f.kind, Ref: f.ref, Lo: sh.Lo, Hi: sh.Hi, After: sh.After, Limit: f.set.PageSize}
	inFlight[i] = true
	*pending++
	sel.AddFuture(workflow.ExecuteActivity(ctx, a.WriteNoticePage, in), func(fut workflow.Future) {
		inFlight[i] = false
		*pending--
		var r activities.PageResult
		if err := fut.Get(ctx, &r); err != nil {
			if *firstErr == nil {
				*firstErr = err
			}
			return
		}
		f.applyPage(&f.st.Shards[i], r)
	})
}

func (f *fanout) applyPage(sh *Shard, r activities.PageResult) {
	if r.Last != "" {
		sh.After = r.Last
	}
	sh.Done = r.Done
	f.st.Counters.Pages++
	f.st.Counters.NoticesWritten += int64(r.Written)
	f.st.Counters.MessagesQueued += int64(r.Queued)
}

// dispatch sends the queued channel messages batch by batch, sleeping
// until failed ones are due again, until none is pending (false) or the
// run must hand over or pause (true).
func (f *fanout) dispatch(ctx workflow.Context) (bool, error) {
	for {
		if f.overBudget(ctx) || f.st.Paused {
			return true, nil
		}
		var r activities.DispatchResult
		in := activities.DispatchInput{Source: f.source, Batch: f.set.DispatchBatch}
		if err := workflow.ExecuteActivity(ctx, a.DispatchOutbox, in).Get(ctx, &r); err != nil {
			return false, err
		}
		c := &f.st.Counters
		c.Dispatches++
		c.MessagesSent += int64(r.Sent)
		c.MessagesFailed += int64(r.Failed)
		c.MessagesAbandoned += int64(r.Abandoned)
		// Messages derived from the notices at dispatch (histories from
		// before the derivation carry neither field: nothing changes there).
		c.MessagesQueued += int64(r.Queued)
		if r.Pending == 0 && !r.Underived {
			return false, nil
		}
		if r.NextIn > 0 {
			if err := workflow.Sleep(ctx, r.NextIn); err != nil {
				return false, err
			}
		}
	}
}

// catchUpMargin reaches back before the campaign's start, for approvals
// whose transaction began before it and committed after the sweep passed.
const catchUpMargin = 10 * time.Minute

// catchUp notifies users whose agreement on an older version began after
// the campaign started (approved while it ran), sends their messages, and
// says whether the campaign is finished: the revision is in effect and no
// application on an older version is still open. Otherwise it waits for
// the next pass.
func (f *fanout) catchUp(ctx workflow.Context) (bool, error) {
	effective := !workflow.Now(ctx).Before(f.st.EffectiveAt)
	var open int
	if effective {
		// Counted before the pass, so that an application approved in
		// between is caught by this pass.
		if err := workflow.ExecuteActivity(ctx, a.OpenOlderApplications, f.ref).Get(ctx, &open); err != nil {
			return false, err
		}
	}
	if f.st.CatchUp == nil {
		f.st.CatchUp = &Shard{Lo: uuidPrefix(0)}
	}
	for !f.st.CatchUp.Done {
		if f.overBudget(ctx) || f.st.Paused {
			return false, nil
		}
		var r activities.PageResult
		in := activities.PageInput{Kind: f.kind, Ref: f.ref, Lo: f.st.CatchUp.Lo, After: f.st.CatchUp.After,
			Limit: f.set.PageSize, Since: f.st.StartedAt.Add(-catchUpMargin)}
		if err := workflow.ExecuteActivity(ctx, a.WriteNoticePage, in).Get(ctx, &r); err != nil {
			return false, err
		}
		f.applyPage(f.st.CatchUp, r)
		f.st.Counters.UsersTargeted += int64(r.Written) // not in the snapshot taken at the start
	}
	if more, err := f.dispatch(ctx); err != nil || more {
		return false, err
	}
	f.st.Counters.CatchUps++
	f.st.CatchUp = nil
	if effective && open == 0 {
		return true, nil
	}
	wait := f.set.CatchUpInterval
	if until := f.st.EffectiveAt.Sub(workflow.Now(ctx)); until > 0 && until < wait {
		wait = until
	}
	return false, workflow.Sleep(ctx, wait)
}
