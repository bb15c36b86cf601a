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

type fraudSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env   *testsuite.TestWorkflowEnvironment
	start time.Time
}

func TestFraudVerification(t *testing.T) { suite.Run(t, new(fraudSuite)) }

func (s *fraudSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterWorkflow(FraudVerification)
	s.env.RegisterWorkflow(Sanction)
	s.env.RegisterActivity(&activities.Activities{})
	s.start = s.env.Now().UTC()
	s.env.OnActivity(a.CrossCheckCase, mock.Anything, caseID).Return([]string{activities.FindingMobileShared}, nil).Once()
	s.env.OnSignalExternalWorkflow(mock.Anything, DeregistrationWorkflowID(accountID), "", SignalCaseClosed, nil).
		Return(errors.New("workflow not found")).Maybe()
}

func (s *fraudSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

func (s *fraudSuite) input() FraudInput {
	return FraudInput{CaseID: caseID, AccountID: accountID, OpenedBy: openerID, AnswerDueAt: s.start.Add(48 * time.Hour)}
}

func (s *fraudSuite) expectOpened(in FraudInput) {
	s.env.OnActivity(a.NotifyCaseOpened, mock.Anything, activities.CaseOpenedInput{CaseID: caseID, State: CaseAwaitingAnswer,
		Deadline: in.AnswerDueAt, DueAt: s.start.Add(7 * 24 * time.Hour), Kind: KindFraud, ActorID: openerID}).Return(nil).Once()
}

func (s *fraudSuite) result() CaseResult {
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var res CaseResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	return res
}

// C2.2: the user answers, the investigator clears the case: it closes
// with no sanction, and the deregistration is told (best effort).
func (s *fraudSuite) TestAnsweredCaseIsCleared_C2_2() {
	in := s.input()
	s.expectOpened(in)
	s.env.OnActivity(a.AcceptCaseSubmission, mock.Anything, activities.CaseSubmissionInput{CaseID: caseID, SubmissionID: "sub-1",
		Kind: "answer", State: CaseAwaitingDecision, ActorKind: "user"}).Return(nil).Once()
	s.env.OnActivity(a.CloseCase, mock.Anything, activities.CloseCaseInput{CaseID: caseID, State: CaseCleared, Outcome: FraudCleared,
		DecidedBy: openerID, DecidedKind: "staff", Clause: ClauseFraud}).Return(nil).Once()
	ans := sendUpdate[CaseResult](s.env, time.Hour, UpdateCaseAnswer, CaseAnswer{Actor: user, SubmissionID: "sub-1"})
	var mid CaseStatus
	s.env.RegisterDelayedCallback(func() {
		v, err := s.env.QueryWorkflow(QueryCaseStatus)
		s.Require().NoError(err)
		s.Require().NoError(v.Get(&mid))
	}, 90*time.Minute)
	dec := sendUpdate[CaseResult](s.env, 2*time.Hour, UpdateCaseDecide, FraudDecision{Actor: investigator, Decision: FraudCleared})

	s.env.ExecuteWorkflow(FraudVerification, in)

	s.NoError(ans.err)
	s.Equal(CaseAwaitingDecision, ans.result.State)
	s.True(mid.Answered)
	s.Equal([]string{activities.FindingMobileShared}, mid.Findings)
	s.NoError(dec.err)
	s.Equal(CaseCleared, dec.result.State)
	s.Equal(CaseResult{CaseID: caseID, State: CaseCleared}, s.result())
}

// C2.2: a suspension names the corrections required; the sanction's own
// run starts (it outlives the case) with who decided, the reason code, the
// clause and the evidence.
func (s *fraudSuite) TestSuspensionStartsSanctionRun_C2_2() {
	in := s.input()
	s.expectOpened(in)
	s.env.OnActivity(a.AcceptCaseSubmission, mock.Anything, mock.Anything).Return(nil).Once()
	sid := SanctionIDFor(caseID)
	s.env.OnWorkflow(Sanction, mock.Anything, SanctionInput{SanctionID: sid, CaseID: caseID, AccountID: accountID, Kind: SanctionSuspension,
		ReasonCode: "false_address", Clause: ClauseFraud, Evidence: []string{"doc:1"}, Conditions: []string{"address"}, FalseData: true,
		ImposedBy: investigator2.ID, ImposedKind: "staff", OpenedBy: openerID}).Return(SanctionResult{}, nil).Once()
	s.env.OnActivity(a.CloseCase, mock.Anything, activities.CloseCaseInput{CaseID: caseID, State: CaseSuspended, Outcome: FraudSuspend,
		DecidedBy: investigator2.ID, DecidedKind: "staff", ReasonCode: "false_address", Clause: ClauseFraud, Evidence: []string{"doc:1"},
		Corrections: []string{"address"}, SanctionID: sid}).Return(nil).Once()
	sendUpdate[CaseResult](s.env, time.Hour, UpdateCaseAnswer, CaseAnswer{Actor: user, SubmissionID: "sub-1"})
	dec := sendUpdate[CaseResult](s.env, 2*time.Hour, UpdateCaseDecide, FraudDecision{Actor: investigator2, Decision: FraudSuspend,
		ReasonCode: "false_address", Corrections: []string{"address"}, Evidence: []string{"doc:1"}})

	s.env.ExecuteWorkflow(FraudVerification, in)

	s.NoError(dec.err)
	s.Equal(CaseResult{CaseID: caseID, State: CaseSuspended, SanctionID: sid}, dec.result)
	s.Equal(CaseSuspended, s.result().State)
}

// C2.2 deadlines: the user is reminded half-way and, without an answer by
// the deadline, the case is decided on the evidence; the investigators are
// reminded after 3 days and the case escalates to a supervisor after 7,
// who cancels it.
func (s *fraudSuite) TestSilentUserIsDecidedOnEvidenceAfterEscalation_C2_2() {
	in := s.input()
	s.expectOpened(in)
	at := map[string]time.Duration{}
	for _, kind := range []string{"answer_reminder", "answer_deadline", "reminder", "escalation"} {
		s.env.OnActivity(a.CaseStep, mock.Anything, activities.CaseStepInput{CaseID: caseID, Kind: kind, Round: 1}).
			Run(func(mock.Arguments) { at[kind] = s.env.Now().Sub(s.start) }).Return(nil).Once()
	}
	s.env.OnWorkflow(Sanction, mock.Anything, mock.MatchedBy(func(in SanctionInput) bool {
		return in.Kind == SanctionCancellation && in.FalseData && in.ImposedBy == supervisor && in.Conditions == nil
	})).Return(SanctionResult{}, nil).Once()
	s.env.OnActivity(a.CloseCase, mock.Anything, mock.MatchedBy(func(in activities.CloseCaseInput) bool {
		return in.State == CaseCancelled && in.DecidedBy == supervisor && in.ReasonCode == "false_identity"
	})).Return(nil).Once()
	late := sendUpdate[CaseResult](s.env, 50*time.Hour, UpdateCaseAnswer, CaseAnswer{Actor: user, SubmissionID: "late"})
	var afterEscalation CaseStatus
	s.env.RegisterDelayedCallback(func() {
		v, _ := s.env.QueryWorkflow(QueryCaseStatus)
		s.Require().NoError(v.Get(&afterEscalation))
	}, 7*24*time.Hour+time.Minute)
	dec := sendUpdate[CaseResult](s.env, 8*24*time.Hour, UpdateCaseDecide, FraudDecision{Actor: super, Decision: FraudCancel,
		ReasonCode: "false_identity", Evidence: []string{"check:id_registry"}})

	s.env.ExecuteWorkflow(FraudVerification, in)

	s.Equal(24*time.Hour, at["answer_reminder"].Round(time.Minute))
	s.Equal(48*time.Hour, at["answer_deadline"].Round(time.Minute))
	s.Equal(3*24*time.Hour, at["reminder"].Round(time.Minute))
	s.Equal(7*24*time.Hour, at["escalation"].Round(time.Minute))
	s.True(late.rejected, "an answer after the deadline is refused")
	s.Equal(ErrTypeConflict, errType(late.err))
	s.True(afterEscalation.Escalated)
	s.Equal(CaseAwaitingDecision, afterEscalation.State)
	s.NoError(dec.err)
	s.Equal(CaseCancelled, s.result().State)
}

// C2.2: the decision's validator refuses wrong roles, incomplete adverse
// decisions, an adverse decision while the user may still answer, a
// stranger's answer and a second decision; none enters the history.
func (s *fraudSuite) TestValidatorsRefuseWrongRolesEarlyAndSecondDecisions_C2_2() {
	in := s.input()
	s.expectOpened(in)
	s.env.OnActivity(a.CloseCase, mock.Anything, mock.Anything).Return(nil).Once()
	reviewer := Actor{Kind: "staff", ID: "r", Roles: []string{RoleReviewer, RoleAuditor}}
	byReviewer := sendUpdate[CaseResult](s.env, time.Minute, UpdateCaseDecide, FraudDecision{Actor: reviewer, Decision: FraudCleared})
	byUser := sendUpdate[CaseResult](s.env, time.Minute, UpdateCaseDecide, FraudDecision{Actor: user, Decision: FraudCleared})
	stranger := sendUpdate[CaseResult](s.env, time.Minute, UpdateCaseAnswer, CaseAnswer{Actor: otherUser, SubmissionID: "x"})
	staffAnswer := sendUpdate[CaseResult](s.env, time.Minute, UpdateCaseAnswer, CaseAnswer{Actor: investigator, SubmissionID: "x"})
	noCorrections := sendUpdate[CaseResult](s.env, 2*time.Minute, UpdateCaseDecide, FraudDecision{Actor: investigator, Decision: FraudSuspend,
		ReasonCode: "false_address", Evidence: []string{"doc"}})
	noEvidence := sendUpdate[CaseResult](s.env, 2*time.Minute, UpdateCaseDecide, FraudDecision{Actor: investigator, Decision: FraudCancel,
		ReasonCode: "false_identity"})
	badReason := sendUpdate[CaseResult](s.env, 2*time.Minute, UpdateCaseDecide, FraudDecision{Actor: investigator, Decision: FraudCancel,
		ReasonCode: "dislike", Evidence: []string{"doc"}})
	early := sendUpdate[CaseResult](s.env, 3*time.Minute, UpdateCaseDecide, FraudDecision{Actor: investigator, Decision: FraudCancel,
		ReasonCode: "false_identity", Evidence: []string{"doc"}})
	clear := sendUpdate[CaseResult](s.env, 4*time.Minute, UpdateCaseDecide, FraudDecision{Actor: investigator, Decision: FraudCleared})
	second := sendUpdate[CaseResult](s.env, 4*time.Minute, UpdateCaseDecide, FraudDecision{Actor: super, Decision: FraudCancel,
		ReasonCode: "false_identity", Evidence: []string{"doc"}})

	s.env.ExecuteWorkflow(FraudVerification, in)

	for name, o := range map[string]*upd[CaseResult]{"reviewer": byReviewer, "user": byUser, "stranger": stranger, "staff answer": staffAnswer} {
		s.True(o.rejected, name)
		s.Equal(ErrTypeForbidden, errType(o.err), name)
	}
	for name, o := range map[string]*upd[CaseResult]{"no corrections": noCorrections, "no evidence": noEvidence, "bad reason": badReason} {
		s.True(o.rejected, name)
		s.Equal(ErrTypeInvalid, errType(o.err), name)
	}
	s.True(early.rejected)
	s.Equal(ErrTypeConflict, errType(early.err))
	s.NoError(clear.err)
	s.Equal(ErrTypeConflict, errType(second.err), "a second decision is refused")
	s.Equal(CaseCleared, s.result().State)
}

// C2.2: a case against a pending application cannot suspend it; the
// applicant answers with the follow token (actor applicant), and a
// cancellation closes the case without a sanction run (the activity
// blocks the ID number).
func (s *fraudSuite) TestApplicationCaseIsClearedOrCancelledNeverSuspended_C2_2() {
	const appID = "0b6f3a8e-0000-4000-8000-00000000000a"
	in := FraudInput{CaseID: caseID, ApplicationID: appID, OpenedBy: openerID, AnswerDueAt: s.start.Add(48 * time.Hour)}
	s.expectOpened(in)
	s.env.OnActivity(a.AcceptCaseSubmission, mock.Anything, activities.CaseSubmissionInput{CaseID: caseID, SubmissionID: "sub",
		Kind: "answer", State: CaseAwaitingDecision, ActorKind: "applicant"}).Return(nil).Once()
	s.env.OnActivity(a.CloseCase, mock.Anything, mock.MatchedBy(func(in activities.CloseCaseInput) bool {
		return in.State == CaseCancelled && in.SanctionID == ""
	})).Return(nil).Once()
	wrongApp := sendUpdate[CaseResult](s.env, time.Minute, UpdateCaseAnswer, CaseAnswer{Actor: Actor{Kind: "applicant", ID: "other"}, SubmissionID: "sub"})
	ans := sendUpdate[CaseResult](s.env, 2*time.Minute, UpdateCaseAnswer, CaseAnswer{Actor: Actor{Kind: "applicant", ID: appID}, SubmissionID: "sub"})
	suspend := sendUpdate[CaseResult](s.env, 3*time.Minute, UpdateCaseDecide, FraudDecision{Actor: investigator, Decision: FraudSuspend,
		ReasonCode: "false_address", Corrections: []string{"address"}, Evidence: []string{"doc"}})
	cancel := sendUpdate[CaseResult](s.env, 4*time.Minute, UpdateCaseDecide, FraudDecision{Actor: investigator, Decision: FraudCancel,
		ReasonCode: "false_identity", Evidence: []string{"doc"}})

	s.env.ExecuteWorkflow(FraudVerification, in)

	s.Equal(ErrTypeForbidden, errType(wrongApp.err))
	s.NoError(ans.err)
	s.Equal(ErrTypeInvalid, errType(suspend.err))
	s.NoError(cancel.err)
	s.Equal(CaseResult{CaseID: caseID, State: CaseCancelled}, s.result())
}
