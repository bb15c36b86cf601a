package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
)

// ViolationCase handles a breach of the site's rules (C2.5, C3.4). The
// investigator orders one of three actions: suspend or cancel directly (a
// sanction starts at once), or correct: the user is told what to fix and by
// when, reports the correction, and staff confirm it (an Update with a
// validator). A correction not confirmed by the deadline escalates to a
// suspension; it is never dropped. The case record stays on the account
// whatever the outcome (the liability record).
func ViolationCase(ctx workflow.Context, in ViolationInput) (CaseResult, error) {
	v := &violation{in: in, sl: in.ServiceLevel.WithDefaults()}
	if err := v.setup(ctx); err != nil {
		return CaseResult{}, err
	}
	return v.run(ctx)
}

type violation struct {
	in       ViolationInput
	sl       CaseServiceLevel
	st       CaseStatus
	openedAt time.Time
	// reportedAt is when the current correction report arrived; staff
	// reminders and escalation run from it.
	reportedAt       time.Time
	userReminded     bool
	rejections       int
	action           *violationAction
	outcome          CaseResult
	outcomeErr       error
	staffReminded    int // report round the staff reminder was sent for
	staffEscalatedIn int // report round the escalation was sent for
	reports          int
}

type violationAction struct {
	report *CorrectionReport
	review *CorrectionReview
}

func (v *violation) setup(ctx workflow.Context) error {
	v.st = CaseStatus{CaseID: v.in.CaseID, Kind: KindViolation, State: CaseReported, Findings: []string{}, CorrectBy: v.in.CorrectBy}
	if err := workflow.SetQueryHandler(ctx, QueryCaseStatus, func() (CaseStatus, error) { return v.st, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateReportCorrection, v.report,
		workflow.UpdateHandlerOptions{Validator: v.validateReport}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateReviewCorrection, v.review,
		workflow.UpdateHandlerOptions{Validator: v.validateReview})
}

func (v *violation) validateReport(req CorrectionReport) error {
	if req.Actor.Kind != "user" || req.Actor.ID != v.in.AccountID {
		return forbidden("only the user the case concerns may report a correction")
	}
	if req.SubmissionID == "" {
		return invalid("submission_id is required")
	}
	if v.action != nil {
		return conflict("another action on this case is being carried out")
	}
	if v.st.State != CaseAwaitingCorrection {
		return conflict("the case is not waiting for a correction (it is " + v.st.State + ")")
	}
	return nil
}

func (v *violation) validateReview(req CorrectionReview) error {
	if !req.Actor.May(authz.CaseCorrectionReview) {
		return forbidden("only an investigator or a supervisor may confirm a correction")
	}
	if req.Result != CorrectionConfirmed && req.Result != CorrectionRejected {
		return invalid(fmt.Sprintf("unknown result %q", req.Result))
	}
	if v.action != nil {
		return conflict("another action on this case is being carried out")
	}
	if v.st.State != CaseCorrectionReported {
		return conflict("no correction is waiting for review (the case is " + v.st.State + ")")
	}
	return nil
}

func (v *violation) report(ctx workflow.Context, req CorrectionReport) (CaseResult, error) {
	if err := v.validateReport(req); err != nil {
		return CaseResult{}, err
	}
	return v.perform(ctx, &violationAction{report: &req})
}

func (v *violation) review(ctx workflow.Context, req CorrectionReview) (CaseResult, error) {
	if err := v.validateReview(req); err != nil {
		return CaseResult{}, err
	}
	return v.perform(ctx, &violationAction{review: &req})
}

func (v *violation) perform(ctx workflow.Context, act *violationAction) (CaseResult, error) {
	v.action = act
	if err := workflow.Await(ctx, func() bool { return v.action == nil }); err != nil {
		return CaseResult{}, err
	}
	return v.outcome, v.outcomeErr
}

func (v *violation) run(ctx workflow.Context) (CaseResult, error) {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	v.openedAt = workflow.Now(ctx)

	switch v.in.Action {
	case ViolationSuspend, ViolationCancel:
		if err := v.impose(ctx, v.in.Action, v.in.OpenedBy, "staff", v.in.Corrections); err != nil {
			return CaseResult{}, err
		}
	default:
		opened := activities.CaseOpenedInput{CaseID: v.in.CaseID, State: CaseAwaitingCorrection, Deadline: v.in.CorrectBy,
			DueAt: v.in.CorrectBy, Kind: KindViolation, Rule: v.in.Rule, ActorID: v.in.OpenedBy}
		if err := workflow.ExecuteActivity(ctx, a.NotifyCaseOpened, opened).Get(ctx, nil); err != nil {
			return CaseResult{}, err
		}
		v.setState(ctx, CaseAwaitingCorrection)
	}

	for !CaseClosed(v.st.State) {
		next := v.nextDeadline()
		acted, err := waitFor(ctx, next.at, func() bool { return v.action != nil })
		if err != nil {
			return CaseResult{}, err
		}
		if acted {
			v.carryOut(ctx)
			continue
		}
		if err := v.onDeadline(ctx, next.what); err != nil {
			return CaseResult{}, err
		}
	}
	signalCaseClosed(ctx, v.in.AccountID)
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return CaseResult{}, err
	}
	return CaseResult{CaseID: v.in.CaseID, State: v.st.State, SanctionID: v.st.SanctionID}, nil
}

