package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"hrss-backoffice/activities"
)

const staffReq = "5cf0c000-0000-4000-8000-000000000001"

var (
	adminOne        = Actor{Kind: "staff", ID: "staff-admin-1", Roles: []string{RoleAdministrator}}
	adminTwo        = Actor{Kind: "staff", ID: "staff-admin-2", Roles: []string{RoleAdministrator}}
	supervisorActor = Actor{Kind: "staff", ID: "staff-sup", Roles: []string{RoleSupervisor}}
)

func staffChangeEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, time.Time) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(StaffChange)
	env.RegisterActivity(&activities.Activities{})
	t.Cleanup(func() { env.AssertExpectations(t) })
	return env, env.Now()
}

func decideStaffChange(env *testsuite.TestWorkflowEnvironment, delay time.Duration, d StaffChangeDecision) *outcome {
	o := &outcome{}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateDecideStaffChange, "", &testsuite.TestUpdateCallback{
			OnAccept: func() { o.accepted = true },
			OnReject: func(err error) { o.rejected, o.err = true, err },
			OnComplete: func(_ interface{}, err error) {
				if err != nil {
					o.err = err
				}
			},
		}, d)
	}, delay)
	return o
}

// C1.4 / C3.3(1): the validator refuses a decision from the requester, from
// the member the request changes and from a non-administrator; a second
// administrator's approval is applied through the activity, and what the
// API did not pick up is destroyed after the pickup window.
func TestStaffChangeValidatorRefusesTheRequester_C1_4_C3_3_1(t *testing.T) {
	env, start := staffChangeEnv(t)
	in := StaffChangeInput{RequestID: staffReq, RequestedBy: adminOne.ID, TargetID: "staff-target", ExpiresAt: start.Add(DefaultStaffChangeTTL)}
	own := decideStaffChange(env, time.Minute, StaffChangeDecision{Actor: adminOne, Decision: "approve"})
	ownRefusal := decideStaffChange(env, 2*time.Minute, StaffChangeDecision{Actor: adminOne, Decision: "refuse"})
	notAdmin := decideStaffChange(env, 3*time.Minute, StaffChangeDecision{Actor: supervisorActor, Decision: "approve"})
	target := decideStaffChange(env, 4*time.Minute, StaffChangeDecision{Actor: Actor{Kind: "staff", ID: "staff-target",
		Roles: []string{RoleAdministrator}}, Decision: "approve"})
	ok := decideStaffChange(env, time.Hour, StaffChangeDecision{Actor: adminTwo, Decision: "approve"})
	late := decideStaffChange(env, time.Hour+time.Minute, StaffChangeDecision{Actor: adminTwo, Decision: "approve"})
	env.OnActivity(a.ApplyStaffChange, mock.Anything, activities.StaffChangeDecisionInput{RequestID: staffReq, DeciderID: adminTwo.ID}).
		Return(activities.StaffChangeOutcome{Status: StaffChangeApplied, Pickup: true}, nil).Once()
	env.OnActivity(a.DestroyStaffPickup, mock.Anything, staffReq).Return(nil).Once()
	env.ExecuteWorkflow(StaffChange, in)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	for name, o := range map[string]*outcome{"requester": own, "requester refusing": ownRefusal, "supervisor": notAdmin, "target": target} {
		require.Truef(t, o.rejected, "%s must be refused by the validator", name)
	}
	require.True(t, ok.accepted)
	require.NoError(t, ok.err)
	require.True(t, late.rejected, "decided once")
	var res StaffChangeStatus
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, StaffChangeApplied, res.Status)
}

// C1.4: at the bootstrap the sole administrator's own approval makes the
// change effective at once.
func TestStaffChangeSoleAdministratorAppliesAtOnce_C1_4(t *testing.T) {
	env, start := staffChangeEnv(t)
	in := StaffChangeInput{RequestID: staffReq, RequestedBy: adminOne.ID, TargetID: "staff-new", SoleAdmin: true, ExpiresAt: start.Add(DefaultStaffChangeTTL)}
	refuse := decideStaffChange(env, 0, StaffChangeDecision{Actor: adminOne, Decision: "refuse"})
	ok := decideStaffChange(env, time.Second, StaffChangeDecision{Actor: adminOne, Decision: "approve"})
	env.OnActivity(a.ApplyStaffChange, mock.Anything, activities.StaffChangeDecisionInput{RequestID: staffReq, DeciderID: adminOne.ID}).
		Return(activities.StaffChangeOutcome{Status: StaffChangeApplied}, nil).Once()
	env.ExecuteWorkflow(StaffChange, in)
	require.NoError(t, env.GetWorkflowError())
	require.True(t, refuse.rejected, "the requester never refuses their own request")
	require.True(t, ok.accepted)
}

// C1.4: a request that no second administrator decides expires after the
// setting (24 h by default) with a notice (the expiry activity), and a
// decision after that is refused.
func TestStaffChangeExpiresAfter24Hours_C1_4(t *testing.T) {
	env, start := staffChangeEnv(t)
	in := StaffChangeInput{RequestID: staffReq, RequestedBy: adminOne.ID, TargetID: "staff-t", ExpiresAt: start.Add(DefaultStaffChangeTTL)}
	var expiredAt time.Time
	env.OnActivity(a.ExpireStaffChange, mock.Anything, staffReq).Return(func(context.Context, string) (activities.StaffChangeOutcome, error) {
		expiredAt = env.Now()
		return activities.StaffChangeOutcome{Status: StaffChangeExpired}, nil
	}).Once()
	late := decideStaffChange(env, DefaultStaffChangeTTL+time.Minute, StaffChangeDecision{Actor: adminTwo, Decision: "approve"})
	env.ExecuteWorkflow(StaffChange, in)
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, start.Add(DefaultStaffChangeTTL), expiredAt)
	var res StaffChangeStatus
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, StaffChangeExpired, res.Status)
	require.False(t, late.accepted)
}
