package e2e

import (
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// clock is a test clock the API reads; it only moves forward.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

func disclosureStatus(s *testenv.Stack, id string) string {
	var st string
	_ = s.DB.Get(&st, `SELECT status FROM disclosure_requests WHERE id = $1`, id)
	return st
}

func waitDisclosure(t *testing.T, s *testenv.Stack, id, want string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, "disclosure "+id+" to be "+want, func() bool { return disclosureStatus(s, id) == want })
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// C2.3: a request under the law, entered by one supervisor, is approved by
// a second one for a subset of the fields; the one who entered it may not
// approve it. Exactly the approved fields leave, once. Under a secrecy
// order the user sees the disclosure only after the order ends; the
// register shows who, what, when, basis and approvers.
func TestLawDisclosureFourEyesFieldScopingAndSecrecy_C2_3(t *testing.T) {
	clk := &clock{}
	s := testenv.Start(t, testenv.Options{Now: clk.Now})
	u := s.User(testenv.NewPerson(), "social_insurance_query")
	enterer, entererID := s.Staff(workflows.RoleSupervisor)
	approver, approverID := s.Staff(workflows.RoleSupervisor)
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	auditor, _ := s.Staff(workflows.RoleAuditor)
	editor, _ := s.Staff(workflows.RoleTermsEditor)

	body := map[string]any{"subject": map[string]string{"id_number": u.IDNumber}, "requester": "某区公安分局",
		"basis": "law", "legal_reference": "（2026）沪公调字第001号 调取证据通知书", "purpose": "案件调查",
		"fields":        []string{"name", "mobile", "address"},
		"secrecy_order": map[string]any{"reference": "保密决定书 2026-17", "until": clk.Now().Add(time.Hour).UTC().Format(time.RFC3339)}}

	// Passwords and their hashes can never be asked for; bad input stores nothing.
	withPw := map[string]any{}
	for k, v := range body {
		withPw[k] = v
	}
	withPw["fields"] = []string{"name", "password_hash", "shoe_size"}
	bad := s.Do("POST", "/v1/disclosures", withPw, testenv.Bearer(enterer))
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, string(bad.Raw))
	require.ElementsMatch(t, []string{"fields.1", "fields.2"}, bad.DetailFields())
	require.Contains(t, string(bad.Raw), "never_disclosable")
	noRef := map[string]any{"subject": map[string]string{"account_id": u.AccountID}, "requester": "某区公安分局", "basis": "law",
		"purpose": "案件调查", "fields": []string{"name"}}
	require.Equal(t, []string{"legal_reference"}, s.Do("POST", "/v1/disclosures", noRef, testenv.Bearer(enterer)).DetailFields())
	// Roles that may not enter a request.
	for _, tok := range []string{auditor, editor, u.Token} {
		require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/disclosures", body, testenv.Bearer(tok)).Status)
	}
	var n int
	require.NoError(t, s.DB.Get(&n, `SELECT count(*) FROM disclosure_requests`))
	require.Zero(t, n)

	r := s.Expect(s.Do("POST", "/v1/disclosures", body, testenv.Bearer(enterer)), http.StatusAccepted)
	id := r.Str("id")
	require.Equal(t, "/v1/disclosures/"+id, r.Header.Get("Location"))
	waitDisclosure(t, s, id, "awaiting_approval")
	// The filer finds their own requests again; a reviewer (who may file but
	// not read the register) sees none of theirs and still not the register.
	filed := s.Expect(s.Do("GET", "/v1/disclosures?mine=true", nil, testenv.Bearer(enterer)), http.StatusOK)
	require.Len(t, filed.Body["items"], 1)
	require.Equal(t, id, filed.Body["items"].([]any)[0].(map[string]any)["id"])
	require.Empty(t, s.Expect(s.Do("GET", "/v1/disclosures?mine=true", nil, testenv.Bearer(reviewer)), http.StatusOK).Body["items"])
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/disclosures", nil, testenv.Bearer(reviewer)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/disclosures?mine=true", nil, testenv.Bearer(editor)).Status)

	// Four eyes: the one who entered it may not approve it; nor may a reviewer.
	same := s.Do("POST", "/v1/disclosures/"+id+"/decision", map[string]any{"decision": "approve"}, testenv.Bearer(enterer))
	require.Equal(t, http.StatusForbidden, same.Status, string(same.Raw))
	require.Equal(t, "four_eyes", same.ErrorCode())
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/disclosures/"+id+"/decision", map[string]any{"decision": "approve"},
		testenv.Bearer(reviewer)).Status)
	notAsked := s.Do("POST", "/v1/disclosures/"+id+"/decision", map[string]any{"decision": "approve", "fields": []string{"id_number"}},
		testenv.Bearer(approver))
	require.Equal(t, http.StatusUnprocessableEntity, notAsked.Status)
	require.Equal(t, "awaiting_approval", disclosureStatus(s, id), "refused decisions changed nothing")
	require.Equal(t, http.StatusConflict, s.Do("POST", "/v1/disclosures/"+id+"/export", nil, testenv.Bearer(enterer)).Status)

	ok := s.Expect(s.Do("POST", "/v1/disclosures/"+id+"/decision", map[string]any{"decision": "approve", "fields": []string{"name", "mobile"},
		"reason": "地址与本案无关"}, testenv.Bearer(approver)), http.StatusOK)
	require.Equal(t, "approved", ok.Str("status"))
	require.Equal(t, http.StatusConflict, s.Do("POST", "/v1/disclosures/"+id+"/decision", map[string]any{"decision": "refuse", "reason": "x"},
		testenv.Bearer(approver)).Status)

	// Delivered once, to the staff member who entered it, exactly the approved fields.
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/disclosures/"+id+"/export", nil, testenv.Bearer(approver)).Status)
	exp := s.Expect(s.Do("POST", "/v1/disclosures/"+id+"/export", nil, testenv.Bearer(enterer)), http.StatusOK)
	data := exp.Body["data"].(map[string]any)
	require.Equal(t, []string{"mobile", "name"}, keys(data))
	require.Equal(t, u.Name, data["name"])
	require.Equal(t, u.Mobile, data["mobile"])
	for _, leaked := range []string{u.Address, u.IDNumber, "argon2", u.Password} {
		require.NotContains(t, string(exp.Raw), leaked, "nothing beyond what was approved leaves")
	}
	again := s.Do("POST", "/v1/disclosures/"+id+"/export", nil, testenv.Bearer(enterer))
	require.Equal(t, http.StatusGone, again.Status)
	require.Equal(t, "already_delivered", again.ErrorCode())
	var final workflows.DisclosureStatus
	workflowResult(t, s, workflows.DisclosureWorkflowID(id), &final)
	require.Equal(t, workflows.DisclosureDelivered, final.Status)

	// The user does not see it while the secrecy order runs; then does.
	mine := s.Expect(s.Do("GET", "/v1/me/disclosures", nil, testenv.Bearer(u.Token)), http.StatusOK)
	require.Empty(t, mine.Body["disclosures"])
	var accountRows int
	require.NoError(t, s.DB.Get(&accountRows, `SELECT count(*) FROM audit_log WHERE record_kind = 'account' AND record_id = $1
		AND action LIKE 'account.disclosure%'`, u.AccountID))
	require.Zero(t, accountRows, "a secret disclosure stays out of the user's activity record")
	clk.Advance(2 * time.Hour)
	mine = s.Expect(s.Do("GET", "/v1/me/disclosures", nil, testenv.Bearer(u.Token)), http.StatusOK)
	list := mine.Body["disclosures"].([]any)
	require.Len(t, list, 1)
	d := list[0].(map[string]any)
	require.Equal(t, "某区公安分局", d["requester"])
	require.Equal(t, "law", d["basis"])
	require.Equal(t, []any{"name", "mobile"}, d["fields"])
	require.Equal(t, []any{"supervisor"}, d["approver_roles"])

	// The register: auditors see who, what, when, basis and approvers.
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/disclosures", nil, testenv.Bearer(reviewer)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/disclosures", nil, testenv.Bearer(u.Token)).Status)
	reg := s.Expect(s.Do("GET", "/v1/disclosures?status=delivered", nil, testenv.Bearer(auditor)), http.StatusOK)
	items := reg.Body["items"].([]any)
	require.Len(t, items, 1)
	row := items[0].(map[string]any)
	require.Equal(t, entererID, row["entered_by"])
	require.Equal(t, approverID, row["approved_by"])
	require.Equal(t, []any{"name", "mobile"}, row["approved_fields"])
	require.NotEmpty(t, row["delivered_at"])
	require.Equal(t, http.StatusNotFound, s.Do("GET", "/v1/disclosures/"+id, nil, testenv.Bearer(reviewer)).Status)
	s.Expect(s.Do("GET", "/v1/disclosures/"+id, nil, testenv.Bearer(enterer)), http.StatusOK)

	AssertNoSecretsInHistory(t, s, []string{workflows.DisclosureWorkflowID(id)}, u.Name, u.IDNumber, u.Mobile, u.Address, u.Password, "某区公安分局")
	SaveHistory(t, s, workflows.DisclosureWorkflowID(id), "disclosure_law_delivered")
}

