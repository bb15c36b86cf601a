package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C2.7 / C3.3(4) / C3.5 / C3.3(3) / C4: a user's account pages: the menu,
// the inbox with the revision notice, the activity record with the
// sign-in, the terms versions with the acceptance recorded through the
// page, the cases, consents and disclosures pages, the deregistration form
// with its field errors, and the compromise report that locks the account
// and ends the page's session. Staff sent to a user page go to the console.
func TestUserAccountPagesNoticesActivityTermsAndRequests_C2_7_C3_3_C3_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	v := s.PublishRevision()
	testenv.Eventually(t, 30*time.Second, "the revision notice", func() bool {
		var n int
		_ = s.DB.Get(&n, `SELECT count(*) FROM notices WHERE account_id = $1 AND kind = 'terms_revision'`, u.AccountID)
		return n == 1
	})

	a := newAgent(t, s)
	require.Equal(t, "/signin?notice=signin_first", a.get("/account/notices").Location)
	a.signIn(u.IDNumber, u.Password, "")
	r := a.get("/account")
	require.Equal(t, http.StatusOK, r.Status)
	for _, link := range []string{"/account/notices", "/account/activity", "/account/terms", "/account/cases",
		"/account/consents", "/account/disclosures", "/account/deregistration", "/account/security"} {
		require.Contains(t, r.Body, `href="`+link+`"`)
		page := a.get(link)
		require.Equal(t, http.StatusOK, page.Status, link+": "+page.Body)
		require.NotContains(t, page.Body, u.IDNumber[:14], "no ID number on "+link)
	}
	require.Contains(t, a.get("/account/notices").Body, `data-kind="terms_revision"`)
	require.Contains(t, a.get("/account/activity").Body, `data-action="sign_in.success"`)

	terms := a.get("/account/terms")
	require.Contains(t, terms.Body, `action="/account/terms/`+v+`/accept"`)
	require.Contains(t, terms.Body, `<label for="f-statement-`+v+`"`)
	bad := a.post("/account/terms/"+v+"/reject", url.Values{"choice": {"cancel_services"}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, "no service chosen")
	require.Contains(t, bad.Body, `id="problem"`)
	ok := a.post("/account/terms/"+v+"/accept", nil)
	require.Equal(t, http.StatusSeeOther, ok.Status, ok.Body)
	require.Equal(t, "/account/terms?notice=terms_accepted", ok.Location)
	after := a.get(ok.Location)
	require.Contains(t, after.Body, `data-position="accepted"`)
	require.NotContains(t, after.Body, `action="/account/terms/`+v+`/accept"`)
	var position string
	require.NoError(t, s.DB.Get(&position, `SELECT position FROM terms_acceptances WHERE account_id = $1 AND terms_version = $2`, u.AccountID, v))
	require.Equal(t, "accepted", position)

	// A refused deregistration shows the API's field errors under the fields.
	a.get("/account/deregistration")
	d := a.post("/account/deregistration", url.Values{"scope": {"account"}, "statement": {""}, "password": {"wrong-password-1"}})
	require.Equal(t, http.StatusUnprocessableEntity, d.Status, d.Body)
	require.Contains(t, d.Body, `aria-invalid="true"`)
	var requests int
	require.NoError(t, s.DB.Get(&requests, `SELECT count(*) FROM deregistration_requests WHERE account_id = $1`, u.AccountID))
	require.Zero(t, requests)

	// Staff have no user pages.
	staffAgent := newAgent(t, s)
	su, spw := staff(t, s, workflows.RoleReviewer)
	staffAgent.signIn(su, spw, spw+"-changed")
	require.Equal(t, "/console", staffAgent.get("/account/notices").Location)

	// The compromise report locks the account and ends this session too.
	a.get("/account/security")
	locked := a.post("/account/security", url.Values{"description": {"我没有登录，却收到登录提醒"}})
	require.Equal(t, http.StatusOK, locked.Status, locked.Body)
	require.Contains(t, locked.Body, `id="locked"`)
	require.Equal(t, "/signin?notice=signin_first", a.get("/account").Location)
	var lockedAt *time.Time
	require.NoError(t, s.DB.Get(&lockedAt, `SELECT compromise_locked_at FROM accounts WHERE id = $1`, u.AccountID))
	require.NotNil(t, lockedAt)
}

