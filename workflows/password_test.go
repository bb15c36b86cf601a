package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
)

const (
	acctID  = "6a1f0000-0000-4000-8000-0000000000a1"
	report1 = "6a1f0000-0000-4000-8000-0000000000r1"
	report2 = "6a1f0000-0000-4000-8000-0000000000r2"
	reset1  = "6a1f0000-0000-4000-8000-0000000000s1"
	reset2  = "6a1f0000-0000-4000-8000-0000000000s2"
)

var auditorActor = Actor{Kind: "staff", ID: "staff-auditor", Roles: []string{RoleAuditor}}

// updateOutcome records what an update returned.
type updateOutcome struct {
	rejected bool
	err      error
	result   any
	done     bool
}

func sendAnyUpdate(env *testsuite.TestWorkflowEnvironment, delay time.Duration, name string, args ...any) *updateOutcome {
	o := &updateOutcome{}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { o.rejected, o.err, o.done = true, err, true },
			OnComplete: func(res interface{}, err error) {
				o.result, o.err, o.done = res, err, true
			},
		}, args...)
	}, delay)
	return o
}

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterActivity(&activities.Activities{})
	t.Cleanup(func() { env.AssertExpectations(t) })
	return env
}

// C3.3(3): locked at once; reminders every interval while waiting; a
// wrong role cannot reset; the reviewer's reset lifts the lock, and the
// unpicked password is destroyed after the window; a report after the
// reset is refused by this run.
func TestCompromiseLocksRemindsAndLiftsOnlyWithReset_C3_3_3(t *testing.T) {
	env := newEnv(t)
	lockedAt := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	env.OnActivity(a.LockForCompromise, mock.Anything, activities.LockInput{AccountID: acctID, ReportID: report1}).
		Return(activities.LockResult{LockedAt: lockedAt}, nil).Once()
	for n := 1; n <= 3; n++ {
		env.OnActivity(a.RemindCompromised, mock.Anything, activities.CompromiseReminder{AccountID: acctID, ReportID: report1, N: n}).Return(nil).Once()
	}
	expires := lockedAt.Add(8 * 24 * time.Hour)
	env.OnActivity(a.ResetPassword, mock.Anything, activities.ResetInput{ResetID: reset1, LiftCompromise: true, PickupWindow: 15 * time.Minute}).
		Return(activities.ResetOutcome{Status: StatusIssued, AccountID: acctID, PickupExpiresAt: expires}, nil).Once()
	var destroyedAt time.Time
	env.OnActivity(a.DestroyPickup, mock.Anything, activities.PasswordResetPickupKey(reset1)).Return(func(_ context.Context, _ string) error {
		destroyedAt = env.Now()
		return nil
	}).Once()

	first := sendAnyUpdate(env, 0, UpdateReport, ReportRequest{ReportID: report1})
	wrongRole := sendAnyUpdate(env, 24*time.Hour, UpdateReset, ResetRequest{Actor: auditorActor, ResetID: reset1})
	var midStatus CompromiseStatus
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(QueryStatus)
		require.NoError(t, err)
		require.NoError(t, v.Get(&midStatus))
	}, 7*24*time.Hour)
	var resetAt time.Time
	env.RegisterDelayedCallback(func() { resetAt = env.Now() }, 10*24*time.Hour)
	reset := sendAnyUpdate(env, 10*24*time.Hour, UpdateReset, ResetRequest{Actor: reviewer, ResetID: reset1})
	late := sendAnyUpdate(env, 10*24*time.Hour+time.Minute, UpdateReport, ReportRequest{ReportID: report2})

	env.ExecuteWorkflow(CompromiseLock, CompromiseInput{AccountID: acctID, ReportID: report1,
		RemindEvery: 72 * time.Hour, PickupWindow: 15 * time.Minute})

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res CompromiseResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, CompromiseResult{Status: StatusReset, ResetID: reset1}, res)

	require.NoError(t, first.err)
	require.Equal(t, StatusLocked, first.result.(CompromiseStatus).Status)
	require.True(t, wrongRole.rejected)
	require.Equal(t, ErrTypeForbidden, errType(wrongRole.err))
	require.Equal(t, StatusLocked, midStatus.Status)
	require.Equal(t, 2, midStatus.Reminders, "reminded at 3 and 6 days")
	require.NoError(t, reset.err)
	require.Equal(t, StatusIssued, reset.result.(ResetResult).Status)
	require.True(t, late.rejected, "the lock is gone: a new report starts a new run")
	require.Equal(t, ErrTypeConflict, errType(late.err))
	require.Equal(t, 15*time.Minute, destroyedAt.Sub(resetAt).Round(time.Minute))
}

