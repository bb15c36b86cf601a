package workflows

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
)

const appID = "0b6f3a8e-0000-4000-8000-000000000001"

var (
	reviewer  = Actor{Kind: "staff", ID: "staff-reviewer", Roles: []string{RoleReviewer}}
	reviewer2 = Actor{Kind: "staff", ID: "staff-reviewer-2", Roles: []string{RoleReviewer}}
	admin     = Actor{Kind: "staff", ID: "staff-admin", Roles: []string{RoleAdministrator}}
	applicant = Actor{Kind: "applicant"}
)

type registrationSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
	// revision is the Revision of the runs the suite's tests start:
	// the suite runs for runs begun before revision 1 and for today's.
	revision int
}

func TestRegistrationReview(t *testing.T) { suite.Run(t, new(registrationSuite)) }

func TestRegistrationReviewRevision1(t *testing.T) {
	suite.Run(t, &registrationSuite{revision: RegistrationRevision})
}

// input is the start of a run of the suite's revision.
func (s *registrationSuite) input() RegistrationInput {
	return RegistrationInput{ApplicationID: appID, Revision: s.revision}
}

func (s *registrationSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterWorkflow(RegistrationReview)
	s.env.RegisterActivity(&activities.Activities{})
	s.env.OnActivity(a.AdmitApplication, mock.Anything, appID).Return(activities.AdmitResult{Flags: []string{activities.FlagMobileInUse}}, nil).Once()
}

func (s *registrationSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

// update sends an update after delay and records its outcome.
type outcome struct {
	accepted, rejected bool
	err                error
	result             DecisionResult
}

func (s *registrationSuite) update(delay time.Duration, name string, arg any) *outcome {
	o := &outcome{}
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept: func() { o.accepted = true },
			OnReject: func(err error) { o.rejected, o.err = true, err },
			OnComplete: func(res interface{}, err error) {
				if err != nil {
					o.err = err
					return
				}
				o.result = res.(DecisionResult)
			},
		}, arg)
	}, delay)
	return o
}

func (s *registrationSuite) query() RegistrationStatus {
	v, err := s.env.QueryWorkflow(QueryStatus)
	s.Require().NoError(err)
	var st RegistrationStatus
	s.Require().NoError(v.Get(&st))
	return st
}

func (s *registrationSuite) result() RegistrationResult {
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var res RegistrationResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	return res
}

func errType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}

func approved() activities.ApproveResult {
	return activities.ApproveResult{AccountID: "acct-1", OpenedServices: []string{"social_insurance_query"},
		RefusedServices: []activities.ServiceRefusal{{Code: "pension_claim", Reason: "below_minimum_age_50"}}}
}

// C2.1 / C3.1 / C1.5: a reviewer approves on the spot; the account is opened
// with its services, and the initial password not picked up within the
// pickup window is destroyed.
func (s *registrationSuite) TestApprovalOpensAccountAndDestroysUnclaimedPassword_C2_1() {
	s.env.OnActivity(a.ApproveApplication, mock.Anything, activities.ApproveInput{
		ApplicationID: appID, ReviewerID: reviewer.ID, PickupWindow: 15 * time.Minute}).Return(approved(), nil).Once()
	var destroyedAt time.Time
	s.env.OnActivity(a.DestroyPickup, mock.Anything, activities.RegistrationPickupKey(appID)).
		Run(func(mock.Arguments) { destroyedAt = s.env.Now() }).Return(nil).Once()
	start := s.env.Now()
	o := s.update(time.Minute, UpdateDecide, DecisionRequest{Actor: reviewer, Decision: DecisionApprove})
	var afterApproval RegistrationStatus
	s.env.RegisterDelayedCallback(func() { afterApproval = s.query() }, 2*time.Minute)

	s.env.ExecuteWorkflow(RegistrationReview, s.input())

	s.Require().NoError(o.err)
	s.True(o.accepted)
	s.Equal(StatusApproved, o.result.Status)
	s.Equal("acct-1", o.result.AccountID)
	s.Equal([]string{"social_insurance_query"}, o.result.OpenedServices)
	s.Equal([]ServiceRefusal{{Code: "pension_claim", Reason: "below_minimum_age_50"}}, o.result.RefusedServices)
	s.Equal(StatusApproved, afterApproval.Status)
	s.Equal([]string{activities.FlagMobileInUse}, afterApproval.Flags)
	s.Equal(RegistrationResult{Status: StatusApproved, AccountID: "acct-1"}, s.result())
	s.Equal(16*time.Minute, destroyedAt.Sub(start).Round(time.Second), "destroyed 15 minutes after the approval")
}