// C2.2 / C1.4: the case screens. The user answers a fraud case on "my
// account"; a supervisor finds it by filter, reads its timeline and the
// user's answer, sees the link to its run, is told field by field what a
// suspension lacks and suspends. The suspended user signs in restricted
// and appeals on "my account"; the supervisor who imposed the sanction is
// refused the appeal decision, another overturns it. A reviewer and a terms
// editor get the refusal page, a user is sent to their account.
func TestCaseScreensDecisionRestrictedAppealAndAppealDecision_C2_2_C1_4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	inv, _ := s.Staff(workflows.RoleInvestigator)
	u := s.NewUser(reviewer)
	caseID := s.Expect(s.Do("POST", "/v1/cases/fraud", map[string]any{"account_id": u.AccountID, "suspected_fields": []string{"address"},
		"evidence": []string{"doc:utility-bill-17"}, "summary": "地址证明与登记不符"}, testenv.Bearer(inv)), http.StatusAccepted).Str("id")
	s.WaitForCaseState(caseID, workflows.CaseAwaitingAnswer)

	user := newAgent(t, s)
	user.signIn(u.IDNumber, u.Password, "")
	mine := user.get("/account/cases")
	require.Contains(t, mine.Body, `action="/account/cases/`+caseID+`/answer"`)
	require.Contains(t, mine.Body, `<label for="f-text-`+caseID+`"`)
	ans := user.post("/account/cases/"+caseID+"/answer", url.Values{"text": {"地址已于上月变更，附新租房合同。"}})
	require.Equal(t, http.StatusSeeOther, ans.Status, ans.Body)
	s.WaitForCaseState(caseID, workflows.CaseAwaitingDecision)
	require.Equal(t, "/account", user.get("/console/cases").Location)

	sup := newAgent(t, s)
	su, spw := staff(t, s, workflows.RoleSupervisor)
	sup.signIn(su, spw, spw+"-changed")
	require.Contains(t, sup.get("/console").Body, `href="/console/cases"`)
	list := sup.get("/console/cases?kind=fraud&state=awaiting_decision")
	require.Equal(t, http.StatusOK, list.Status, list.Body)
	require.Contains(t, list.Body, `data-id="`+caseID+`"`)
	require.NotContains(t, sup.get("/console/cases?state=cleared").Body, `data-id="`+caseID+`"`)
	detail := sup.get("/console/cases/" + caseID)
	require.Equal(t, http.StatusOK, detail.Status)
	require.Contains(t, detail.Body, `id="temporal-link"`)
	require.Contains(t, detail.Body, "附新租房合同")
	require.Contains(t, detail.Body, `<label for="f-reason_code"`)

	bad := sup.post("/console/cases/"+caseID+"/decision", url.Values{"decision": {"suspend"}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, bad.Body)
	require.Contains(t, bad.Body, `id="reason_code-error"`)
	var state string
	require.NoError(t, s.DB.Get(&state, `SELECT state FROM cases WHERE id = $1`, caseID))
	require.Equal(t, "awaiting_decision", state)

	done := sup.post("/console/cases/"+caseID+"/decision", url.Values{"decision": {"suspend"}, "reason_code": {"false_address"},
		"corrections": {"address"}, "evidence": {"doc:utility-bill-17"}})
	require.Equal(t, http.StatusSeeOther, done.Status, done.Body)
	s.WaitForCaseState(caseID, workflows.CaseSuspended)
	detail = sup.get(done.Location)
	require.Contains(t, detail.Body, `id="notice"`)
	require.Contains(t, detail.Body, `id="sanction-link"`)
	var sanctionID string
	require.NoError(t, s.DB.Get(&sanctionID, `SELECT sanction_id FROM cases WHERE id = $1`, caseID))
	// The sanction's own run writes its row just after the case's.
	testenv.Eventually(t, 30*time.Second, "the sanction page with the lift form", func() bool {
		return strings.Contains(sup.get("/console/sanctions/"+sanctionID).Body, `action="/console/sanctions/`+sanctionID+`/lift"`)
	})

	// The suspension ended the user's session; the restricted sign-in opens
	// the cases page, where the user appeals.
	require.Equal(t, "/signin?notice=signin_first", user.get("/account/cases").Location)
	require.Contains(t, user.get("/signin").Body, `href="/signin/restricted"`)
	user.get("/signin/restricted")
	wrong := user.post("/signin/restricted", url.Values{"username": {u.IDNumber}, "password": {"not-the-password"}})
	require.Equal(t, http.StatusUnauthorized, wrong.Status)
	rs := user.post("/signin/restricted", url.Values{"username": {u.IDNumber}, "password": {u.Password}})
	require.Equal(t, http.StatusSeeOther, rs.Status, rs.Body)
	require.Equal(t, "/account/cases", rs.Location)
	restricted := user.get("/account/cases")
	require.Equal(t, http.StatusOK, restricted.Status, restricted.Body)
	require.Contains(t, restricted.Body, `id="restricted"`)
	require.Contains(t, restricted.Body, `action="/account/sanctions/`+sanctionID+`/appeal"`)
	require.Equal(t, "/signin?notice=signin_first", user.get("/account/notices").Location, "the restricted session opens nothing else")
	user.get("/signin")
	refused := user.post("/signin", url.Values{"username": {u.IDNumber}, "password": {u.Password}})
	require.Equal(t, http.StatusUnauthorized, refused.Status, "the ordinary sign-in is refused while suspended")
	user.get("/signin/restricted")
	user.post("/signin/restricted", url.Values{"username": {u.IDNumber}, "password": {u.Password}})
	user.get("/account/cases")
	appeal := user.post("/account/sanctions/"+sanctionID+"/appeal", url.Values{"text": {"合同已更新，请复核。"}})
	require.Equal(t, http.StatusSeeOther, appeal.Status, appeal.Body)
	testenv.Eventually(t, 30*time.Second, "the appeal on the sanction page", func() bool {
		return strings.Contains(sup.get("/console/sanctions/"+sanctionID).Body, `action="/console/sanctions/`+sanctionID+`/appeal-decision"`)
	})
	// The supervisor who imposed it may not decide the appeal; another does.
	own := sup.post("/console/sanctions/"+sanctionID+"/appeal-decision", url.Values{"decision": {"overturned"}, "reason_code": {"new_evidence"}})
	require.Contains(t, []int{http.StatusForbidden, http.StatusConflict}, own.Status, own.Body)
	sup2 := newAgent(t, s)
	su2, spw2 := staff(t, s, workflows.RoleInvestigator, workflows.RoleSupervisor)
	sup2.signIn(su2, spw2, spw2+"-changed")
	sup2.get("/console/sanctions/" + sanctionID)
	over := sup2.post("/console/sanctions/"+sanctionID+"/appeal-decision", url.Values{"decision": {"overturned"}, "reason_code": {"new_evidence"}})
	require.Equal(t, http.StatusSeeOther, over.Status, over.Body)
	s.WaitForSanctionState(sanctionID, "overturned")

	// An auditor reads the case without a decision form.
	aud := newAgent(t, s)
	au, apw := staff(t, s, workflows.RoleAuditor)
	aud.signIn(au, apw, apw+"-changed")
	read := aud.get("/console/cases/" + caseID)
	require.Equal(t, http.StatusOK, read.Status, read.Body)
	require.Contains(t, read.Body, `id="timeline"`)
	require.NotContains(t, read.Body, `id="case-decide"`)

	for _, roles := range [][]string{{workflows.RoleReviewer}, {workflows.RoleTermsEditor}} {
		other := newAgent(t, s)
		ou, opw := staff(t, s, roles...)
		other.signIn(ou, opw, opw+"-changed")
		require.NotContains(t, other.get("/console").Body, `href="/console/cases"`)
		r := other.get("/console/cases")
		require.Equal(t, http.StatusForbidden, r.Status, strings.Join(roles, ","))
		require.Equal(t, http.StatusForbidden, other.get("/console/cases/"+caseID).Status)
		require.Equal(t, http.StatusForbidden, other.post("/console/cases/"+caseID+"/decision", url.Values{"decision": {"cleared"}}).Status)
	}
}

