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

// C2.7: a service change (new rules or retirement) applies the change once,
// pages through the users holding the service, notifying (and on
// retirement closing the service for) each exactly once, sends the
// messages, and ends without a catch-up pass: the catalogue is changed
// before the first page.
func TestServiceChangeNotifiesEachHolderOnceWithoutCatchUp_C2_7(t *testing.T) {
	users := newFakeUsers(313, 7)
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(ServiceChange)
	env.RegisterActivity(&activities.Activities{})
	var begun []activities.BeginInput
	env.OnActivity(a.BeginFanout, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BeginInput) (activities.BeginResult, error) {
		begun = append(begun, in)
		return activities.BeginResult{StartedAt: env.Now(), EffectiveAt: env.Now(), UsersTargeted: int64(len(users.ids))}, nil
	})
	env.OnActivity(a.WriteNoticePage, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.PageInput) (activities.PageResult, error) {
		require.Equal(t, activities.FanoutServiceChange, in.Kind)
		require.True(t, in.Since.IsZero(), "no catch-up page")
		return users.page(ctx, in)
	})
	env.OnActivity(a.MarkSweepDone, mock.Anything, mock.Anything).Return(nil)
	var statuses []string
	env.OnActivity(a.SetFanoutStatus, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.StatusInput) error {
		statuses = append(statuses, in.Kind+":"+in.Status)
		return nil
	})
	var dispatched []string
	env.OnActivity(a.DispatchOutbox, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.DispatchInput) (activities.DispatchResult, error) {
		dispatched = append(dispatched, in.Source)
		return activities.DispatchResult{Sent: 313}, nil
	})
	env.OnActivity(a.OpenOlderApplications, mock.Anything, mock.Anything).Panic("a service change has no catch-up")

	env.ExecuteWorkflow(ServiceChange, ServiceChangeInput{ChangeID: "c-1", RequestedBy: "staff-editor",
		Settings: CampaignSettings{PageSize: 20, Concurrency: 2}})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res CampaignResult
	require.NoError(t, env.GetWorkflowResult(&res))
	users.assertEachOnce(t, users.ids, true)
	require.EqualValues(t, 313, res.Counters.NoticesWritten)
	require.EqualValues(t, 313, res.Counters.MessagesSent)
	require.Equal(t, []activities.BeginInput{{Kind: activities.FanoutServiceChange, Ref: "c-1", PublishedBy: "staff-editor"}}, begun)
	require.Equal(t, []string{"service-change/c-1"}, dispatched)
	require.Equal(t, []string{"service_change:completed"}, statuses)
}

func newAnnouncementEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *[]string) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(Announcement)
	env.RegisterActivity(&activities.Activities{})
	users := newFakeUsers(5, 3)
	env.OnActivity(a.BeginFanout, mock.Anything, mock.Anything).Return(activities.BeginResult{UsersTargeted: 5}, nil)
	env.OnActivity(a.WriteNoticePage, mock.Anything, mock.Anything).Return(users.page)
	env.OnActivity(a.MarkSweepDone, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(a.SetFanoutStatus, mock.Anything, mock.Anything).Return(nil)
	var events []string
	env.OnActivity(a.BeginServicePause, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ServicePauseInput) (int, error) {
		events = append(events, "paused@"+env.Now().UTC().Format(time.RFC3339))
		return 1, nil
	})
	env.OnActivity(a.EndServicePause, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ServicePauseInput) (int, error) {
		events = append(events, "resumed@"+env.Now().UTC().Format(time.RFC3339))
		return 1, nil
	})
	return env, &events
}

// C2.7: a planned interruption pauses the named services when its window
// starts and gives them back by itself when it ends: timers in the
// announcement's workflow, no cron.
func TestInterruptionPausesServicesForItsWindow_C2_7(t *testing.T) {
	env, events := newAnnouncementEnv(t)
	start := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
	env.SetStartTime(start.Add(-3 * time.Hour))
	env.ExecuteWorkflow(Announcement, AnnouncementInput{AnnouncementID: "an-1",
		Window: &InterruptionWindow{StartsAt: start, EndsAt: start.Add(2 * time.Hour)}})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, []string{"paused@2026-12-05T01:00:00Z", "resumed@2026-12-05T03:00:00Z"}, *events)
}

// An announcement without a window (a rule change, or an interruption of
// no named service) pauses nothing; one whose window already ended only
// makes sure nothing stays paused.
func TestAnnouncementWithoutWindowPausesNothing_C2_7(t *testing.T) {
	env, events := newAnnouncementEnv(t)
	env.ExecuteWorkflow(Announcement, AnnouncementInput{AnnouncementID: "an-2"})
	require.NoError(t, env.GetWorkflowError())
	require.Empty(t, *events)

	env, events = newAnnouncementEnv(t)
	now := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
	env.SetStartTime(now)
	env.ExecuteWorkflow(Announcement, AnnouncementInput{AnnouncementID: "an-3",
		Window: &InterruptionWindow{StartsAt: now.Add(-2 * time.Hour), EndsAt: now.Add(-time.Hour)}})
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, []string{"resumed@2026-12-05T01:00:00Z"}, *events)
}
