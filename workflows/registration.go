package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
)

// a is only used for activity method references; the worker registers the
// real instance.
var a *activities.Activities

// activityOptions: short steps against Postgres, retried with backoff
// until they succeed; a Conflict failure is final.
var activityOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		NonRetryableErrorTypes: []string{activities.ErrTypeConflict},
	},
}

// RegistrationReview is the review of one registration application (C1.5,
// C2.1, C3.1): automated checks, then the on-the-spot review with its
// service level (reminder, escalation, expiry), the reviewer's decision as
// an Update, requests for information and supplements, and on approval the
// account with its initial password, services and agreement.
func RegistrationReview(ctx workflow.Context, in RegistrationInput) (RegistrationResult, error) {
	r := &registration{in: in, sl: in.ServiceLevel.WithDefaults()}
	if err := r.setup(ctx); err != nil {
		return RegistrationResult{}, err
	}
	return r.run(ctx)
}

type registration struct {
	in RegistrationInput
	sl ServiceLevel
	st RegistrationStatus
	// round counts the times the application entered the review queue;
	// it keys reminders, escalations and requests for information.
	round int
	// enteredAt is when the current waiting state began.
	enteredAt time.Time
	// action is set by an update handler and carried out by run, so that
	// all state changes and activities happen in one place.
	action *action
	// outcome is the result of the last action, read by its handler.
	outcome    DecisionResult
	outcomeErr error
	// applicantPickup: the approval left the initial password to the
	// applicant, until pickupExpires (issue 18).
	applicantPickup bool
	pickupExpires   time.Time
}

type action struct {
	decision   *DecisionRequest
	supplement *SupplementRequest
	withdraw   *WithdrawRequest
}

func (r *registration) setup(ctx workflow.Context) error {
	r.st = RegistrationStatus{ApplicationID: r.in.ApplicationID, Status: StatusPending, Flags: []string{}}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (RegistrationStatus, error) {
		return r.st, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecide, r.decide,
		workflow.UpdateHandlerOptions{Validator: r.validateDecision}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateSupplement, r.supplement,
		workflow.UpdateHandlerOptions{Validator: r.validateSupplement}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateWithdraw, r.withdraw,
		workflow.UpdateHandlerOptions{Validator: r.validateWithdraw})
}

// ---- update validators: a refused request never enters the history ----

func (r *registration) validateDecision(req DecisionRequest) error {
	if !req.Actor.May(authz.RegistrationDecide) {
		return forbidden("only a reviewer or supervisor may decide a registration")
	}
	switch req.Decision {
	case DecisionApprove:
	case DecisionReject, DecisionRequestInfo:
		if req.Reason == "" {
			return invalid("a reason is required to " + req.Decision)
		}
	default:
		return invalid(fmt.Sprintf("unknown decision %q", req.Decision))
	}
	return r.mustBeWaiting(StatusPending)
}

func (r *registration) validateSupplement(req SupplementRequest) error {
	if req.SupplementID == "" {
		return invalid("supplement_id is required")
	}
	return r.mustBeWaiting(StatusInfoRequested)
}

func (r *registration) validateWithdraw(req WithdrawRequest) error {
	if req.Actor.Kind != "applicant" {
		return forbidden("only the applicant may withdraw an application")
	}
	if r.st.Status == StatusInfoRequested {
		return r.mustBeWaiting(StatusInfoRequested)
	}
	return r.mustBeWaiting(StatusPending)
}

// mustBeWaiting refuses an action when the application is not in the given
// state or another action is being carried out.
func (r *registration) mustBeWaiting(status string) error {
	if r.action != nil {
		return conflict("another decision on this application is being carried out")
	}
	if r.st.Status != status {
		return conflict(fmt.Sprintf("the application is %s", r.st.Status))
	}
	return nil
}

// ---- update handlers: hand the action to run and wait for its outcome ----

func (r *registration) decide(ctx workflow.Context, req DecisionRequest) (DecisionResult, error) {
	// Validate again: two updates can pass their validators in the same
	// workflow task before either handler runs.
	if err := r.validateDecision(req); err != nil {
		return DecisionResult{}, err
	}
	return r.perform(ctx, &action{decision: &req})
}

func (r *registration) supplement(ctx workflow.Context, req SupplementRequest) (DecisionResult, error) {
	if err := r.validateSupplement(req); err != nil {
		return DecisionResult{}, err
	}
	return r.perform(ctx, &action{supplement: &req})
}

func (r *registration) withdraw(ctx workflow.Context, req WithdrawRequest) (DecisionResult, error) {
	if err := r.validateWithdraw(req); err != nil {
		return DecisionResult{}, err
	}
	return r.perform(ctx, &action{withdraw: &req})
}

func (r *registration) perform(ctx workflow.Context, act *action) (DecisionResult, error) {
	r.action = act
	if err := workflow.Await(ctx, func() bool { return r.action == nil }); err != nil {
		return DecisionResult{}, err
	}
	return r.outcome, r.outcomeErr
}

