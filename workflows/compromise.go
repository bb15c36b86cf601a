package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
)

// CompromiseLock is the account's answer to a report of illegal use or a
// security risk (C3.3(3)): it locks the account at once and ends every
// session, records further reports, reminds the user while it waits, and
// ends only with the in-person reset at a counter, which lifts the lock and
// issues a new initial password for one pickup.
func CompromiseLock(ctx workflow.Context, in CompromiseInput) (CompromiseResult, error) {
	c := &compromise{in: in}
	if err := c.setup(ctx); err != nil {
		return CompromiseResult{}, err
	}
	return c.run(ctx)
}

type compromise struct {
	in     CompromiseInput
	st     CompromiseStatus
	locked bool
	// queue holds the reports and the reset the handlers handed over; run
	// carries them out in order.
	queue []*compromiseAction
	// resetting is set while a reset is queued or being carried out.
	resetting bool
	result    ResetResult
}

type compromiseAction struct {
	report *ReportRequest
	reset  *ResetRequest
	done   bool
	res    ResetResult
	err    error
}

func (c *compromise) setup(ctx workflow.Context) error {
	c.st = CompromiseStatus{AccountID: c.in.AccountID, Status: StatusLocked, Reports: c.in.Reports, Reminders: c.in.Reminders}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (CompromiseStatus, error) { return c.st, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateReport, c.report,
		workflow.UpdateHandlerOptions{Validator: c.validateReport}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateReset, c.reset,
		workflow.UpdateHandlerOptions{Validator: c.validateReset})
}

func (c *compromise) validateReport(req ReportRequest) error {
	if req.ReportID == "" {
		return invalid("report_id is required")
	}
	if c.st.Status != StatusLocked || c.resetting {
		return conflict("the account's password is being reset; report again after the reset")
	}
	return nil
}

func (c *compromise) validateReset(req ResetRequest) error {
	if !req.Actor.May(authz.PasswordReset) {
		return forbidden("only a reviewer or supervisor at a service office may reset a password")
	}
	if req.ResetID == "" {
		return invalid("reset_id is required")
	}
	if c.resetting || c.st.Status != StatusLocked {
		return conflict("a reset of this account is already under way")
	}
	return nil
}

// report completes once the account is locked: the first report (the one
// that started the run) only waits for the lock.
func (c *compromise) report(ctx workflow.Context, req ReportRequest) (CompromiseStatus, error) {
	if err := c.validateReport(req); err != nil {
		return CompromiseStatus{}, err
	}
	if req.ReportID != c.in.ReportID {
		act := &compromiseAction{report: &req}
		c.queue = append(c.queue, act)
		if err := workflow.Await(ctx, func() bool { return act.done }); err != nil {
			return CompromiseStatus{}, err
		}
		if act.err != nil {
			return CompromiseStatus{}, act.err
		}
	}
	if err := workflow.Await(ctx, func() bool { return c.locked }); err != nil {
		return CompromiseStatus{}, err
	}
	return c.st, nil
}

func (c *compromise) reset(ctx workflow.Context, req ResetRequest) (ResetResult, error) {
	if err := c.validateReset(req); err != nil {
		return ResetResult{}, err
	}
	c.resetting = true
	act := &compromiseAction{reset: &req}
	c.queue = append(c.queue, act)
	if err := workflow.Await(ctx, func() bool { return act.done }); err != nil {
		return ResetResult{}, err
	}
	return act.res, act.err
}

