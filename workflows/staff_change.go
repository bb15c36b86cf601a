package workflows

import (
	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
)

// StaffChange runs one request to change staff (C1.4): it waits for a
// decision by an administrator other than the requester (or, at the
// bootstrap, the sole administrator's own), applies or refuses it through
// one idempotent activity keyed by the request ID, and expires it after
// its deadline with a notice to the administrators. It is the single
// writer of the change. A generated first password never passes through
// it: the apply activity seals it for its single pickup, and the workflow
// destroys what was not picked up after the pickup window.
func StaffChange(ctx workflow.Context, in StaffChangeInput) (StaffChangeStatus, error) {
	w := &staffChange{in: in, st: StaffChangeStatus{RequestID: in.RequestID, Status: StaffChangePending}}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (StaffChangeStatus, error) { return w.st, nil }); err != nil {
		return StaffChangeStatus{}, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecideStaffChange, w.decide,
		workflow.UpdateHandlerOptions{Validator: w.validate}); err != nil {
		return StaffChangeStatus{}, err
	}
	return w.run(ctx)
}

type staffChange struct {
	in         StaffChangeInput
	st         StaffChangeStatus
	decision   *StaffChangeDecision
	acted      bool
	outcomeErr error
	timedOut   bool
}

func (w *staffChange) validate(req StaffChangeDecision) error {
	if !req.Actor.May(authz.StaffChangeDecide) {
		return forbidden("only an administrator may decide a staff change")
	}
	if req.Decision != "approve" && req.Decision != "refuse" {
		return invalid("decision must be approve or refuse")
	}
	if req.Actor.ID == w.in.RequestedBy && !(w.in.SoleAdmin && req.Decision == "approve") {
		return forbidden("four eyes: the administrator who asked for a staff change may not decide it")
	}
	if req.Actor.ID == w.in.TargetID && !w.in.SoleAdmin {
		return forbidden("four eyes: a staff change is decided by an administrator other than the member it changes")
	}
	if w.decision != nil {
		return conflict("a decision on this request is being carried out")
	}
	if w.timedOut {
		return conflict("the staff change request has expired")
	}
	if w.st.Status != StaffChangePending {
		return conflict("the staff change request is " + w.st.Status)
	}
	return nil
}

func (w *staffChange) decide(ctx workflow.Context, req StaffChangeDecision) (StaffChangeStatus, error) {
	if err := w.validate(req); err != nil {
		return w.st, err
	}
	w.decision = &req
	if err := workflow.Await(ctx, func() bool { return w.acted }); err != nil {
		return w.st, err
	}
	return w.st, w.outcomeErr
}

func (w *staffChange) run(ctx workflow.Context) (StaffChangeStatus, error) {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	wait := max(w.in.ExpiresAt.Sub(workflow.Now(ctx)), 0)
	got, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return w.decision != nil })
	if err != nil {
		return StaffChangeStatus{}, err
	}
	w.timedOut = !got
	var out activities.StaffChangeOutcome
	switch {
	case !got:
		err = workflow.ExecuteActivity(ctx, a.ExpireStaffChange, w.in.RequestID).Get(ctx, &out)
	case w.decision.Decision == "approve":
		err = workflow.ExecuteActivity(ctx, a.ApplyStaffChange, activities.StaffChangeDecisionInput{RequestID: w.in.RequestID,
			DeciderID: w.decision.Actor.ID, HTTPRequestID: w.decision.HTTPRequestID}).Get(ctx, &out)
	default:
		err = workflow.ExecuteActivity(ctx, a.RefuseStaffChange, activities.StaffChangeDecisionInput{RequestID: w.in.RequestID,
			DeciderID: w.decision.Actor.ID, HTTPRequestID: w.decision.HTTPRequestID}).Get(ctx, &out)
	}
	if err == nil {
		w.st.Status, w.st.Code, w.st.Pickup = out.Status, out.Code, out.Pickup
		w.setStatus(ctx)
	}
	w.outcomeErr, w.acted = asUpdateError(err), true
	if err != nil {
		return w.finish(ctx, err)
	}
	if out.Pickup {
		// What the API did not take in its answer is destroyed after the
		// pickup window.
		if err := workflow.Sleep(ctx, StaffPickupWindow); err != nil {
			return StaffChangeStatus{}, err
		}
		if err := workflow.ExecuteActivity(ctx, a.DestroyStaffPickup, w.in.RequestID).Get(ctx, nil); err != nil {
			return w.finish(ctx, err)
		}
	}
	return w.finish(ctx, nil)
}

func (w *staffChange) setStatus(ctx workflow.Context) {
	upsertStatus(ctx, KindStaffChange, w.st.Status)
}

func (w *staffChange) finish(ctx workflow.Context, err error) (StaffChangeStatus, error) {
	if werr := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return StaffChangeStatus{}, err
	}
	return w.st, nil
}
