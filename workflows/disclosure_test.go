package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/testsuite"

	"hrss-backoffice/activities"
)

const discReq = "d15c0000-0000-4000-8000-000000000001"

var (
	clerk      = Actor{Kind: "staff", ID: "staff-clerk", Roles: []string{RoleSupervisor}}
	approver   = Actor{Kind: "staff", ID: "staff-approver", Roles: []string{RoleSupervisor}}
	dataHolder = Actor{Kind: "user", ID: "acct-disc-1"}
)

type disclosureSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env   *testsuite.TestWorkflowEnvironment
	start time.Time
	at    map[string]time.Duration
}

func TestDisclosureRequest(t *testing.T) { suite.Run(t, new(disclosureSuite)) }

func (s *disclosureSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterWorkflow(DisclosureRequest)
	s.env.RegisterActivity(&activities.Activities{})
	s.start = s.env.Now()
	s.at = map[string]time.Duration{}
}

func (s *disclosureSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

func (s *disclosureSuite) admit(basis, status string, wait time.Duration) {
	s.env.OnActivity(a.AdmitDisclosure, mock.Anything, discReq).Return(activities.DisclosurePlan{AccountID: dataHolder.ID, Basis: basis,
		EnteredBy: clerk.ID, Fields: []string{"name", "mobile", "address"}, Status: status, Deadline: s.start.Add(wait),
		DeliveryWindow: 72 * time.Hour}, nil).Once()
}

func (s *disclosureSuite) send(delay time.Duration, name string, arg any) *outcome {
	o := &outcome{}
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept: func() { o.accepted = true },
			OnReject: func(err error) { o.rejected, o.err = true, err },
			OnComplete: func(_ interface{}, err error) {
				if err != nil {
					o.err = err
				}
			},
		}, arg)
	}, delay)
	return o
}

func (s *disclosureSuite) result() DisclosureStatus {
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var res DisclosureStatus
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	return res
}

// C2.3: the one who entered a law request may not approve it, a caller
// without an approver role may not either, and fields beyond the request
// are refused; a second supervisor approves a subset; delivered once, the
// request closes at the signal.
func (s *disclosureSuite) TestFourEyesApprovalOfAFieldSubset_C2_3() {
	s.admit(BasisLaw, DisclosureAwaitingApproval, 30*24*time.Hour)
	exp := s.start.Add(time.Hour + 72*time.Hour)
	s.env.OnActivity(a.DecideDisclosure, mock.Anything, activities.DisclosureDecisionInput{RequestID: discReq, Decision: "approve",
		ApproverID: approver.ID, ApproverRoles: approver.Roles, Fields: []string{"name", "mobile"}}).
		Return(activities.DisclosureOutcome{Status: DisclosureApproved, ApprovedFields: []string{"name", "mobile"}, DeliveryExpiresAt: exp}, nil).Once()
	s.env.OnActivity(a.ExpireDisclosure, mock.Anything, activities.ExpireDisclosureInput{RequestID: discReq, Stage: "delivery"}).
		Run(func(mock.Arguments) { s.at["closed"] = s.env.Now().Sub(s.start) }).Return(DisclosureDelivered, nil).Once()
	self := s.send(time.Minute, UpdateDecideDisclosure, DisclosureDecision{Actor: clerk, Decision: "approve"})
	notApprover := s.send(time.Minute, UpdateDecideDisclosure, DisclosureDecision{Actor: reviewer, Decision: "approve"})
	user := s.send(time.Minute, UpdateConsent, ConsentAnswer{Actor: dataHolder, Decision: "accept"})
	extra := s.send(time.Minute, UpdateDecideDisclosure, DisclosureDecision{Actor: approver, Decision: "approve", Fields: []string{"id_number"}})
	ok := s.send(time.Hour, UpdateDecideDisclosure, DisclosureDecision{Actor: approver, Decision: "approve", Fields: []string{"name", "mobile"}})
	twice := s.send(2*time.Hour, UpdateDecideDisclosure, DisclosureDecision{Actor: approver, Decision: "refuse", Reason: "late"})
	s.env.RegisterDelayedCallback(func() { s.env.SignalWorkflow(SignalDisclosureDelivered, nil) }, 3*time.Hour)

	s.env.ExecuteWorkflow(DisclosureRequest, DisclosureInput{RequestID: discReq})

	for _, o := range []*outcome{self, notApprover} {
		s.True(o.rejected)
		s.Equal(ErrTypeForbidden, errType(o.err))
	}
	s.True(user.rejected)
	s.Equal(ErrTypeConflict, errType(user.err), "a law request is not the user's to answer")
	s.True(extra.rejected)
	s.Equal(ErrTypeInvalid, errType(extra.err))
	s.True(ok.accepted)
	s.NoError(ok.err)
	s.True(twice.rejected)
	res := s.result()
	s.Equal(DisclosureDelivered, res.Status)
	s.Equal([]string{"name", "mobile"}, res.ApprovedFields)
	s.Equal(3*time.Hour, s.at["closed"].Round(time.Minute), "closed at the delivery signal")
}

