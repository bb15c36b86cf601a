package workflows

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
)

// fakeUsers stands in for the agreements table: sorted account IDs, and
// the notices written so far (a page run twice writes nothing twice).
type fakeUsers struct {
	mu       sync.Mutex
	ids      []string
	written  map[string]int
	targeted map[string]int
	calls    int
	// onPage runs after each successful page (to simulate history growth).
	onPage func()
	// failFirst makes the first n page calls fail (a database hiccup).
	failFirst int
	// since, when set, are the IDs only a catch-up pass finds.
	late []string
}

func newFakeUsers(n int, seed int64) *fakeUsers {
	r := rand.New(rand.NewSource(seed))
	ids := make([]string, n)
	for i := range ids {
		var b [16]byte
		r.Read(b[:])
		ids[i] = uuid.Must(uuid.FromBytes(b[:])).String()
	}
	slices.Sort(ids)
	return &fakeUsers{ids: ids, written: map[string]int{}, targeted: map[string]int{}}
}

func (f *fakeUsers) page(_ context.Context, in activities.PageInput) (activities.PageResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls <= f.failFirst {
		return activities.PageResult{}, errors.New("connection reset")
	}
	src := f.ids
	if !in.Since.IsZero() {
		src = f.late
	}
	var res activities.PageResult
	for _, id := range src {
		if id < in.Lo || (in.Hi != "" && id >= in.Hi) || (in.After != "" && id <= in.After) {
			continue
		}
		if res.Targeted == in.Limit {
			break
		}
		res.Targeted++
		res.Last = id
		if f.written[id] == 0 {
			res.Written++
			res.Queued++
		}
		f.written[id] = 1
		f.targeted[id]++
	}
	res.Done = res.Targeted < in.Limit
	if f.onPage != nil {
		f.onPage()
	}
	return res, nil
}

// assertEachOnce checks that every user got a notice and, with
// sweepOnly, that the sweep visited each user exactly once.
func (f *fakeUsers) assertEachOnce(t *testing.T, want []string, sweepOnly bool) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Len(t, f.written, len(want))
	for _, id := range want {
		require.Equal(t, 1, f.written[id], "user %s", id)
		if sweepOnly {
			require.Equal(t, 1, f.targeted[id], "user %s visited more than once", id)
		}
	}
}

var editor = Actor{Kind: "staff", ID: "staff-editor", Roles: []string{RoleTermsEditor}}

func newCampaignEnv(t *testing.T, users *fakeUsers, effectiveAt func(now time.Time) time.Time, pageDelay ...time.Duration) *testsuite.TestWorkflowEnvironment {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(TermsCampaign)
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity(a.BeginFanout, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BeginInput) (activities.BeginResult, error) {
		return activities.BeginResult{StartedAt: env.Now(), EffectiveAt: effectiveAt(env.Now()), UsersTargeted: int64(len(users.ids))}, nil
	})
	page := env.OnActivity(a.WriteNoticePage, mock.Anything, mock.Anything)
	if len(pageDelay) > 0 {
		page = page.After(pageDelay[0])
	}
	page.Return(users.page)
	env.OnActivity(a.MarkSweepDone, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(a.SetFanoutStatus, mock.Anything, mock.Anything).Return(nil)
	return env
}

func immediately(now time.Time) time.Time { return now.Add(-time.Hour) }

func noMessagesLeft(env *testsuite.TestWorkflowEnvironment) {
	env.OnActivity(a.DispatchOutbox, mock.Anything, mock.Anything).Return(activities.DispatchResult{Sent: 0, Pending: 0}, nil)
	env.OnActivity(a.OpenOlderApplications, mock.Anything, mock.Anything).Return(0, nil)
}

// C2.7: the campaign pages through every user by key range, several pages
// at once, and notifies each exactly once.
func TestCampaignPagesThroughEveryUserOnce_C2_7(t *testing.T) {
	users := newFakeUsers(1037, 1)
	env := newCampaignEnv(t, users, immediately)
	noMessagesLeft(env)
	env.ExecuteWorkflow(TermsCampaign, CampaignInput{Version: "2026-07",
		Settings: CampaignSettings{PageSize: 50, Concurrency: 3}})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res CampaignResult
	require.NoError(t, env.GetWorkflowResult(&res))
	users.assertEachOnce(t, users.ids, true)
	require.EqualValues(t, 1037, res.Counters.NoticesWritten)
	require.EqualValues(t, 1037, res.Counters.UsersTargeted)
	require.Equal(t, 1, res.Runs)
	// 12 shards, each with at least one final short page.
	require.GreaterOrEqual(t, res.Counters.Pages, int64(1037/50+1))
}

// decodeContinueAsNew returns the input the next run would get.
func decodeContinueAsNew(t *testing.T, err error) CampaignInput {
	t.Helper()
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(err, &can), "want continue-as-new, got %v", err)
	require.Equal(t, "TermsCampaign", can.WorkflowType.Name)
	var in CampaignInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
	return in
}