// Issue 21: a run whose start already said "pending" (StartedPending)
// does not upsert it again in its first round; one begun without it does,
// as runs did before the field existed.
func (s *registrationSuite) TestStartedPendingSkipsTheFirstStatusUpsert() {
	for _, started := range []bool{true, false} {
		s.SetupTest()
		var statuses []string
		s.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
			sa := args.Get(0).(temporal.SearchAttributes)
			if v, ok := sa.GetKeyword(SearchStatus); ok {
				statuses = append(statuses, v)
			}
		}).Return(nil)
		s.env.OnActivity(a.ApproveApplication, mock.Anything, mock.Anything).Return(approved(), nil).Once()
		s.env.OnActivity(a.DestroyPickup, mock.Anything, mock.Anything).Return(nil).Once()
		o := s.update(time.Minute, UpdateDecide, DecisionRequest{Actor: reviewer, Decision: DecisionApprove})
		s.env.ExecuteWorkflow(RegistrationReview, RegistrationInput{ApplicationID: appID, StartedPending: started, Revision: s.revision})
		s.Require().NoError(o.err)
		s.Equal(StatusApproved, s.result().Status)
		if started {
			s.Equal([]string{StatusApproved}, statuses, "started pending: only the approval is upserted")
		} else {
			s.Equal([]string{StatusPending, StatusApproved}, statuses)
		}
	}
}

// C2.1: the decision is an Update whose validator refuses a caller without
// the reviewer role, a reason-less rejection and a second decision; none of
// them changes anything.
func (s *registrationSuite) TestValidatorRefusesWrongRoleMissingReasonAndSecondDecision_C2_1() {
	s.env.OnActivity(a.ApproveApplication, mock.Anything, mock.Anything).Return(approved(), nil).Once()
	s.env.OnActivity(a.DestroyPickup, mock.Anything, mock.Anything).Return(nil).Once()
	byAdmin := s.update(time.Minute, UpdateDecide, DecisionRequest{Actor: admin, Decision: DecisionApprove})
	byApplicant := s.update(time.Minute, UpdateDecide, DecisionRequest{Actor: applicant, Decision: DecisionApprove})
	noReason := s.update(2*time.Minute, UpdateDecide, DecisionRequest{Actor: reviewer, Decision: DecisionReject})
	unknown := s.update(2*time.Minute, UpdateDecide, DecisionRequest{Actor: reviewer, Decision: "maybe"})
	first := s.update(3*time.Minute, UpdateDecide, DecisionRequest{Actor: reviewer, Decision: DecisionApprove})
	second := s.update(4*time.Minute, UpdateDecide, DecisionRequest{Actor: reviewer2, Decision: DecisionReject, Reason: "late"})
	supplementWhenPending := s.update(2*time.Minute, UpdateSupplement, SupplementRequest{SupplementID: "sup"})

	s.env.ExecuteWorkflow(RegistrationReview, s.input())

	for name, o := range map[string]*outcome{"admin": byAdmin, "applicant": byApplicant} {
		s.True(o.rejected, name)
		s.Equal(ErrTypeForbidden, errType(o.err), name)
	}
	s.True(noReason.rejected)
	s.Equal(ErrTypeInvalid, errType(noReason.err))
	s.True(unknown.rejected)
	s.Equal(ErrTypeInvalid, errType(unknown.err))
	s.True(supplementWhenPending.rejected)
	s.Equal(ErrTypeConflict, errType(supplementWhenPending.err))
	s.NoError(first.err)
	s.True(second.rejected)
	s.Equal(ErrTypeConflict, errType(second.err))
	s.Equal(StatusApproved, s.result().Status)
}

