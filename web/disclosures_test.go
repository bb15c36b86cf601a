package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// consoleAgent creates a staff member with the roles through the API and
// signs in through the pages (the first password changed); it returns the
// agent and the staff ID.
func consoleAgent(t *testing.T, s *testenv.Stack, roles ...string) (*agent, string) {
	t.Helper()
	username := "disc." + uuid.NewString()[:8]
	id, first := s.NewStaff(username, roles...)
	a := newAgent(t, s)
	a.signIn(username, first, first+"-changed")
	return a, id
}

func disclosureRows(t *testing.T, s *testenv.Stack) int {
	t.Helper()
	var n int
	require.NoError(t, s.DB.Get(&n, `SELECT count(*) FROM disclosure_requests`))
	return n
}

func disclosureState(t *testing.T, s *testenv.Stack, id string) string {
	t.Helper()
	var st string
	require.NoError(t, s.DB.Get(&st, `SELECT status FROM disclosure_requests WHERE id = $1`, id))
	return st
}

func waitDisclosureState(t *testing.T, s *testenv.Stack, id, want string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, "disclosure "+id+" to be "+want, func() bool {
		var st string
		_ = s.DB.Get(&st, `SELECT status FROM disclosure_requests WHERE id = $1`, id)
		return st == want
	})
}

// disclosureIDFrom reads the request's ID from the redirect after filing.
func disclosureIDFrom(t *testing.T, r answer) string {
	t.Helper()
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	id, rest, ok := strings.Cut(strings.TrimPrefix(r.Location, "/console/disclosures/"), "?")
	require.True(t, ok, r.Location)
	require.Equal(t, "notice=disclosure_filed", rest)
	require.NoError(t, uuid.Validate(id), r.Location)
	return id
}

