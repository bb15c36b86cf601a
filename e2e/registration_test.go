// Package e2e drives the whole back office over HTTP against a real
// Temporal dev server and a real Postgres, the way users do.
package e2e

import (
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C1.5 / C2.1 / C3.1 / C3.3(2) / C4: a person registers at the counter, a
// reviewer approves on the spot, picks up the initial password once, and the
// new user must change it before doing anything else; then the user sees the
// opened services and the agreement in force.
func TestRegistrationEndToEnd_C1_5_C2_1_C3_3_2_C4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewerTok, _ := s.Staff(workflows.RoleReviewer)
	otherReviewer, _ := s.Staff(workflows.RoleReviewer)
	p := testenv.NewPerson()

	// The applicant reads the agreement and registers at a counter: a
	// reviewer enters the application (channel counter), and the deciding
	// reviewer hands the initial password over on a slip.
	clerk, _ := s.Staff(workflows.RoleReviewer)
	terms := s.Expect(s.Do("GET", "/v1/terms/current", nil), http.StatusOK)
	require.Equal(t, "2026-01", terms.Str("version"))
	require.Contains(t, terms.Str("body"), "当场审核")
	r := s.Expect(s.Do("POST", "/v1/registrations", p.Registration("social_insurance_query", "pension_claim"), testenv.Bearer(clerk)), http.StatusAccepted)
	id, follow := r.Str("id"), r.Str("follow_token")
	require.Equal(t, "/v1/registrations/"+id, r.Header.Get("Location"))
	require.Equal(t, "pending", r.Str("status"))
	require.NotEmpty(t, follow)

	// A second open application for the same person is refused.
	dup := s.Do("POST", "/v1/registrations", p.Registration())
	require.Equal(t, http.StatusConflict, dup.Status)
	require.Equal(t, "application_open", dup.ErrorCode())

	// The reviewer sees it in the queue once the checks have run.
	s.WaitForStatus(id, "pending")
	q := s.Expect(s.Do("GET", "/v1/review/queue", nil, testenv.Bearer(reviewerTok)), http.StatusOK)
	items := q.Body["items"].([]any)
	require.Len(t, items, 1)
	item := items[0].(map[string]any)
	require.Equal(t, id, item["id"])
	require.Equal(t, "on_time", item["service_level"])
	require.Equal(t, p.Name, item["name"])

	// The applicant follows the application with the token; nobody else can.
	mine := s.Expect(s.Do("GET", "/v1/registrations/"+id, nil, testenv.Follow(follow)), http.StatusOK)
	require.Equal(t, "pending", mine.Str("status"))
	require.NotContains(t, string(mine.Raw), p.IDNumber, "the applicant view masks the ID number")
	require.Equal(t, http.StatusNotFound, s.Do("GET", "/v1/registrations/"+id, nil, testenv.Follow("wrong")).Status)
	require.Equal(t, http.StatusNotFound, s.Do("GET", "/v1/registrations/"+id, nil).Status)

	// Approve on the spot.
	d := s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "approve"},
		testenv.Bearer(reviewerTok)), http.StatusOK)
	require.Equal(t, "approved", d.Str("status"))
	require.Equal(t, []any{"social_insurance_query"}, d.Body["opened_services"])
	refused := d.Body["refused_services"].([]any)
	require.Equal(t, "pension_claim", refused[0].(map[string]any)["code"])

	// A second decision is refused and changes nothing.
	again := s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]any{"decision": "reject", "reason": "second thoughts"},
		testenv.Bearer(otherReviewer))
	require.Equal(t, http.StatusConflict, again.Status, string(again.Raw))
	s.WaitForStatus(id, "approved")

	// Only the deciding reviewer picks up the initial password, only once.
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/registrations/"+id+"/initial-password", nil, testenv.Bearer(otherReviewer)).Status)
	pw := s.Expect(s.Do("POST", "/v1/registrations/"+id+"/initial-password", nil, testenv.Bearer(reviewerTok)), http.StatusOK)
	initial := pw.Str("initial_password")
	require.GreaterOrEqual(t, len(initial), 12)
	require.Equal(t, p.IDNumber, pw.Str("username"))
	second := s.Do("POST", "/v1/registrations/"+id+"/initial-password", nil, testenv.Bearer(reviewerTok))
	require.Equal(t, http.StatusGone, second.Status)
	require.Equal(t, "already_picked_up", second.ErrorCode())

	// First sign-in: nothing but the password change until it is changed.
	userTok := s.SignIn(p.IDNumber, initial)
	blocked := s.Do("GET", "/v1/me", nil, testenv.Bearer(userTok))
	require.Equal(t, http.StatusForbidden, blocked.Status)
	require.Equal(t, "password_change_required", blocked.ErrorCode())
	weak := s.Do("PUT", "/v1/me/password", map[string]string{"old_password": initial, "new_password": "short"}, testenv.Bearer(userTok))
	require.Equal(t, http.StatusUnprocessableEntity, weak.Status)
	require.Contains(t, weak.DetailFields(), "new_password")
	newPw := "A-much-better-passphrase-42"
	s.ChangePassword(userTok, initial, newPw)

	me := s.Expect(s.Do("GET", "/v1/me", nil, testenv.Bearer(userTok)), http.StatusOK)
	require.Equal(t, p.IDNumber, me.Str("account", "username"))
	agreement := me.Body["agreement"].(map[string]any)
	require.Equal(t, "2026-01", agreement["terms_version"])
	require.Equal(t, "counter", agreement["channel"])
	require.Equal(t, true, agreement["in_force"])
	require.Nil(t, agreement["effective_until"])
	services := me.Body["services"].([]any)
	require.Len(t, services, 1)
	require.Equal(t, "social_insurance_query", services[0].(map[string]any)["code"])

	// The old password no longer works; a new application is refused.
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/sessions", map[string]string{"username": p.IDNumber, "password": initial}).Status)
	re := s.Do("POST", "/v1/registrations", p.Registration())
	require.Equal(t, http.StatusConflict, re.Status)
	require.Equal(t, "already_registered", re.ErrorCode())

	// The timeline tells the applicant what happened.
	final := s.Expect(s.Do("GET", "/v1/registrations/"+id, nil, testenv.Follow(follow)), http.StatusOK)
	kinds := []string{}
	for _, e := range final.Body["timeline"].([]any) {
		kinds = append(kinds, e.(map[string]any)["kind"].(string))
	}
	require.Equal(t, []string{"submitted", "checked", "approved"}, kinds)

	// Operators find the run in the web UI by its typed search attribute.
	wfID := workflows.RegistrationWorkflowID(id)
	testenv.Eventually(t, 20*time.Second, "visibility to show the approved run", func() bool {
		resp, err := s.Temporal.ListWorkflow(testenv.Context(t), listRequest(`WorkflowId = "`+wfID+`" AND HrssStatus = "approved" AND HrssKind = "registration"`))
		return err == nil && len(resp.Executions) == 1
	})

	// No personal data or secret in the run's history (design §4).
	AssertNoSecretsInHistory(t, s, []string{wfID}, p.Name, p.IDNumber, p.Mobile, p.Address, initial, newPw, follow)
	SaveHistory(t, s, wfID, "registration_approved")
}

