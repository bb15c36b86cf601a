package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/config"
	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/worker"
	"hrss-backoffice/workflows"
)

// signedUpUser registers p over HTTP, has a reviewer approve it, and
// returns the user's session (password changed) and account ID.
func signedUpUser(t *testing.T, s *testenv.Stack, reviewerTok string, p testenv.Person, terms string, services ...string) (string, string) {
	t.Helper()
	body := p.Registration(services...)
	body["terms_version"] = terms
	r := s.Expect(s.Do("POST", "/v1/registrations", body), http.StatusAccepted)
	id := r.Str("id")
	s.WaitForStatus(id, "pending")
	s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "approve"}, testenv.Bearer(reviewerTok)), http.StatusOK)
	pw := s.PickUp(id, r.Str("follow_token"), p.Mobile)
	tok := s.SignIn(p.IDNumber, pw)
	s.ChangePassword(tok, pw, "Campaign-Test-Pass-"+p.IDNumber[14:])
	me := s.Expect(s.Do("GET", "/v1/me", nil, testenv.Bearer(tok)), http.StatusOK)
	return tok, me.Str("account", "id")
}

// campaignSettingsForTest sets the campaigns' tuning (TERMS_CAMPAIGN_*)
// for the stacks the test starts afterwards (testenv reads the settings
// through internal/config) and returns it as config reads it, for an API
// the test assembles itself.
func campaignSettingsForTest(t *testing.T, pageSize string) workflows.CampaignSettings {
	t.Setenv("TERMS_CAMPAIGN_PAGE_SIZE", pageSize)
	t.Setenv("TERMS_CAMPAIGN_CONCURRENCY", "2")
	t.Setenv("TERMS_CAMPAIGN_MAX_EVENTS", "150") // several runs: continue-as-new on a real server
	t.Setenv("TERMS_CAMPAIGN_PAGE_TIMEOUT", "5s")
	t.Setenv("TERMS_CAMPAIGN_CATCH_UP_INTERVAL", "1s")
	cfg, err := config.Load()
	require.NoError(t, err)
	return cfg.Campaign
}

func dbCount(t *testing.T, s *testenv.Stack, q string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, s.DB.Get(&n, q, args...))
	return n
}