// C2.3: filing a disclosure request in the console. A role that may not
// file (a terms editor) is refused by the API and sees no link; a user is
// sent to their account. A bad form shows the API's errors under their
// fields (the legal document a law request lacks, a password asked for,
// nothing chosen) and stores nothing. A good one is filed by the reviewer,
// who reaches it by its opaque ID, sees no register (it is not theirs to
// read) and no decision form, and no ID number travels in any URL.
func TestDisclosureFilingRolesAndFieldErrors_C2_3(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	revTok, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(revTok)

	valid := func() url.Values {
		return url.Values{"id_number": {u.IDNumber}, "requester": {"某商业银行"}, "basis": {"user_authorised"},
			"purpose": {"开立账户核验"}, "fields": {"name", "services"}}
	}

	// A terms editor: no link, the API's refusal, nothing stored.
	editor, _ := consoleAgent(t, s, workflows.RoleTermsEditor)
	require.NotContains(t, editor.get("/console").Body, `id="disclosures-link"`)
	r := editor.get("/console/disclosures")
	require.Equal(t, http.StatusForbidden, r.Status, r.Body)
	require.Equal(t, http.StatusForbidden, editor.get("/console/disclosures/new").Status, "the form is not offered")
	r = editor.post("/console/disclosures", valid())
	require.Equal(t, http.StatusForbidden, r.Status, r.Body)
	require.Zero(t, disclosureRows(t, s))

	// A user is sent to their account.
	user := newAgent(t, s)
	user.signIn(u.IDNumber, u.Password, "")
	require.Equal(t, "/account", user.get("/console/disclosures").Location)
	require.Equal(t, "/account", user.get("/console/disclosures/new").Location)

	// The reviewer files.
	rev, revID := consoleAgent(t, s, workflows.RoleReviewer)
	start := rev.get("/console")
	require.Contains(t, start.Body, `href="/console/disclosures"`)
	require.Contains(t, start.Body, `href="/console/disclosures/new"`)
	list := rev.get("/console/disclosures")
	require.Equal(t, http.StatusOK, list.Status, list.Body)
	require.Contains(t, list.Body, `id="register-readers"`)
	require.NotContains(t, list.Body, `id="disclosures"`, "no register for a reviewer")
	require.Contains(t, list.Body, `id="my-disclosures-empty"`)
	form := rev.get("/console/disclosures/new")
	require.Equal(t, http.StatusOK, form.Status, form.Body)
	for _, f := range []string{"account_id", "id_number", "requester", "legal_reference", "secrecy_reference", "secrecy_until",
		"department", "service_code", "purpose"} {
		require.Contains(t, form.Body, `<label for="f-`+f+`"`, f)
	}
	require.Contains(t, form.Body, `<fieldset id="f-basis"`)
	require.Contains(t, form.Body, `<fieldset id="f-fields"`)

	// A law request without its legal document.
	noRef := valid()
	noRef.Set("basis", "law")
	bad := rev.post("/console/disclosures", noRef)
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, bad.Body)
	require.Contains(t, bad.Body, `id="legal_reference-error"`)
	require.Contains(t, bad.Body, `id="f-legal_reference" name="legal_reference" value="" maxlength="300" aria-describedby="legal_reference-hint legal_reference-error" aria-invalid="true"`)
	require.Contains(t, bad.Body, `href="#f-legal_reference"`, "the summary links to the field")
	require.Contains(t, bad.Body, `value="某商业银行"`, "the form keeps what was typed")
	// A password asked for (a crafted form: the page offers no such box).
	pw := valid()
	pw["fields"] = []string{"name", "password_hash"}
	bad = rev.post("/console/disclosures", pw)
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, bad.Body)
	require.Contains(t, bad.Body, `id="fields-error"`)
	require.Contains(t, bad.Body, "密码及其散列值在任何情况下都不得披露")
	// Nothing chosen: basis and data.
	bad = rev.post("/console/disclosures", url.Values{"requester": {"某商业银行"}, "purpose": {"核验"}, "id_number": {u.IDNumber}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, bad.Body)
	require.Contains(t, bad.Body, `id="basis-error"`)
	require.Contains(t, bad.Body, `id="fields-error"`)
	// Both subjects given.
	both := valid()
	both.Set("account_id", u.AccountID)
	bad = rev.post("/console/disclosures", both)
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, bad.Body)
	require.Contains(t, bad.Body, `id="subject-error"`)
	require.Zero(t, disclosureRows(t, s), "refused forms store nothing")

	ok := rev.post("/console/disclosures", valid())
	id := disclosureIDFrom(t, ok)
	require.NotContains(t, ok.Location, u.IDNumber)
	var row struct {
		AccountID string         `db:"account_id"`
		EnteredBy string         `db:"entered_by"`
		Basis     string         `db:"basis"`
		Fields    pq.StringArray `db:"fields"`
	}
	require.NoError(t, s.DB.Get(&row, `SELECT account_id, entered_by, basis, fields FROM disclosure_requests WHERE id = $1`, id))
	require.Equal(t, u.AccountID, row.AccountID)
	require.Equal(t, revID, row.EnteredBy)
	require.Equal(t, "user_authorised", row.Basis)
	require.Equal(t, []string{"name", "services"}, []string(row.Fields))
	waitDisclosureState(t, s, id, workflows.DisclosureAwaitingConsent)

	detail := rev.get(ok.Location)
	require.Equal(t, http.StatusOK, detail.Status, detail.Body)
	require.Contains(t, detail.Body, `id="notice"`)
	require.Contains(t, detail.Body, `data-status="awaiting_consent"`)
	require.Contains(t, detail.Body, `id="consent-state"`)
	require.Contains(t, detail.Body, `id="temporal-link"`)
	require.Contains(t, detail.Body, `<li data-kind="entered">`)
	require.NotContains(t, detail.Body, `id="disclosure-decide"`, "the user decides a user_authorised request")
	require.NotContains(t, detail.Body, `id="disclosure-export"`, "nothing to export before consent")
	require.NotContains(t, detail.Body, u.IDNumber)

	// The filer finds the request again under their own requests.
	require.Contains(t, rev.get("/console/disclosures").Body, `<a href="/console/disclosures/`+id+`">`)

	// Opened by number; a bad number is named under its field.
	require.Equal(t, "/console/disclosures/"+id, rev.get("/console/disclosures?request="+id).Location)
	badNo := rev.get("/console/disclosures?request=nope")
	require.Equal(t, http.StatusUnprocessableEntity, badNo.Status)
	require.Contains(t, badNo.Body, `id="request-error"`)
}