// ---- main body ----

func (r *registration) run(ctx workflow.Context) (RegistrationResult, error) {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	log := logger(ctx)

	var admitted activities.AdmitResult
	if err := workflow.ExecuteActivity(ctx, a.AdmitApplication, r.in.ApplicationID).Get(ctx, &admitted); err != nil {
		return RegistrationResult{}, err
	}
	if admitted.Flags != nil {
		r.st.Flags = admitted.Flags
	}
	if admitted.AlreadyRegistered {
		// The person holds an account already: nothing for a reviewer to do.
		if err := r.close(ctx, activities.CloseInput{ApplicationID: r.in.ApplicationID, Status: StatusRejected,
			Reason: activities.ReasonAlreadyRegistered, ActorKind: "system"}); err != nil {
			return RegistrationResult{}, err
		}
		return r.finish(ctx)
	}
	r.enterQueue(ctx)

	for !r.closed() {
		// A decision that is already waiting needs no timer (revision 1;
		// the SDK's AwaitWithTimeout starts one even then).
		if r.action != nil && r.in.Revision >= 1 {
			r.carryOut(ctx)
			continue
		}
		deadline, what := r.nextDeadline()
		wait := max(deadline.Sub(workflow.Now(ctx)), 0)
		acted, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return r.action != nil })
		if err != nil {
			return RegistrationResult{}, err
		}
		if acted {
			r.carryOut(ctx)
			continue
		}
		log.Info("service-level deadline", "what", what, "round", r.round)
		if err := r.onDeadline(ctx, what); err != nil {
			return RegistrationResult{}, err
		}
	}
	return r.finish(ctx)
}

func (r *registration) closed() bool {
	return r.st.Status != StatusPending && r.st.Status != StatusInfoRequested
}

// enterQueue starts a new round of review.
func (r *registration) enterQueue(ctx workflow.Context) {
	r.round++
	r.enteredAt = workflow.Now(ctx)
	r.st.QueuedAt = r.enteredAt
	r.st.Reminded, r.st.Escalated = false, false
	r.st.ExpiresAt = r.enteredAt.Add(r.sl.ExpireAfter)
	if r.round == 1 && r.in.StartedPending {
		r.st.Status = StatusPending // the start's search attributes say so
		return
	}
	r.setStatus(ctx, StatusPending)
}

// nextDeadline is the earliest service-level step still ahead: while
// pending, the reminder then the escalation; in any waiting state, expiry.
func (r *registration) nextDeadline() (time.Time, string) {
	if r.st.Status == StatusPending {
		if !r.st.Reminded && r.sl.RemindAfter < r.sl.ExpireAfter {
			return r.enteredAt.Add(r.sl.RemindAfter), "reminder"
		}
		if !r.st.Escalated && r.sl.EscalateAfter < r.sl.ExpireAfter {
			return r.enteredAt.Add(r.sl.EscalateAfter), "escalation"
		}
	}
	return r.st.ExpiresAt, "expiry"
}

func (r *registration) onDeadline(ctx workflow.Context, what string) error {
	switch what {
	case "reminder", "escalation":
		ev := activities.ServiceLevelEvent{ApplicationID: r.in.ApplicationID, Kind: what, Round: r.round}
		if err := workflow.ExecuteActivity(ctx, a.RecordServiceLevel, ev).Get(ctx, nil); err != nil {
			return err
		}
		if what == "reminder" {
			r.st.Reminded = true
		} else {
			r.st.Reminded, r.st.Escalated = true, true
		}
		return nil
	default:
		return r.close(ctx, activities.CloseInput{ApplicationID: r.in.ApplicationID, Status: StatusExpired,
			Reason: "no_action_within_service_level", ActorKind: "system"})
	}
}

// carryOut performs the action an update handler handed over and records
// its outcome for the handler.
func (r *registration) carryOut(ctx workflow.Context) {
	act := r.action
	var res DecisionResult
	var err error
	switch {
	case act.decision != nil:
		res, err = r.applyDecision(ctx, *act.decision)
	case act.supplement != nil:
		in := activities.SupplementInput{ApplicationID: r.in.ApplicationID, SupplementID: act.supplement.SupplementID}
		if err = workflow.ExecuteActivity(ctx, a.ApplySupplement, in).Get(ctx, nil); err == nil {
			r.enterQueue(ctx)
			res = DecisionResult{Status: StatusPending}
		}
	case act.withdraw != nil:
		err = r.close(ctx, activities.CloseInput{ApplicationID: r.in.ApplicationID, Status: StatusWithdrawn, ActorKind: "applicant"})
		res = DecisionResult{Status: r.st.Status}
	}
	if err != nil {
		logger(ctx).Warn("action failed", "error", err)
		err = asUpdateError(err)
	}
	r.outcome, r.outcomeErr = res, err
	r.action = nil
}