// C2.7 / C3.5: a terms editor drafts and publishes a revision; the
// campaign notifies a few thousand users through the inbox and queues SMS
// and e-mail, survives its worker being stopped midway and replaced (no
// user missed, none notified twice), continues as new, is paused and
// resumed over HTTP. A user who registers during the campaign gets the new
// version and no notice. After the effective date, a real authenticated
// request records a deemed acceptance with that request; another user
// rejects in writing and chooses the services to cancel.
func TestTermsCampaignEndToEndWithWorkerRestart_C2_7_C3_5(t *testing.T) {
	const seeded = 3000
	// Workflow IDs are global on the shared dev server: a version per run.
	v := "2026-07-" + uuid.NewString()[:8]
	campaignSettingsForTest(t, "20")
	s := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	editor, _ := s.Staff(workflows.RoleTermsEditor)
	auditor, _ := s.Staff(workflows.RoleAuditor)

	pa, pb, pc := testenv.NewPerson(), testenv.NewPerson(), testenv.NewPerson()
	userA, accountA := signedUpUser(t, s, reviewer, pa, "2026-01")
	userB, accountB := signedUpUser(t, s, reviewer, pb, "2026-01", "social_insurance_query", "employment_registration")
	require.NoError(t, testenv.SeedUsers(ctx, s.DB, seeded, testenv.SeedOptions{EmailEvery: 4}))
	targets := seeded + 2
	emails := seeded / 4

	// Drafting: terms editors and administrators only; validated field by field.
	effective := time.Now().Add(8 * time.Second).UTC().Truncate(time.Second)
	draft := map[string]any{"version": v, "title": "上海市人力资源社会保障网个人网上办事承诺书（2026年7月修订）",
		"body": "修订后的承诺书全文……", "summary": "第二部分第7条：服务中断须提前通知", "effective_at": effective.Format(time.RFC3339)}
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/terms", draft).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/terms", draft, testenv.Bearer(reviewer)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/terms", draft, testenv.Bearer(userA)).Status)
	bad := s.Do("POST", "/v1/terms", map[string]any{"version": v, "title": "x", "body": " ", "summary": "",
		"effective_at": "2025-01-01T00:00:00Z"}, testenv.Bearer(editor))
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, string(bad.Raw))
	require.ElementsMatch(t, []string{"body", "summary", "effective_at"}, bad.DetailFields())
	require.Zero(t, dbCount(t, s, `SELECT count(*) FROM terms_versions WHERE version = '`+v+`'`))
	d := s.Expect(s.Do("POST", "/v1/terms", draft, testenv.Bearer(editor)), http.StatusCreated)
	require.Equal(t, "/v1/terms/"+v, d.Header.Get("Location"))
	require.Equal(t, http.StatusConflict, s.Do("POST", "/v1/terms", draft, testenv.Bearer(editor)).Status)
	// A draft is not public.
	require.Equal(t, http.StatusNotFound, s.Do("GET", "/v1/terms/"+v, nil).Status)
	require.Equal(t, http.StatusOK, s.Do("GET", "/v1/terms/"+v, nil, testenv.Bearer(editor)).Status)

	// Publishing: editors only; the second publish starts nothing.
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/terms/"+v+"/publish", nil, testenv.Bearer(reviewer)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/terms/"+v+"/publish", nil, testenv.Bearer(userA)).Status)
	require.Equal(t, http.StatusNotFound, s.Do("POST", "/v1/terms/2099-01/publish", nil, testenv.Bearer(editor)).Status)
	pub := s.Expect(s.Do("POST", "/v1/terms/"+v+"/publish", nil, testenv.Bearer(editor)), http.StatusAccepted)
	require.Equal(t, "/v1/terms/"+v+"/campaign", pub.Header.Get("Location"))
	wfID := workflows.TermsCampaignWorkflowID(v)
	firstRun := s.Expect(s.Do("GET", "/v1/terms/"+v+"/campaign", nil, testenv.Bearer(editor)), http.StatusOK)
	require.Equal(t, wfID, firstRun.Str("workflow_id"))

	// Stop the worker as soon as the first notices are durable, midway.
	noticesOf := func() int {
		return dbCount(t, s, `SELECT count(*) FROM notices WHERE kind = 'terms_revision'`)
	}
	testenv.Eventually(t, 30*time.Second, "the first notices", func() bool { return noticesOf() > 0 })
	s.Worker.Stop()
	atStop := noticesOf()
	require.Less(t, atStop, targets, "the worker must stop midway")
	t.Logf("worker stopped with %d of %d notices written", atStop, targets)
	again := s.Expect(s.Do("POST", "/v1/terms/"+v+"/publish", nil, testenv.Bearer(editor)), http.StatusOK)
	require.Equal(t, "already_published", again.Str("status"))

	// A new worker takes over.
	w2 := worker.New(s.Temporal, s.TaskQueue, &activities.Activities{DB: s.DB, Box: s.Box, Hash: testenv.FastHash})
	require.NoError(t, w2.Start())
	t.Cleanup(w2.Stop)

	// Pause: editors and administrators only.
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/terms/"+v+"/campaign/pause", nil, testenv.Bearer(reviewer)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/terms/"+v+"/campaign/pause", nil, testenv.Bearer(auditor)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/terms/"+v+"/campaign/pause", nil, testenv.Bearer(userA)).Status)
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/terms/"+v+"/campaign/pause", nil).Status)
	s.Expect(s.Do("POST", "/v1/terms/"+v+"/campaign/pause", nil, testenv.Bearer(editor)), http.StatusOK)
	require.Equal(t, http.StatusConflict, s.Do("POST", "/v1/terms/"+v+"/campaign/pause", nil, testenv.Bearer(editor)).Status)
	prog := s.Expect(s.Do("GET", "/v1/terms/"+v+"/campaign", nil, testenv.Bearer(auditor)), http.StatusOK)
	require.Equal(t, true, prog.Body["paused"], string(prog.Raw))
	require.Equal(t, "paused", prog.Str("status"))
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/terms/"+v+"/campaign", nil, testenv.Bearer(reviewer)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/terms/"+v+"/campaign", nil, testenv.Bearer(userA)).Status)
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/terms/"+v+"/campaign", nil).Status)

	// While the campaign runs (paused), the revision takes effect and a
	// person registers on it: the new version directly, no notice.
	testenv.Eventually(t, 20*time.Second, "the effective date", func() bool { return time.Now().After(effective) })
	require.Equal(t, v, s.Expect(s.Do("GET", "/v1/terms/current", nil), http.StatusOK).Str("version"))
	userC, accountC := signedUpUser(t, s, reviewer, pc, v)

	s.Expect(s.Do("POST", "/v1/terms/"+v+"/campaign/resume", nil, testenv.Bearer(editor)), http.StatusOK)
	testenv.Eventually(t, 120*time.Second, "the campaign to complete", func() bool {
		return dbCount(t, s, `SELECT count(*) FROM terms_campaigns WHERE terms_version = '`+v+`' AND status = 'completed'`) == 1
	})

	// Nobody missed, nobody notified twice, the new registrant not at all.
	require.Equal(t, targets, noticesOf())
	require.Equal(t, targets, dbCount(t, s, `SELECT count(DISTINCT account_id) FROM notices WHERE operation_key LIKE 'terms/`+v+`/notice/%'`))
	require.Zero(t, dbCount(t, s, `SELECT count(*) FROM notices WHERE account_id = $1 AND kind = 'terms_revision'`, accountC))
	var agreementC string
	require.NoError(t, s.DB.Get(&agreementC, `SELECT terms_version FROM agreements WHERE account_id = $1`, accountC))
	require.Equal(t, v, agreementC)
	outbox := dbCount(t, s, `SELECT count(*) FROM notification_outbox WHERE source = 'terms/`+v+`'`)
	require.Equal(t, targets+emails, outbox)
	// The campaign's messages (the registrations above queue their own
	// approval notices).
	require.Equal(t, outbox, dbCount(t, s, `SELECT count(*) FROM notification_outbox WHERE source = 'terms/`+v+`' AND status = 'sent' AND attempts = 1`))
	require.Equal(t, outbox, dbCount(t, s, `SELECT count(*) FROM notification_log l JOIN notification_outbox o ON o.id = l.message_id
		WHERE o.source = 'terms/`+v+`'`), "each message sent once")

	done := s.Expect(s.Do("GET", "/v1/terms/"+v+"/campaign", nil, testenv.Bearer(editor)), http.StatusOK)
	require.Equal(t, "completed", done.Str("status"))
	require.EqualValues(t, targets, done.Body["users_targeted"])
	require.EqualValues(t, targets, done.Body["notices_written"])
	msgs := done.Body["messages"].(map[string]any)
	require.EqualValues(t, outbox, msgs["sent"])
	require.EqualValues(t, 0, msgs["pending"])
	var res workflows.CampaignResult
	require.NoError(t, s.Temporal.GetWorkflow(ctx, wfID, "").Get(ctx, &res))
	require.GreaterOrEqual(t, res.Runs, 2, "the campaign continued as new")
	require.EqualValues(t, targets, res.Counters.NoticesWritten)

	// User A reads the inbox and the account (reading is not use), then
	// uses the service (changes contact data): that request is recorded as
	// the deemed acceptance (C3.5).
	inbox := s.Expect(s.Do("GET", "/v1/me/notices", nil, testenv.Bearer(userA)), http.StatusOK)
	require.Contains(t, string(inbox.Raw), v)
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/me/notices", nil, testenv.Bearer(editor)).Status)
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/me/notices", nil).Status)
	require.Zero(t, dbCount(t, s, `SELECT count(*) FROM terms_acceptances WHERE account_id = $1 AND terms_version = '`+v+`'`, accountA))
	s.Expect(s.Do("GET", "/v1/me", nil, testenv.Bearer(userA)), http.StatusOK)
	require.Zero(t, dbCount(t, s, `SELECT count(*) FROM terms_acceptances WHERE account_id = $1 AND terms_version = '`+v+`'`, accountA))
	use := s.Expect(s.Do("PATCH", "/v1/me", map[string]any{"email": "campaign.a@example.org"}, testenv.Bearer(userA)), http.StatusOK)
	s.Expect(s.Do("PATCH", "/v1/me", map[string]any{"email": "campaign.a2@example.org"}, testenv.Bearer(userA)), http.StatusOK)
	mine := s.Expect(s.Do("GET", "/v1/me/terms/"+v, nil, testenv.Bearer(userA)), http.StatusOK)
	pos := mine.Body["position"].(map[string]any)
	require.Equal(t, "deemed_accepted", pos["position"])
	require.Equal(t, use.Header.Get("X-Request-Id"), pos["request_id"], "the first use after the notice and the effective date")
	require.Equal(t, "PATCH /v1/me", pos["request_route"])
	require.Equal(t, 1, dbCount(t, s, `SELECT count(*) FROM audit_log WHERE record_kind = 'account' AND record_id = $1 AND action = 'terms.deemed_accepted'`, accountA))
	// Deemed acceptance is acceptance: a later rejection is refused.
	pwA, pwB := "Campaign-Test-Pass-"+pa.IDNumber[14:], "Campaign-Test-Pass-"+pb.IDNumber[14:]
	late := s.Do("POST", "/v1/me/terms/"+v+"/reject", map[string]any{"choice": "deregister", "password": pwA}, testenv.Bearer(userA))
	require.Equal(t, http.StatusConflict, late.Status)
	require.Equal(t, "already_deemed_accepted", late.ErrorCode())

	// User B rejects in writing and chooses the services to cancel.
	badRej := s.Do("POST", "/v1/me/terms/"+v+"/reject", map[string]any{"choice": "cancel_services", "services": []string{"pension_claim"},
		"password": pwB}, testenv.Bearer(userB))
	require.Equal(t, http.StatusUnprocessableEntity, badRej.Status)
	require.Equal(t, []string{"services.0"}, badRej.DetailFields())
	// The rejection is a signed written request: the password confirms it.
	unsigned := s.Do("POST", "/v1/me/terms/"+v+"/reject", map[string]any{"choice": "cancel_services",
		"services": []string{"employment_registration"}, "password": "not-my-password"}, testenv.Bearer(userB))
	require.Equal(t, []string{"password"}, unsigned.DetailFields())
	require.Zero(t, dbCount(t, s, `SELECT count(*) FROM deregistration_requests WHERE account_id = $1`, accountB))
	require.Equal(t, http.StatusUnprocessableEntity, s.Do("POST", "/v1/me/terms/"+v+"/reject", map[string]any{"choice": "leave"}, testenv.Bearer(userB)).Status)
	require.Zero(t, dbCount(t, s, `SELECT count(*) FROM terms_acceptances WHERE account_id = $1 AND terms_version = '`+v+`'`, accountB))
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/me/terms/"+v+"/reject", map[string]any{"choice": "deregister", "password": "whatever-it-is"}, testenv.Bearer(editor)).Status)
	rej := s.Expect(s.Do("POST", "/v1/me/terms/"+v+"/reject", map[string]any{"choice": "cancel_services",
		"services": []string{"employment_registration"}, "statement": "不同意第二部分第7条的修改", "password": pwB}, testenv.Bearer(userB)), http.StatusAccepted)
	require.Equal(t, "/v1/me/terms/"+v, rej.Header.Get("Location"))
	rej2 := s.Expect(s.Do("POST", "/v1/me/terms/"+v+"/reject", map[string]any{"choice": "deregister", "password": pwB}, testenv.Bearer(userB)), http.StatusOK)
	require.Equal(t, rej.Str("id"), rej2.Str("id"), "rejecting again returns the stored request")
	// Rejecting leads to cancelling the chosen service (C3.5): the rejection
	// is stored as the signed request document and its process closes the
	// service; the other service stays open.
	closureID := rej.Str("deregistration_request_id")
	require.NotEmpty(t, closureID)
	require.Equal(t, 1, dbCount(t, s, `SELECT count(*) FROM deregistration_requests WHERE account_id = $1`, accountB), "one request, not two")
	testenv.Eventually(t, 30*time.Second, "the rejected service closed", func() bool {
		return dbCount(t, s, `SELECT count(*) FROM account_services WHERE account_id = $1 AND service_code = 'employment_registration' AND status = 'closed'`, accountB) == 1
	})
	require.Equal(t, 1, dbCount(t, s, `SELECT count(*) FROM account_services WHERE account_id = $1 AND service_code = 'social_insurance_query' AND status = 'open'`, accountB))
	receipt := s.Expect(s.Do("GET", "/v1/me/deregistration/"+closureID, nil, testenv.Bearer(userB)), http.StatusOK)
	require.Contains(t, receipt.Str("document"), `"type":"hrss.terms_rejection/v1"`)
	require.Contains(t, receipt.Str("document"), `"terms_version":"`+v+`"`)
	require.Contains(t, receipt.Str("document"), "不同意第二部分第7条的修改")
	require.NotContains(t, receipt.Str("document"), pwB)
	require.Equal(t, http.StatusConflict, s.Do("POST", "/v1/me/terms/"+v+"/accept", nil, testenv.Bearer(userB)).Status)
	// Using the service afterwards records no deemed acceptance over it.
	s.Expect(s.Do("PATCH", "/v1/me", map[string]any{"email": "campaign.b@example.org"}, testenv.Bearer(userB)), http.StatusOK)
	view := s.Expect(s.Do("GET", "/v1/me/terms/"+v, nil, testenv.Bearer(userB)), http.StatusOK)
	require.Equal(t, "rejected", view.Body["position"].(map[string]any)["position"])
	rejection := view.Body["rejection"].(map[string]any)
	require.Equal(t, "cancel_services", rejection["choice"])
	require.Equal(t, []any{"employment_registration"}, rejection["services"])
	require.Equal(t, 1, dbCount(t, s, `SELECT count(*) FROM terms_rejections WHERE account_id = $1 AND request_id <> ''`, accountB))
	require.Equal(t, 1, dbCount(t, s, `SELECT count(*) FROM audit_log WHERE record_kind = 'account' AND record_id = $1 AND action = 'terms.rejected'`, accountB))
	require.Equal(t, 1, dbCount(t, s, `SELECT count(*) FROM notices WHERE staff_role = 'administrator' AND kind = 'terms_rejection_request'`))

	// User C accepted the version at registration: nothing to decide.
	require.Equal(t, http.StatusConflict, s.Do("POST", "/v1/me/terms/"+v+"/accept", nil, testenv.Bearer(userC)).Status)
	s.Expect(s.Do("GET", "/v1/me", nil, testenv.Bearer(userC)), http.StatusOK)
	var posC string
	require.NoError(t, s.DB.Get(&posC, `SELECT position FROM terms_acceptances WHERE account_id = $1 AND terms_version = '`+v+`'`, accountC))
	require.Equal(t, "accepted", posC)

	final := s.Expect(s.Do("GET", "/v1/terms/"+v+"/campaign", nil, testenv.Bearer(editor)), http.StatusOK)
	acc := final.Body["acceptances"].(map[string]any)
	require.EqualValues(t, 1, acc["deemed_accepted"])
	require.EqualValues(t, 1, acc["rejected"])
	require.EqualValues(t, 1, acc["accepted"]) // user C, at registration

	// Operators find the run by its search attributes; no personal data in it.
	resp, err := s.Temporal.ListWorkflow(testenv.Context(t), listRequest(`WorkflowId = "`+wfID+`" AND HrssKind = "terms_campaign" AND HrssStatus = "completed"`))
	require.NoError(t, err)
	require.NotEmpty(t, resp.Executions)
	var seededMobile string
	require.NoError(t, s.DB.Get(&seededMobile, `SELECT mobile FROM people WHERE id_number LIKE 'S%' LIMIT 1`))
	AssertNoSecretsInHistory(t, s, []string{wfID, workflows.ServiceCancellationWorkflowID(closureID)}, pa.Name, pa.IDNumber, pa.Mobile,
		pb.Name, pb.IDNumber, pb.Mobile, pc.IDNumber, seededMobile, "@example.cn", "测试用户", pwB, "不同意第二部分第7条的修改")
	SaveHistory(t, s, wfID, "terms_campaign_completed")
}

