package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/testsuite"

	"hrss-backoffice/activities"
)

const (
	deregReq  = "5d1c0000-0000-4000-8000-000000000001"
	deregAcct = "acct-dereg-1"
	day       = 24 * time.Hour
	year      = 365 * day
)

var (
	holder   = Actor{Kind: "user", ID: deregAcct}
	stranger = Actor{Kind: "user", ID: "acct-other"}
)

type deregistrationSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env   *testsuite.TestWorkflowEnvironment
	start time.Time
	at    map[string]time.Duration
}

func TestDeregistration(t *testing.T) { suite.Run(t, new(deregistrationSuite)) }

func (s *deregistrationSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterWorkflow(Deregistration)
	s.env.RegisterActivity(&activities.Activities{})
	s.start = s.env.Now()
	s.at = map[string]time.Duration{}
	s.env.OnActivity(a.LoadDeregistrationPlan, mock.Anything, deregReq).
		Return(activities.DeregistrationPlan{CoolingOff: 7 * day, CaseRecheck: day}, nil).Once()
}

func (s *deregistrationSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

func (s *deregistrationSuite) record(name string) func(mock.Arguments) {
	return func(mock.Arguments) { s.at[name] = s.env.Now().Sub(s.start) }
}

func (s *deregistrationSuite) withdrawAfter(delay time.Duration, actor Actor) *outcome {
	o := &outcome{}
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(UpdateWithdrawDeregistration, "", &testsuite.TestUpdateCallback{
			OnAccept: func() { o.accepted = true },
			OnReject: func(err error) { o.rejected, o.err = true, err },
			OnComplete: func(_ interface{}, err error) {
				if err != nil {
					o.err = err
				}
			},
		}, DeregistrationWithdrawal{Actor: actor})
	}, delay)
	return o
}

func (s *deregistrationSuite) result() DeregistrationResult {
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var res DeregistrationResult
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	return res
}

func (s *deregistrationSuite) markStep(status string, round int) {
	s.env.OnActivity(a.MarkDeregistration, mock.Anything, mock.MatchedBy(func(in activities.DeregistrationStep) bool {
		return in.Status == status && in.Round == round && in.RequestID == deregReq && in.AccountID == deregAcct
	})).Run(s.record(status)).Return(nil).Once()
}

// C3.5: during the cooling-off period the holder withdraws; nobody else
// may; the account is never closed.
func (s *deregistrationSuite) TestWithdrawalDuringCoolingOff_C3_5() {
	s.env.OnActivity(a.HasOpenCase, mock.Anything, deregAcct).Return(false, nil).Once()
	s.markStep(DeregCoolingOff, 1)
	s.env.OnActivity(a.WithdrawDeregistration, mock.Anything, activities.WithdrawDeregistrationInput{RequestID: deregReq, AccountID: deregAcct}).
		Run(s.record("withdrawn")).Return(nil).Once()
	other := s.withdrawAfter(day, stranger)
	staff := s.withdrawAfter(day, reviewer)
	mine := s.withdrawAfter(3*day, holder)
	second := s.withdrawAfter(3*day, holder)

	s.env.ExecuteWorkflow(Deregistration, DeregistrationInput{RequestID: deregReq, AccountID: deregAcct})

	s.Equal(DeregistrationResult{Status: DeregWithdrawn}, s.result())
	for _, o := range []*outcome{other, staff} {
		s.True(o.rejected)
		s.Equal(ErrTypeForbidden, errType(o.err))
	}
	s.True(mine.accepted)
	s.NoError(mine.err)
	s.Equal(3*day, s.at["withdrawn"].Round(time.Hour))
	s.True(second.rejected, "one withdrawal only")
	s.Equal(ErrTypeConflict, errType(second.err))
}

