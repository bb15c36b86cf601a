package workflows

import (
	"slices"

	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
)

// DisclosureRequest runs one request to disclose a user's registration
// data (C2.3). user_authorised waits for the user's answer until a
// deadline (silence is refusal); law and service_need wait for a second
// staff member with an approver role, never the one who entered it. An
// approval opens a delivery window in which the exact approved fields can
// be exported once (by the API); afterwards the request closes as
// delivered or expired. The workflow sees field codes, never field values.
func DisclosureRequest(ctx workflow.Context, in DisclosureInput) (DisclosureStatus, error) {
	d := &disclosure{in: in}
	if err := d.setup(ctx); err != nil {
		return DisclosureStatus{}, err
	}
	return d.run(ctx)
}

type disclosure struct {
	in        DisclosureInput
	st        DisclosureStatus
	plan      activities.DisclosurePlan
	delivered bool
	// One decision (consent or approval) is handed to run by its handler.
	consent    *ConsentAnswer
	decision   *DisclosureDecision
	acted      bool
	outcomeErr error
	// timedOut is set when the deadline passed: late answers are refused.
	timedOut bool
}

func (d *disclosure) setup(ctx workflow.Context) error {
	d.st = DisclosureStatus{RequestID: d.in.RequestID, Status: "received"}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (DisclosureStatus, error) { return d.st, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateConsent, d.answer,
		workflow.UpdateHandlerOptions{Validator: d.validateConsent}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecideDisclosure, d.decide,
		workflow.UpdateHandlerOptions{Validator: d.validateDecision}); err != nil {
		return err
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, SignalDisclosureDelivered)
		for ch.Receive(ctx, nil) {
			d.delivered = true
		}
	})
	return nil
}

func (d *disclosure) waitingFor(status string) error {
	if d.consent != nil || d.decision != nil {
		return conflict("a decision on this request is being carried out")
	}
	if d.timedOut {
		return conflict("the deadline of the disclosure request has passed")
	}
	if d.st.Status != status {
		return conflict("the disclosure request is " + d.st.Status)
	}
	return nil
}

// admitting reports the moment between the start of the run and the end of
// its first activity: the database may already show the request waiting
// while the workflow does not know its plan yet. Validators then check what
// they can; the handler waits for the plan and checks again.
func (d *disclosure) admitting() bool { return d.st.Status == "received" }

func (d *disclosure) validateConsent(req ConsentAnswer) error {
	if req.Actor.Kind != "user" || (!d.admitting() && req.Actor.ID != d.plan.AccountID) {
		return forbidden("only the user whose data is asked for may answer")
	}
	if req.Decision != "accept" && req.Decision != "refuse" {
		return invalid("decision must be accept or refuse")
	}
	if d.admitting() {
		return nil
	}
	return d.waitingFor(DisclosureAwaitingConsent)
}

func (d *disclosure) validateDecision(req DisclosureDecision) error {
	if !req.Actor.May(authz.DisclosureDecide) {
		return forbidden("only a supervisor or an administrator may approve a disclosure")
	}
	switch req.Decision {
	case "approve", "refuse":
	default:
		return invalid("decision must be approve or refuse")
	}
	if req.Decision == "refuse" && req.Reason == "" {
		return invalid("a reason is required to refuse")
	}
	if d.admitting() {
		return nil
	}
	if req.Actor.ID == d.plan.EnteredBy {
		return forbidden("four eyes: the staff member who entered the request may not approve it")
	}
	for _, f := range req.Fields {
		if !slices.Contains(d.plan.Fields, f) {
			return invalid("field " + f + " was not requested")
		}
	}
	return d.waitingFor(DisclosureAwaitingApproval)
}

func (d *disclosure) answer(ctx workflow.Context, req ConsentAnswer) (DisclosureStatus, error) {
	if err := d.awaitAdmitted(ctx); err != nil {
		return d.st, err
	}
	if err := d.validateConsent(req); err != nil {
		return d.st, err
	}
	d.consent = &req
	return d.awaitOutcome(ctx)
}