func (r *registration) applyDecision(ctx workflow.Context, d DecisionRequest) (DecisionResult, error) {
	switch d.Decision {
	case DecisionApprove:
		in := activities.ApproveInput{ApplicationID: r.in.ApplicationID, ReviewerID: d.Actor.ID, Reason: d.Reason,
			PickupWindow: r.sl.PickupWindow, Qualifications: d.Qualifications}
		// Issue 18: online and kiosk applicants pick their own initial
		// password up, within the applicant's window. A run whose input
		// says so skips the version marker (the input is fixed, so replay
		// takes the same branch); older runs read their marker.
		if (r.in.Revision >= 1 || workflow.GetVersion(ctx, "applicant-pickup", workflow.DefaultVersion, 1) == 1) &&
			(r.in.Channel == "online" || r.in.Channel == "kiosk") {
			in.ApplicantPickupWindow = r.sl.ApplicantPickupWindow
		}
		var out activities.ApproveResult
		if err := workflow.ExecuteActivity(ctx, a.ApproveApplication, in).Get(ctx, &out); err != nil {
			return DecisionResult{}, err
		}
		r.applicantPickup, r.pickupExpires = out.ToApplicant, out.PickupExpiresAt
		if out.AlreadyRegistered {
			r.setStatus(ctx, StatusRejected)
			return DecisionResult{Status: StatusRejected}, conflict("the applicant already holds an account; the application was closed")
		}
		r.st.AccountID, r.st.DecidedBy = out.AccountID, d.Actor.ID
		r.setStatus(ctx, StatusApproved)
		refused := make([]ServiceRefusal, 0, len(out.RefusedServices))
		for _, s := range out.RefusedServices {
			refused = append(refused, ServiceRefusal(s))
		}
		return DecisionResult{Status: StatusApproved, AccountID: out.AccountID, OpenedServices: out.OpenedServices,
			RefusedServices: refused, PickupExpiresAt: out.PickupExpiresAt}, nil
	case DecisionReject:
		r.st.DecidedBy = d.Actor.ID
		err := r.close(ctx, activities.CloseInput{ApplicationID: r.in.ApplicationID, Status: StatusRejected,
			Reason: d.Reason, ActorKind: "staff", ActorID: d.Actor.ID})
		return DecisionResult{Status: r.st.Status}, err
	default: // request_info
		in := activities.RequestInfoInput{ApplicationID: r.in.ApplicationID, ReviewerID: d.Actor.ID, What: d.Reason, Round: r.round}
		if err := workflow.ExecuteActivity(ctx, a.RequestInfo, in).Get(ctx, nil); err != nil {
			return DecisionResult{}, err
		}
		r.enteredAt = workflow.Now(ctx)
		r.st.ExpiresAt = r.enteredAt.Add(r.sl.ExpireAfter)
		r.setStatus(ctx, StatusInfoRequested)
		return DecisionResult{Status: StatusInfoRequested}, nil
	}
}

func (r *registration) close(ctx workflow.Context, in activities.CloseInput) error {
	if err := workflow.ExecuteActivity(ctx, a.CloseApplication, in).Get(ctx, nil); err != nil {
		return err
	}
	r.setStatus(ctx, in.Status)
	return nil
}

func (r *registration) setStatus(ctx workflow.Context, status string) {
	r.st.Status = status
	upsertStatus(ctx, KindRegistration, status)
}

// finish waits out the pickup window of an approval (the reviewer's, or
// the applicant's for an online or kiosk application), destroys an initial
// password nobody picked up, and lets running handlers return first.
func (r *registration) finish(ctx workflow.Context) (RegistrationResult, error) {
	if r.st.Status == StatusApproved {
		wait := r.sl.PickupWindow
		if r.applicantPickup {
			wait = max(r.pickupExpires.Sub(workflow.Now(ctx)), time.Second)
		}
		if err := workflow.Sleep(ctx, wait); err != nil {
			return RegistrationResult{}, err
		}
		key := activities.RegistrationPickupKey(r.in.ApplicationID)
		if err := workflow.ExecuteActivity(ctx, a.DestroyPickup, key).Get(ctx, nil); err != nil {
			return RegistrationResult{}, err
		}
	}
	if r.action != nil {
		// A decision that arrived before the checks closed the application.
		r.outcome, r.outcomeErr = DecisionResult{Status: r.st.Status}, conflict("the application is "+r.st.Status)
		r.action = nil
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return RegistrationResult{}, err
	}
	return RegistrationResult{Status: r.st.Status, AccountID: r.st.AccountID}, nil
}

// asUpdateError turns an activity's final Conflict into an update error of
// the same type, so the API answers 409 rather than 500.
func asUpdateError(err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeConflict {
		return conflict(appErr.Error())
	}
	return err
}