// C2.7: a run continues as new once its history reaches the budget,
// carrying the shard cursors and counters; the runs together notify every
// user once.
func TestCampaignContinuesAsNewCarryingState_C2_7(t *testing.T) {
	users := newFakeUsers(600, 2)
	settings := CampaignSettings{PageSize: 20, Concurrency: 2, MaxEventsPerRun: 80}
	in := CampaignInput{Version: "2026-07", Settings: settings}
	runs := 0
	var prev *CampaignState
	for {
		runs++
		require.Less(t, runs, 50, "the campaign never finished")
		env := newCampaignEnv(t, users, immediately)
		noMessagesLeft(env)
		// The test environment keeps no history; count about six events
		// per page (scheduled, started, completed, and a workflow task).
		pagesThisRun := 0
		users.onPage = func() { pagesThisRun++; env.SetCurrentHistoryLength(6 * pagesThisRun) }
		env.ExecuteWorkflow(TermsCampaign, in)
		require.True(t, env.IsWorkflowCompleted())
		err := env.GetWorkflowError()
		if err == nil {
			var res CampaignResult
			require.NoError(t, env.GetWorkflowResult(&res))
			require.Equal(t, runs, res.Runs)
			require.EqualValues(t, 600, res.Counters.NoticesWritten)
			break
		}
		next := decodeContinueAsNew(t, err)
		require.NotNil(t, next.State)
		require.Equal(t, settings, next.Settings)
		if prev != nil {
			// The state only moves forward.
			require.GreaterOrEqual(t, next.State.Counters.NoticesWritten, prev.Counters.NoticesWritten)
			require.Equal(t, prev.StartedAt, next.State.StartedAt)
		}
		require.Len(t, next.State.Shards, 8)
		prev, in = next.State, next
	}
	require.Greater(t, runs, 2, "a small event budget must force several runs")
	users.assertEachOnce(t, users.ids, true)
}

// C2.7: pause stops new pages (those in flight finish), the progress query
// shows it, resume goes on; validators refuse the wrong role, a second
// pause and a resume of a running campaign without recording anything.
func TestCampaignPauseAndResume_C2_7(t *testing.T) {
	users := newFakeUsers(400, 3)
	// Slow pages so that the updates arrive mid-sweep.
	env := newCampaignEnv(t, users, immediately, time.Second)
	noMessagesLeft(env)

	type result struct {
		rejected error
		done     bool
	}
	send := func(at time.Duration, name string, actor Actor, out *result) {
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
				OnAccept:   func() {},
				OnReject:   func(err error) { out.rejected = err },
				OnComplete: func(_ interface{}, err error) { out.done = err == nil },
			}, PauseRequest{Actor: actor})
		}, at)
	}
	var wrongRole, resumeRunning, pause, pauseAgain, resume result
	var pagesAtPause, pagesLater int64
	var pausedSeen bool
	send(3*time.Second, UpdatePause, Actor{Kind: "staff", ID: "r", Roles: []string{RoleReviewer}}, &wrongRole)
	send(3*time.Second, UpdateResume, editor, &resumeRunning)
	send(4*time.Second, UpdatePause, editor, &pause)
	send(5*time.Second, UpdatePause, admin, &pauseAgain)
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(QueryProgress)
		require.NoError(t, err)
		var p CampaignProgress
		require.NoError(t, v.Get(&p))
		pausedSeen, pagesAtPause = p.Paused, p.Counters.Pages
	}, 10*time.Second)
	env.RegisterDelayedCallback(func() {
		v, _ := env.QueryWorkflow(QueryProgress)
		var p CampaignProgress
		_ = v.Get(&p)
		pagesLater = p.Counters.Pages
	}, time.Hour)
	send(time.Hour+time.Second, UpdateResume, admin, &resume)

	env.ExecuteWorkflow(TermsCampaign, CampaignInput{Version: "2026-07", Settings: CampaignSettings{PageSize: 10, Concurrency: 2}})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())

	require.Error(t, wrongRole.rejected)
	require.Contains(t, wrongRole.rejected.Error(), "terms editor")
	require.Error(t, resumeRunning.rejected)
	require.True(t, pause.done)
	require.Error(t, pauseAgain.rejected)
	require.True(t, resume.done)
	require.True(t, pausedSeen)
	require.Positive(t, pagesAtPause)
	require.Equal(t, pagesAtPause, pagesLater, "no page ran while paused")
	users.assertEachOnce(t, users.ids, true)
}