// C3.3(3): a second report while locked is recorded by the same run; a
// refused reset (the account is not active) keeps the lock and the
// reviewer gets a Conflict; a later reset succeeds.
func TestCompromiseRecordsReportsAndKeepsLockOnRefusedReset_C3_3_3(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.LockForCompromise, mock.Anything, activities.LockInput{AccountID: acctID, ReportID: report1}).
		Return(activities.LockResult{LockedAt: time.Now()}, nil).Once()
	env.OnActivity(a.LockForCompromise, mock.Anything, activities.LockInput{AccountID: acctID, ReportID: report2}).
		Return(activities.LockResult{LockedAt: time.Now()}, nil).Once()
	env.OnActivity(a.ResetPassword, mock.Anything, activities.ResetInput{ResetID: reset1, LiftCompromise: true, PickupWindow: time.Minute}).
		Return(activities.ResetOutcome{Status: StatusRefused, Refusal: activities.RefusalAccountNotActive}, nil).Once()
	env.OnActivity(a.ResetPassword, mock.Anything, activities.ResetInput{ResetID: reset2, LiftCompromise: true, PickupWindow: time.Minute}).
		Return(activities.ResetOutcome{Status: StatusIssued, PickupExpiresAt: time.Now()}, nil).Once()
	env.OnActivity(a.DestroyPickup, mock.Anything, activities.PasswordResetPickupKey(reset2)).Return(nil).Once()

	second := sendAnyUpdate(env, time.Hour, UpdateReport, ReportRequest{ReportID: report2})
	noID := sendAnyUpdate(env, time.Hour, UpdateReport, ReportRequest{})
	refused := sendAnyUpdate(env, 2*time.Hour, UpdateReset, ResetRequest{Actor: reviewer, ResetID: reset1})
	var afterRefusal CompromiseStatus
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(QueryStatus)
		require.NoError(t, err)
		require.NoError(t, v.Get(&afterRefusal))
	}, 3*time.Hour)
	ok := sendAnyUpdate(env, 4*time.Hour, UpdateReset, ResetRequest{Actor: reviewer, ResetID: reset2})

	env.ExecuteWorkflow(CompromiseLock, CompromiseInput{AccountID: acctID, ReportID: report1,
		RemindEvery: 72 * time.Hour, PickupWindow: time.Minute})

	require.NoError(t, env.GetWorkflowError())
	require.NoError(t, second.err)
	require.Equal(t, 2, second.result.(CompromiseStatus).Reports)
	require.True(t, noID.rejected)
	require.Equal(t, ErrTypeInvalid, errType(noID.err))
	require.False(t, refused.rejected)
	require.Equal(t, ErrTypeConflict, errType(refused.err))
	require.Equal(t, StatusLocked, afterRefusal.Status)
	require.NoError(t, ok.err)
}