// C3.3(2) / C3.3(4) / C1.4: the counter reset in the console. A reviewer
// opens the account, reads its activity record, is refused without the
// in-person check, resets, picks the new initial password up once on the
// slip; the user signs in with it and must change it. A terms editor gets
// the refusal page.
func TestCounterPasswordResetAndAccountActivityInTheConsole_C3_3(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)

	rev := newAgent(t, s)
	ru, rpw := staff(t, s, workflows.RoleReviewer)
	rev.signIn(ru, rpw, rpw+"-changed")
	require.Contains(t, rev.get("/console").Body, `href="/console/accounts"`)
	bad := rev.get("/console/accounts?account=not-a-number")
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
	require.Contains(t, bad.Body, `id="account-error"`)
	require.Equal(t, "/console/accounts/"+u.AccountID, rev.get("/console/accounts?account="+u.AccountID).Location)
	// The person hands over their ID card: the lookup goes by POST, the
	// number is shown masked and never lands in a URL.
	rev.get("/console/accounts")
	wrong := rev.post("/console/accounts/search", url.Values{"id_number": {"12345"}})
	require.Equal(t, http.StatusUnprocessableEntity, wrong.Status)
	require.Contains(t, wrong.Body, `id="id_number-error"`)
	nobody := rev.post("/console/accounts/search", url.Values{"id_number": {testenv.NewPerson().IDNumber}})
	require.Contains(t, nobody.Body, `id="found-none"`)
	found := rev.post("/console/accounts/search", url.Values{"id_number": {u.IDNumber}})
	require.Equal(t, http.StatusOK, found.Status, found.Body)
	require.Contains(t, found.Body, `href="/console/accounts/`+u.AccountID+`"`)
	require.NotContains(t, found.Body, u.IDNumber, "masked")
	page := rev.get("/console/accounts/" + u.AccountID)
	require.Equal(t, http.StatusOK, page.Status, page.Body)
	require.Contains(t, page.Body, `data-action="sign_in.success"`)
	require.Contains(t, page.Body, `<label for="f-identity_document"`)

	refused := rev.post("/console/accounts/"+u.AccountID+"/password-reset", url.Values{"identity_document": {"resident_id_card"}})
	require.Equal(t, http.StatusUnprocessableEntity, refused.Status, refused.Body)
	require.Contains(t, refused.Body, `id="document_checked-error"`)
	issued := rev.post("/console/accounts/"+u.AccountID+"/password-reset", url.Values{"identity_document": {"resident_id_card"},
		"document_checked": {"true"}, "office": {"徐汇区社保中心"}})
	require.Equal(t, http.StatusCreated, issued.Status, issued.Body)
	m := strings.Split(issued.Body, `action="/console/password-resets/`)
	require.Len(t, m, 2)
	resetID := m[1][:36]
	slip := rev.post("/console/password-resets/"+resetID+"/initial-password", nil)
	require.Equal(t, http.StatusOK, slip.Status, slip.Body)
	pw := strings.Split(strings.Split(slip.Body, `id="initial-password">`)[1], "<")[0]
	require.NotEmpty(t, pw)
	require.GreaterOrEqual(t, rev.post("/console/password-resets/"+resetID+"/initial-password", nil).Status, 400, "only once")

	user := newAgent(t, s)
	user.get("/signin")
	r := user.post("/signin", url.Values{"username": {u.IDNumber}, "password": {pw}})
	require.Equal(t, "/password", r.Location)

	ed := newAgent(t, s)
	eu, epw := staff(t, s, workflows.RoleTermsEditor)
	ed.signIn(eu, epw, epw+"-changed")
	require.Equal(t, http.StatusForbidden, ed.get("/console/accounts/"+u.AccountID).Status)
	ed.get("/console/accounts")
	require.Equal(t, http.StatusForbidden, ed.post("/console/accounts/search", url.Values{"id_number": {u.IDNumber}}).Status)
	require.Equal(t, http.StatusForbidden, ed.post("/console/accounts/"+u.AccountID+"/password-reset",
		url.Values{"identity_document": {"resident_id_card"}, "document_checked": {"true"}}).Status)
}