// C2.1: a reviewer asks for more data; the applicant supplements with the
// follow token; the application returns to the queue and is rejected with
// a reason the applicant can read.
func TestRequestInfoSupplementAndRejection_C2_1_C3_2(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewerTok, _ := s.Staff(workflows.RoleReviewer)
	p := testenv.NewPerson()
	id, follow := s.Register(p, "employment_registration")
	s.WaitForStatus(id, "pending")

	// A supplement before anything was asked is refused.
	early := s.Do("POST", "/v1/registrations/"+id+"/supplement", map[string]string{"address": "上海市静安区南京西路1号"}, testenv.Follow(follow))
	require.Equal(t, http.StatusConflict, early.Status)

	noReason := s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "request_info"}, testenv.Bearer(reviewerTok))
	require.Equal(t, http.StatusUnprocessableEntity, noReason.Status)
	require.Equal(t, []string{"reason"}, noReason.DetailFields())

	ask := s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "request_info",
		"reason": "请提供现居住地址证明"}, testenv.Bearer(reviewerTok)), http.StatusOK)
	require.Equal(t, "info_requested", ask.Str("status"))
	view := s.Expect(s.Do("GET", "/v1/registrations/"+id, nil, testenv.Follow(follow)), http.StatusOK)
	require.Equal(t, "请提供现居住地址证明", view.Str("info_requested"))
	q := s.Expect(s.Do("GET", "/v1/review/queue", nil, testenv.Bearer(reviewerTok)), http.StatusOK)
	require.Empty(t, q.Body["items"], "out of the queue while the applicant owes data")

	bad := s.Do("POST", "/v1/registrations/"+id+"/supplement", map[string]string{"mobile": "12345"}, testenv.Follow(follow))
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
	require.Equal(t, []string{"mobile"}, bad.DetailFields())
	sup := s.Expect(s.Do("POST", "/v1/registrations/"+id+"/supplement", map[string]string{"address": "上海市静安区南京西路1号",
		"note": "已补充"}, testenv.Follow(follow)), http.StatusOK)
	require.Equal(t, "pending", sup.Str("status"))
	s.WaitForStatus(id, "pending")
	staffView := s.Expect(s.Do("GET", "/v1/registrations/"+id, nil, testenv.Bearer(reviewerTok)), http.StatusOK)
	require.Equal(t, "上海市静安区南京西路1号", staffView.Str("applicant", "address"))
	require.Equal(t, p.IDNumber, staffView.Str("applicant", "id_number"))
	require.Contains(t, staffView.Str("workflow_url"), "/namespaces/default/workflows/registration%2F"+id)

	rej := s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "reject",
		"reason": "地址证明与登记信息不符"}, testenv.Bearer(reviewerTok)), http.StatusOK)
	require.Equal(t, "rejected", rej.Str("status"))
	view = s.Expect(s.Do("GET", "/v1/registrations/"+id, nil, testenv.Follow(follow)), http.StatusOK)
	require.Equal(t, "rejected", view.Str("status"))
	require.Equal(t, "地址证明与登记信息不符", view.Str("decision_reason"))

	// Rejected: the person may apply again.
	id2, _ := s.Register(p)
	require.NotEqual(t, id, id2)

	AssertNoSecretsInHistory(t, s, []string{workflows.RegistrationWorkflowID(id)}, p.Name, p.IDNumber, p.Mobile, "南京西路", follow)
	SaveHistory(t, s, workflows.RegistrationWorkflowID(id), "registration_info_requested_rejected")
}