// C3.3(2): a counter reset issues the password, then destroys an unpicked
// copy after the window; a refused reset answers Conflict and ends.
func TestPasswordResetIssuesThenDestroysAfterWindow_C3_3_2(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(a.ResetPassword, mock.Anything, activities.ResetInput{ResetID: reset1, PickupWindow: 10 * time.Minute}).
		Return(activities.ResetOutcome{Status: StatusIssued, PickupExpiresAt: time.Now()}, nil).Once()
	env.OnActivity(a.DestroyPickup, mock.Anything, activities.PasswordResetPickupKey(reset1)).Return(nil).Once()
	issued := sendAnyUpdate(env, 0, UpdateAwaitIssued)
	env.ExecuteWorkflow(PasswordReset, PasswordResetInput{ResetID: reset1, PickupWindow: 10 * time.Minute})
	require.NoError(t, env.GetWorkflowError())
	require.NoError(t, issued.err)
	require.Equal(t, StatusIssued, issued.result.(ResetResult).Status)

	env = newEnv(t)
	env.OnActivity(a.ResetPassword, mock.Anything, mock.Anything).
		Return(activities.ResetOutcome{Status: StatusRefused, Refusal: activities.RefusalCompromiseLocked}, nil).Once()
	refused := sendAnyUpdate(env, 0, UpdateAwaitIssued)
	env.ExecuteWorkflow(PasswordReset, PasswordResetInput{ResetID: reset1, PickupWindow: 10 * time.Minute})
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, ErrTypeConflict, errType(refused.err))
	var res ResetResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, activities.RefusalCompromiseLocked, res.Refusal)
}

// C3.3(2): one workflow sweeps all accounts page by page at the sweep
// interval (no timer per account), takes new settings by signal, and
// continues as new after a bounded number of sweeps.
func TestPasswordAgeSweepsInPagesAndContinuesAsNew_C3_3_2(t *testing.T) {
	env := newEnv(t)
	settings := PasswordSettings{MaxAge: 180 * 24 * time.Hour, RemindEvery: 30 * 24 * time.Hour, SweepEvery: 24 * time.Hour, PageSize: 2}
	var pages []activities.SweepPage
	env.OnActivity(a.RemindOldPasswords, mock.Anything, mock.Anything).Return(func(_ context.Context, p activities.SweepPage) (activities.SweepPageResult, error) {
		pages = append(pages, p)
		if p.After == "" && len(pages) == 1 {
			return activities.SweepPageResult{Reminded: 2, Last: "id-2"}, nil // full page: more to come
		}
		return activities.SweepPageResult{Reminded: 1, Done: true}, nil
	})
	var st PasswordAgeStatus
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(QueryStatus)
		require.NoError(t, err)
		require.NoError(t, v.Get(&st))
		env.SignalWorkflow(SignalPasswordAgeSettings, PasswordSettings{SweepEvery: 12 * time.Hour, PageSize: 2})
	}, 36*time.Hour)
	env.ExecuteWorkflow(PasswordAgeReminder, PasswordAgeInput{Settings: settings})

	require.True(t, env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "continues as new after %d sweeps", sweepsPerRun)
	// Sweep 1 had two pages, each later sweep one: 31 activities for 30 sweeps.
	require.Len(t, pages, sweepsPerRun+1)
	require.Equal(t, "id-2", pages[1].After)
	require.Equal(t, pages[0].SweepID, pages[1].SweepID)
	require.NotEqual(t, pages[1].SweepID, pages[2].SweepID)
	require.Equal(t, 2, st.Sweeps, "sweeps at 0h and 24h before the signal at 36h")
	require.Equal(t, 4, st.TotalReminded)
	// After the signal, sweeps come every 12 hours.
	t0, _ := time.Parse(time.RFC3339, pages[len(pages)-2].SweepID)
	t1, _ := time.Parse(time.RFC3339, pages[len(pages)-1].SweepID)
	require.Equal(t, 12*time.Hour, t1.Sub(t0))
	require.Equal(t, 30*24*time.Hour, pages[len(pages)-1].RemindEvery, "a zero setting takes the default")
}

