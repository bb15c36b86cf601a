package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
)

// FraudVerification is the verification of registration data suspected to
// be false (C2.2): automated cross-checks, a notice to the user with a
// deadline to answer, the user's answer, and the investigator's decision
// (an Update with a validator): cleared, suspend with the corrections
// required, or cancel. The case has a service level (reminder to the
// investigators, escalation to a supervisor); a user who does not answer in
// time is decided on the evidence. While the case is open, an application
// it concerns cannot be approved.
func FraudVerification(ctx workflow.Context, in FraudInput) (CaseResult, error) {
	f := &fraudCase{in: in, sl: in.ServiceLevel.WithDefaults()}
	if err := f.setup(ctx); err != nil {
		return CaseResult{}, err
	}
	return f.run(ctx)
}

type fraudCase struct {
	in       FraudInput
	sl       CaseServiceLevel
	st       CaseStatus
	openedAt time.Time
	// answerReminded: the user was reminded to answer.
	answerReminded bool
	action         *fraudAction
	outcome        CaseResult
	outcomeErr     error
}

type fraudAction struct {
	answer   *CaseAnswer
	decision *FraudDecision
}

func (f *fraudCase) setup(ctx workflow.Context) error {
	f.st = CaseStatus{CaseID: f.in.CaseID, Kind: KindFraud, State: CaseReported, Findings: []string{}, AnswerDueAt: f.in.AnswerDueAt}
	if err := workflow.SetQueryHandler(ctx, QueryCaseStatus, func() (CaseStatus, error) { return f.st, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateCaseAnswer, f.answer,
		workflow.UpdateHandlerOptions{Validator: f.validateAnswer}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateCaseDecide, f.decide,
		workflow.UpdateHandlerOptions{Validator: f.validateDecision})
}

// ---- validators: a refused request never enters the history ----

func (f *fraudCase) validateAnswer(req CaseAnswer) error {
	owner := req.Actor.Kind == "user" && f.in.AccountID != "" && req.Actor.ID == f.in.AccountID
	applicant := req.Actor.Kind == "applicant" && f.in.AccountID == "" && req.Actor.ID == f.in.ApplicationID
	if !owner && !applicant {
		return forbidden("only the user the case concerns may answer it")
	}
	if req.SubmissionID == "" {
		return invalid("submission_id is required")
	}
	if err := f.idle(); err != nil {
		return err
	}
	if f.st.State != CaseAwaitingAnswer {
		return conflict("the case is not waiting for an answer (it is " + f.st.State + ")")
	}
	return nil
}

func (f *fraudCase) validateDecision(req FraudDecision) error {
	if !req.Actor.May(authz.CaseDecide) {
		return forbidden("only an investigator or a supervisor may decide a fraud case")
	}
	switch req.Decision {
	case FraudCleared:
	case FraudSuspend, FraudCancel:
		if !slices.Contains(FraudReasonCodes, req.ReasonCode) {
			return invalid(fmt.Sprintf("reason_code must be one of %v", FraudReasonCodes))
		}
		if len(req.Evidence) == 0 {
			return invalid("an adverse decision must name its evidence")
		}
		if req.Decision == FraudSuspend {
			if f.in.AccountID == "" {
				return invalid("an application cannot be suspended: clear it or cancel it")
			}
			if len(req.Corrections) == 0 || !allIn(req.Corrections, CorrectionFields) {
				return invalid(fmt.Sprintf("a suspension names the corrections required, among %v", CorrectionFields))
			}
		}
	default:
		return invalid(fmt.Sprintf("unknown decision %q", req.Decision))
	}
	if err := f.idle(); err != nil {
		return err
	}
	switch f.st.State {
	case CaseAwaitingDecision:
		return nil
	case CaseAwaitingAnswer:
		if req.Decision != FraudCleared {
			return conflict("the user may still answer: an adverse decision waits for the answer or the deadline")
		}
		return nil
	default:
		return conflict("the case is " + f.st.State)
	}
}

func (f *fraudCase) idle() error {
	if f.action != nil {
		return conflict("another action on this case is being carried out")
	}
	return nil
}

// ---- handlers: hand the action to run and wait for its outcome ----

func (f *fraudCase) answer(ctx workflow.Context, req CaseAnswer) (CaseResult, error) {
	if err := f.validateAnswer(req); err != nil {
		return CaseResult{}, err
	}
	return f.perform(ctx, &fraudAction{answer: &req})
}

func (f *fraudCase) decide(ctx workflow.Context, req FraudDecision) (CaseResult, error) {
	if err := f.validateDecision(req); err != nil {
		return CaseResult{}, err
	}
	return f.perform(ctx, &fraudAction{decision: &req})
}

func (f *fraudCase) perform(ctx workflow.Context, act *fraudAction) (CaseResult, error) {
	f.action = act
	if err := workflow.Await(ctx, func() bool { return f.action == nil }); err != nil {
		return CaseResult{}, err
	}
	return f.outcome, f.outcomeErr
}

// ---- main body ----

func (f *fraudCase) run(ctx workflow.Context) (CaseResult, error) {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	f.openedAt = workflow.Now(ctx)

	var findings []string
	if err := workflow.ExecuteActivity(ctx, a.CrossCheckCase, f.in.CaseID).Get(ctx, &findings); err != nil {
		return CaseResult{}, err
	}
	if findings != nil {
		f.st.Findings = findings
	}
	opened := activities.CaseOpenedInput{CaseID: f.in.CaseID, State: CaseAwaitingAnswer, Deadline: f.in.AnswerDueAt,
		DueAt: f.openedAt.Add(f.sl.EscalateAfter), Kind: KindFraud, ActorID: f.in.OpenedBy}
	if err := workflow.ExecuteActivity(ctx, a.NotifyCaseOpened, opened).Get(ctx, nil); err != nil {
		return CaseResult{}, err
	}
	f.setState(ctx, CaseAwaitingAnswer)

	for !CaseClosed(f.st.State) {
		next := f.nextDeadline()
		acted, err := waitFor(ctx, next.at, func() bool { return f.action != nil })
		if err != nil {
			return CaseResult{}, err
		}
		if acted {
			f.carryOut(ctx)
			continue
		}
		if err := f.onDeadline(ctx, next.what); err != nil {
			return CaseResult{}, err
		}
	}
	signalCaseClosed(ctx, f.in.AccountID)
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return CaseResult{}, err
	}
	return CaseResult{CaseID: f.in.CaseID, State: f.st.State, SanctionID: f.st.SanctionID}, nil
}