// C2.3: a user_authorised request asks the user, who accepts; exactly the
// requested fields leave once and the user sees the disclosure. A second
// request waits for an answer until its deadline: silence is refusal.
func TestUserAuthorisedConsentAndTimeout_C2_3(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	u := s.User(testenv.NewPerson(), "social_insurance_query", "employment_registration")
	stranger := s.User(testenv.NewPerson())
	clerk, _ := s.Staff(workflows.RoleReviewer)
	supervisor, _ := s.Staff(workflows.RoleSupervisor)
	ask := func() string {
		r := s.Expect(s.Do("POST", "/v1/disclosures", map[string]any{"subject": map[string]string{"account_id": u.AccountID},
			"requester": "某商业银行", "basis": "user_authorised", "purpose": "开立账户核验", "fields": []string{"name", "services", "agreement"}},
			testenv.Bearer(clerk)), http.StatusAccepted)
		return r.Str("id")
	}
	id := ask()
	waitDisclosure(t, s, id, "awaiting_consent")

	consents := s.Expect(s.Do("GET", "/v1/me/consents", nil, testenv.Bearer(u.Token)), http.StatusOK)
	require.Len(t, consents.Body["consents"].([]any), 1)
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/me/consents", nil, testenv.Bearer(clerk)).Status)
	require.Equal(t, http.StatusNotFound, s.Do("POST", "/v1/me/consents/"+id, map[string]string{"decision": "accept"}, testenv.Bearer(stranger.Token)).Status)
	require.Equal(t, http.StatusConflict, s.Do("POST", "/v1/disclosures/"+id+"/decision", map[string]any{"decision": "approve"},
		testenv.Bearer(supervisor)).Status, "the user decides a user_authorised request")
	var notices int
	require.NoError(t, s.DB.Get(&notices, `SELECT count(*) FROM notices WHERE account_id = $1 AND kind = 'consent_requested'`, u.AccountID))
	require.Equal(t, 1, notices)

	acc := s.Expect(s.Do("POST", "/v1/me/consents/"+id, map[string]string{"decision": "accept"}, testenv.Bearer(u.Token)), http.StatusOK)
	require.Equal(t, "approved", acc.Str("status"))
	require.Equal(t, http.StatusConflict, s.Do("POST", "/v1/me/consents/"+id, map[string]string{"decision": "refuse"}, testenv.Bearer(u.Token)).Status)
	exp := s.Expect(s.Do("POST", "/v1/disclosures/"+id+"/export", nil, testenv.Bearer(clerk)), http.StatusOK)
	data := exp.Body["data"].(map[string]any)
	require.Equal(t, []string{"agreement", "name", "services"}, keys(data))
	require.Equal(t, []any{"employment_registration", "social_insurance_query"}, data["services"])
	require.NotContains(t, string(exp.Raw), u.Mobile)
	var final workflows.DisclosureStatus
	workflowResult(t, s, workflows.DisclosureWorkflowID(id), &final)
	require.Equal(t, workflows.DisclosureDelivered, final.Status)
	mine := s.Expect(s.Do("GET", "/v1/me/disclosures", nil, testenv.Bearer(u.Token)), http.StatusOK)
	require.Len(t, mine.Body["disclosures"].([]any), 1)
	var actions []string
	require.NoError(t, s.DB.Select(&actions, `SELECT action FROM audit_log WHERE record_kind = 'account' AND record_id = $1 AND action LIKE 'account.disclosure%' ORDER BY id`, u.AccountID))
	require.Equal(t, []string{"account.disclosure_requested", "account.disclosure_awaiting_consent", "account.disclosure_consent_accepted",
		"account.disclosure_delivered"}, actions)
	AssertNoSecretsInHistory(t, s, []string{workflows.DisclosureWorkflowID(id)}, u.Name, u.IDNumber, u.Mobile, u.Address, u.Password)
	SaveHistory(t, s, workflows.DisclosureWorkflowID(id), "disclosure_consent_delivered")

	// Silence is refusal.
	s.SetSetting("disclosure.consent_deadline", 2*time.Second)
	late := ask()
	waitDisclosure(t, s, late, "refused")
	var decision string
	require.NoError(t, s.DB.Get(&decision, `SELECT consent_decision FROM disclosure_requests WHERE id = $1`, late))
	require.Equal(t, "no_answer", decision)
	tooLate := s.Do("POST", "/v1/me/consents/"+late, map[string]string{"decision": "accept"}, testenv.Bearer(u.Token))
	require.Equal(t, http.StatusConflict, tooLate.Status, string(tooLate.Raw))
	require.Equal(t, http.StatusConflict, s.Do("POST", "/v1/disclosures/"+late+"/export", nil, testenv.Bearer(clerk)).Status)
	workflowResult(t, s, workflows.DisclosureWorkflowID(late), &final)
	require.Equal(t, workflows.DisclosureRefused, final.Status)
	SaveHistory(t, s, workflows.DisclosureWorkflowID(late), "disclosure_consent_timeout")
}