// Two identical registrations racing: exactly one is accepted.
func TestRacingIdenticalRegistrationsOpenOneApplication_C1_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	p := testenv.NewPerson()
	const n = 6
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = s.Do("POST", "/v1/registrations", p.Registration()).Status
		}()
	}
	wg.Wait()
	accepted, conflicts := 0, 0
	for _, st := range statuses {
		switch st {
		case http.StatusAccepted:
			accepted++
		case http.StatusConflict:
			conflicts++
		}
	}
	require.Equal(t, 1, accepted, "statuses %v", statuses)
	require.Equal(t, n-1, conflicts, "statuses %v", statuses)
	var open int
	require.NoError(t, s.DB.Get(&open, `SELECT count(*) FROM applications WHERE id_number = $1`, p.IDNumber))
	require.Equal(t, 1, open)
}

// The applicant withdraws; the run ends and the history is kept for replay.
func TestApplicantWithdraws(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	p := testenv.NewPerson()
	id, follow := s.Register(p)
	s.WaitForStatus(id, "pending")
	w := s.Expect(s.Do("POST", "/v1/registrations/"+id+"/withdraw", nil, testenv.Follow(follow)), http.StatusOK)
	require.Equal(t, "withdrawn", w.Str("status"))
	require.Equal(t, http.StatusNotFound, s.Do("POST", "/v1/registrations/"+id+"/withdraw", nil).Status)
	run := s.Temporal.GetWorkflow(testenv.Context(t), workflows.RegistrationWorkflowID(id), "")
	var res workflows.RegistrationResult
	require.NoError(t, run.Get(testenv.Context(t), &res))
	require.Equal(t, "withdrawn", res.Status)
	again := s.Do("POST", "/v1/registrations/"+id+"/withdraw", nil, testenv.Follow(follow))
	require.Equal(t, http.StatusConflict, again.Status)
	SaveHistory(t, s, workflows.RegistrationWorkflowID(id), "registration_withdrawn")
}