// C2.1: "on the spot" is a service level: a reminder after 30 minutes, an
// escalation after 2 hours, and expiry with a notice after 30 days.
func (s *registrationSuite) TestWaitingApplicationIsRemindedEscalatedThenExpires_C2_1() {
	var at = map[string]time.Duration{}
	start := s.env.Now()
	for _, kind := range []string{"reminder", "escalation"} {
		s.env.OnActivity(a.RecordServiceLevel, mock.Anything, activities.ServiceLevelEvent{ApplicationID: appID, Kind: kind, Round: 1}).
			Run(func(mock.Arguments) { at[kind] = s.env.Now().Sub(start) }).Return(nil).Once()
	}
	s.env.OnActivity(a.CloseApplication, mock.Anything, activities.CloseInput{ApplicationID: appID, Status: StatusExpired,
		Reason: "no_action_within_service_level", ActorKind: "system"}).
		Run(func(mock.Arguments) { at["expiry"] = s.env.Now().Sub(start) }).Return(nil).Once()
	var mid RegistrationStatus
	s.env.RegisterDelayedCallback(func() { mid = s.query() }, 3*time.Hour)

	s.env.ExecuteWorkflow(RegistrationReview, s.input())

	s.Equal(StatusExpired, s.result().Status)
	s.Equal(30*time.Minute, at["reminder"].Round(time.Minute))
	s.Equal(2*time.Hour, at["escalation"].Round(time.Minute))
	s.Equal(30*24*time.Hour, at["expiry"].Round(time.Minute))
	s.True(mid.Reminded && mid.Escalated)
	s.Equal(StatusPending, mid.Status)
}

// Service levels are configuration: the input overrides the defaults.
func (s *registrationSuite) TestServiceLevelDurationsComeFromInput() {
	var remindedAfter time.Duration
	start := s.env.Now()
	s.env.OnActivity(a.RecordServiceLevel, mock.Anything, mock.Anything).
		Run(func(args mock.Arguments) {
			if args.Get(1).(activities.ServiceLevelEvent).Kind == "reminder" {
				remindedAfter = s.env.Now().Sub(start)
			}
		}).Return(nil).Times(2)
	s.env.OnActivity(a.CloseApplication, mock.Anything, mock.Anything).Return(nil).Once()
	s.env.ExecuteWorkflow(RegistrationReview, RegistrationInput{ApplicationID: appID, Revision: s.revision,
		ServiceLevel: ServiceLevel{RemindAfter: 5 * time.Minute, EscalateAfter: 10 * time.Minute, ExpireAfter: time.Hour}})
	s.Equal(StatusExpired, s.result().Status)
	s.Equal(5*time.Minute, remindedAfter.Round(time.Second))
}

// C3.2: the reviewer asks for more data; the applicant supplements it and
// the application returns to the queue with a fresh service-level clock.
func (s *registrationSuite) TestRequestInfoThenSupplementReturnsToQueue_C3_2() {
	s.env.OnActivity(a.RequestInfo, mock.Anything, activities.RequestInfoInput{ApplicationID: appID, ReviewerID: reviewer.ID,
		What: "proof of address", Round: 1}).Return(nil).Once()
	s.env.OnActivity(a.ApplySupplement, mock.Anything, activities.SupplementInput{ApplicationID: appID, SupplementID: "sup-1"}).Return(nil).Once()
	s.env.OnActivity(a.ApproveApplication, mock.Anything, mock.Anything).Return(approved(), nil).Once()
	s.env.OnActivity(a.DestroyPickup, mock.Anything, mock.Anything).Return(nil).Once()
	// A reminder in the second round proves the clock restarted.
	s.env.OnActivity(a.RecordServiceLevel, mock.Anything, activities.ServiceLevelEvent{ApplicationID: appID, Kind: "reminder", Round: 2}).Return(nil).Once()

	ask := s.update(10*time.Minute, UpdateDecide, DecisionRequest{Actor: reviewer, Decision: DecisionRequestInfo, Reason: "proof of address"})
	decideWhileWaiting := s.update(20*time.Minute, UpdateDecide, DecisionRequest{Actor: reviewer, Decision: DecisionApprove})
	var waiting RegistrationStatus
	s.env.RegisterDelayedCallback(func() { waiting = s.query() }, 5*time.Hour)
	sup := s.update(24*time.Hour, UpdateSupplement, SupplementRequest{SupplementID: "sup-1"})
	decide := s.update(24*time.Hour+45*time.Minute, UpdateDecide, DecisionRequest{Actor: reviewer, Decision: DecisionApprove})

	s.env.ExecuteWorkflow(RegistrationReview, s.input())

	s.NoError(ask.err)
	s.Equal(StatusInfoRequested, ask.result.Status)
	s.True(decideWhileWaiting.rejected)
	s.Equal(ErrTypeConflict, errType(decideWhileWaiting.err))
	s.Equal(StatusInfoRequested, waiting.Status)
	s.False(waiting.Reminded, "no reviewer reminders while the applicant owes data")
	s.NoError(sup.err)
	s.Equal(StatusPending, sup.result.Status)
	s.NoError(decide.err)
	s.Equal(StatusApproved, s.result().Status)
}