func (c *compromise) run(ctx workflow.Context) (CompromiseResult, error) {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	var lock activities.LockResult
	if err := workflow.ExecuteActivity(ctx, a.LockForCompromise,
		activities.LockInput{AccountID: c.in.AccountID, ReportID: c.in.ReportID}).Get(ctx, &lock); err != nil {
		return CompromiseResult{}, err
	}
	if c.in.Reports == 0 {
		c.st.Reports = 1
	}
	c.st.LockedAt, c.locked = lock.LockedAt, true
	c.setStatus(ctx, StatusLocked)

	remindEvery := c.in.RemindEvery
	if remindEvery <= 0 {
		remindEvery = DefaultPasswordSettings.CompromiseRemindEvery
	}
	nextReminder := workflow.Now(ctx).Add(remindEvery)
	for c.st.Status == StatusLocked {
		wait := max(nextReminder.Sub(workflow.Now(ctx)), 0)
		acted, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return len(c.queue) > 0 })
		if err != nil {
			return CompromiseResult{}, err
		}
		if acted {
			act := c.queue[0]
			c.queue = c.queue[1:]
			c.carryOut(ctx, act)
			continue
		}
		c.st.Reminders++
		if err := workflow.ExecuteActivity(ctx, a.RemindCompromised, activities.CompromiseReminder{
			AccountID: c.in.AccountID, ReportID: c.in.ReportID, N: c.st.Reminders}).Get(ctx, nil); err != nil {
			return CompromiseResult{}, err
		}
		nextReminder = workflow.Now(ctx).Add(remindEvery)
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() && len(c.queue) == 0 {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return CompromiseResult{}, err
			}
			next := c.in
			next.Reminders, next.Reports = c.st.Reminders, c.st.Reports
			return CompromiseResult{}, workflow.NewContinueAsNewError(ctx, CompromiseLock, next)
		}
	}

	// Reset done: the new initial password waits for its pickup, then an
	// unpicked one is destroyed.
	if err := destroyAfterWindow(ctx, c.in.PickupWindow, activities.PasswordResetPickupKey(c.result.ResetID)); err != nil {
		return CompromiseResult{}, err
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return CompromiseResult{}, err
	}
	return CompromiseResult{Status: StatusReset, ResetID: c.result.ResetID}, nil
}

func (c *compromise) carryOut(ctx workflow.Context, act *compromiseAction) {
	defer func() { act.done = true }()
	switch {
	case act.report != nil:
		in := activities.LockInput{AccountID: c.in.AccountID, ReportID: act.report.ReportID}
		if err := workflow.ExecuteActivity(ctx, a.LockForCompromise, in).Get(ctx, nil); err != nil {
			act.err = asUpdateError(err)
			return
		}
		c.st.Reports++
	case act.reset != nil:
		res, err := issueReset(ctx, activities.ResetInput{ResetID: act.reset.ResetID, LiftCompromise: true, PickupWindow: c.in.PickupWindow})
		act.res, act.err = res, err
		if err != nil || res.Status != StatusIssued {
			c.resetting = false
			return
		}
		c.result = res
		c.st.ResetID = res.ResetID
		c.setStatus(ctx, StatusReset)
		// Reports that arrived meanwhile are answered: the lock is gone.
		for _, rest := range c.queue {
			rest.err, rest.done = conflict("the password was reset; report again if needed"), true
		}
		c.queue = nil
	}
}

func (c *compromise) setStatus(ctx workflow.Context, status string) {
	c.st.Status = status
	upsertStatus(ctx, KindCompromise, status)
}

// issueReset runs the reset activity and turns a refusal into a Conflict
// for the reviewer.
func issueReset(ctx workflow.Context, in activities.ResetInput) (ResetResult, error) {
	var out activities.ResetOutcome
	if err := workflow.ExecuteActivity(ctx, a.ResetPassword, in).Get(ctx, &out); err != nil {
		return ResetResult{}, asUpdateError(err)
	}
	res := ResetResult{Status: out.Status, ResetID: in.ResetID, Refusal: out.Refusal, PickupExpiresAt: out.PickupExpiresAt}
	if out.Status != StatusIssued {
		return res, conflict("the password cannot be reset: " + out.Refusal)
	}
	return res, nil
}

// destroyAfterWindow waits out a pickup window and destroys the sealed
// password if nobody picked it up.
func destroyAfterWindow(ctx workflow.Context, window time.Duration, pickupKey string) error {
	if window <= 0 {
		window = DefaultServiceLevel.PickupWindow
	}
	if err := workflow.Sleep(ctx, window); err != nil {
		return err
	}
	return workflow.ExecuteActivity(ctx, a.DestroyPickup, pickupKey).Get(ctx, nil)
}