// C3.3(4) / C1.4: every staff action and account change is in the audit log
// with who, role, what, which record, when, from where and the request ID;
// auditors alone read it, with filters and paging, and export it.
func TestAuditRegisterForAuditors_C3_3_4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	auditor, auditorID := s.Staff(workflows.RoleAuditor)
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.User(testenv.NewPerson())

	for _, tok := range []string{reviewer, s.Admin(), u.Token} {
		require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/audit", nil, testenv.Bearer(tok)).Status)
		require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/audit/export", nil, testenv.Bearer(tok)).Status)
	}
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/audit", nil).Status)
	// The user's own views are for users only.
	for _, path := range []string{"/v1/me/disclosures", "/v1/me/consents", "/v1/me/deregistration/" + u.AccountID} {
		require.Equal(t, http.StatusForbidden, s.Do("GET", path, nil, testenv.Bearer(auditor)).Status, path)
		require.Equal(t, http.StatusUnauthorized, s.Do("GET", path, nil).Status, path)
	}
	bad := s.Do("GET", "/v1/audit?from=yesterday&limit=0", nil, testenv.Bearer(auditor))
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status)

	// A staff action carries the roles, the source address and the request ID.
	created := s.Expect(s.Do("GET", "/v1/audit?action=staff.created&limit=500", nil, testenv.Bearer(auditor)), http.StatusOK)
	items := created.Body["items"].([]any)
	require.GreaterOrEqual(t, len(items), 2)
	first := items[0].(map[string]any)
	require.Equal(t, []any{"administrator"}, first["actor_roles"])
	require.Equal(t, "staff", first["actor_kind"])
	require.NotEmpty(t, first["source_ip"])
	require.NotEmpty(t, first["request_id"])

	// Paging through the account's record.
	var all []string
	next := ""
	for page := 0; page < 20; page++ {
		q := "/v1/audit?record_kind=account&record_id=" + u.AccountID + "&limit=2"
		if next != "" {
			q += "&after=" + next
		}
		r := s.Expect(s.Do("GET", q, nil, testenv.Bearer(auditor)), http.StatusOK)
		for _, it := range r.Body["items"].([]any) {
			all = append(all, it.(map[string]any)["action"].(string))
		}
		next = r.Str("next_cursor")
		if next == "" {
			break
		}
	}
	var want []string
	require.NoError(t, s.DB.Select(&want, `SELECT action FROM audit_log WHERE record_kind = 'account' AND record_id = $1 ORDER BY id`, u.AccountID))
	require.Equal(t, want, all)
	require.Contains(t, all, "account.opened")

	exp := s.Do("GET", "/v1/audit/export?action=account.*", nil, testenv.Bearer(auditor))
	require.Equal(t, http.StatusOK, exp.Status)
	require.Contains(t, exp.Header.Get("Content-Type"), "text/csv")
	lines := strings.Split(strings.TrimSpace(string(exp.Raw)), "\n")
	require.True(t, strings.HasPrefix(lines[0], "id,at,actor_kind"))
	require.Greater(t, len(lines), 2)
	var logged int
	require.NoError(t, s.DB.Get(&logged, `SELECT count(*) FROM audit_log WHERE action IN ('audit.searched', 'audit.exported') AND actor_id = $1`, auditorID))
	require.Greater(t, logged, 2, "auditors' searches and exports are logged too")
}
