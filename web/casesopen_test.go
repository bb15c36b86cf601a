package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

var openedCase = regexp.MustCompile(`^/console/cases/([0-9a-f-]{36})\?notice=case_opened$`)

// C2.2 / C2.5 / C1.4: opening cases in the console. A supervisor (who
// reads and decides cases but may not open them) is offered no form and is
// refused by the API when a form is posted anyway; an investigator finds
// the forms from the start page and the case list, is told field by field
// what a report lacks (nothing is stored), opens a fraud verification
// against an account and a violation case with a correction order, and
// lands on each case's page with its run's link.
func TestOpenFraudAndViolationCasesInTheConsole_C2_2_C2_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	cases := func() int {
		var n int
		require.NoError(t, s.DB.Get(&n, `SELECT count(*) FROM cases WHERE account_id = $1`, u.AccountID))
		return n
	}
	fraudForm := func() url.Values {
		return url.Values{"account_id": {u.AccountID}, "suspected_fields": {"address", "mobile"},
			"evidence": {"doc:lease-2026-1\r\ndoc:utility-bill-9\r\n"}, "summary": {"地址证明与登记不符"}, "source": {"staff"}}
	}

	// A supervisor: no link, no form, and the API's refusal.
	sup := newAgent(t, s)
	su, spw := staff(t, s, workflows.RoleSupervisor)
	sup.signIn(su, spw, spw+"-changed")
	require.NotContains(t, sup.get("/console").Body, `href="/console/cases/new/fraud"`)
	list := sup.get("/console/cases")
	require.Equal(t, http.StatusOK, list.Status)
	require.NotContains(t, list.Body, `id="open-fraud-link"`)
	require.Equal(t, http.StatusForbidden, sup.get("/console/cases/new/fraud").Status)
	require.Equal(t, http.StatusForbidden, sup.get("/console/cases/new/violation").Status)
	refused := sup.post("/console/cases/new/fraud", fraudForm())
	require.Equal(t, http.StatusForbidden, refused.Status, refused.Body)
	require.Zero(t, cases(), "a refused role opens nothing")

	// The investigator.
	inv := newAgent(t, s)
	iu, ipw := staff(t, s, workflows.RoleInvestigator)
	inv.signIn(iu, ipw, ipw+"-changed")
	var invID string
	require.NoError(t, s.DB.Get(&invID, `SELECT id FROM staff WHERE username = $1`, iu))
	start := inv.get("/console")
	require.Contains(t, start.Body, `href="/console/cases/new/fraud"`)
	require.Contains(t, start.Body, `href="/console/cases/new/violation"`)
	require.Contains(t, inv.get("/console/cases").Body, `id="open-fraud-link"`)
	page := inv.get("/console/cases/new/fraud")
	require.Equal(t, http.StatusOK, page.Status, page.Body)
	for _, want := range []string{`<label for="f-account_id"`, `<label for="f-application_id"`, `<label for="f-evidence"`,
		`<legend>可疑字段</legend>`, `<legend>来源</legend>`, `name="suspected_fields" value="id_number"`} {
		require.Contains(t, page.Body, want)
	}

	// Field errors under their fields: the page's (an account number that
	// is none), the schema's, then the handler's.
	bad := inv.post("/console/cases/new/fraud", url.Values{"account_id": {"not-an-account"}, "suspected_fields": {"name"}, "evidence": {"doc:x"}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, bad.Body)
	require.Contains(t, bad.Body, `id="account_id-error"`)
	require.Contains(t, bad.Body, `aria-describedby="target-hint account_id-error" aria-invalid="true"`)
	require.Contains(t, bad.Body, `href="#f-account_id"`, "the summary links to the field")
	require.Contains(t, bad.Body, `value="not-an-account"`, "the form keeps what was typed")
	bad = inv.post("/console/cases/new/fraud", url.Values{"account_id": {u.AccountID}, "evidence": {"doc:x"}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, bad.Body)
	require.Contains(t, bad.Body, `id="suspected_fields-error"`)
	both := fraudForm()
	both.Set("application_id", u.ApplicationID)
	bad = inv.post("/console/cases/new/fraud", both)
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, bad.Body)
	require.Contains(t, bad.Body, `id="account_id-error"`)
	require.Contains(t, bad.Body, "须且只能指定账户或申请之一")
	require.Contains(t, bad.Body, `name="suspected_fields" value="address" checked`)
	require.Zero(t, cases(), "a refused form stores nothing")

	// The fraud verification (C2.2).
	ok := inv.post("/console/cases/new/fraud", fraudForm())
	require.Equal(t, http.StatusSeeOther, ok.Status, ok.Body)
	m := openedCase.FindStringSubmatch(ok.Location)
	require.NotNil(t, m, ok.Location)
	fraudID := m[1]
	var row struct {
		Kind      string         `db:"kind"`
		OpenedBy  string         `db:"opened_by"`
		Source    string         `db:"source"`
		Fields    pq.StringArray `db:"suspected_fields"`
		Evidence  pq.StringArray `db:"evidence"`
		Summary   string         `db:"summary"`
		AnswerDue time.Time      `db:"answer_due_at"`
	}
	require.NoError(t, s.DB.Get(&row, `SELECT kind, opened_by, source, suspected_fields, evidence, summary, answer_due_at
		FROM cases WHERE id = $1 AND account_id = $2`, fraudID, u.AccountID))
	require.Equal(t, "fraud", row.Kind)
	require.Equal(t, invID, row.OpenedBy)
	require.Equal(t, "staff", row.Source)
	require.ElementsMatch(t, []string{"address", "mobile"}, []string(row.Fields))
	require.Equal(t, []string{"doc:lease-2026-1", "doc:utility-bill-9"}, []string(row.Evidence))
	require.Equal(t, "地址证明与登记不符", row.Summary)
	require.WithinDuration(t, time.Now().Add(7*24*time.Hour), row.AnswerDue, time.Hour, "the default answer time")
	s.WaitForCaseState(fraudID, workflows.CaseAwaitingAnswer)
	detail := inv.get(ok.Location)
	require.Equal(t, http.StatusOK, detail.Status, detail.Body)
	require.Contains(t, detail.Body, `id="notice"`)
	require.Contains(t, detail.Body, `id="temporal-link"`)

	// The violation case (C2.5): a correction order needs its deadline and
	// instructions.
	vpage := inv.get("/console/cases/new/violation")
	require.Equal(t, http.StatusOK, vpage.Status, vpage.Body)
	require.Contains(t, vpage.Body, `<label for="f-rule"`)
	require.Contains(t, vpage.Body, `<option value="C3.4(5)">C3.4(5) 遵守网站公布的所有网上办事规定、相应条款和解释</option>`)
	require.Contains(t, vpage.Body, `<legend>处理方式</legend>`)
	vbad := inv.post("/console/cases/new/violation", url.Values{"account_id": {u.AccountID}, "rule": {"C3.4(5)"},
		"action": {"correct"}, "evidence": {"log:req-77"}})
	require.Equal(t, http.StatusUnprocessableEntity, vbad.Status, vbad.Body)
	require.Contains(t, vbad.Body, `id="correct_by-error"`)
	require.Contains(t, vbad.Body, `id="instructions-error"`)
	require.Contains(t, vbad.Body, `value="correct" checked`)
	require.Equal(t, 1, cases(), "the refused violation stored nothing")

	due := time.Now().In(time.FixedZone("CST", 8*3600)).Add(10 * 24 * time.Hour).Truncate(time.Minute)
	vok := inv.post("/console/cases/new/violation", url.Values{"account_id": {u.AccountID}, "rule": {"C3.4(5)"},
		"action": {"correct"}, "evidence": {"log:req-77"}, "correct_by": {due.Format("2006-01-02T15:04")},
		"instructions": {"撤回重复提交的申报材料"}})
	require.Equal(t, http.StatusSeeOther, vok.Status, vok.Body)
	m = openedCase.FindStringSubmatch(vok.Location)
	require.NotNil(t, m, vok.Location)
	var v struct {
		Kind      string    `db:"kind"`
		Rule      string    `db:"rule"`
		Action    string    `db:"action"`
		CorrectBy time.Time `db:"correct_by"`
		Instr     string    `db:"instructions"`
	}
	require.NoError(t, s.DB.Get(&v, `SELECT kind, rule, action, correct_by, instructions FROM cases WHERE id = $1`, m[1]))
	require.Equal(t, "violation", v.Kind)
	require.Equal(t, "C3.4(5)", v.Rule)
	require.Equal(t, "correct", v.Action)
	require.True(t, due.Equal(v.CorrectBy), "the deadline is read as China Standard Time: %s vs %s", due, v.CorrectBy)
	require.Equal(t, "撤回重复提交的申报材料", v.Instr)
	require.Equal(t, 2, cases())
	s.WaitForCaseState(m[1], workflows.CaseAwaitingCorrection)
	require.Contains(t, inv.get(vok.Location).Body, `data-state="awaiting_correction"`)
}
