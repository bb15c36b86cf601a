package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"hrss-backoffice/api"
	"hrss-backoffice/internal/testdb"
	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// TestFaultInjection_C2_6 (docs/reliability.md), run with HRSS_FAULTS=1: drives
// FAULTS_N registrations (default 30) over HTTP to a decision, the pickup of
// the initial password, the first sign-in and the password change, with
// the other intakes mixed in (supplements, counter resets, and by turns a
// change of name, a fraud case the user answers, a cancellation of
// services; every intake with an Idempotency-Key), then a
// small terms campaign to all the new accounts, while a
// separate `hrss worker` process is killed with SIGKILL every
// FAULTS_KILL_EVERY (default 3s) and restarted, and the file-backed
// Temporal dev server this test starts is restarted once midway. Then it
// checks the invariants and prints the counts. C2.6: whatever fails on the
// operator's side (workers, the workflow service, the network between
// them), the system itself loses and duplicates nothing.
//
// On the Temporal cluster (make test-cluster, HRSS_TEST_ENGINE=cluster) the
// test uses the cluster scripts/test.sh started instead of a dev server, and
// the faults are: one of two `hrss worker` processes SIGKILLed by turns
// every FAULTS_KILL_EVERY; one of two API instances cut off (its listener
// and connections closed at once) for a while; SIGKILL of the history
// service at a quarter of the people, of matching at half, of the frontend
// while the campaign runs (each restarted with its own command line); and
// the Postgres restart.
func TestFaultInjection_C2_6(t *testing.T) {
	if os.Getenv("HRSS_FAULTS") != "1" {
		t.Skip("set HRSS_FAULTS=1 (and FAULTS_N, FAULTS_KILL_EVERY) to run the fault-injection test")
	}
	testdb.RequireServices(t, "DATABASE_URL")
	n, _ := strconv.Atoi(os.Getenv("FAULTS_N"))
	if n <= 0 {
		n = 30
	}
	killEvery, err := time.ParseDuration(os.Getenv("FAULTS_KILL_EVERY"))
	if err != nil || killEvery <= 0 {
		killEvery = 3 * time.Second
	}
	dir, bin := buildHrss(t)

	cluster := testenv.Engine() == "cluster"
	address, temporal := faultsTemporal(t, cluster, dir)

	// The small terms campaign at the end runs with the tests' tuning.
	campaignTuning := campaignSettingsForTest(t, "10")
	ps := newProcStack(t, address, "faults", func(d *api.Deps) { d.Campaign = campaignTuning })
	s, db, c, tq, srv, e, workerEnv := ps.Stack, ps.DB, ps.Temporal, ps.TaskQueue, ps.srv, ps.handler, ps.workerEnv
	// On the cluster a second API instance beside the first; requests go to
	// both by turns (a load balancer), and one of them is cut off for a while.
	apis := &apiPair{handler: e, srv: [2]*httptest.Server{srv}}
	if cluster {
		apis.srv[1] = httptest.NewServer(e)
		t.Cleanup(apis.closeAll)
	}

	workers := []*proc{{t: t, name: "worker", log: filepath.Join(dir, "worker.log"), argv: []string{bin, "worker"}, env: workerEnv}}
	if cluster {
		workers = append(workers, &proc{t: t, name: "worker2", log: filepath.Join(dir, "worker2.log"), argv: []string{bin, "worker"}, env: workerEnv})
	}
	for _, w := range workers {
		w.start()
		t.Cleanup(func() { w.stop(syscall.SIGTERM) })
	}

	reviewer, _ := s.Staff(workflows.RoleReviewer)
	investigator, _ := s.Staff(workflows.RoleInvestigator)

	// Faults: kill the worker every killEvery; restart Temporal once when
	// half the people are through.
	var done, kills, temporalRestarts, pgRestarts, retries, apiCuts atomic.Int64
	var campaignRunning, frontendKilled atomic.Bool
	serviceKills := map[string]int{}
	// Postgres is restarted once too when the test knows the cluster
	// (make test passes its throwaway cluster's data directory).
	pgData := os.Getenv("HRSS_PG_DATA")
	stopFaults := make(chan struct{})
	faultsDone := make(chan struct{})
	go func() {
		defer close(faultsDone)
		tick := time.NewTicker(killEvery)
		defer tick.Stop()
		for {
			select {
			case <-stopFaults:
				return
			case <-tick.C:
			}
			w := workers[int(kills.Load())%len(workers)]
			w.stop(syscall.SIGKILL)
			kills.Add(1)
			w.start()
			if cluster {
				// Services SIGKILLed at their stage; the second half waits
				// for matching's (temporalRestarts), as for the dev server.
				for _, st := range []struct {
					svc string
					due bool
				}{{"history", done.Load() >= int64(n/4)}, {"matching", done.Load() >= int64(n/2)}, {"frontend", campaignRunning.Load()}} {
					if st.due && serviceKills[st.svc] == 0 {
						killAndRestartClusterService(t, st.svc)
						serviceKills[st.svc]++
						if st.svc == "matching" {
							temporalRestarts.Add(1)
						}
						if st.svc == "frontend" {
							frontendKilled.Store(true)
						}
					}
				}
				// One API instance is cut off from 3/8 of the people for
				// a few ticks, then a new one takes its place.
				if done.Load() >= int64(3*n/8) && apiCuts.Load() == 0 {
					apis.cut(1)
					apiCuts.Add(1)
				} else if apiCuts.Load() == 1 && kills.Load()%4 == 0 {
					apis.restore(1)
					apiCuts.Add(1)
				}
			} else if temporalRestarts.Load() == 0 && done.Load() >= int64(n/2) {
				temporal.stop(syscall.SIGTERM)
				temporal.start()
				temporalRestarts.Add(1)
			}
			if pgData != "" && pgRestarts.Load() == 0 && temporalRestarts.Load() > 0 && done.Load() >= int64(3*n/4) {
				restartPostgres(t, pgData)
				pgRestarts.Add(1)
			}
		}
	}()

	// Each step is retried while the answer is 5xx or the request fails:
	// the faults make the service briefly unavailable.
	// A decision whose first attempt timed out while the worker was down
	// answers 409 "being carried out" on a retry: it was accepted and
	// completes when the worker is back (the status is awaited next).
	var inProgress, notYet atomic.Int64
	call := func(method, path string, body any, want int, hs ...testenv.Header) testenv.Response {
		deadline := time.Now().Add(3 * time.Minute)
		for attempt := 0; ; attempt++ {
			r := doQuiet(apis.url(), method, path, body, hs...)
			if r.Status == want {
				return r
			}
			if attempt > 0 && r.Status == http.StatusConflict && strings.HasSuffix(path, "/decision") {
				inProgress.Add(1)
				return r
			}
			// A supplement or an answer sent as soon as Postgres shows the
			// state that allows it can reach the run a moment before the run
			// has taken that state up (its activity wrote it, the run is
			// between tasks, or the worker was just killed): the validator
			// refuses with 409 conflict, the document is taken back, and
			// the same request (same Idempotency-Key) is sent again.
			if r.Status == http.StatusConflict && r.ErrorCode() == "conflict" &&
				(strings.HasSuffix(path, "/supplement") || strings.HasSuffix(path, "/answer")) && time.Now().Before(deadline) {
				notYet.Add(1)
				time.Sleep(300 * time.Millisecond)
				continue
			}
			if r.Status != 0 && r.Status < 500 || time.Now().After(deadline) {
				t.Errorf("%s %s: %d %s", method, path, r.Status, r.Raw)
				return r
			}
			retries.Add(1)
			time.Sleep(300 * time.Millisecond)
		}
	}
	waitStatus := func(id string, want ...string) string {
		var st string
		testenv.Eventually(t, 3*time.Minute, "application "+id, func() bool {
			_ = db.Get(&st, `SELECT status FROM applications WHERE id = $1`, id)
			for _, w := range want {
				if st == w {
					return true
				}
			}
			return false
		})
		return st
	}
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	var approved, rejected, resets, supplements atomic.Int64
	var intakes intakeCounts
	// Every intake carries an Idempotency-Key, so that a retry after a
	// 503 (outcome unknown) or a lost answer reaches the same document.
	idemKey := func() testenv.Header {
		return testenv.Header{Name: "Idempotency-Key", Value: "fault-" + uuid.NewString()}
	}
	intakeBefore := api.IntakeOutcomes()
	for i := range n {
		if i == n/2 {
			// The second half starts after Temporal's restart, which
			// comes on the first tick after the first half is through.
			testenv.Eventually(t, 5*time.Minute, "the Temporal restart", func() bool { return temporalRestarts.Load() > 0 })
		}
		if i == 3*n/4 && pgData != "" {
			// The last quarter starts after the Postgres restart.
			testenv.Eventually(t, 5*time.Minute, "the Postgres restart", func() bool { return pgRestarts.Load() > 0 })
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem; done.Add(1) }()
			p := testenv.NewPerson()
			// Entered at a counter by the reviewer, who picks the initial
			// password up below (an online applicant's own pickup is
			// covered by TestApplicantPickup_C1_5_C2_1).
			r := call("POST", "/v1/registrations", p.Registration("social_insurance_query"), http.StatusAccepted, idemKey(), testenv.Bearer(reviewer))
			id := r.Str("id")
			if id == "" {
				return
			}
			waitStatus(id, "pending")
			if i%7 == 3 {
				// A supplement: the reviewer asks for more, the applicant
				// supplies it (an Update carrying the stored document).
				call("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "request_info", "reason": "请补充地址证明"},
					http.StatusOK, testenv.Bearer(reviewer))
				waitStatus(id, "info_requested")
				call("POST", "/v1/registrations/"+id+"/supplement", map[string]string{"note": "已补充地址证明"}, http.StatusOK,
					testenv.Follow(r.Str("follow_token")), idemKey())
				waitStatus(id, "pending")
				supplements.Add(1)
			}
			if i%5 == 4 {
				call("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "reject", "reason": "材料不全"}, http.StatusOK, testenv.Bearer(reviewer))
				waitStatus(id, "rejected")
				rejected.Add(1)
				return
			}
			call("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "approve"}, http.StatusOK, testenv.Bearer(reviewer))
			waitStatus(id, "approved")
			initial := call("POST", "/v1/registrations/"+id+"/initial-password", nil, http.StatusOK, testenv.Bearer(reviewer)).Str("initial_password")
			tok := call("POST", "/v1/sessions", map[string]string{"username": p.IDNumber, "password": initial}, http.StatusCreated).Str("token")
			pw := "Fault-Pass-" + uuid.NewString()[:8]
			call("PUT", "/v1/me/password", map[string]string{"old_password": initial, "new_password": pw},
				http.StatusNoContent, testenv.Bearer(tok))
			approved.Add(1)
			if i%4 == 2 {
				acct := call("GET", "/v1/me", nil, http.StatusOK, testenv.Bearer(tok)).Str("account", "id")
				driveAccountIntakes(t, db, i, call, tok, pw, acct, reviewer, investigator, idemKey, &intakes)
			}
			if i%6 == 1 {
				// A counter reset: the person forgot the password and came in
				// with the ID card; the new initial password is picked up once
				// and changed at the next sign-in.
				acct := call("GET", "/v1/me", nil, http.StatusOK, testenv.Bearer(tok)).Str("account", "id")
				reset := call("POST", "/v1/accounts/"+acct+"/password-reset", map[string]any{"identity_document": "resident_id_card",
					"document_checked": true, "office": "故障测试网点"}, http.StatusCreated, testenv.Bearer(reviewer), idemKey()).Str("id")
				if reset == "" {
					return
				}
				again := call("POST", "/v1/password-resets/"+reset+"/initial-password", nil, http.StatusOK, testenv.Bearer(reviewer)).Str("initial_password")
				tok = call("POST", "/v1/sessions", map[string]string{"username": p.IDNumber, "password": again}, http.StatusCreated).Str("token")
				call("PUT", "/v1/me/password", map[string]string{"old_password": again, "new_password": "Fault-Pass-" + uuid.NewString()[:8]},
					http.StatusNoContent, testenv.Bearer(tok))
				resets.Add(1)
			}
		}()
	}
	wg.Wait()

	// A small terms campaign to every account, still under worker kills.
	// The editor signs in now: a staff session idle for STAFF_IDLE_TIMEOUT
	// (15 minutes) ends, and a long run leaves an early one idle that long.
	editor, _ := s.Staff(workflows.RoleTermsEditor)
	version := "f-" + uuid.NewString()[:8]
	call("POST", "/v1/terms", map[string]any{"version": version, "title": "承诺书修订（故障测试）", "body": "全文", "summary": "修订说明",
		"effective_at": time.Now().Add(15 * time.Second).UTC().Format(time.RFC3339)}, http.StatusCreated, testenv.Bearer(editor))
	call("POST", "/v1/terms/"+version+"/publish", nil, http.StatusAccepted, testenv.Bearer(editor))
	campaignRunning.Store(true)
	if cluster {
		// The frontend is killed while the campaign is in flight.
		testenv.Eventually(t, 2*time.Minute, "the frontend SIGKILL", frontendKilled.Load)
	}
	testenv.Eventually(t, 5*time.Minute, "the campaign to complete", func() bool {
		var st string
		_ = db.Get(&st, `SELECT status FROM terms_campaigns WHERE terms_version = $1`, version)
		return st == "completed"
	})
	close(stopFaults)
	<-faultsDone
	// The campaign's row says completed a moment before its run returns:
	// wait for the run itself (a run that never finishes is stuck).
	runCtx, cancelRun := context.WithTimeout(context.Background(), 3*time.Minute)
	require.NoError(t, c.GetWorkflow(runCtx, workflows.TermsCampaignWorkflowID(version), "").Get(runCtx, nil), "the campaign run finishes")
	cancelRun()
	elapsed := time.Since(start)

	// Invariants.
	q := func(query string) int {
		var v int
		require.NoError(t, db.Get(&v, query))
		return v
	}
	counts := map[string]int{
		"applications":                 q(`SELECT count(*) FROM applications`),
		"not final":                    q(`SELECT count(*) FROM applications WHERE status NOT IN ('approved', 'rejected')`),
		"approved":                     q(`SELECT count(*) FROM applications WHERE status = 'approved'`),
		"approved without one account": q(`SELECT count(*) FROM applications a WHERE status = 'approved' AND (SELECT count(*) FROM accounts WHERE application_id = a.id) <> 1`),
		"accounts":                     q(`SELECT count(*) FROM accounts`),
		"accounts without one pickup": q(`SELECT count(*) FROM accounts a WHERE (SELECT count(*) FROM credential_pickups
			WHERE account_id = a.id AND operation_key LIKE 'registration/%') <> 1`),
		"pickups not picked up": q(`SELECT count(*) FROM credential_pickups WHERE picked_up_at IS NULL AND operation_key LIKE 'registration/%'`),
		// A reset retried after a fault may have issued one more password
		// that nobody picked up (it expires unused); every account reset
		// has its picked-up one.
		"resets issued":                  q(`SELECT count(*) FROM password_resets WHERE status = 'issued'`),
		"resets picked up":               q(`SELECT count(*) FROM credential_pickups WHERE operation_key LIKE 'password-reset/%' AND picked_up_at IS NOT NULL`),
		"issued resets without a pickup": q(`SELECT count(*) FROM password_resets r WHERE status = 'issued' AND NOT EXISTS (SELECT 1 FROM credential_pickups WHERE operation_key = 'password-reset/' || r.id)`),
		"duplicate notice keys":          q(`SELECT count(*) FROM (SELECT operation_key FROM notices GROUP BY 1 HAVING count(*) > 1) d`),
		"duplicate audit keys":           q(`SELECT count(*) FROM (SELECT operation_key FROM audit_log WHERE operation_key IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d`),
		"services opened twice":          q(`SELECT count(*) FROM (SELECT account_id, service_code FROM account_services GROUP BY 1, 2 HAVING count(*) > 1) d`),
		"accounts with must_change left": q(`SELECT count(*) FROM accounts WHERE must_change_password`),
		// Every intake document a process took is taken up; none is left
		// behind and none is missing under a run (a run would fail).
		"supplements not applied":       q(`SELECT count(*) FROM application_supplements WHERE applied_at IS NULL`),
		"case submissions not accepted": q(`SELECT count(*) FROM case_submissions WHERE accepted_at IS NULL`),
		"data changes pending":          q(`SELECT count(*) FROM data_changes WHERE status = 'pending'`),
		"cases not cleared":             q(`SELECT count(*) FROM cases WHERE state <> 'cleared'`),
		"deregistrations not completed": q(`SELECT count(*) FROM deregistration_requests WHERE status <> 'completed'`),
		"resets left requested":         q(`SELECT count(*) FROM password_resets WHERE status = 'requested'`),
	}
	var campaign struct {
		Targeted int `db:"users_targeted"`
		Notices  int `db:"notices_written"`
	}
	require.NoError(t, db.Get(&campaign, `SELECT users_targeted, notices_written FROM terms_campaigns WHERE terms_version = $1`, version))
	counts["campaign users targeted"], counts["campaign notices written"] = campaign.Targeted, campaign.Notices
	wfStatus := map[string]int{}
	// Running workflows by type: only the expected waits may remain (an
	// approved review waiting out its pickup window, the one password-age
	// sweep); anything else still running is stuck.
	runningByType := map[string]int{}
	var badRuns []string
	var token []byte
	for {
		resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default",
			Query: fmt.Sprintf("TaskQueue = %q", tq), NextPageToken: token})
		require.NoError(t, err)
		for _, ex := range resp.Executions {
			wfStatus[ex.Status.String()]++
			if ex.Status.String() == "Running" {
				runningByType[ex.GetType().GetName()]++
			}
			if ex.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && ex.Status != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED &&
				ex.Status != enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW {
				badRuns = append(badRuns, describeBadRun(c, ex))
			}
		}
		if token = resp.NextPageToken; len(token) == 0 {
			break
		}
	}
	report := map[string]any{"people": n, "approved_driven": approved.Load(), "rejected_driven": rejected.Load(), "resets_driven": resets.Load(),
		"engine": testenv.Engine(), "service_sigkills": serviceKills, "api_instance_cuts": apiCuts.Load(),
		"worker_kills": kills.Load(), "temporal_restarts": temporalRestarts.Load(), "postgres_restarts": pgRestarts.Load(), "http_retries": retries.Load(), "decisions_found_in_progress_on_retry": inProgress.Load(),
		"intakes_refused_before_the_run_took_up_its_state": notYet.Load(),
		"seconds": int(elapsed.Seconds()), "invariants": counts, "workflows": wfStatus, "running_by_type": runningByType,
		"supplements_driven": supplements.Load(), "account_intakes_driven": intakes.report(), "intake_outcomes": outcomeDelta(intakeBefore, api.IntakeOutcomes()),
		"failed_timed_out_or_terminated_runs": badRuns}
	js, _ := json.MarshalIndent(report, "", "  ")
	t.Logf("fault-injection run:\n%s", js)
	fmt.Println(string(js))

	for _, b := range badRuns {
		t.Errorf("run did not complete: %s", b)
	}
	require.Equal(t, n, counts["applications"], "one application per person")
	for _, k := range []string{"not final", "approved without one account", "accounts without one pickup", "pickups not picked up",
		"duplicate notice keys", "duplicate audit keys", "services opened twice", "accounts with must_change left",
		"supplements not applied", "case submissions not accepted", "data changes pending", "cases not cleared",
		"deregistrations not completed", "resets left requested"} {
		require.Zero(t, counts[k], k)
	}
	require.Equal(t, int(approved.Load()), counts["approved"])
	require.Zero(t, counts["issued resets without a pickup"], "issued resets without a pickup")
	require.EqualValues(t, resets.Load(), counts["resets picked up"], "one picked-up password per counter reset")
	require.GreaterOrEqual(t, counts["resets issued"], counts["resets picked up"])
	require.Equal(t, counts["approved"], counts["accounts"])
	require.Equal(t, counts["accounts"], campaign.Targeted, "the campaign reached every account")
	require.Equal(t, campaign.Targeted, campaign.Notices, "one notice per account")
	for _, bad := range []string{"WORKFLOW_EXECUTION_STATUS_FAILED", "WORKFLOW_EXECUTION_STATUS_TIMED_OUT", "WORKFLOW_EXECUTION_STATUS_TERMINATED",
		"Failed", "TimedOut", "Terminated", "Canceled"} {
		require.Zero(t, wfStatus[bad], bad)
	}
	// No workflow stuck: every running one is an expected wait.
	require.LessOrEqual(t, runningByType["RegistrationReview"], counts["approved"], "only approved reviews (pickup window) may still run")
	require.LessOrEqual(t, runningByType["PasswordAgeReminder"], 1, "one password-age sweep")
	require.LessOrEqual(t, runningByType["IntakeSweeper"], 1, "one intake sweeper")
	require.LessOrEqual(t, runningByType["OutboxRelay"], 1, "one outbox relay")
	require.LessOrEqual(t, runningByType["PasswordReset"], counts["resets issued"], "only issued resets (pickup window) may still run")
	// A staff change that took effect waits out the pickup window of the
	// first password it generated (10 minutes) before its run ends.
	var staffApplied int
	require.NoError(t, db.Get(&staffApplied, `SELECT count(*) FROM staff_change_requests WHERE status = 'applied'`))
	require.LessOrEqual(t, runningByType["StaffChange"], staffApplied, "only applied staff changes (pickup window) may still run")
	for typ, n := range runningByType {
		if typ != "RegistrationReview" && typ != "PasswordAgeReminder" && typ != "PasswordReset" && typ != "IntakeSweeper" && typ != "StaffChange" &&
			typ != "OutboxRelay" {
			t.Errorf("%d %s workflow(s) still running: stuck", n, typ)
		}
	}
	var stuckReviews int
	require.NoError(t, db.Get(&stuckReviews, `SELECT count(*) FROM applications WHERE status NOT IN ('approved', 'rejected')`))
	require.Zero(t, stuckReviews, "a running review whose application is not approved would be stuck")
	require.Positive(t, kills.Load())
	require.EqualValues(t, 1, temporalRestarts.Load(), "Temporal was restarted once")
	if cluster {
		require.Equal(t, map[string]int{"history": 1, "matching": 1, "frontend": 1}, serviceKills, "each service was SIGKILLed once")
		require.Positive(t, apiCuts.Load(), "an API instance was cut off")
	}
	if pgData != "" {
		require.EqualValues(t, 1, pgRestarts.Load(), "Postgres was restarted once")
	} else {
		t.Log("HRSS_PG_DATA is not set: Postgres was not restarted (make test sets it)")
	}
}