// C4: without a withdrawal the cooling-off period ends after 7 days and the
// account closes; the retention steps then run when due: de-identification
// at once, sign-in records after 3 years, the registration record after 9
// (the test environment ends any run after 10 years, so the longest step
// here is shorter than the 10-year default of the schedule).
func (s *deregistrationSuite) TestCoolingOffThenCloseThenRetentionTimers_C4() {
	s.env.OnActivity(a.HasOpenCase, mock.Anything, deregAcct).Return(false, nil).Twice()
	s.markStep(DeregCoolingOff, 1)
	closedAt := s.start.Add(7 * day)
	steps := []activities.RetentionPlanStep{
		{Category: "contact_details", Action: "deidentify", DueAt: closedAt},
		{Category: "notices", Action: "deidentify", DueAt: closedAt},
		{Category: "sign_in_records", Action: "erase", DueAt: closedAt.Add(3 * year)},
		{Category: "registration_record", Action: "erase", DueAt: closedAt.Add(9 * year)},
	}
	s.env.OnActivity(a.CloseAccount, mock.Anything, activities.DeregistrationRef{RequestID: deregReq, AccountID: deregAcct}).
		Run(s.record("closed")).Return(activities.CloseAccountResult{ClosedAt: closedAt, Steps: steps}, nil).Once()
	for _, st := range steps {
		s.env.OnActivity(a.ApplyRetention, mock.Anything, activities.RetentionInput{AccountID: deregAcct, Category: st.Category}).
			Run(s.record(st.Category)).Return(nil).Once()
	}
	var mid DeregistrationStatus
	s.env.RegisterDelayedCallback(func() {
		v, err := s.env.QueryWorkflow(QueryStatus)
		s.Require().NoError(err)
		s.Require().NoError(v.Get(&mid))
	}, 8*day)

	s.env.ExecuteWorkflow(Deregistration, DeregistrationInput{RequestID: deregReq, AccountID: deregAcct})

	s.Equal(DeregistrationResult{Status: DeregErased}, s.result())
	s.Equal(7*day, s.at["closed"].Round(time.Hour))
	s.Equal(7*day, s.at["contact_details"].Round(time.Hour))
	s.Equal(7*day+3*year, s.at["sign_in_records"].Round(time.Hour))
	s.Equal(7*day+9*year, s.at["registration_record"].Round(time.Hour))
	s.Equal(DeregClosed, mid.Status)
	s.True(mid.Retention[0].Done && mid.Retention[1].Done)
	s.False(mid.Retention[2].Done)
}

// C3.5 / C2.2: an open case blocks; the cooling-off period starts when the
// case workflow signals that the case closed.
func (s *deregistrationSuite) TestBlockedByOpenCaseUntilSignal_C3_5_C2_2() {
	caseOpen := true
	s.env.OnActivity(a.HasOpenCase, mock.Anything, deregAcct).Return(func(_ context.Context, _ string) (bool, error) { return caseOpen, nil })
	s.markStep(DeregBlocked, 1)
	s.markStep(DeregCoolingOff, 2)
	s.env.OnActivity(a.CloseAccount, mock.Anything, mock.Anything).Run(s.record("closed")).
		Return(activities.CloseAccountResult{Superseded: true}, nil).Once()
	s.env.RegisterDelayedCallback(func() {
		caseOpen = false
		s.env.SignalWorkflow(SignalCaseClosed, "case-1")
	}, 30*time.Hour) // between two daily re-checks

	s.env.ExecuteWorkflow(Deregistration, DeregistrationInput{RequestID: deregReq, AccountID: deregAcct})

	s.Equal(DeregistrationResult{Status: DeregSuperseded}, s.result())
	s.Equal(30*time.Hour, s.at[DeregCoolingOff].Round(time.Minute), "the cooling-off period starts when the case closes")
	s.Equal(30*time.Hour+7*day, s.at["closed"].Round(time.Minute))
}

// A lost signal never blocks forever: the daily re-check finds the case
// closed.
func (s *deregistrationSuite) TestBlockedRecheckedDailyWithoutSignal_C3_5() {
	caseOpen := true
	s.env.OnActivity(a.HasOpenCase, mock.Anything, deregAcct).Return(func(_ context.Context, _ string) (bool, error) { return caseOpen, nil })
	s.markStep(DeregBlocked, 1)
	s.markStep(DeregCoolingOff, 2)
	s.env.OnActivity(a.WithdrawDeregistration, mock.Anything, mock.Anything).Return(nil).Once()
	s.env.RegisterDelayedCallback(func() { caseOpen = false }, 30*time.Hour) // closes; nobody signals
	s.withdrawAfter(50*time.Hour, holder)

	s.env.ExecuteWorkflow(Deregistration, DeregistrationInput{RequestID: deregReq, AccountID: deregAcct})

	s.Equal(DeregistrationResult{Status: DeregWithdrawn}, s.result())
	s.Equal(48*time.Hour, s.at[DeregCoolingOff].Round(time.Minute), "found at the second daily re-check")
}

// A case opened during the cooling-off period holds the request back
// again; the period restarts after it closes.
func (s *deregistrationSuite) TestCaseOpenedDuringCoolingOffRestartsIt_C3_5() {
	checks := []bool{false, true, false, false}
	s.env.OnActivity(a.HasOpenCase, mock.Anything, deregAcct).Return(func(_ context.Context, _ string) (bool, error) {
		v := checks[0]
		checks = checks[1:]
		return v, nil
	})
	s.markStep(DeregCoolingOff, 1)
	s.markStep(DeregBlocked, 2)
	s.markStep(DeregCoolingOff, 3)
	s.env.OnActivity(a.CloseAccount, mock.Anything, mock.Anything).Run(s.record("closed")).
		Return(activities.CloseAccountResult{ClosedAt: s.start, Steps: nil}, nil).Once()

	s.env.ExecuteWorkflow(Deregistration, DeregistrationInput{RequestID: deregReq, AccountID: deregAcct})

	s.Equal(DeregistrationResult{Status: DeregErased}, s.result())
	s.Equal(7*day+day+7*day, s.at["closed"].Round(time.Hour))
}
