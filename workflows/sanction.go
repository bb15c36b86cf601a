package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
)

// Sanction is one restriction on an account: a suspension or a
// cancellation (C2.2, C2.5). It applies the effects at once (sessions end,
// sign-in refused, services paused or closed, agreement ended for a
// cancellation, C4), then waits for:
//   - an appeal by the user within 15 days, decided by a staff member other
//     than the one who imposed it; a successful appeal undoes the sanction;
//   - for a suspension, reinstatement: the required corrections reported
//     and verified, or a supervisor's decision.
//
// A cancellation becomes final when the appeal time passes unused or the
// appeal fails. The account's status is derived from every sanction in
// force, so lifting this one leaves any other in place.
func Sanction(ctx workflow.Context, in SanctionInput) (SanctionResult, error) {
	s := &sanction{in: in, window: AppealWindow}
	if err := s.setup(ctx); err != nil {
		return SanctionResult{}, err
	}
	return s.run(ctx)
}

type sanction struct {
	in          SanctionInput
	window      time.Duration
	st          SanctionStatus
	rejections  int
	action      *sanctionAction
	outcomeErr  error
	windowEnded bool
	// appealClock is the service level of an appeal waiting for its
	// decision (nil before an appeal, and in runs older than it).
	appealClock *staffClock
	slVersion   workflow.Version
	// ctxForNow lets the validators read the workflow clock.
	ctxForNow workflow.Context
}

type sanctionAction struct {
	appeal   *SanctionAppeal
	decision *AppealDecision
	lift     *LiftRequest
	report   *CorrectionReport
	review   *CorrectionReview
}

func (s *sanction) setup(ctx workflow.Context) error {
	s.ctxForNow = ctx
	s.st = SanctionStatus{SanctionID: s.in.SanctionID, Kind: s.in.Kind, State: SanctionInForce, AppealState: "none", CorrectionState: "none"}
	if err := workflow.SetQueryHandler(ctx, QuerySanctionStatus, func() (SanctionStatus, error) { return s.st, nil }); err != nil {
		return err
	}
	for _, u := range []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdateSanctionAppeal, s.appeal, s.validateAppeal},
		{UpdateSanctionAppealDec, s.decideAppeal, s.validateAppealDecision},
		{UpdateSanctionLift, s.lift, s.validateLift},
		{UpdateReportCorrection, s.report, s.validateReport},
		{UpdateReviewCorrection, s.review, s.validateReview},
	} {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name, u.handler, workflow.UpdateHandlerOptions{Validator: u.validator}); err != nil {
			return err
		}
	}
	return nil
}

// ---- validators ----

func (s *sanction) inForce() error {
	if s.action != nil {
		return conflict("another action on this sanction is being carried out")
	}
	if s.st.State != SanctionInForce {
		return conflict("the sanction is " + s.st.State)
	}
	return nil
}

func (s *sanction) owner(a Actor) bool { return a.Kind == "user" && a.ID == s.in.AccountID }

func (s *sanction) validateAppeal(req SanctionAppeal) error {
	if !s.owner(req.Actor) {
		return forbidden("only the user the sanction concerns may appeal it")
	}
	if req.SubmissionID == "" {
		return invalid("submission_id is required")
	}
	if err := s.inForce(); err != nil {
		return err
	}
	if s.st.AppealState != "none" {
		return conflict("the sanction was appealed already")
	}
	if s.windowEnded || workflow.Now(s.ctxForNow).After(s.st.AppealUntil) {
		return conflict("the 15 days to appeal have passed")
	}
	return nil
}

func (s *sanction) validateAppealDecision(req AppealDecision) error {
	if !req.Actor.May(authz.SanctionAppealDecide) {
		return forbidden("only a supervisor or an investigator may decide an appeal")
	}
	if req.Actor.ID == s.in.ImposedBy {
		return forbidden("the staff member who imposed the sanction may not decide its appeal")
	}
	if s.in.OpenedBy != "" && req.Actor.ID == s.in.OpenedBy {
		return forbidden("four eyes: the investigator who opened the case may not decide its appeal")
	}
	if req.Decision != AppealUpheld && req.Decision != AppealOverturned {
		return invalid(fmt.Sprintf("unknown decision %q", req.Decision))
	}
	if !slices.Contains(AppealReasonCodes, req.ReasonCode) {
		return invalid(fmt.Sprintf("reason_code must be one of %v", AppealReasonCodes))
	}
	if err := s.inForce(); err != nil {
		return err
	}
	if s.st.AppealState != "pending" {
		return conflict("no appeal is waiting for a decision")
	}
	return nil
}