// C2.7: an administrator announces a planned interruption of one service;
// it shows on the public site and in the inbox of that service's users
// only.
func TestAnnouncementReachesServiceUsers_C2_7(t *testing.T) {
	campaignSettingsForTest(t, "50")
	s := testenv.Start(t, testenv.Options{})
	editor, _ := s.Staff(workflows.RoleTermsEditor)
	require.NoError(t, testenv.SeedUsers(context.Background(), s.DB, 400, testenv.SeedOptions{Services: []string{"pension_claim"}, ServicesEvery: 4}))
	starts := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	body := map[string]any{"kind": "service_interruption", "title_zh": "养老金申领服务暂停", "title_en": "Pension claims paused",
		"body_zh": "系统升级期间暂停办理。", "body_en": "Paused during the upgrade.", "services": []string{"pension_claim"},
		"starts_at": starts.Format(time.RFC3339), "ends_at": starts.Add(4 * time.Hour).Format(time.RFC3339)}
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/announcements", body).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/announcements", body, testenv.Bearer(editor)).Status)
	invalid := map[string]any{"kind": "rule_change", "title_zh": "x", "title_en": "x", "services": []string{"nope"},
		"starts_at": starts.Format(time.RFC3339), "ends_at": starts.Add(-time.Hour).Format(time.RFC3339)}
	bad := s.Do("POST", "/v1/announcements", invalid, testenv.Bearer(s.Admin()))
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
	require.ElementsMatch(t, []string{"ends_at", "services.0"}, bad.DetailFields())
	require.Zero(t, dbCount(t, s, `SELECT count(*) FROM announcements`))
	// The user-only endpoints refuse staff (403) and anonymous callers (401).
	for _, r := range [][2]string{{"GET", "/v1/me/terms"}, {"GET", "/v1/me/terms/2026-01"}, {"POST", "/v1/me/terms/2026-01/accept"}, {"GET", "/v1/me/notices"}} {
		require.Equal(t, http.StatusForbidden, s.Do(r[0], r[1], nil, testenv.Bearer(editor)).Status, r[1])
		require.Equal(t, http.StatusUnauthorized, s.Do(r[0], r[1], nil).Status, r[1])
	}

	r := s.Expect(s.Do("POST", "/v1/announcements", body, testenv.Bearer(s.Admin())), http.StatusAccepted)
	id := r.Str("id")
	wfID := workflows.AnnouncementWorkflowID(id)
	testenv.Eventually(t, 60*time.Second, "the announcement's notices", func() bool {
		return dbCount(t, s, `SELECT count(*) FROM announcements WHERE id = $1 AND completed_at IS NOT NULL`, id) == 1
	})
	require.Equal(t, 100, dbCount(t, s, `SELECT count(*) FROM notices WHERE operation_key LIKE 'announcement/' || $1 || '/notice/%'`, id))
	require.Zero(t, dbCount(t, s, `SELECT count(*) FROM notices n WHERE n.kind = 'announcement_service_interruption'
		AND NOT EXISTS (SELECT 1 FROM account_services x WHERE x.account_id = n.account_id AND x.service_code = 'pension_claim')`))
	list := s.Expect(s.Do("GET", "/v1/announcements", nil), http.StatusOK)
	require.Contains(t, string(list.Raw), "养老金申领服务暂停")
	require.True(t, strings.Contains(string(list.Raw), id))
	AssertNoSecretsInHistory(t, s, []string{wfID}, "测试用户", "@example.cn")
	SaveHistory(t, s, wfID, "announcement_completed")
}