// C2.3: four eyes, decision and export in the console. A supervisor files
// a law request; on its page they are told that another must decide, and
// when they decide anyway the API's four-eyes refusal is shown and nothing
// changes. A reviewer who did not file it cannot even see it. A second
// supervisor is told what a refusal lacks, then approves a subset; the
// database holds the approver and the fields. Only the filer exports, once,
// on a no-store page that answers the POST and shows exactly the approved
// data; a second export shows the request as delivered. Auditors find it
// in the register by filter.
func TestDisclosureFourEyesDecisionAndExport_C2_3(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	revTok, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(revTok)

	filer, filerID := consoleAgent(t, s, workflows.RoleSupervisor)
	filer.get("/console/disclosures/new")
	id := disclosureIDFrom(t, filer.post("/console/disclosures", url.Values{"id_number": {u.IDNumber}, "requester": {"某区公安分局"},
		"basis": {"law"}, "legal_reference": {"（2026）沪公调字第001号 调取证据通知书"}, "purpose": {"案件调查"},
		"fields": {"name", "mobile", "address"}}))
	waitDisclosureState(t, s, id, workflows.DisclosureAwaitingApproval)

	// The filer may not decide: told so, and refused by the API when trying.
	page := filer.get("/console/disclosures/" + id)
	require.Equal(t, http.StatusOK, page.Status, page.Body)
	require.Contains(t, page.Body, `id="four-eyes"`)
	require.NotContains(t, page.Body, `id="disclosure-decide"`)
	require.Contains(t, page.Body, `id="temporal-link"`)
	require.Contains(t, page.Body, `id="temporal-search-link"`)
	same := filer.post("/console/disclosures/"+id+"/decision", url.Values{"decision": {"approve"}})
	require.Equal(t, http.StatusForbidden, same.Status, same.Body)
	require.Contains(t, same.Body, "录入请求的工作人员不得审批该请求", "the API's own message")
	require.Contains(t, same.Body, "双人审批")
	require.Contains(t, same.Body, `data-status="awaiting_approval"`, "the real state is shown")
	require.Equal(t, workflows.DisclosureAwaitingApproval, disclosureState(t, s, id))

	// A reviewer who did not file it: not found, and refused the decision.
	rev, _ := consoleAgent(t, s, workflows.RoleReviewer)
	require.Equal(t, http.StatusNotFound, rev.get("/console/disclosures/"+id).Status)
	r := rev.post("/console/disclosures/"+id+"/decision", url.Values{"decision": {"approve"}})
	require.Equal(t, http.StatusForbidden, r.Status, r.Body)
	require.Equal(t, workflows.DisclosureAwaitingApproval, disclosureState(t, s, id))

	// A second supervisor: the form; a refusal without reason is named; approval of a subset.
	sup, supID := consoleAgent(t, s, workflows.RoleSupervisor)
	page = sup.get("/console/disclosures/" + id)
	require.Contains(t, page.Body, `action="/console/disclosures/`+id+`/decision"`)
	require.Contains(t, page.Body, `<fieldset id="f-decision"`)
	require.Contains(t, page.Body, `<label for="f-reason"`)
	require.NotContains(t, page.Body, `id="four-eyes"`)
	bad := sup.post("/console/disclosures/"+id+"/decision", url.Values{"decision": {"refuse"}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, bad.Body)
	require.Contains(t, bad.Body, `id="reason-error"`)
	require.Contains(t, bad.Body, `aria-invalid="true"`)
	require.Equal(t, workflows.DisclosureAwaitingApproval, disclosureState(t, s, id))
	ok := sup.post("/console/disclosures/"+id+"/decision", url.Values{"decision": {"approve"}, "fields": {"name", "mobile"},
		"reason": {"地址与本案无关"}})
	require.Equal(t, http.StatusSeeOther, ok.Status, ok.Body)
	require.Equal(t, "/console/disclosures/"+id+"?notice=disclosure_decided", ok.Location)
	var row struct {
		Status         string         `db:"status"`
		ApprovedBy     string         `db:"approved_by"`
		ApprovedFields pq.StringArray `db:"approved_fields"`
	}
	require.NoError(t, s.DB.Get(&row, `SELECT status, approved_by, approved_fields FROM disclosure_requests WHERE id = $1`, id))
	require.Equal(t, workflows.DisclosureApproved, row.Status)
	require.Equal(t, supID, row.ApprovedBy)
	require.Equal(t, []string{"name", "mobile"}, []string(row.ApprovedFields))
	// A stale page deciding again: the API's 409, the real state, nothing changed.
	stale := sup.post("/console/disclosures/"+id+"/decision", url.Values{"decision": {"refuse"}, "reason": {"重新考虑"}})
	require.Equal(t, http.StatusConflict, stale.Status, stale.Body)
	require.Contains(t, stale.Body, "此请求的状态已改变")
	require.Contains(t, stale.Body, `data-status="approved"`)
	require.Equal(t, workflows.DisclosureApproved, disclosureState(t, s, id))
	after := sup.get(ok.Location)
	require.Contains(t, after.Body, `data-status="approved"`)
	require.Contains(t, after.Body, `<li data-kind="approved">`)
	require.Contains(t, after.Body, `<dd id="decision-reason">地址与本案无关</dd>`)
	require.NotContains(t, after.Body, `id="disclosure-decide"`)
	require.NotContains(t, after.Body, `id="disclosure-export"`, "only the filer exports")
	r = sup.post("/console/disclosures/"+id+"/export", nil)
	require.Equal(t, http.StatusForbidden, r.Status, r.Body)
	require.Equal(t, workflows.DisclosureApproved, disclosureState(t, s, id))

	// The filer exports once: the approved data on a no-store page.
	page = filer.get("/console/disclosures/" + id)
	require.Contains(t, page.Body, `action="/console/disclosures/`+id+`/export"`)
	exp := filer.post("/console/disclosures/"+id+"/export", nil)
	require.Equal(t, http.StatusOK, exp.Status, exp.Body)
	require.Equal(t, "no-store", exp.Header.Get("Cache-Control"))
	require.Contains(t, exp.Header.Get("Content-Type"), "text/html")
	require.Empty(t, exp.Location)
	require.Contains(t, exp.Body, `id="export-data"`)
	require.Contains(t, exp.Body, `<tr data-field="name">`)
	require.Contains(t, exp.Body, u.Name)
	require.Contains(t, exp.Body, u.Mobile)
	require.NotContains(t, exp.Body, u.Address, "nothing beyond what was approved")
	require.NotContains(t, exp.Body, u.IDNumber)
	require.Equal(t, workflows.DisclosureDelivered, disclosureState(t, s, id))
	again := filer.post("/console/disclosures/"+id+"/export", nil)
	require.Equal(t, http.StatusGone, again.Status, again.Body)
	require.Contains(t, again.Body, `data-status="delivered"`)
	require.NotContains(t, again.Body, u.Mobile)

	// The register, for auditors.
	aud, _ := consoleAgent(t, s, workflows.RoleAuditor)
	require.Contains(t, aud.get("/console").Body, `id="disclosures-link"`)
	reg := aud.get("/console/disclosures?status=delivered&basis=law")
	require.Equal(t, http.StatusOK, reg.Status, reg.Body)
	require.Contains(t, reg.Body, `data-id="`+id+`"`)
	require.Contains(t, reg.Body, filerID)
	require.Contains(t, reg.Body, supID)
	require.NotContains(t, reg.Body, `id="new-disclosure-link"`, "auditors file nothing")
	require.NotContains(t, aud.get("/console/disclosures?basis=user_authorised").Body, `data-id="`+id+`"`)
	require.Contains(t, aud.get("/console/disclosures?account_id="+u.AccountID).Body, `data-id="`+id+`"`)
	badFilter := aud.get("/console/disclosures?account_id=13800138000")
	require.Equal(t, http.StatusUnprocessableEntity, badFilter.Status)
	require.Contains(t, badFilter.Body, `id="account_id-error"`)
	audPage := aud.get("/console/disclosures/" + id)
	require.Equal(t, http.StatusOK, audPage.Status)
	require.Contains(t, audPage.Body, `<li data-kind="delivered">`)
	require.NotContains(t, audPage.Body, `id="disclosure-decide"`)
	require.NotContains(t, audPage.Body, `id="disclosure-export"`)
}