func (s *sanction) validateLift(req LiftRequest) error {
	if !req.Actor.May(authz.SanctionLift) {
		return forbidden("only a supervisor may lift a suspension")
	}
	if !slices.Contains(LiftReasonCodes, req.ReasonCode) {
		return invalid(fmt.Sprintf("reason_code must be one of %v", LiftReasonCodes))
	}
	if s.in.Kind != SanctionSuspension {
		return conflict("a cancellation is undone only on appeal")
	}
	return s.inForce()
}

func (s *sanction) validateReport(req CorrectionReport) error {
	if !s.owner(req.Actor) {
		return forbidden("only the user the sanction concerns may report a correction")
	}
	if req.SubmissionID == "" {
		return invalid("submission_id is required")
	}
	if s.in.Kind != SanctionSuspension || len(s.in.Conditions) == 0 {
		return conflict("this sanction is not lifted by a correction")
	}
	if err := s.inForce(); err != nil {
		return err
	}
	if s.st.CorrectionState == "reported" {
		return conflict("a correction report is already waiting for review")
	}
	return nil
}

func (s *sanction) validateReview(req CorrectionReview) error {
	if !req.Actor.May(authz.SanctionCorrectionReview) {
		return forbidden("only an investigator or a supervisor may verify a correction")
	}
	if req.Result != CorrectionConfirmed && req.Result != CorrectionRejected {
		return invalid(fmt.Sprintf("unknown result %q", req.Result))
	}
	if err := s.inForce(); err != nil {
		return err
	}
	if s.st.CorrectionState != "reported" {
		return conflict("no correction is waiting for review")
	}
	return nil
}

// ---- handlers ----

func (s *sanction) appeal(ctx workflow.Context, req SanctionAppeal) (SanctionResult, error) {
	if err := s.validateAppeal(req); err != nil {
		return SanctionResult{}, err
	}
	return s.perform(ctx, &sanctionAction{appeal: &req})
}

func (s *sanction) decideAppeal(ctx workflow.Context, req AppealDecision) (SanctionResult, error) {
	if err := s.validateAppealDecision(req); err != nil {
		return SanctionResult{}, err
	}
	return s.perform(ctx, &sanctionAction{decision: &req})
}

func (s *sanction) lift(ctx workflow.Context, req LiftRequest) (SanctionResult, error) {
	if err := s.validateLift(req); err != nil {
		return SanctionResult{}, err
	}
	return s.perform(ctx, &sanctionAction{lift: &req})
}

func (s *sanction) report(ctx workflow.Context, req CorrectionReport) (SanctionResult, error) {
	if err := s.validateReport(req); err != nil {
		return SanctionResult{}, err
	}
	return s.perform(ctx, &sanctionAction{report: &req})
}

func (s *sanction) review(ctx workflow.Context, req CorrectionReview) (SanctionResult, error) {
	if err := s.validateReview(req); err != nil {
		return SanctionResult{}, err
	}
	return s.perform(ctx, &sanctionAction{review: &req})
}

func (s *sanction) perform(ctx workflow.Context, act *sanctionAction) (SanctionResult, error) {
	s.action = act
	if err := workflow.Await(ctx, func() bool { return s.action == nil }); err != nil {
		return SanctionResult{}, err
	}
	return s.result(), s.outcomeErr
}

func (s *sanction) result() SanctionResult {
	return SanctionResult{SanctionID: s.in.SanctionID, State: s.st.State, AppealState: s.st.AppealState}
}

// ---- main body ----

func (s *sanction) run(ctx workflow.Context) (SanctionResult, error) {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	s.st.AppealUntil = workflow.Now(ctx).Add(s.window)
	imp := activities.ImposeInput{SanctionID: s.in.SanctionID, CaseID: s.in.CaseID, AccountID: s.in.AccountID, Kind: s.in.Kind,
		ReasonCode: s.in.ReasonCode, Clause: s.in.Clause, Evidence: s.in.Evidence, Conditions: s.in.Conditions,
		FalseData: s.in.FalseData, ImposedBy: s.in.ImposedBy, ImposedKind: s.in.ImposedKind, AppealUntil: s.st.AppealUntil}
	if err := workflow.ExecuteActivity(ctx, a.ImposeSanction, imp).Get(ctx, nil); err != nil {
		return SanctionResult{}, err
	}
	setSearch(ctx, KindSanction, SanctionInForce)
	s.slVersion = workflow.GetVersion(ctx, versionStaffServiceLevel, workflow.DefaultVersion, 1)

	for s.st.State == SanctionInForce {
		var next deadline
		if !s.windowEnded && s.st.AppealState == "none" {
			next = deadline{s.st.AppealUntil, "appeal_window"}
		}
		if s.appealClock != nil && s.st.AppealState == "pending" {
			next = earliest(next, s.appealClock.next())
		}
		acted, err := waitFor(ctx, next.at, func() bool { return s.action != nil })
		if err != nil {
			return SanctionResult{}, err
		}
		if acted {
			s.carryOut(ctx)
			continue
		}
		if next.what != "appeal_window" {
			if err := s.appealClock.fire(ctx, next.what); err != nil {
				return SanctionResult{}, err
			}
			continue
		}
		// The appeal time passed unused.
		s.windowEnded = true
		if s.in.Kind == SanctionCancellation {
			if err := s.makeFinal(ctx); err != nil {
				return SanctionResult{}, err
			}
		}
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return SanctionResult{}, err
	}
	return s.result(), nil
}