// C2.1: with short service levels, a waiting application is reminded,
// escalated to supervisors, and expires with a notice to the applicant.
func TestServiceLevelExpiryOnRealServer_C2_1(t *testing.T) {
	s := testenv.Start(t, testenv.Options{ServiceLevel: workflows.ServiceLevel{
		RemindAfter: time.Second, EscalateAfter: 2 * time.Second, ExpireAfter: 3 * time.Second}})
	p := testenv.NewPerson()
	id, follow := s.Register(p)
	s.WaitForStatus(id, "expired")
	var roles []string
	require.NoError(t, s.DB.Select(&roles, `SELECT staff_role FROM notices WHERE staff_role IS NOT NULL AND body_en LIKE '%'||$1 ORDER BY created_at`, id))
	require.Equal(t, []string{"reviewer", "supervisor"}, roles)
	view := s.Expect(s.Do("GET", "/v1/registrations/"+id, nil, testenv.Follow(follow)), http.StatusOK)
	require.Equal(t, "expired", view.Str("status"))
	notices := view.Body["notices"].([]any)
	require.Len(t, notices, 1, "the applicant is told the application expired")
	require.Equal(t, "application_expired", notices[0].(map[string]any)["kind"])
	run := s.Temporal.GetWorkflow(testenv.Context(t), workflows.RegistrationWorkflowID(id), "")
	require.NoError(t, run.Get(testenv.Context(t), nil))
	SaveHistory(t, s, workflows.RegistrationWorkflowID(id), "registration_expired")
}

var _ = client.Options{}

// C2.1 on the spot (issue 21): a decision taken while the automated checks
// still run is carried out as soon as they end, and a review of revision 1
// starts no service-level timer for it. The test holds the checks on a
// lock of the block list they read until the decision has reached the
// run. The history is committed for replay.
func TestOnTheSpotDecisionTakenDuringTheChecks_C2_1(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewerTok, _ := s.Staff(workflows.RoleReviewer)
	ctx := testenv.Context(t)
	lock, err := s.DB.BeginTxx(ctx, nil)
	require.NoError(t, err)
	defer lock.Rollback()
	_, err = lock.ExecContext(ctx, `LOCK TABLE registration_blocks IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)

	id := s.Expect(s.Do("POST", "/v1/registrations", testenv.NewPerson().Registration(), testenv.Bearer(reviewerTok)),
		http.StatusAccepted).Str("id")
	wfID := workflows.RegistrationWorkflowID(id)
	decided := make(chan testenv.Response, 1)
	go func() {
		decided <- s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "approve"}, testenv.Bearer(reviewerTok))
	}()
	eventTypes := func() []enumspb.EventType {
		var types []enumspb.EventType
		for _, ev := range history(t, s, wfID).Events {
			types = append(types, ev.GetEventType())
		}
		return types
	}
	testenv.Eventually(t, 20*time.Second, "the decision to reach the run while the checks wait", func() bool {
		return slices.Contains(eventTypes(), enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
	})
	require.NotContains(t, eventTypes(), enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, "the checks are still held")
	require.NoError(t, lock.Rollback())

	select {
	case r := <-decided:
		require.Equal(t, "approved", s.Expect(r, http.StatusOK).Str("status"))
	case <-time.After(30 * time.Second):
		t.Fatal("no answer to the decision")
	}
	// Checks, then the approval, with no timer in between; the only timer
	// is the pickup window's, after the approval.
	types := eventTypes()
	checked := slices.Index(types, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
	approval := checked + slices.Index(types[checked:], enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
	require.Greater(t, approval, checked)
	require.NotContains(t, types[:approval], enumspb.EVENT_TYPE_TIMER_STARTED, "a service-level timer for a decision already taken")
	require.NotContains(t, types, enumspb.EVENT_TYPE_MARKER_RECORDED)
	s.WaitForStatus(id, "approved")
	SaveHistory(t, s, wfID, "registration_decided_during_the_checks")
}
