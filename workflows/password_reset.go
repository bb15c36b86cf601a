package workflows

import (
	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
)

// PasswordReset is the in-person reset at a counter of an account that no
// compromise report locked (C3.3(2)): the reviewer checked the identity
// document; a new initial password is issued, to be changed at next
// sign-in, and waits sealed for one pickup by that reviewer. The reset of a
// locked account goes through its CompromiseLock workflow instead.
func PasswordReset(ctx workflow.Context, in PasswordResetInput) (ResetResult, error) {
	var res ResetResult
	var resErr error
	done := false
	// await_issued (sent with start) completes when the reset is issued or
	// refused.
	if err := workflow.SetUpdateHandler(ctx, UpdateAwaitIssued, func(ctx workflow.Context) (ResetResult, error) {
		if err := workflow.Await(ctx, func() bool { return done }); err != nil {
			return ResetResult{}, err
		}
		return res, resErr
	}); err != nil {
		return ResetResult{}, err
	}
	setStatus := func(status string) {
		upsertStatus(ctx, KindPasswordReset, status)
	}
	actx := workflow.WithActivityOptions(ctx, activityOptions)
	res, resErr = issueReset(actx, activities.ResetInput{ResetID: in.ResetID, PickupWindow: in.PickupWindow})
	done = true
	if res.Status == StatusIssued {
		setStatus(StatusIssued)
		if err := destroyAfterWindow(actx, in.PickupWindow, activities.PasswordResetPickupKey(in.ResetID)); err != nil {
			return ResetResult{}, err
		}
	} else if res.Status == StatusRefused {
		setStatus(StatusRefused)
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return ResetResult{}, err
	}
	if res.Status == "" {
		// The activity failed for good (the reset document is missing).
		return ResetResult{}, resErr
	}
	return res, nil
}