func (s *sanction) makeFinal(ctx workflow.Context) error {
	if err := workflow.ExecuteActivity(ctx, a.SanctionStep, activities.SanctionStepInput{SanctionID: s.in.SanctionID, Kind: "final"}).Get(ctx, nil); err != nil {
		return err
	}
	s.setState(ctx, SanctionFinal)
	return nil
}

func (s *sanction) carryOut(ctx workflow.Context) {
	act := s.action
	var err error
	switch {
	case act.appeal != nil:
		in := activities.SanctionSubmissionInput{SanctionID: s.in.SanctionID, SubmissionID: act.appeal.SubmissionID, Kind: "appeal"}
		if err = workflow.ExecuteActivity(ctx, a.AcceptSanctionSubmission, in).Get(ctx, nil); err == nil {
			s.st.AppealState = "pending"
			if s.slVersion >= 1 {
				s.appealClock = &staffClock{recordKind: "sanction", recordID: s.in.SanctionID, role: RoleInvestigator,
					from: workflow.Now(ctx), sl: s.in.AppealServiceLevel.WithDefaults()}
			}
		}
	case act.decision != nil:
		err = s.applyAppealDecision(ctx, *act.decision)
	case act.lift != nil:
		err = s.end(ctx, SanctionLifted, "lift", act.lift.Actor.ID, act.lift.ReasonCode)
	case act.report != nil:
		in := activities.SanctionSubmissionInput{SanctionID: s.in.SanctionID, SubmissionID: act.report.SubmissionID, Kind: "correction"}
		if err = workflow.ExecuteActivity(ctx, a.AcceptSanctionSubmission, in).Get(ctx, nil); err == nil {
			s.st.CorrectionState = "reported"
		}
	case act.review != nil:
		if act.review.Result == CorrectionConfirmed {
			if err = s.end(ctx, SanctionLifted, "correction", act.review.Actor.ID, "corrections_verified"); err == nil {
				s.st.CorrectionState = "verified"
			}
		} else {
			s.rejections++
			step := activities.SanctionStepInput{SanctionID: s.in.SanctionID, Kind: "correction_rejected", ByID: act.review.Actor.ID, Round: s.rejections}
			if err = workflow.ExecuteActivity(ctx, a.SanctionStep, step).Get(ctx, nil); err == nil {
				s.st.CorrectionState = "rejected"
			}
		}
	}
	if err != nil {
		workflow.GetLogger(ctx).Warn("sanction action failed", "error", err)
		err = asUpdateError(err)
	}
	s.outcomeErr = err
	s.action = nil
}

func (s *sanction) applyAppealDecision(ctx workflow.Context, d AppealDecision) error {
	if d.Decision == AppealOverturned {
		if err := s.end(ctx, SanctionOverturned, "appeal", d.Actor.ID, d.ReasonCode); err != nil {
			return err
		}
		s.st.AppealState = AppealOverturned
		return nil
	}
	step := activities.SanctionStepInput{SanctionID: s.in.SanctionID, Kind: "appeal_upheld", ByID: d.Actor.ID, ReasonCode: d.ReasonCode}
	if err := workflow.ExecuteActivity(ctx, a.SanctionStep, step).Get(ctx, nil); err != nil {
		return err
	}
	s.st.AppealState = AppealUpheld
	if s.in.Kind == SanctionCancellation {
		return s.makeFinal(ctx)
	}
	return nil
}

func (s *sanction) end(ctx workflow.Context, state, via, by, reason string) error {
	in := activities.EndSanctionInput{SanctionID: s.in.SanctionID, State: state, Via: via, ByID: by, ReasonCode: reason}
	if err := workflow.ExecuteActivity(ctx, a.EndSanction, in).Get(ctx, nil); err != nil {
		return err
	}
	s.setState(ctx, state)
	return nil
}

func (s *sanction) setState(ctx workflow.Context, state string) {
	s.st.State = state
	setSearch(ctx, KindSanction, state)
}
