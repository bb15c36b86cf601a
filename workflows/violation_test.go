package workflows

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/testsuite"

	"hrss-backoffice/activities"
)

type violationSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env   *testsuite.TestWorkflowEnvironment
	start time.Time
}

func TestViolationCase(t *testing.T) { suite.Run(t, new(violationSuite)) }

func (s *violationSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterWorkflow(ViolationCase)
	s.env.RegisterWorkflow(Sanction)
	s.env.RegisterActivity(&activities.Activities{})
	s.start = s.env.Now().UTC()
	s.env.OnSignalExternalWorkflow(mock.Anything, DeregistrationWorkflowID(accountID), "", SignalCaseClosed, nil).
		Return(errors.New("workflow not found")).Maybe()
}

func (s *violationSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

func (s *violationSuite) correctInput() ViolationInput {
	return ViolationInput{CaseID: caseID, AccountID: accountID, Rule: "C3.4(5)", Action: ViolationCorrect,
		CorrectBy: s.start.Add(10 * 24 * time.Hour), OpenedBy: openerID}
}

func (s *violationSuite) expectNotice(in ViolationInput) {
	s.env.OnActivity(a.NotifyCaseOpened, mock.Anything, activities.CaseOpenedInput{CaseID: caseID, State: CaseAwaitingCorrection,
		Deadline: in.CorrectBy, DueAt: in.CorrectBy, Kind: KindViolation, Rule: "C3.4(5)", ActorID: openerID}).Return(nil).Once()
}

func (s *violationSuite) result() CaseResult {
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var res CaseResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	return res
}

// C2.5: told what to fix and by when, the user reports the correction;
// staff reject it once, the user corrects again, staff confirm; the case
// closes as corrected (its record stays on the account).
func (s *violationSuite) TestCorrectionReportedRejectedThenConfirmed_C2_5() {
	in := s.correctInput()
	s.expectNotice(in)
	s.env.OnActivity(a.AcceptCaseSubmission, mock.Anything, mock.Anything).Return(nil).Twice()
	s.env.OnActivity(a.CaseStep, mock.Anything, activities.CaseStepInput{CaseID: caseID, Kind: "correction_rejected", Round: 1, ActorID: openerID}).Return(nil).Once()
	s.env.OnActivity(a.CloseCase, mock.Anything, activities.CloseCaseInput{CaseID: caseID, State: CaseCorrected, Outcome: CaseCorrected,
		DecidedBy: investigator2.ID, DecidedKind: "staff", ReasonCode: "C3.4(5)", Clause: ClauseViolation}).Return(nil).Once()
	stranger := sendUpdate[CaseResult](s.env, time.Hour, UpdateReportCorrection, CorrectionReport{Actor: otherUser, SubmissionID: "x"})
	reviewTooEarly := sendUpdate[CaseResult](s.env, time.Hour, UpdateReviewCorrection, CorrectionReview{Actor: investigator, Result: CorrectionConfirmed})
	first := sendUpdate[CaseResult](s.env, 2*time.Hour, UpdateReportCorrection, CorrectionReport{Actor: user, SubmissionID: "s1"})
	byReviewer := sendUpdate[CaseResult](s.env, 3*time.Hour, UpdateReviewCorrection, CorrectionReview{
		Actor: Actor{Kind: "staff", ID: "r", Roles: []string{RoleReviewer}}, Result: CorrectionConfirmed})
	reject := sendUpdate[CaseResult](s.env, 4*time.Hour, UpdateReviewCorrection, CorrectionReview{Actor: investigator, Result: CorrectionRejected})
	second := sendUpdate[CaseResult](s.env, 5*time.Hour, UpdateReportCorrection, CorrectionReport{Actor: user, SubmissionID: "s2"})
	confirm := sendUpdate[CaseResult](s.env, 6*time.Hour, UpdateReviewCorrection, CorrectionReview{Actor: investigator2, Result: CorrectionConfirmed})

	s.env.ExecuteWorkflow(ViolationCase, in)

	s.Equal(ErrTypeForbidden, errType(stranger.err))
	s.Equal(ErrTypeConflict, errType(reviewTooEarly.err))
	s.NoError(first.err)
	s.Equal(CaseCorrectionReported, first.result.State)
	s.Equal(ErrTypeForbidden, errType(byReviewer.err))
	s.NoError(reject.err)
	s.Equal(CaseAwaitingCorrection, reject.result.State)
	s.NoError(second.err)
	s.NoError(confirm.err)
	s.Equal(CaseResult{CaseID: caseID, State: CaseCorrected}, s.result())
}

// C2.5: not corrected in time: a reminder half-way, then at the deadline
// the case escalates to a suspension (never dropped) that the verified
// correction lifts; the opener counts as the one who imposed it.
func (s *violationSuite) TestNotCorrectedInTimeEscalatesToSuspension_C2_5() {
	in := s.correctInput()
	s.expectNotice(in)
	var remindedAt, escalatedAt time.Duration
	s.env.OnActivity(a.CaseStep, mock.Anything, activities.CaseStepInput{CaseID: caseID, Kind: "correction_reminder", Round: 1}).
		Run(func(mock.Arguments) { remindedAt = s.env.Now().Sub(s.start) }).Return(nil).Once()
	sid := SanctionIDFor(caseID)
	s.env.OnWorkflow(Sanction, mock.Anything, SanctionInput{SanctionID: sid, CaseID: caseID, AccountID: accountID, Kind: SanctionSuspension,
		ReasonCode: ReasonNotCorrected, Clause: ClauseViolation, Conditions: []string{"correction"}, ImposedBy: openerID, ImposedKind: "system", OpenedBy: openerID}).
		Run(func(mock.Arguments) { escalatedAt = s.env.Now().Sub(s.start) }).Return(SanctionResult{}, nil).Once()
	s.env.OnActivity(a.CloseCase, mock.Anything, activities.CloseCaseInput{CaseID: caseID, State: CaseSuspended, Outcome: "escalated",
		DecidedKind: "system", ReasonCode: ReasonNotCorrected, Clause: ClauseViolation, SanctionID: sid}).Return(nil).Once()

	s.env.ExecuteWorkflow(ViolationCase, in)

	s.Equal(CaseResult{CaseID: caseID, State: CaseSuspended, SanctionID: sid}, s.result())
	s.Equal(5*24*time.Hour, remindedAt.Round(time.Minute))
	s.Equal(10*24*time.Hour, escalatedAt.Round(time.Minute))
}

// C2.5: a correction reported in time but rejected after the deadline
// escalates at once; while the review waits, staff are reminded and the
// review escalates to a supervisor.
func (s *violationSuite) TestLateRejectionEscalatesAndWaitingReviewIsEscalated_C2_5() {
	in := s.correctInput()
	s.expectNotice(in)
	s.env.OnActivity(a.CaseStep, mock.Anything, activities.CaseStepInput{CaseID: caseID, Kind: "correction_reminder", Round: 1}).Return(nil).Once()
	s.env.OnActivity(a.AcceptCaseSubmission, mock.Anything, mock.Anything).Return(nil).Once()
	for _, kind := range []string{"reminder", "escalation"} {
		s.env.OnActivity(a.CaseStep, mock.Anything, activities.CaseStepInput{CaseID: caseID, Kind: kind, Round: 1}).Return(nil).Once()
	}
	s.env.OnWorkflow(Sanction, mock.Anything, mock.MatchedBy(func(in SanctionInput) bool {
		return in.Kind == SanctionSuspension && in.ImposedKind == "system"
	})).Return(SanctionResult{}, nil).Once()
	s.env.OnActivity(a.CloseCase, mock.Anything, mock.MatchedBy(func(in activities.CloseCaseInput) bool { return in.Outcome == "escalated" })).Return(nil).Once()
	sendUpdate[CaseResult](s.env, 9*24*time.Hour, UpdateReportCorrection, CorrectionReport{Actor: user, SubmissionID: "s1"})
	reject := sendUpdate[CaseResult](s.env, 17*24*time.Hour, UpdateReviewCorrection, CorrectionReview{Actor: super, Result: CorrectionRejected})

	s.env.ExecuteWorkflow(ViolationCase, in)

	s.NoError(reject.err)
	s.Equal(CaseSuspended, reject.result.State)
	s.Equal(CaseSuspended, s.result().State)
}

// C2.5: direct cancellation: the sanction starts at once and the case
// closes.
func (s *violationSuite) TestDirectCancellation_C2_5() {
	in := ViolationInput{CaseID: caseID, AccountID: accountID, Rule: "C3.4(8)", Action: ViolationCancel, OpenedBy: openerID}
	s.env.OnWorkflow(Sanction, mock.Anything, SanctionInput{SanctionID: SanctionIDFor(caseID), CaseID: caseID, AccountID: accountID,
		Kind: SanctionCancellation, ReasonCode: "C3.4(8)", Clause: ClauseViolation, ImposedBy: openerID, ImposedKind: "staff", OpenedBy: openerID}).
		Return(SanctionResult{}, nil).Once()
	s.env.OnActivity(a.CloseCase, mock.Anything, mock.MatchedBy(func(in activities.CloseCaseInput) bool {
		return in.State == CaseCancelled && in.DecidedBy == openerID
	})).Return(nil).Once()
	s.env.ExecuteWorkflow(ViolationCase, in)
	s.Equal(CaseCancelled, s.result().State)
}
