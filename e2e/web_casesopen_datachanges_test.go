package e2e

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

var caseURL = regexp.MustCompile(`/console/cases/([0-9a-f-]{36})\?notice=case_opened$`)

// C2.2 / C3.2 in the browser: an investigator opens a fraud verification
// from the console's start page (the form's field errors first, then the
// account number typed in, a suspected field ticked, the evidence
// referenced) and lands on the new case's page with its run's link. A
// reviewer finds a user's name change in the queue from the start page,
// reads the registered and requested names with the user's note, is told
// that a rejection needs a reason, approves, and from a stale second tab is
// refused a second decision with the request's real state. No personal
// data in any URL or in the runs' histories.
func TestWebOpenFraudCaseAndDecideDataChange_C2_2_C3_2(t *testing.T) {
	b := testenv.NewBrowser(t)
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	newName := "王新名"
	if u.Name == newName {
		newName = "王另名"
	}
	changeID := s.Expect(s.Do("POST", "/v1/me/data-changes", map[string]string{"name": newName,
		"note": "已在派出所办理更名，带户口簿原件到窗口核对"}, testenv.Bearer(u.Token)), http.StatusAccepted).Str("id")

	// --- The investigator opens a fraud verification (C2.2).
	invName, invFirst := staffAccount(t, s, workflows.RoleInvestigator)
	inv := b.Window()
	signIn(inv, s.URL, invName, invFirst)
	changePassword(inv, invFirst, invFirst+"-changed")
	inv.Do(chromedp.WaitVisible(chromedp.ID("open-fraud-link")),
		chromedp.Focus(chromedp.ID("open-fraud-link")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.ID("f-account_id")))
	require.Equal(t, "开立虚假资料核查案件（第二条第2款）", inv.Text("h1"))
	inv.Do(chromedp.Click(chromedp.ID("open-fraud-submit")), chromedp.WaitVisible(chromedp.ID("suspected_fields-error")))
	require.Contains(t, inv.Text("#problem"), "可疑字段")
	keepScreenshot(t, inv.Shot("open-fraud-field-errors"), "open-fraud-case-errors.png")
	require.Zero(t, dbCount(t, s, `SELECT count(*) FROM cases WHERE account_id = $1`, u.AccountID), "a refused form stores nothing")

	inv.Do(chromedp.SendKeys(chromedp.ID("f-account_id"), u.AccountID),
		chromedp.Click(chromedp.CSS(`input[name="suspected_fields"][value="address"]`)),
		chromedp.SendKeys(chromedp.ID("f-evidence"), "doc:lease-2026-1"),
		chromedp.SendKeys(chromedp.ID("f-summary"), "租房合同与登记地址不符"))
	inv.Shot("open-fraud-filled")
	inv.Do(chromedp.Focus(chromedp.ID("open-fraud-submit")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.ID("case-state")))
	require.Equal(t, "案件已开立，流程已启动。", inv.Text("#notice"))
	m := caseURL.FindStringSubmatch(testenv.Run(inv, chromedp.Location()))
	require.NotNil(t, m)
	caseID := m[1]
	require.Equal(t, 1, dbCount(t, s, `SELECT count(*) FROM cases WHERE id = $1 AND kind = 'fraud' AND account_id = $2
		AND suspected_fields = '{address}' AND evidence = '{doc:lease-2026-1}'`, caseID, u.AccountID))
	require.Contains(t, inv.Attr("#temporal-link", "href"), "/workflows/")
	s.WaitForCaseState(caseID, workflows.CaseAwaitingAnswer)
	inv.Shot("fraud-case-opened")

	// --- The reviewer decides the name change (C3.2).
	revName, revFirst := staffAccount(t, s, workflows.RoleReviewer)
	rev := b.Window()
	signIn(rev, s.URL, revName, revFirst)
	changePassword(rev, revFirst, revFirst+"-changed")
	rev.Do(chromedp.WaitVisible(chromedp.ID("data-changes-link")), chromedp.Click(chromedp.ID("data-changes-link")),
		chromedp.WaitVisible(chromedp.CSS(`#data-changes tr[data-id="`+changeID+`"]`)))
	require.Contains(t, rev.Text(`#data-changes tr[data-id="`+changeID+`"]`), "姓名")
	rev.Shot("data-change-queue")
	rev.Do(chromedp.Click(chromedp.CSS(`#data-changes tr[data-id="`+changeID+`"] a`)), chromedp.WaitVisible(chromedp.ID("dchange-status")))
	require.Equal(t, "pending", rev.Attr("#dchange-status", "data-status"))
	require.Equal(t, u.Name, rev.Text(`#values tr[data-field="name"] .old`))
	require.Equal(t, newName, rev.Text(`#values tr[data-field="name"] .new`))
	require.Contains(t, rev.Text("#dchange-note"), "户口簿原件")
	require.Contains(t, rev.Attr("#temporal-link", "href"), "/workflows/")
	keepScreenshot(t, rev.Shot("data-change-detail"), "data-change-detail.png")

	stale := rev.Tab()
	stale.Do(chromedp.Navigate(s.URL+"/console/data-changes/"+changeID), chromedp.WaitVisible(chromedp.ID("dchange-decide")))

	// A rejection without a reason: the message under the field.
	rev.Do(chromedp.Click(chromedp.ID("dchange-reject")), chromedp.Click(chromedp.ID("dchange-decide")),
		chromedp.WaitVisible(chromedp.ID("reason-error")))
	require.Contains(t, rev.Text("#reason-error"), "驳回时须说明理由")
	require.Equal(t, "pending", rev.Attr("#dchange-status", "data-status"))
	rev.Shot("data-change-reason-missing")

	rev.Do(chromedp.Click(chromedp.ID("dchange-approve")), chromedp.Focus(chromedp.ID("dchange-decide")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.ID("notice")))
	require.Equal(t, "决定已记录。", rev.Text("#notice"))
	require.Equal(t, "approved", rev.Attr("#dchange-status", "data-status"))
	rev.Shot("data-change-approved")
	var name string
	require.NoError(t, s.DB.Get(&name, `SELECT p.name FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.id = $1`, u.AccountID))
	require.Equal(t, newName, name)

	// The stale tab: a second decision is refused, the real state shown.
	stale.Do(chromedp.Click(chromedp.ID("dchange-reject")),
		chromedp.SendKeys(chromedp.ID("f-reason"), "证件不符"),
		chromedp.Click(chromedp.ID("dchange-decide")),
		chromedp.WaitVisible(chromedp.ID("problem")))
	require.Contains(t, stale.Text("#problem"), "您的决定未被接受")
	require.Equal(t, "approved", stale.Attr("#dchange-status", "data-status"))
	require.Equal(t, "已批准", stale.Text("#dchange-status"))
	stale.Do(chromedp.WaitNotPresent(chromedp.ID("dchange-decide")))
	stale.Shot("data-change-second-decision-refused")
	require.Equal(t, 1, dbCount(t, s, `SELECT count(*) FROM data_changes WHERE id = $1 AND status = 'approved' AND reason IS NULL`, changeID))

	assertNoPersonalDataInURLs(t, b, u.Name, newName, u.IDNumber, u.Mobile, u.Address, u.Password)
	AssertNoSecretsInHistory(t, s, []string{workflows.FraudWorkflowID(caseID), workflows.DataChangeWorkflowID(changeID)},
		u.Name, newName, u.IDNumber, u.Mobile, u.Address, u.Password)
}