// A rejection needs a reason and closes the application.
func (s *registrationSuite) TestRejectionClosesWithReason_C2_1() {
	s.env.OnActivity(a.CloseApplication, mock.Anything, activities.CloseInput{ApplicationID: appID, Status: StatusRejected,
		Reason: "documents do not match", ActorKind: "staff", ActorID: reviewer.ID}).Return(nil).Once()
	o := s.update(time.Minute, UpdateDecide, DecisionRequest{Actor: reviewer, Decision: DecisionReject, Reason: "documents do not match"})
	s.env.ExecuteWorkflow(RegistrationReview, s.input())
	s.NoError(o.err)
	s.Equal(StatusRejected, o.result.Status)
	s.Equal(RegistrationResult{Status: StatusRejected}, s.result())
}

// The applicant may withdraw while the application waits; staff may not.
func (s *registrationSuite) TestApplicantWithdraws() {
	s.env.OnActivity(a.CloseApplication, mock.Anything, activities.CloseInput{ApplicationID: appID, Status: StatusWithdrawn,
		ActorKind: "applicant"}).Return(nil).Once()
	byStaff := s.update(time.Minute, UpdateWithdraw, WithdrawRequest{Actor: reviewer})
	o := s.update(2*time.Minute, UpdateWithdraw, WithdrawRequest{Actor: applicant})
	s.env.ExecuteWorkflow(RegistrationReview, s.input())
	s.Equal(ErrTypeForbidden, errType(byStaff.err))
	s.NoError(o.err)
	s.Equal(StatusWithdrawn, s.result().Status)
}

// C1.5: a person who already holds an account cannot become a user twice:
// the checks close the application without a reviewer.
func (s *registrationSuite) TestPersonWithAccountIsRejectedByTheChecks_C1_5() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterWorkflow(RegistrationReview)
	s.env.RegisterActivity(&activities.Activities{})
	s.env.OnActivity(a.AdmitApplication, mock.Anything, appID).Return(activities.AdmitResult{
		Flags: []string{activities.FlagAlreadyRegistered}, AlreadyRegistered: true}, nil).Once()
	s.env.OnActivity(a.CloseApplication, mock.Anything, activities.CloseInput{ApplicationID: appID, Status: StatusRejected,
		Reason: activities.ReasonAlreadyRegistered, ActorKind: "system"}).Return(nil).Once()
	s.env.ExecuteWorkflow(RegistrationReview, s.input())
	s.Equal(StatusRejected, s.result().Status)
}

// If the account turns out to exist when approving (a race with another
// application), the decision answers Conflict and the application closes.
func (s *registrationSuite) TestApprovalRaceWithExistingAccountAnswersConflict() {
	s.env.OnActivity(a.ApproveApplication, mock.Anything, mock.Anything).Return(activities.ApproveResult{AlreadyRegistered: true}, nil).Once()
	o := s.update(time.Minute, UpdateDecide, DecisionRequest{Actor: reviewer, Decision: DecisionApprove})
	s.env.ExecuteWorkflow(RegistrationReview, s.input())
	s.Equal(ErrTypeConflict, errType(o.err))
	s.Equal(StatusRejected, s.result().Status)
}

// A final activity failure (Conflict) reaches the reviewer as a Conflict
// and leaves the application waiting for another decision.
func (s *registrationSuite) TestActivityConflictIsReportedAndApplicationStaysOpen() {
	s.env.OnActivity(a.ApproveApplication, mock.Anything, mock.Anything).
		Return(activities.ApproveResult{}, temporal.NewNonRetryableApplicationError("gone", activities.ErrTypeConflict, nil)).Once()
	s.env.OnActivity(a.CloseApplication, mock.Anything, mock.Anything).Return(nil).Once()
	failed := s.update(time.Minute, UpdateDecide, DecisionRequest{Actor: reviewer, Decision: DecisionApprove})
	retry := s.update(2*time.Minute, UpdateDecide, DecisionRequest{Actor: reviewer, Decision: DecisionReject, Reason: "r"})
	s.env.ExecuteWorkflow(RegistrationReview, s.input())
	s.Equal(ErrTypeConflict, errType(failed.err))
	s.NoError(retry.err)
	s.Equal(StatusRejected, s.result().Status)
}

