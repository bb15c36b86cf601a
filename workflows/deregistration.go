package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
)

// Deregistration ends a user's agreement on their written request (C3.5,
// C4): a cooling-off period during which the user may withdraw, held back
// while a fraud or violation case is open (the period starts when the case
// closes); then the account closes in one step (services, sessions,
// sign-in, agreement end date), data without a legal retention period is
// de-identified at once, and timers erase each kept category when its
// period ends.
func Deregistration(ctx workflow.Context, in DeregistrationInput) (DeregistrationResult, error) {
	d := &deregistration{in: in}
	if err := d.setup(ctx); err != nil {
		return DeregistrationResult{}, err
	}
	return d.run(ctx)
}

type deregistration struct {
	in   DeregistrationInput
	st   DeregistrationStatus
	plan activities.DeregistrationPlan
	// round counts the times the request entered a waiting state.
	round int
	// caseSignals counts SignalCaseClosed deliveries.
	caseSignals int
	// withdrawal is set by the update handler and carried out by run.
	withdrawal    *DeregistrationWithdrawal
	withdrawDone  bool
	withdrawError error
}

func (d *deregistration) setup(ctx workflow.Context) error {
	d.st = DeregistrationStatus{RequestID: d.in.RequestID, AccountID: d.in.AccountID, Status: "received"}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (DeregistrationStatus, error) { return d.st, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateWithdrawDeregistration, d.withdraw,
		workflow.UpdateHandlerOptions{Validator: d.validateWithdraw}); err != nil {
		return err
	}
	// Case workflows signal when a case closes; the value is not needed.
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, SignalCaseClosed)
		for ch.Receive(ctx, nil) {
			d.caseSignals++
		}
	})
	return nil
}

func (d *deregistration) validateWithdraw(req DeregistrationWithdrawal) error {
	if req.Actor.Kind != "user" || req.Actor.ID != d.in.AccountID {
		return forbidden("only the account holder may withdraw the deregistration request")
	}
	if d.withdrawal != nil {
		return conflict("the request is being withdrawn")
	}
	switch d.st.Status {
	case "received", DeregCoolingOff, DeregBlocked:
		return nil
	}
	return conflict("the deregistration request is " + d.st.Status)
}

func (d *deregistration) withdraw(ctx workflow.Context, req DeregistrationWithdrawal) (DeregistrationStatus, error) {
	if err := d.validateWithdraw(req); err != nil {
		return d.st, err
	}
	d.withdrawal = &req
	if err := workflow.Await(ctx, func() bool { return d.withdrawDone }); err != nil {
		return d.st, err
	}
	return d.st, d.withdrawError
}

func (d *deregistration) run(ctx workflow.Context) (DeregistrationResult, error) {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	if err := workflow.ExecuteActivity(ctx, a.LoadDeregistrationPlan, d.in.RequestID).Get(ctx, &d.plan); err != nil {
		return DeregistrationResult{}, err
	}
	open, err := d.hasOpenCase(ctx)
	if err != nil {
		return d.finish(ctx, err)
	}
	for {
		if open {
			withdrawn, err := d.waitWhileCaseOpen(ctx)
			if err != nil || withdrawn {
				return d.finish(ctx, err)
			}
		}
		withdrawn, err := d.coolOff(ctx)
		if err != nil || withdrawn {
			return d.finish(ctx, err)
		}
		// A case opened during the cooling-off period holds the request
		// back again; the period restarts when it closes.
		if open, err = d.hasOpenCase(ctx); err != nil {
			return d.finish(ctx, err)
		}
		if !open {
			break
		}
	}
	if err := d.closeAccount(ctx); err != nil {
		return d.finish(ctx, err)
	}
	if d.st.Status == DeregClosed {
		d.applyRetention(ctx)
	}
	return d.finish(ctx, nil)
}

func (d *deregistration) hasOpenCase(ctx workflow.Context) (bool, error) {
	var open bool
	err := workflow.ExecuteActivity(ctx, a.HasOpenCase, d.in.AccountID).Get(ctx, &open)
	return open, err
}

// waitWhileCaseOpen holds the request while a case is open: it re-checks
// when a case workflow signals and, so that a lost signal never blocks
// forever, at every re-check interval.
func (d *deregistration) waitWhileCaseOpen(ctx workflow.Context) (bool, error) {
	open := true
	var err error
	d.round++
	if err := d.mark(ctx, DeregBlocked, time.Time{}); err != nil {
		return false, err
	}
	d.st.BlockedByCase = true
	for open {
		seen := d.caseSignals
		if _, err := workflow.AwaitWithTimeout(ctx, d.plan.CaseRecheck, func() bool {
			return d.withdrawal != nil || d.caseSignals != seen
		}); err != nil {
			return false, err
		}
		if d.withdrawal != nil {
			return true, d.carryOutWithdrawal(ctx)
		}
		if open, err = d.hasOpenCase(ctx); err != nil {
			return false, err
		}
	}
	d.st.BlockedByCase = false
	return false, nil
}