// C3.2: the data change validator refuses wrong roles, a rejection without
// reason and a second decision; an approval runs the activity once.
func TestDataChangeDecisionValidators_C3_2(t *testing.T) {
	env := newEnv(t)
	const change = "6a1f0000-0000-4000-8000-0000000000c1"
	env.OnActivity(a.DecideDataChange, mock.Anything, activities.DataChangeDecisionInput{ChangeID: change, Decision: DecisionApprove, StaffID: reviewer.ID}).
		Return(StatusApproved, nil).Once()
	wrongRole := sendAnyUpdate(env, time.Minute, UpdateDecideDataChange, DataChangeDecision{Actor: applicant, Decision: DecisionApprove})
	noReason := sendAnyUpdate(env, time.Minute, UpdateDecideDataChange, DataChangeDecision{Actor: reviewer, Decision: DecisionReject})
	approve := sendAnyUpdate(env, time.Hour, UpdateDecideDataChange, DataChangeDecision{Actor: reviewer, Decision: DecisionApprove})
	env.ExecuteWorkflow(DataChangeReview, DataChangeInput{ChangeID: change})
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, ErrTypeForbidden, errType(wrongRole.err))
	require.Equal(t, ErrTypeInvalid, errType(noReason.err))
	require.NoError(t, approve.err)
	var res DataChangeResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, StatusApproved, res.Status)

	// An activity conflict (the new ID number belongs to someone else) is a
	// Conflict for the reviewer, and the change stays pending.
	env = newEnv(t)
	env.OnActivity(a.DecideDataChange, mock.Anything, mock.Anything).
		Return("", temporal.NewNonRetryableApplicationError("taken", activities.ErrTypeConflict, nil)).Once()
	env.OnActivity(a.DecideDataChange, mock.Anything, mock.Anything).Return(StatusRejected, nil).Once()
	conflicted := sendAnyUpdate(env, time.Minute, UpdateDecideDataChange, DataChangeDecision{Actor: reviewer, Decision: DecisionApprove})
	rejected := sendAnyUpdate(env, time.Hour, UpdateDecideDataChange, DataChangeDecision{Actor: reviewer, Decision: DecisionReject, Reason: "证件不符"})
	env.ExecuteWorkflow(DataChangeReview, DataChangeInput{ChangeID: change})
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, ErrTypeConflict, errType(conflicted.err))
	require.NoError(t, rejected.err)
}

// C3.2 / C2.1: a name or ID number change waiting for review reminds the
// reviewers after 2 days and tells the supervisors after 5, once each;
// the decision after that still goes through and ends the clock.
func TestDataChangeWaitingRemindsThenEscalates_C3_2(t *testing.T) {
	env := newEnv(t)
	const change = "6a1f0000-0000-4000-8000-0000000000c2"
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	env.SetStartTime(start)
	fired := map[string]time.Time{}
	for step, role := range map[string]string{"reminder": RoleReviewer, "escalation": RoleSupervisor} {
		env.OnActivity(a.RecordStaffServiceLevel, mock.Anything, activities.StaffServiceLevelInput{RecordKind: "data_change",
			RecordID: change, Step: step, Role: role, Round: 1}).
			Run(func(mock.Arguments) { fired[step] = env.Now() }).Return(nil).Once()
	}
	env.OnActivity(a.DecideDataChange, mock.Anything, mock.Anything).Return(StatusApproved, nil).Once()
	approve := sendAnyUpdate(env, 6*24*time.Hour, UpdateDecideDataChange, DataChangeDecision{Actor: reviewer, Decision: DecisionApprove})
	env.ExecuteWorkflow(DataChangeReview, DataChangeInput{ChangeID: change})
	require.NoError(t, env.GetWorkflowError())
	require.NoError(t, approve.err)
	require.WithinDuration(t, start.Add(2*24*time.Hour), fired["reminder"], time.Minute)
	require.WithinDuration(t, start.Add(5*24*time.Hour), fired["escalation"], time.Minute)
	var res DataChangeResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, StatusApproved, res.Status)
}