func (d *disclosure) decide(ctx workflow.Context, req DisclosureDecision) (DisclosureStatus, error) {
	if err := d.awaitAdmitted(ctx); err != nil {
		return d.st, err
	}
	if err := d.validateDecision(req); err != nil {
		return d.st, err
	}
	d.decision = &req
	return d.awaitOutcome(ctx)
}

func (d *disclosure) awaitAdmitted(ctx workflow.Context) error {
	return workflow.Await(ctx, func() bool { return !d.admitting() })
}

func (d *disclosure) awaitOutcome(ctx workflow.Context) (DisclosureStatus, error) {
	if err := workflow.Await(ctx, func() bool { return d.acted }); err != nil {
		return d.st, err
	}
	return d.st, d.outcomeErr
}

func (d *disclosure) run(ctx workflow.Context) (DisclosureStatus, error) {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	if err := workflow.ExecuteActivity(ctx, a.AdmitDisclosure, d.in.RequestID).Get(ctx, &d.plan); err != nil {
		return DisclosureStatus{}, err
	}
	d.st.Basis, d.st.Deadline = d.plan.Basis, d.plan.Deadline
	d.setStatus(ctx, d.plan.Status)

	wait := max(d.plan.Deadline.Sub(workflow.Now(ctx)), 0)
	got, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return d.consent != nil || d.decision != nil })
	if err != nil {
		return DisclosureStatus{}, err
	}
	var out activities.DisclosureOutcome
	d.timedOut = !got
	switch {
	case !got && d.plan.Status == DisclosureAwaitingConsent:
		// Silence is refusal.
		err = workflow.ExecuteActivity(ctx, a.RecordConsent, activities.ConsentInput{RequestID: d.in.RequestID, Decision: "no_answer"}).Get(ctx, &out)
	case !got:
		err = workflow.ExecuteActivity(ctx, a.ExpireDisclosure, activities.ExpireDisclosureInput{RequestID: d.in.RequestID, Stage: "approval"}).Get(ctx, &out.Status)
	case d.consent != nil:
		decision := map[string]string{"accept": "accepted", "refuse": "refused"}[d.consent.Decision]
		err = workflow.ExecuteActivity(ctx, a.RecordConsent, activities.ConsentInput{RequestID: d.in.RequestID, Decision: decision,
			HTTPRequestID: d.consent.HTTPRequestID}).Get(ctx, &out)
	default:
		in := activities.DisclosureDecisionInput{RequestID: d.in.RequestID, Decision: d.decision.Decision, ApproverID: d.decision.Actor.ID,
			ApproverRoles: d.decision.Actor.Roles, Fields: d.decision.Fields, Reason: d.decision.Reason, HTTPRequestID: d.decision.HTTPRequestID}
		err = workflow.ExecuteActivity(ctx, a.DecideDisclosure, in).Get(ctx, &out)
	}
	if err == nil {
		d.st.ApprovedFields, d.st.DeliveryExpiresAt = out.ApprovedFields, out.DeliveryExpiresAt
		d.setStatus(ctx, out.Status)
	}
	d.outcomeErr, d.acted = asUpdateError(err), true
	if err != nil {
		return d.finish(ctx, err)
	}
	if d.st.Status != DisclosureApproved {
		return d.finish(ctx, nil)
	}

	// The delivery window: the API exports the data once and signals.
	wait = max(d.st.DeliveryExpiresAt.Sub(workflow.Now(ctx)), 0)
	if _, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return d.delivered }); err != nil {
		return DisclosureStatus{}, err
	}
	var final string
	if err := workflow.ExecuteActivity(ctx, a.ExpireDisclosure, activities.ExpireDisclosureInput{RequestID: d.in.RequestID, Stage: "delivery"}).Get(ctx, &final); err != nil {
		return d.finish(ctx, err)
	}
	d.setStatus(ctx, final)
	return d.finish(ctx, nil)
}

func (d *disclosure) setStatus(ctx workflow.Context, status string) {
	d.st.Status = status
	upsertStatus(ctx, KindDisclosure, status)
}

func (d *disclosure) finish(ctx workflow.Context, err error) (DisclosureStatus, error) {
	if !d.acted {
		d.outcomeErr, d.acted = conflict("the disclosure request is "+d.st.Status), true
	}
	if werr := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return DisclosureStatus{}, err
	}
	return d.st, nil
}