// coolOff waits out the cooling-off period unless the user withdraws.
func (d *deregistration) coolOff(ctx workflow.Context) (bool, error) {
	d.round++
	until := workflow.Now(ctx).Add(d.plan.CoolingOff).UTC()
	if err := d.mark(ctx, DeregCoolingOff, until); err != nil {
		return false, err
	}
	d.st.CoolingOffUntil = until
	if _, err := workflow.AwaitWithTimeout(ctx, d.plan.CoolingOff, func() bool { return d.withdrawal != nil }); err != nil {
		return false, err
	}
	if d.withdrawal != nil {
		return true, d.carryOutWithdrawal(ctx)
	}
	return false, nil
}

func (d *deregistration) mark(ctx workflow.Context, status string, until time.Time) error {
	step := activities.DeregistrationStep{RequestID: d.in.RequestID, AccountID: d.in.AccountID, Status: status, Until: until, Round: d.round}
	if err := workflow.ExecuteActivity(ctx, a.MarkDeregistration, step).Get(ctx, nil); err != nil {
		return err
	}
	d.setStatus(ctx, status)
	return nil
}

func (d *deregistration) carryOutWithdrawal(ctx workflow.Context) error {
	in := activities.WithdrawDeregistrationInput{RequestID: d.in.RequestID, AccountID: d.in.AccountID,
		HTTPRequestID: d.withdrawal.HTTPRequestID}
	err := workflow.ExecuteActivity(ctx, a.WithdrawDeregistration, in).Get(ctx, nil)
	if err == nil {
		d.setStatus(ctx, DeregWithdrawn)
		d.st.BlockedByCase = false
	}
	d.withdrawError, d.withdrawDone = asUpdateError(err), true
	return err
}

func (d *deregistration) closeAccount(ctx workflow.Context) error {
	var res activities.CloseAccountResult
	ref := activities.DeregistrationRef{RequestID: d.in.RequestID, AccountID: d.in.AccountID}
	if err := workflow.ExecuteActivity(ctx, a.CloseAccount, ref).Get(ctx, &res); err != nil {
		return err
	}
	if res.Superseded {
		d.setStatus(ctx, DeregSuperseded)
		return nil
	}
	d.st.ClosedAt = res.ClosedAt
	d.st.Retention = make([]RetentionStep, 0, len(res.Steps))
	for _, s := range res.Steps {
		d.st.Retention = append(d.st.Retention, RetentionStep(s))
	}
	d.setStatus(ctx, DeregClosed)
	return nil
}

// applyRetention runs each step when it is due, earliest first. A step
// without a handler (a category configured but not implemented) is logged
// and left undone; the others go on.
func (d *deregistration) applyRetention(ctx workflow.Context) {
	logger := workflow.GetLogger(ctx)
	all := true
	for i := range d.st.Retention {
		step := &d.st.Retention[i]
		if step.Done {
			continue
		}
		if wait := step.DueAt.Sub(workflow.Now(ctx)); wait > 0 {
			if err := workflow.Sleep(ctx, wait); err != nil {
				return
			}
		}
		in := activities.RetentionInput{AccountID: d.in.AccountID, Category: step.Category}
		if err := workflow.ExecuteActivity(ctx, a.ApplyRetention, in).Get(ctx, nil); err != nil {
			logger.Error("retention step failed", "category", step.Category, "error", err)
			all = false
			continue
		}
		step.Done = true
	}
	if all {
		d.setStatus(ctx, DeregErased)
	}
}

func (d *deregistration) setStatus(ctx workflow.Context, status string) {
	d.st.Status = status
	upsertStatus(ctx, KindDeregistration, status)
}

// finish answers a withdrawal that arrived too late and lets running
// handlers return.
func (d *deregistration) finish(ctx workflow.Context, err error) (DeregistrationResult, error) {
	if d.withdrawal != nil && !d.withdrawDone {
		d.withdrawError, d.withdrawDone = conflict("the deregistration request is "+d.st.Status), true
	}
	if werr := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return DeregistrationResult{}, err
	}
	return DeregistrationResult{Status: d.st.Status}, nil
}

// ServiceCancellation closes the single services named in a written
// request (C3.5); the account and the agreement go on.
func ServiceCancellation(ctx workflow.Context, in ServiceCancellationInput) ([]string, error) {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	var closed []string
	ref := activities.DeregistrationRef{RequestID: in.RequestID, AccountID: in.AccountID}
	if err := workflow.ExecuteActivity(ctx, a.CancelServices, ref).Get(ctx, &closed); err != nil {
		return nil, err
	}
	upsertStatus(ctx, KindServiceCancellation, "completed")
	return closed, nil
}