// C2.7 / C1.4: the terms editor drafts (field errors first) and publishes a
// revision in the console and follows its campaign on a progress bar; an
// administrator publishes an announcement; an auditor filters the audit
// log, pages and exports it as CSV. A reviewer gets the refusal page on
// each of these screens.
func TestTermsAnnouncementAndAuditScreens_C2_7_C1_4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	s.NewUser(reviewer)

	ed := newAgent(t, s)
	eu, epw := staff(t, s, workflows.RoleTermsEditor)
	ed.signIn(eu, epw, epw+"-changed")
	require.Contains(t, ed.get("/console").Body, `href="/console/terms"`)
	require.Contains(t, ed.get("/console/terms").Body, `<label for="f-effective_at"`)
	bad := ed.post("/console/terms", url.Values{"version": {"x"}, "title": {""}, "body": {" "}, "summary": {""}, "effective_at": {"2020-01-01T10:00"}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, bad.Body)
	require.Contains(t, bad.Body, `id="effective_at-error"`)
	v := "2027-" + uuid.NewString()[:8]
	effective := time.Now().Add(48 * time.Hour).In(time.FixedZone("CST", 8*3600)).Format("2006-01-02T15:04")
	d := ed.post("/console/terms", url.Values{"version": {v}, "title": {"承诺书（修订）"}, "body": {"全文……"},
		"summary": {"第7条修订"}, "effective_at": {effective}})
	require.Equal(t, http.StatusSeeOther, d.Status, d.Body)
	require.Equal(t, "/console/terms/"+v+"?notice=terms_drafted", d.Location)
	draft := ed.get(d.Location)
	require.Contains(t, draft.Body, `action="/console/terms/`+v+`/publish"`)
	listed := ed.get("/console/terms").Body
	require.Contains(t, listed, `<tr data-version="`+v+`">`, "the draft is listed for the editor")
	require.Contains(t, listed, `href="/console/terms/`+v+`"`)
	require.Contains(t, listed, `data-state="draft"`)
	var at time.Time
	require.NoError(t, s.DB.Get(&at, `SELECT effective_at FROM terms_versions WHERE version = $1`, v))
	require.Equal(t, effective, at.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02T15:04"), "the form's time is China Standard Time")

	rev := newAgent(t, s)
	ru, rpw := staff(t, s, workflows.RoleReviewer)
	rev.signIn(ru, rpw, rpw+"-changed")
	require.Equal(t, http.StatusNotFound, rev.get("/console/terms/"+v).Status, "a draft is not shown to others")
	require.NotContains(t, rev.get("/console/terms").Body, `data-version="`+v+`"`)
	require.Equal(t, http.StatusForbidden, rev.post("/console/terms/"+v+"/publish", nil).Status)

	pub := ed.post("/console/terms/"+v+"/publish", nil)
	require.Equal(t, http.StatusSeeOther, pub.Status, pub.Body)
	testenv.Eventually(t, 30*time.Second, "every notice written, on the progress bar", func() bool {
		return strings.Contains(ed.get("/console/terms/"+v).Body, `<progress id="campaign-progress" max="1" value="1">`)
	})
	page := ed.get("/console/terms/" + v)
	require.Contains(t, page.Body, `data-status="running"`, "it runs until the effective date")
	require.Contains(t, page.Body, `action="/console/terms/`+v+`/pause"`)
	paused := ed.post("/console/terms/"+v+"/pause", nil)
	require.Equal(t, http.StatusSeeOther, paused.Status, paused.Body)
	testenv.Eventually(t, 30*time.Second, "the campaign paused", func() bool {
		return strings.Contains(ed.get("/console/terms/"+v).Body, `action="/console/terms/`+v+`/resume"`)
	})
	resumed := ed.post("/console/terms/"+v+"/resume", nil)
	require.Equal(t, http.StatusSeeOther, resumed.Status, resumed.Body)
	require.Equal(t, http.StatusForbidden, rev.get("/console/terms/"+v).Status, "campaign progress is not the reviewer's")

	admin := newAgent(t, s)
	s.Admin()
	admin.signIn(testenv.AdminUsername, "Strong-Changed-Passphrase-9", "")
	require.Contains(t, admin.get("/console").Body, `href="/console/announcements"`)
	require.Contains(t, admin.get("/console/announcements").Body, `<label for="f-title_zh"`)
	now := time.Now().In(time.FixedZone("CST", 8*3600))
	ann := admin.post("/console/announcements", url.Values{"kind": {"service_interruption"}, "title_zh": {"系统维护"},
		"title_en": {"Maintenance"}, "starts_at": {now.Format("2006-01-02T15:04")}, "ends_at": {now.Add(2 * time.Hour).Format("2006-01-02T15:04")}})
	require.Equal(t, http.StatusSeeOther, ann.Status, ann.Body)
	testenv.Eventually(t, 30*time.Second, "the announcement on the page", func() bool {
		return strings.Contains(admin.get("/console/announcements").Body, "系统维护")
	})
	require.Equal(t, http.StatusForbidden, rev.get("/console/announcements").Status)

	aud := newAgent(t, s)
	au, apw := staff(t, s, workflows.RoleAuditor)
	aud.signIn(au, apw, apw+"-changed")
	require.Contains(t, aud.get("/console").Body, `href="/console/audit"`)
	log := aud.get("/console/audit?action=terms.*")
	require.Equal(t, http.StatusOK, log.Status, log.Body)
	require.Contains(t, log.Body, `data-action="terms.published"`)
	require.Contains(t, log.Body, `href="/console/audit/export?action=terms.%2A"`)
	first := aud.get("/console/audit?limit=10")
	require.Contains(t, first.Body, `id="audit-next"`, "more than one page of 10")
	next := strings.Split(strings.Split(first.Body, `id="audit-next"`)[0], `<a href="`)
	require.Equal(t, http.StatusOK, aud.get(strings.ReplaceAll(next[len(next)-1][:strings.Index(next[len(next)-1], `"`)], "&amp;", "&")).Status)
	csv := aud.get("/console/audit/export?action=terms.*")
	require.Equal(t, http.StatusOK, csv.Status, csv.Body)
	require.Contains(t, csv.Header.Get("Content-Type"), "text/csv")
	require.Contains(t, csv.Body, "terms.published")
	require.Equal(t, http.StatusUnprocessableEntity, aud.get("/console/audit?from=yesterday").Status)
	require.Equal(t, http.StatusForbidden, rev.get("/console/audit").Status)
	require.Equal(t, http.StatusForbidden, rev.get("/console/audit/export").Status)
}

// C2.3 / C3.5 / C4: a user consents to a request for their data on the
// consents page, then sees the disclosure on the disclosures page; the
// user asks in writing to deregister, confirmed with the password, gets the
// receipt with the stored document and its digest, and withdraws during
// the cooling-off period. Another user cannot open the receipt.
func TestConsentDisclosureAndDeregistrationPages_C2_3_C3_5_C4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	other := s.NewUser(reviewer)
	id := s.Expect(s.Do("POST", "/v1/disclosures", map[string]any{"subject": map[string]string{"account_id": u.AccountID},
		"requester": "某商业银行", "basis": "user_authorised", "purpose": "开立账户核验", "fields": []string{"name", "services"}},
		testenv.Bearer(reviewer)), http.StatusAccepted).Str("id")

	a := newAgent(t, s)
	a.signIn(u.IDNumber, u.Password, "")
	testenv.Eventually(t, 30*time.Second, "the consent request on the page", func() bool {
		return strings.Contains(a.get("/account/consents").Body, `action="/account/consents/`+id+`"`)
	})
	ok := a.post("/account/consents/"+id, url.Values{"decision": {"accept"}})
	require.Equal(t, http.StatusSeeOther, ok.Status, ok.Body)
	require.NotContains(t, a.get("/account/consents").Body, `action="/account/consents/`+id+`"`, "answered once")
	again := a.post("/account/consents/"+id, url.Values{"decision": {"refuse"}})
	require.Equal(t, http.StatusConflict, again.Status, "a second answer is refused")
	s.Expect(s.Do("POST", "/v1/disclosures/"+id+"/export", nil, testenv.Bearer(reviewer)), http.StatusOK)
	require.Contains(t, a.get("/account/disclosures").Body, "某商业银行")

	a.get("/account/deregistration")
	r := a.post("/account/deregistration", url.Values{"scope": {"account"}, "statement": {"本人申请注销网上服务账户。"},
		"password": {u.Password}})
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	require.True(t, strings.HasPrefix(r.Location, "/account/deregistration/"), r.Location)
	receipt := a.get(r.Location)
	require.Equal(t, http.StatusOK, receipt.Status, receipt.Body)
	require.Contains(t, receipt.Body, "本人申请注销网上服务账户。")
	testenv.Eventually(t, 30*time.Second, "the cooling-off period", func() bool {
		return strings.Contains(a.get(r.Location).Body, `data-status="cooling_off"`)
	})
	receipt = a.get(r.Location)
	require.Contains(t, receipt.Body, `id="dereg-withdraw"`)
	require.NotContains(t, r.Location, u.Password)
	// The receipt stays reachable from the deregistration page.
	require.Contains(t, a.get("/account/deregistration").Body, `href="`+r.Location+`"`)

	stranger := newAgent(t, s)
	stranger.signIn(other.IDNumber, other.Password, "")
	require.Equal(t, http.StatusNotFound, stranger.get(r.Location).Status)
	require.NotContains(t, stranger.get("/account/deregistration").Body, `href="`+r.Location+`"`)
	require.Equal(t, http.StatusNotFound, stranger.post(r.Location+"/withdraw", nil).Status)

	w := a.post(r.Location+"/withdraw", nil)
	require.Equal(t, http.StatusSeeOther, w.Status, w.Body)
	testenv.Eventually(t, 30*time.Second, "the withdrawal", func() bool {
		return strings.Contains(a.get(r.Location).Body, `data-status="withdrawn"`)
	})
}