func TestServiceLevelDefaults(t *testing.T) {
	got := ServiceLevel{RemindAfter: time.Second}.WithDefaults()
	require.Equal(t, time.Second, got.RemindAfter)
	require.Equal(t, 2*time.Hour, got.EscalateAfter)
	require.Equal(t, 30*24*time.Hour, got.ExpireAfter)
	require.Equal(t, 15*time.Minute, got.PickupWindow)
}

// C2.1 (issue 18): an online applicant picks the initial password up. A
// run of revision 1 takes that branch without the "applicant-pickup"
// version marker (here the marker would say "before the rule"), and a run
// of revision 0 still follows its marker (issue 21).
func (s *registrationSuite) TestApplicantPickupOfRevision1NeedsNoVersionMarker_C2_1() {
	for _, tc := range []struct {
		revision int
		want     time.Duration
		markers  int
	}{{revision: 1, want: time.Hour, markers: 0}, {revision: 0, want: 0, markers: 1}} {
		s.SetupTest()
		s.env.OnGetVersion("applicant-pickup", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion).Maybe()
		s.env.OnActivity(a.ApproveApplication, mock.Anything, activities.ApproveInput{ApplicationID: appID, ReviewerID: reviewer.ID,
			PickupWindow: 15 * time.Minute, ApplicantPickupWindow: tc.want}).Return(approved(), nil).Once()
		s.env.OnActivity(a.DestroyPickup, mock.Anything, activities.RegistrationPickupKey(appID)).Return(nil).Once()
		o := s.update(time.Minute, UpdateDecide, DecisionRequest{Actor: reviewer, Decision: DecisionApprove})
		s.env.ExecuteWorkflow(RegistrationReview, RegistrationInput{ApplicationID: appID, Channel: "online", StartedPending: true,
			Revision: tc.revision, ServiceLevel: ServiceLevel{ApplicantPickupWindow: time.Hour}})
		s.Require().NoError(o.err, "revision %d", tc.revision)
		s.Equal(StatusApproved, o.result.Status)
		s.env.AssertWorkflowNumberOfCalls(s.T(), "workflow.GetVersion_applicant-pickup", tc.markers)
		s.env.AssertExpectations(s.T())
	}
}

// C2.1 on the spot: a decision that arrives while the checks run is
// carried out when they end. A run of revision 1 starts no service-level
// timer for it (issue 21): only the pickup window's timer; revision 0
// starts the reminder's timer first, as it always did.
func (s *registrationSuite) TestDecisionWaitingForTheChecksStartsNoTimerInRevision1_C2_1() {
	for _, tc := range []struct{ revision, timers int }{{1, 1}, {0, 2}} {
		s.SetupTest()
		s.env = s.NewTestWorkflowEnvironment() // an admission that takes a minute
		s.env.RegisterWorkflow(RegistrationReview)
		s.env.RegisterActivity(&activities.Activities{})
		s.env.OnActivity(a.AdmitApplication, mock.Anything, appID).After(time.Minute).Return(activities.AdmitResult{}, nil).Once()
		s.env.OnActivity(a.ApproveApplication, mock.Anything, mock.Anything).Return(approved(), nil).Once()
		s.env.OnActivity(a.DestroyPickup, mock.Anything, mock.Anything).Return(nil).Once()
		timers := 0
		s.env.SetOnTimerScheduledListener(func(string, time.Duration) { timers++ })
		o := s.update(time.Second, UpdateDecide, DecisionRequest{Actor: reviewer, Decision: DecisionApprove})
		s.env.ExecuteWorkflow(RegistrationReview, RegistrationInput{ApplicationID: appID, StartedPending: true, Revision: tc.revision})
		s.Require().NoError(o.err, "revision %d", tc.revision)
		s.Equal(StatusApproved, o.result.Status)
		s.Equal(RegistrationResult{Status: StatusApproved, AccountID: "acct-1"}, s.result())
		s.Equal(tc.timers, timers, "revision %d", tc.revision)
		s.env.AssertExpectations(s.T())
	}
}