// C2.3: a user_authorised request waits for the user until its deadline;
// silence is refusal, and a late answer is refused.
func (s *disclosureSuite) TestConsentTimeoutIsRefusal_C2_3() {
	s.admit(BasisUserAuthorised, DisclosureAwaitingConsent, 14*24*time.Hour)
	s.env.OnActivity(a.RecordConsent, mock.Anything, activities.ConsentInput{RequestID: discReq, Decision: "no_answer"}).
		Run(func(mock.Arguments) { s.at["refused"] = s.env.Now().Sub(s.start) }).
		Return(activities.DisclosureOutcome{Status: DisclosureRefused}, nil).Once()
	wrongUser := s.send(time.Hour, UpdateConsent, ConsentAnswer{Actor: Actor{Kind: "user", ID: "acct-other"}, Decision: "accept"})
	staff := s.send(time.Hour, UpdateDecideDisclosure, DisclosureDecision{Actor: approver, Decision: "approve"})

	s.env.ExecuteWorkflow(DisclosureRequest, DisclosureInput{RequestID: discReq})

	s.Equal(DisclosureRefused, s.result().Status)
	s.Equal(14*24*time.Hour, s.at["refused"].Round(time.Minute))
	s.True(wrongUser.rejected)
	s.Equal(ErrTypeForbidden, errType(wrongUser.err))
	s.True(staff.rejected)
	s.Equal(ErrTypeConflict, errType(staff.err))
}

// C2.3: the user accepts; the approved data not exported within the
// delivery window expires.
func (s *disclosureSuite) TestConsentThenDeliveryWindowExpires_C2_3() {
	s.admit(BasisUserAuthorised, DisclosureAwaitingConsent, 14*24*time.Hour)
	exp := s.start.Add(2*time.Hour + 72*time.Hour)
	s.env.OnActivity(a.RecordConsent, mock.Anything, activities.ConsentInput{RequestID: discReq, Decision: "accepted"}).
		Return(activities.DisclosureOutcome{Status: DisclosureApproved, ApprovedFields: []string{"name", "mobile", "address"}, DeliveryExpiresAt: exp}, nil).Once()
	s.env.OnActivity(a.ExpireDisclosure, mock.Anything, activities.ExpireDisclosureInput{RequestID: discReq, Stage: "delivery"}).
		Run(func(mock.Arguments) { s.at["expired"] = s.env.Now().Sub(s.start) }).Return(DisclosureExpired, nil).Once()
	ok := s.send(2*time.Hour, UpdateConsent, ConsentAnswer{Actor: dataHolder, Decision: "accept"})

	s.env.ExecuteWorkflow(DisclosureRequest, DisclosureInput{RequestID: discReq})

	s.NoError(ok.err)
	s.Equal(DisclosureExpired, s.result().Status)
	s.Equal(74*time.Hour, s.at["expired"].Round(time.Minute))
}

// A law request nobody approves in time expires.
func (s *disclosureSuite) TestApprovalDeadlineExpires_C2_3() {
	s.admit(BasisServiceNeed, DisclosureAwaitingApproval, 30*24*time.Hour)
	s.env.OnActivity(a.ExpireDisclosure, mock.Anything, activities.ExpireDisclosureInput{RequestID: discReq, Stage: "approval"}).
		Return(DisclosureExpired, nil).Once()
	s.env.ExecuteWorkflow(DisclosureRequest, DisclosureInput{RequestID: discReq})
	s.Equal(DisclosureExpired, s.result().Status)
}