// C2.5: a violation that needs a correction: the user reports it on "my
// account" (the instructions and the deadline shown), an investigator
// verifies it on the case screen and the case ends corrected; a reviewer
// cannot verify it.
func TestViolationCorrectionReportedAndVerifiedOnThePages_C2_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	inv, _ := s.Staff(workflows.RoleInvestigator)
	u := s.NewUser(reviewer)
	id := s.Expect(s.Do("POST", "/v1/cases/violation", map[string]any{"account_id": u.AccountID, "rule": "C3.4(7)",
		"evidence": []string{"ticket:9"}, "action": "correct", "instructions": "更正所填工作单位",
		"correct_by": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, testenv.Bearer(inv)), http.StatusAccepted).Str("id")
	s.WaitForCaseState(id, workflows.CaseAwaitingCorrection)

	user := newAgent(t, s)
	user.signIn(u.IDNumber, u.Password, "")
	page := user.get("/account/cases")
	require.Contains(t, page.Body, "更正所填工作单位")
	require.Contains(t, page.Body, `<label for="f-correction-`+id+`"`)
	r := user.post("/account/cases/"+id+"/correction", url.Values{"text": {"已更正工作单位"}})
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	s.WaitForCaseState(id, workflows.CaseCorrectionReported)

	rev := newAgent(t, s)
	ru, rpw := staff(t, s, workflows.RoleReviewer)
	rev.signIn(ru, rpw, rpw+"-changed")
	require.Equal(t, http.StatusForbidden, rev.post("/console/cases/"+id+"/correction-review", url.Values{"result": {"confirmed"}}).Status)

	in := newAgent(t, s)
	iu, ipw := staff(t, s, workflows.RoleInvestigator)
	in.signIn(iu, ipw, ipw+"-changed")
	c := in.get("/console/cases/" + id)
	require.Contains(t, c.Body, `action="/console/cases/`+id+`/correction-review"`)
	ok := in.post("/console/cases/"+id+"/correction-review", url.Values{"result": {"confirmed"}})
	require.Equal(t, http.StatusSeeOther, ok.Status, ok.Body)
	s.WaitForCaseState(id, workflows.CaseCorrected)
	require.Contains(t, user.get("/account/cases").Body, `data-state="corrected"`)
}
