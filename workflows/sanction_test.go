package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/testsuite"

	"hrss-backoffice/activities"
)

type sanctionSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env   *testsuite.TestWorkflowEnvironment
	start time.Time
}

func TestSanction(t *testing.T) { suite.Run(t, new(sanctionSuite)) }

const sanctionID = "5a000000-0000-4000-8000-000000000001"

func (s *sanctionSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterWorkflow(Sanction)
	s.env.RegisterActivity(&activities.Activities{})
	s.start = s.env.Now().UTC()
}

func (s *sanctionSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

func (s *sanctionSuite) input(kind string, conditions ...string) SanctionInput {
	return SanctionInput{SanctionID: sanctionID, CaseID: caseID, AccountID: accountID, Kind: kind, ReasonCode: "false_address",
		Clause: ClauseFraud, Evidence: []string{"doc:1"}, Conditions: conditions, FalseData: true, ImposedBy: openerID, ImposedKind: "staff"}
}

func (s *sanctionSuite) expectImposed(in SanctionInput) {
	s.env.OnActivity(a.ImposeSanction, mock.Anything, activities.ImposeInput{SanctionID: sanctionID, CaseID: caseID, AccountID: accountID,
		Kind: in.Kind, ReasonCode: in.ReasonCode, Clause: in.Clause, Evidence: in.Evidence, Conditions: in.Conditions, FalseData: true,
		ImposedBy: openerID, ImposedKind: "staff", AppealUntil: s.start.Add(15 * 24 * time.Hour)}).Return(nil).Once()
}

func (s *sanctionSuite) result() SanctionResult {
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var res SanctionResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	return res
}

// Appeal: the user appeals within 15 days; the one who imposed the
// sanction may not decide it; another staff member overturns it, which
// undoes the sanction and its effects.
func (s *sanctionSuite) TestAppealDecidedByAnotherStaffMemberUndoesSanction_C2_2() {
	in := s.input(SanctionSuspension, "address")
	s.expectImposed(in)
	s.env.OnActivity(a.AcceptSanctionSubmission, mock.Anything, activities.SanctionSubmissionInput{SanctionID: sanctionID,
		SubmissionID: "ap-1", Kind: "appeal"}).Return(nil).Once()
	s.env.OnActivity(a.EndSanction, mock.Anything, activities.EndSanctionInput{SanctionID: sanctionID, State: SanctionOverturned,
		Via: "appeal", ByID: supervisor, ReasonCode: "evidence_insufficient"}).Return(nil).Once()
	stranger := sendUpdate[SanctionResult](s.env, time.Hour, UpdateSanctionAppeal, SanctionAppeal{Actor: otherUser, SubmissionID: "x"})
	decideBeforeAppeal := sendUpdate[SanctionResult](s.env, time.Hour, UpdateSanctionAppealDec, AppealDecision{Actor: super,
		Decision: AppealOverturned, ReasonCode: "evidence_insufficient"})
	appeal := sendUpdate[SanctionResult](s.env, 24*time.Hour, UpdateSanctionAppeal, SanctionAppeal{Actor: user, SubmissionID: "ap-1"})
	again := sendUpdate[SanctionResult](s.env, 25*time.Hour, UpdateSanctionAppeal, SanctionAppeal{Actor: user, SubmissionID: "ap-2"})
	byImposer := sendUpdate[SanctionResult](s.env, 26*time.Hour, UpdateSanctionAppealDec, AppealDecision{
		Actor: Actor{Kind: "staff", ID: openerID, Roles: []string{RoleInvestigator, RoleSupervisor}}, Decision: AppealOverturned, ReasonCode: "evidence_insufficient"})
	byReviewer := sendUpdate[SanctionResult](s.env, 26*time.Hour, UpdateSanctionAppealDec, AppealDecision{
		Actor: Actor{Kind: "staff", ID: "r", Roles: []string{RoleReviewer}}, Decision: AppealOverturned, ReasonCode: "evidence_insufficient"})
	overturn := sendUpdate[SanctionResult](s.env, 27*time.Hour, UpdateSanctionAppealDec, AppealDecision{Actor: super,
		Decision: AppealOverturned, ReasonCode: "evidence_insufficient"})

	s.env.ExecuteWorkflow(Sanction, in)

	s.Equal(ErrTypeForbidden, errType(stranger.err))
	s.Equal(ErrTypeConflict, errType(decideBeforeAppeal.err))
	s.NoError(appeal.err)
	s.Equal("pending", appeal.result.AppealState)
	s.Equal(ErrTypeConflict, errType(again.err), "one appeal per sanction")
	s.Equal(ErrTypeForbidden, errType(byImposer.err))
	s.Equal(ErrTypeForbidden, errType(byReviewer.err))
	s.NoError(overturn.err)
	s.Equal(SanctionResult{SanctionID: sanctionID, State: SanctionOverturned, AppealState: AppealOverturned}, s.result())
}

// A cancellation not appealed within 15 days becomes final; a late appeal
// is refused; a supervisor cannot lift a cancellation.
func (s *sanctionSuite) TestCancellationBecomesFinalAfterFifteenDays_C2_2_C4() {
	in := s.input(SanctionCancellation)
	s.expectImposed(in)
	var finalAt time.Duration
	s.env.OnActivity(a.SanctionStep, mock.Anything, activities.SanctionStepInput{SanctionID: sanctionID, Kind: "final"}).
		Run(func(mock.Arguments) { finalAt = s.env.Now().Sub(s.start) }).Return(nil).Once()
	lift := sendUpdate[SanctionResult](s.env, time.Hour, UpdateSanctionLift, LiftRequest{Actor: super, ReasonCode: "supervisor_review"})
	s.env.ExecuteWorkflow(Sanction, in)
	s.Equal(ErrTypeConflict, errType(lift.err))
	s.Equal(SanctionFinal, s.result().State)
	s.Equal(15*24*time.Hour, finalAt.Round(time.Minute))
}

// The appeal window of a suspension closes after 15 days (a late appeal is
// refused) while the suspension stays in force until a supervisor lifts
// it; only a supervisor may, with a reason code.
func (s *sanctionSuite) TestLateAppealRefusedAndSupervisorLifts_C2_5() {
	in := s.input(SanctionSuspension)
	s.expectImposed(in)
	s.env.OnActivity(a.EndSanction, mock.Anything, activities.EndSanctionInput{SanctionID: sanctionID, State: SanctionLifted,
		Via: "lift", ByID: supervisor, ReasonCode: "supervisor_review"}).Return(nil).Once()
	late := sendUpdate[SanctionResult](s.env, 16*24*time.Hour, UpdateSanctionAppeal, SanctionAppeal{Actor: user, SubmissionID: "late"})
	byInvestigator := sendUpdate[SanctionResult](s.env, 17*24*time.Hour, UpdateSanctionLift, LiftRequest{Actor: investigator2, ReasonCode: "supervisor_review"})
	noReason := sendUpdate[SanctionResult](s.env, 17*24*time.Hour, UpdateSanctionLift, LiftRequest{Actor: super})
	noConditions := sendUpdate[SanctionResult](s.env, 17*24*time.Hour, UpdateReportCorrection, CorrectionReport{Actor: user, SubmissionID: "c"})
	lift := sendUpdate[SanctionResult](s.env, 20*24*time.Hour, UpdateSanctionLift, LiftRequest{Actor: super, ReasonCode: "supervisor_review"})

	s.env.ExecuteWorkflow(Sanction, in)

	s.Equal(ErrTypeConflict, errType(late.err))
	s.Equal(ErrTypeForbidden, errType(byInvestigator.err))
	s.Equal(ErrTypeInvalid, errType(noReason.err))
	s.Equal(ErrTypeConflict, errType(noConditions.err), "a suspension without conditions is not lifted by a correction")
	s.NoError(lift.err)
	s.Equal(SanctionLifted, s.result().State)
}

// Reinstatement when the conditions are met: the user reports the
// corrections, staff reject once, the user reports again, staff verify:
// the suspension is lifted.
func (s *sanctionSuite) TestVerifiedCorrectionsLiftSuspension_C2_2() {
	in := s.input(SanctionSuspension, "address")
	s.expectImposed(in)
	s.env.OnActivity(a.AcceptSanctionSubmission, mock.Anything, mock.Anything).Return(nil).Twice()
	s.env.OnActivity(a.SanctionStep, mock.Anything, activities.SanctionStepInput{SanctionID: sanctionID, Kind: "correction_rejected",
		ByID: investigator2.ID, Round: 1}).Return(nil).Once()
	s.env.OnActivity(a.EndSanction, mock.Anything, activities.EndSanctionInput{SanctionID: sanctionID, State: SanctionLifted,
		Via: "correction", ByID: investigator2.ID, ReasonCode: "corrections_verified"}).Return(nil).Once()
	sendUpdate[SanctionResult](s.env, time.Hour, UpdateReportCorrection, CorrectionReport{Actor: user, SubmissionID: "c1"})
	twice := sendUpdate[SanctionResult](s.env, 2*time.Hour, UpdateReportCorrection, CorrectionReport{Actor: user, SubmissionID: "c2"})
	reject := sendUpdate[SanctionResult](s.env, 3*time.Hour, UpdateReviewCorrection, CorrectionReview{Actor: investigator2, Result: CorrectionRejected})
	sendUpdate[SanctionResult](s.env, 4*time.Hour, UpdateReportCorrection, CorrectionReport{Actor: user, SubmissionID: "c3"})
	verify := sendUpdate[SanctionResult](s.env, 5*time.Hour, UpdateReviewCorrection, CorrectionReview{Actor: investigator2, Result: CorrectionConfirmed})

	s.env.ExecuteWorkflow(Sanction, in)

	s.Equal(ErrTypeConflict, errType(twice.err))
	s.NoError(reject.err)
	s.NoError(verify.err)
	s.Equal(SanctionLifted, s.result().State)
}

// An appeal that fails leaves a suspension in force (a later lift ends
// it) and makes a cancellation final at once.
func (s *sanctionSuite) TestUpheldAppealMakesCancellationFinal_C2_2() {
	in := s.input(SanctionCancellation)
	s.expectImposed(in)
	s.env.OnActivity(a.AcceptSanctionSubmission, mock.Anything, mock.Anything).Return(nil).Once()
	s.env.OnActivity(a.SanctionStep, mock.Anything, activities.SanctionStepInput{SanctionID: sanctionID, Kind: "appeal_upheld",
		ByID: supervisor, ReasonCode: "decision_confirmed"}).Return(nil).Once()
	s.env.OnActivity(a.SanctionStep, mock.Anything, activities.SanctionStepInput{SanctionID: sanctionID, Kind: "final"}).Return(nil).Once()
	// Waiting 6 days for its decision, the appeal reminds the investigators.
	s.env.OnActivity(a.RecordStaffServiceLevel, mock.Anything, activities.StaffServiceLevelInput{RecordKind: "sanction",
		RecordID: sanctionID, Step: "reminder", Role: RoleInvestigator, Round: 1}).Return(nil).Once()
	sendUpdate[SanctionResult](s.env, 14*24*time.Hour, UpdateSanctionAppeal, SanctionAppeal{Actor: user, SubmissionID: "ap"})
	// The appeal is pending when the 15 days pass: nothing becomes final yet.
	dec := sendUpdate[SanctionResult](s.env, 20*24*time.Hour, UpdateSanctionAppealDec, AppealDecision{Actor: super,
		Decision: AppealUpheld, ReasonCode: "decision_confirmed"})
	s.env.ExecuteWorkflow(Sanction, in)
	s.NoError(dec.err)
	s.Equal(SanctionResult{SanctionID: sanctionID, State: SanctionFinal, AppealState: AppealUpheld}, s.result())
}

// C2.2: an appeal waiting for its decision reminds the investigators after
// 3 days and tells the supervisors after 7, once each; the decision after
// that ends the clock (no third notice in the days that follow).
func (s *sanctionSuite) TestPendingAppealRemindsThenEscalates_C2_2() {
	in := s.input(SanctionSuspension, "address")
	s.expectImposed(in)
	s.env.OnActivity(a.AcceptSanctionSubmission, mock.Anything, mock.Anything).Return(nil).Once()
	fired := map[string]time.Time{}
	for step, role := range map[string]string{"reminder": RoleInvestigator, "escalation": RoleSupervisor} {
		s.env.OnActivity(a.RecordStaffServiceLevel, mock.Anything, activities.StaffServiceLevelInput{RecordKind: "sanction",
			RecordID: sanctionID, Step: step, Role: role, Round: 1}).Run(func(mock.Arguments) { fired[step] = s.env.Now() }).Return(nil).Once()
	}
	s.env.OnActivity(a.SanctionStep, mock.Anything, mock.Anything).Return(nil)
	s.env.OnActivity(a.EndSanction, mock.Anything, mock.Anything).Return(nil).Maybe()
	sendUpdate[SanctionResult](s.env, 24*time.Hour, UpdateSanctionAppeal, SanctionAppeal{Actor: user, SubmissionID: "ap"})
	sendUpdate[SanctionResult](s.env, 10*24*time.Hour, UpdateSanctionAppealDec, AppealDecision{Actor: super,
		Decision: AppealUpheld, ReasonCode: "decision_confirmed"})
	lift := sendUpdate[SanctionResult](s.env, 30*24*time.Hour, UpdateSanctionLift, LiftRequest{Actor: super, ReasonCode: "conditions_met"})
	s.env.ExecuteWorkflow(Sanction, in)
	s.NoError(lift.err)
	s.WithinDuration(s.start.Add(4*24*time.Hour), fired["reminder"], time.Minute)
	s.WithinDuration(s.start.Add(8*24*time.Hour), fired["escalation"], time.Minute)
}

// Four eyes (issue 15, C3.3(4)): the investigator who opened the case does
// not decide the appeal against its sanction even when a supervisor imposed
// it; the validator refuses them and another staff member decides.
func (s *sanctionSuite) TestCaseOpenerDoesNotDecideTheAppeal_C3_3_4() {
	in := s.input(SanctionSuspension, "address")
	in.OpenedBy = "staff-case-opener"
	s.expectImposed(in)
	s.env.OnActivity(a.AcceptSanctionSubmission, mock.Anything, activities.SanctionSubmissionInput{SanctionID: sanctionID,
		SubmissionID: "ap-1", Kind: "appeal"}).Return(nil).Once()
	s.env.OnActivity(a.EndSanction, mock.Anything, activities.EndSanctionInput{SanctionID: sanctionID, State: SanctionOverturned,
		Via: "appeal", ByID: supervisor, ReasonCode: "evidence_insufficient"}).Return(nil).Once()
	sendUpdate[SanctionResult](s.env, time.Hour, UpdateSanctionAppeal, SanctionAppeal{Actor: user, SubmissionID: "ap-1"})
	byOpener := sendUpdate[SanctionResult](s.env, 2*time.Hour, UpdateSanctionAppealDec, AppealDecision{
		Actor: Actor{Kind: "staff", ID: "staff-case-opener", Roles: []string{RoleInvestigator}}, Decision: AppealOverturned, ReasonCode: "evidence_insufficient"})
	overturn := sendUpdate[SanctionResult](s.env, 3*time.Hour, UpdateSanctionAppealDec, AppealDecision{Actor: super,
		Decision: AppealOverturned, ReasonCode: "evidence_insufficient"})
	s.env.ExecuteWorkflow(Sanction, in)
	s.Equal(ErrTypeForbidden, errType(byOpener.err))
	s.Contains(byOpener.err.Error(), "opened the case")
	s.NoError(overturn.err)
}