// C2.7: a failing page is retried with backoff until it succeeds; failed
// channel messages are waited for until they are due again.
func TestCampaignRetriesPagesAndWaitsForMessageRetries_C2_7(t *testing.T) {
	users := newFakeUsers(120, 4)
	users.failFirst = 3
	env := newCampaignEnv(t, users, immediately)
	env.OnActivity(a.OpenOlderApplications, mock.Anything, mock.Anything).Return(0, nil)
	env.OnActivity(a.DispatchOutbox, mock.Anything, mock.Anything).Return(activities.DispatchResult{Sent: 100, Failed: 20, Pending: 20, NextIn: 30 * time.Second}, nil).Once()
	env.OnActivity(a.DispatchOutbox, mock.Anything, mock.Anything).Return(activities.DispatchResult{Sent: 20, Pending: 0}, nil).Once()
	env.OnActivity(a.DispatchOutbox, mock.Anything, mock.Anything).Return(activities.DispatchResult{}, nil) // catch-up: nothing new
	start := env.Now()
	env.ExecuteWorkflow(TermsCampaign, CampaignInput{Version: "2026-07", Settings: CampaignSettings{PageSize: 25, Concurrency: 1}})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res CampaignResult
	require.NoError(t, env.GetWorkflowResult(&res))
	users.assertEachOnce(t, users.ids, true)
	require.EqualValues(t, 120, res.Counters.MessagesSent)
	require.EqualValues(t, 20, res.Counters.MessagesFailed)
	require.GreaterOrEqual(t, env.Now().Sub(start), 30*time.Second, "the workflow waited for the retry")
}

// C2.7: while the dispatch still derives messages from the notices
// (Underived), an empty queue does not end the dispatch, and the messages
// it derives are counted as queued.
func TestCampaignDispatchesUntilEveryMessageIsDerived_C2_7(t *testing.T) {
	users := newFakeUsers(40, 7)
	env := newCampaignEnv(t, users, immediately)
	env.OnActivity(a.OpenOlderApplications, mock.Anything, mock.Anything).Return(0, nil)
	env.OnActivity(a.DispatchOutbox, mock.Anything, mock.Anything).Return(activities.DispatchResult{Queued: 25, Sent: 20, Pending: 5, Underived: true}, nil).Once()
	env.OnActivity(a.DispatchOutbox, mock.Anything, mock.Anything).Return(activities.DispatchResult{Queued: 0, Sent: 5, Pending: 0, Underived: true}, nil).Once()
	env.OnActivity(a.DispatchOutbox, mock.Anything, mock.Anything).Return(activities.DispatchResult{Queued: 25, Sent: 25, Pending: 0}, nil).Once()
	env.OnActivity(a.DispatchOutbox, mock.Anything, mock.Anything).Return(activities.DispatchResult{}, nil) // catch-up: nothing new
	env.ExecuteWorkflow(TermsCampaign, CampaignInput{Version: "2026-07", Settings: CampaignSettings{PageSize: 25, Concurrency: 1}})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res CampaignResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.EqualValues(t, 50, res.Counters.MessagesSent, "the dispatch went on past an empty queue while messages were underived")
	require.EqualValues(t, 50+40, res.Counters.MessagesQueued, "the pages' and the dispatch's queued messages")
	require.EqualValues(t, 4, res.Counters.Dispatches)
}

// C2.7 / C3.5: before the effective date and while applications on the
// older version are open, the campaign keeps catching up users approved
// meanwhile; it ends once the revision is in effect and none is open.
func TestCampaignCatchesUpUsersApprovedMeanwhile_C2_7(t *testing.T) {
	users := newFakeUsers(50, 5)
	late := newFakeUsers(7, 6)
	users.late = late.ids
	env := newCampaignEnv(t, users, func(now time.Time) time.Time { return now.Add(48 * time.Hour) })
	env.OnActivity(a.DispatchOutbox, mock.Anything, mock.Anything).Return(activities.DispatchResult{}, nil)
	env.OnActivity(a.OpenOlderApplications, mock.Anything, mock.Anything).Return(2, nil).Once()
	env.OnActivity(a.OpenOlderApplications, mock.Anything, mock.Anything).Return(0, nil)
	start := env.Now()
	env.ExecuteWorkflow(TermsCampaign, CampaignInput{Version: "2026-07",
		Settings: CampaignSettings{PageSize: 10, Concurrency: 1, CatchUpInterval: 6 * time.Hour}})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res CampaignResult
	require.NoError(t, env.GetWorkflowResult(&res))
	users.assertEachOnce(t, append(slices.Clone(users.ids), late.ids...), false)
	require.EqualValues(t, 57, res.Counters.NoticesWritten)
	require.EqualValues(t, 57, res.Counters.UsersTargeted)
	elapsed := env.Now().Sub(start)
	require.GreaterOrEqual(t, elapsed, 48*time.Hour+6*time.Hour, "ran past the effective date and one more interval")
	require.Less(t, elapsed, 48*time.Hour+13*time.Hour)
	require.GreaterOrEqual(t, res.Counters.CatchUps, int64(10))
}

func TestShardsCoverTheKeySpace(t *testing.T) {
	s := makeShards(12)
	require.Equal(t, "00000000-0000-0000-0000-000000000000", s[0].Lo)
	require.Empty(t, s[11].Hi)
	for i := 1; i < len(s); i++ {
		require.Equal(t, s[i-1].Hi, s[i].Lo)
		require.Less(t, s[i-1].Lo, s[i].Lo)
	}
	require.Equal(t, fmt.Sprintf("%08x-0000-0000-0000-000000000000", uint64(1)<<31), makeShards(2)[1].Lo)
}