// nextDeadline: while the user owes the correction, a reminder half-way and
// the deadline (escalation to suspension); while staff owe the review, the
// case's service level from the report.
func (v *violation) nextDeadline() deadline {
	switch v.st.State {
	case CaseAwaitingCorrection:
		var ds []deadline
		if !v.userReminded {
			ds = append(ds, deadline{v.openedAt.Add(v.in.CorrectBy.Sub(v.openedAt) / 2), "correction_reminder"})
		}
		return earliest(append(ds, deadline{v.in.CorrectBy, "correction_deadline"})...)
	case CaseCorrectionReported:
		var ds []deadline
		if v.staffReminded < v.reports {
			ds = append(ds, deadline{v.reportedAt.Add(v.sl.RemindAfter), "reminder"})
		}
		if v.staffEscalatedIn < v.reports {
			ds = append(ds, deadline{v.reportedAt.Add(v.sl.EscalateAfter), "escalation"})
		}
		return earliest(ds...)
	}
	return deadline{}
}

func (v *violation) onDeadline(ctx workflow.Context, what string) error {
	switch what {
	case "correction_deadline":
		// Not corrected in time: escalate to a suspension that the verified
		// correction lifts. The case's opener counts as the one who imposed
		// it, so that another staff member decides an appeal.
		return v.impose(ctx, "escalated", v.in.OpenedBy, "system", []string{"correction"})
	case "correction_reminder":
		if err := workflow.ExecuteActivity(ctx, a.CaseStep, activities.CaseStepInput{CaseID: v.in.CaseID, Kind: what, Round: 1}).Get(ctx, nil); err != nil {
			return err
		}
		v.userReminded = true
	default: // reminder, escalation of a waiting review
		if err := workflow.ExecuteActivity(ctx, a.CaseStep, activities.CaseStepInput{CaseID: v.in.CaseID, Kind: what, Round: v.reports}).Get(ctx, nil); err != nil {
			return err
		}
		v.staffReminded = v.reports
		v.st.Reminded = true
		if what == "escalation" {
			v.staffEscalatedIn = v.reports
			v.st.Escalated = true
		}
	}
	return nil
}

func (v *violation) carryOut(ctx workflow.Context) {
	act := v.action
	var err error
	switch {
	case act.report != nil:
		in := activities.CaseSubmissionInput{CaseID: v.in.CaseID, SubmissionID: act.report.SubmissionID, Kind: "correction",
			State: CaseCorrectionReported, ActorKind: "user"}
		if err = workflow.ExecuteActivity(ctx, a.AcceptCaseSubmission, in).Get(ctx, nil); err == nil {
			v.reports++
			v.reportedAt = workflow.Now(ctx)
			v.st.Answered = true
			v.setState(ctx, CaseCorrectionReported)
		}
	case act.review != nil:
		err = v.applyReview(ctx, *act.review)
	}
	if err != nil {
		workflow.GetLogger(ctx).Warn("case action failed", "error", err)
		err = asUpdateError(err)
	}
	v.outcome, v.outcomeErr = CaseResult{CaseID: v.in.CaseID, State: v.st.State, SanctionID: v.st.SanctionID}, err
	v.action = nil
}

func (v *violation) applyReview(ctx workflow.Context, r CorrectionReview) error {
	if r.Result == CorrectionConfirmed {
		in := activities.CloseCaseInput{CaseID: v.in.CaseID, State: CaseCorrected, Outcome: CaseCorrected, DecidedBy: r.Actor.ID,
			DecidedKind: "staff", ReasonCode: v.in.Rule, Clause: ClauseViolation}
		if err := workflow.ExecuteActivity(ctx, a.CloseCase, in).Get(ctx, nil); err != nil {
			return err
		}
		v.st.DecidedBy = r.Actor.ID
		v.setState(ctx, CaseCorrected)
		return nil
	}
	if !workflow.Now(ctx).Before(v.in.CorrectBy) {
		// Rejected after the deadline: escalate now.
		return v.impose(ctx, "escalated", v.in.OpenedBy, "system", []string{"correction"})
	}
	v.rejections++
	step := activities.CaseStepInput{CaseID: v.in.CaseID, Kind: "correction_rejected", Round: v.rejections, ActorID: r.Actor.ID}
	if err := workflow.ExecuteActivity(ctx, a.CaseStep, step).Get(ctx, nil); err != nil {
		return err
	}
	v.setState(ctx, CaseAwaitingCorrection)
	return nil
}

// impose starts the sanction (suspend, cancel, or the escalation of an
// uncorrected breach to a suspension) and closes the case.
func (v *violation) impose(ctx workflow.Context, outcome, imposedBy, imposedKind string, conditions []string) error {
	kind, state := SanctionSuspension, CaseSuspended
	if outcome == ViolationCancel {
		kind, state, conditions = SanctionCancellation, CaseCancelled, nil
	}
	reason := v.in.Rule
	if outcome == "escalated" {
		reason = ReasonNotCorrected
	}
	sid := SanctionIDFor(v.in.CaseID)
	if err := startSanction(ctx, SanctionInput{SanctionID: sid, CaseID: v.in.CaseID, AccountID: v.in.AccountID, Kind: kind,
		ReasonCode: reason, Clause: ClauseViolation, Conditions: conditions, ImposedBy: imposedBy, ImposedKind: imposedKind,
		OpenedBy: v.in.OpenedBy}); err != nil {
		return err
	}
	v.st.SanctionID = sid
	in := activities.CloseCaseInput{CaseID: v.in.CaseID, State: state, Outcome: outcome, DecidedBy: imposedBy, DecidedKind: imposedKind,
		ReasonCode: reason, Clause: ClauseViolation, SanctionID: sid}
	if imposedKind == "system" {
		in.DecidedBy = ""
	}
	if err := workflow.ExecuteActivity(ctx, a.CloseCase, in).Get(ctx, nil); err != nil {
		return err
	}
	v.setState(ctx, state)
	return nil
}

func (v *violation) setState(ctx workflow.Context, state string) {
	v.st.State = state
	setSearch(ctx, KindViolation, state)
}