// nextDeadline: while the user may answer, a reminder half-way and the
// deadline; until decided, the investigators' reminder and the escalation.
func (f *fraudCase) nextDeadline() deadline {
	var ds []deadline
	if f.st.State == CaseAwaitingAnswer {
		if !f.answerReminded {
			half := f.in.AnswerDueAt.Sub(f.openedAt) / 2
			ds = append(ds, deadline{f.openedAt.Add(half), "answer_reminder"})
		}
		ds = append(ds, deadline{f.in.AnswerDueAt, "answer_deadline"})
	}
	if !f.st.Reminded {
		ds = append(ds, deadline{f.openedAt.Add(f.sl.RemindAfter), "reminder"})
	}
	if !f.st.Escalated {
		ds = append(ds, deadline{f.openedAt.Add(f.sl.EscalateAfter), "escalation"})
	}
	return earliest(ds...)
}

func (f *fraudCase) onDeadline(ctx workflow.Context, what string) error {
	step := activities.CaseStepInput{CaseID: f.in.CaseID, Kind: what, Round: 1}
	if err := workflow.ExecuteActivity(ctx, a.CaseStep, step).Get(ctx, nil); err != nil {
		return err
	}
	switch what {
	case "answer_reminder":
		f.answerReminded = true
	case "answer_deadline":
		f.answerReminded = true
		f.setState(ctx, CaseAwaitingDecision)
	case "reminder":
		f.st.Reminded = true
	case "escalation":
		f.st.Reminded, f.st.Escalated = true, true
	}
	return nil
}

func (f *fraudCase) carryOut(ctx workflow.Context) {
	act := f.action
	var res CaseResult
	var err error
	switch {
	case act.answer != nil:
		in := activities.CaseSubmissionInput{CaseID: f.in.CaseID, SubmissionID: act.answer.SubmissionID, Kind: "answer",
			State: CaseAwaitingDecision, ActorKind: act.answer.Actor.Kind}
		if err = workflow.ExecuteActivity(ctx, a.AcceptCaseSubmission, in).Get(ctx, nil); err == nil {
			f.st.Answered = true
			f.setState(ctx, CaseAwaitingDecision)
		}
	case act.decision != nil:
		err = f.applyDecision(ctx, *act.decision)
	}
	if err != nil {
		workflow.GetLogger(ctx).Warn("case action failed", "error", err)
		err = asUpdateError(err)
	}
	res = CaseResult{CaseID: f.in.CaseID, State: f.st.State, SanctionID: f.st.SanctionID}
	f.outcome, f.outcomeErr = res, err
	f.action = nil
}

func (f *fraudCase) applyDecision(ctx workflow.Context, d FraudDecision) error {
	closeIn := activities.CloseCaseInput{CaseID: f.in.CaseID, Outcome: d.Decision, DecidedBy: d.Actor.ID, DecidedKind: "staff",
		ReasonCode: d.ReasonCode, Clause: ClauseFraud, Evidence: d.Evidence, Corrections: d.Corrections}
	state := CaseCleared
	if d.Decision != FraudCleared {
		state = CaseSuspended
		kind := SanctionSuspension
		if d.Decision == FraudCancel {
			state, kind = CaseCancelled, SanctionCancellation
		}
		if f.in.AccountID != "" {
			// The sanction's own run applies it and waits for appeal or
			// reinstatement.
			sid := SanctionIDFor(f.in.CaseID)
			conditions := []string(nil)
			if kind == SanctionSuspension {
				conditions = d.Corrections
			}
			if err := startSanction(ctx, SanctionInput{SanctionID: sid, CaseID: f.in.CaseID, AccountID: f.in.AccountID, Kind: kind,
				ReasonCode: d.ReasonCode, Clause: ClauseFraud, Evidence: d.Evidence, Conditions: conditions, FalseData: true,
				ImposedBy: d.Actor.ID, ImposedKind: "staff", OpenedBy: f.in.OpenedBy}); err != nil {
				return err
			}
			closeIn.SanctionID = sid
			f.st.SanctionID = sid
		}
	}
	closeIn.State = state
	if err := workflow.ExecuteActivity(ctx, a.CloseCase, closeIn).Get(ctx, nil); err != nil {
		return err
	}
	f.st.DecidedBy = d.Actor.ID
	f.setState(ctx, state)
	return nil
}

func (f *fraudCase) setState(ctx workflow.Context, state string) {
	f.st.State = state
	setSearch(ctx, KindFraud, state)
}
