package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
)

// DataChangeReview is a user's request to change the registered name or ID
// number (C3.2): a reviewer decides it as an Update with a validator; on
// approval the activity changes the person's data and keeps the old values
// in the change record and the audit log. While it waits the reviewers are
// reminded and then the supervisors told (DefaultDataChangeServiceLevel).
func DataChangeReview(ctx workflow.Context, in DataChangeInput) (DataChangeResult, error) {
	d := &dataChange{in: in, status: StatusPending}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (DataChangeResult, error) {
		return DataChangeResult{Status: d.status}, nil
	}); err != nil {
		return DataChangeResult{}, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecideDataChange, d.decide,
		workflow.UpdateHandlerOptions{Validator: d.validate}); err != nil {
		return DataChangeResult{}, err
	}
	d.setStatus(ctx, StatusPending)
	if err := d.waitForDecision(ctx); err != nil {
		return DataChangeResult{}, err
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return DataChangeResult{}, err
	}
	return DataChangeResult{Status: d.status}, nil
}

// waitForDecision waits for the decision, keeping the service level (runs
// started before it was added just wait).
func (d *dataChange) waitForDecision(ctx workflow.Context) error {
	decided := func() bool { return d.status != StatusPending }
	if workflow.GetVersion(ctx, versionStaffServiceLevel, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return workflow.Await(ctx, decided)
	}
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	clock := staffClock{recordKind: "data_change", recordID: d.in.ChangeID, role: RoleReviewer, from: workflow.Now(ctx),
		sl: d.in.ServiceLevel.orDefaults(DefaultDataChangeServiceLevel)}
	for !decided() {
		next := clock.next()
		done, err := waitFor(ctx, next.at, decided)
		if err != nil {
			return err
		}
		if !done {
			if err := clock.fire(ctx, next.what); err != nil {
				return err
			}
		}
	}
	return nil
}

type dataChange struct {
	in     DataChangeInput
	status string
	busy   bool
}

func (d *dataChange) validate(req DataChangeDecision) error {
	if !req.Actor.May(authz.DataChangeDecide) {
		return forbidden("only a reviewer or supervisor may decide a change of registration data")
	}
	switch req.Decision {
	case DecisionApprove:
	case DecisionReject:
		if req.Reason == "" {
			return invalid("a reason is required to reject")
		}
	default:
		return invalid(fmt.Sprintf("unknown decision %q", req.Decision))
	}
	if d.busy {
		return conflict("another decision on this change is being carried out")
	}
	if d.status != StatusPending {
		return conflict("the change is " + d.status)
	}
	return nil
}

// decide carries the decision out in the handler: there is nothing else for
// the workflow to do, and busy keeps a second decision out meanwhile.
func (d *dataChange) decide(ctx workflow.Context, req DataChangeDecision) (DataChangeResult, error) {
	if err := d.validate(req); err != nil {
		return DataChangeResult{}, err
	}
	d.busy = true
	defer func() { d.busy = false }()
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	var status string
	in := activities.DataChangeDecisionInput{ChangeID: d.in.ChangeID, Decision: req.Decision, StaffID: req.Actor.ID, Reason: req.Reason}
	if err := workflow.ExecuteActivity(ctx, a.DecideDataChange, in).Get(ctx, &status); err != nil {
		return DataChangeResult{Status: d.status}, asUpdateError(err)
	}
	d.setStatus(ctx, status)
	return DataChangeResult{Status: status}, nil
}

func (d *dataChange) setStatus(ctx workflow.Context, status string) {
	d.status = status
	upsertStatus(ctx, KindDataChange, status)
}
