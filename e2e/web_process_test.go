package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C2.2 / C2.7 / C3.3(4) / C3.5 in the browser: a user walks "my account"
// with the keyboard: the inbox shows the revision notice, the activity
// record shows the sign-in, the new terms version is accepted, and the
// open fraud case is answered. A supervisor finds the case by filter on
// the case screen, reads its timeline and the answer, follows nothing
// outside but sees the link to its run, and clears it. No personal data in
// any URL or in the case's history.
func TestWebAccountPagesAndSupervisorCaseScreen_C2_2_C2_7_C3_3_C3_5(t *testing.T) {
	b := testenv.NewBrowser(t)
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	editor, _ := s.Staff(workflows.RoleTermsEditor)
	inv, _ := s.Staff(workflows.RoleInvestigator)
	u := s.NewUser(reviewer)

	v := "2027-" + uuid.NewString()[:8]
	s.Expect(s.Do("POST", "/v1/terms", map[string]any{"version": v, "title": "用户承诺书（2027年修订）", "body": "修订后的全文……",
		"summary": "第7条：服务中断须提前通知", "effective_at": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)},
		testenv.Bearer(editor)), http.StatusCreated)
	s.Expect(s.Do("POST", "/v1/terms/"+v+"/publish", nil, testenv.Bearer(editor)), http.StatusAccepted)
	caseID := openFraud(t, s, inv, map[string]any{"account_id": u.AccountID, "suspected_fields": []string{"address"},
		"evidence": []string{"doc:utility-bill-2027-3"}, "summary": "地址证明与登记不符"})
	s.WaitForCaseState(caseID, workflows.CaseAwaitingAnswer)
	testenv.Eventually(t, 30*time.Second, "the revision notice", func() bool {
		return dbCount(t, s, `SELECT count(*) FROM notices WHERE account_id = $1 AND kind = 'terms_revision'`, u.AccountID) == 1
	})

	// --- The user.
	user := b.Window()
	signIn(user, s.URL, u.IDNumber, u.Password)
	user.Do(chromedp.WaitVisible(chromedp.ID("account-menu")),
		chromedp.Focus(chromedp.ID("link-notices")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`#notices li[data-kind="terms_revision"]`)))
	require.Equal(t, "站内通知", user.Text("h1"))
	user.Shot("notices")
	user.Do(chromedp.Navigate(s.URL+"/account"), chromedp.WaitVisible(chromedp.ID("account-menu")),
		chromedp.Focus(chromedp.ID("link-activity")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`#activity tr[data-action="sign_in.success"]`)))
	require.Contains(t, user.Text(`#activity tr[data-action="sign_in.success"]`), "登录成功")
	user.Shot("activity")

	user.Do(chromedp.Navigate(s.URL+"/account/terms"), chromedp.WaitVisible(chromedp.ID("accept-"+v)),
		chromedp.Focus(chromedp.ID("accept-"+v)), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.ID("notice")))
	require.Equal(t, "已记录您同意该版本。", user.Text("#notice"))
	require.Equal(t, "accepted", user.Attr(`section[data-version="`+v+`"] .position`, "data-position"))
	keepScreenshot(t, user.Shot("terms-accepted"), "my-terms.png")

	user.Do(chromedp.Navigate(s.URL+"/account/cases"), chromedp.WaitVisible(chromedp.ID("f-text-"+caseID)),
		chromedp.SendKeys(chromedp.ID("f-text-"+caseID), "地址已于上月变更，附新租房合同。"),
		chromedp.Click(chromedp.CSS(`form[action="/account/cases/`+caseID+`/answer"] button`)),
		chromedp.WaitVisible(chromedp.ID("notice")))
	require.Equal(t, "答复已提交。", user.Text("#notice"))
	s.WaitForCaseState(caseID, workflows.CaseAwaitingDecision)

	// --- The supervisor.
	supName, supFirst := staffAccount(t, s, workflows.RoleSupervisor)
	sup := b.Window()
	signIn(sup, s.URL, supName, supFirst)
	changePassword(sup, supFirst, supFirst+"-changed")
	sup.Do(chromedp.WaitVisible(chromedp.ID("cases-link")), chromedp.Click(chromedp.ID("cases-link")),
		chromedp.WaitVisible(chromedp.ID("f-state")),
		chromedp.SetValue(chromedp.ID("f-state"), "awaiting_decision"),
		chromedp.Click(chromedp.ID("filter-apply")),
		chromedp.WaitVisible(chromedp.CSS(`#cases tr[data-id="`+caseID+`"]`)))
	sup.Shot("case-list")
	sup.Do(chromedp.Click(chromedp.CSS(`#cases tr[data-id="`+caseID+`"] a`)), chromedp.WaitVisible(chromedp.ID("case-state")))
	require.Equal(t, "awaiting_decision", sup.Attr("#case-state", "data-state"))
	require.Contains(t, sup.Text("#submissions"), "附新租房合同")
	require.Contains(t, sup.Attr("#temporal-link", "href"), "/workflows/")
	require.NotEmpty(t, sup.Text("#timeline"))
	keepScreenshot(t, sup.Shot("case-detail"), "case-detail.png")
	sup.Do(chromedp.Click(chromedp.CSS(`input[name="decision"][value="cleared"]`)),
		chromedp.Click(chromedp.ID("case-decide")), chromedp.WaitVisible(chromedp.ID("notice")))
	require.Equal(t, "决定已记录。", sup.Text("#notice"))
	s.WaitForCaseState(caseID, workflows.CaseCleared)

	assertNoPersonalDataInURLs(t, b, u.Name, u.IDNumber, u.Mobile, u.Address, u.Password)
	AssertNoSecretsInHistory(t, s, []string{workflows.FraudWorkflowID(caseID)}, u.Name, u.IDNumber, u.Mobile, u.Address, u.Password)
}
