package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C3.3(2) at the counter, in the browser: a person who forgot the password
// hands over the ID card. The reviewer finds the account by the number on
// the card (typed into a form, never in an address), checks the card,
// resets, and prints the slip with the new initial password, shown once;
// the person signs in with it and must change it. The reviewer's menu has
// the reminders page. No personal data in any URL or in the reset's history.
func TestWebCounterFindsAccountResetsPasswordAndPrintsSlip_C3_3_2(t *testing.T) {
	b := testenv.NewBrowser(t)
	s := testenv.Start(t, testenv.Options{})
	approver, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(approver)

	revName, revFirst := staffAccount(t, s, workflows.RoleReviewer)
	rev := b.Window()
	signIn(rev, s.URL, revName, revFirst)
	changePassword(rev, revFirst, revFirst+"-changed")
	rev.Do(chromedp.WaitVisible(chromedp.ID("notices-link")),
		chromedp.Click(chromedp.ID("accounts-link")), chromedp.WaitVisible(chromedp.ID("f-id_number")),
		chromedp.SendKeys(chromedp.ID("f-id_number"), u.IDNumber), chromedp.Click(chromedp.ID("account-find")),
		chromedp.WaitVisible(chromedp.CSS(`#found tr[data-account="`+u.AccountID+`"]`)))
	require.NotContains(t, rev.Text("#found"), u.IDNumber, "the number is shown masked")
	rev.Shot("account-found")
	rev.Do(chromedp.Click(chromedp.CSS(`#found tr[data-account="`+u.AccountID+`"] a`)),
		chromedp.WaitVisible(chromedp.ID("f-identity_document")),
		chromedp.Click(chromedp.ID("f-document_checked")), chromedp.Click(chromedp.ID("reset-submit")),
		chromedp.WaitVisible(chromedp.ID("office-error")))
	// A member without an office names the office at the counter; the
	// checked box stays checked on the refused form.
	rev.Do(chromedp.WaitVisible(chromedp.CSS(`#f-document_checked:checked`)),
		chromedp.SendKeys(chromedp.ID("f-office"), "黄浦区社保中心"), chromedp.Click(chromedp.ID("reset-submit")),
		chromedp.WaitVisible(chromedp.ID("reset-pickup")))
	rev.Shot("reset-issued")
	rev.Do(chromedp.Click(chromedp.ID("reset-pickup")), chromedp.WaitVisible(chromedp.ID("initial-password")))
	initial := rev.Text("#initial-password")
	require.NotEmpty(t, initial)
	keepScreenshot(t, rev.Shot("reset-slip"), "counter-reset-slip.png")

	person := b.Window()
	signIn(person, s.URL, u.IDNumber, initial)
	changePassword(person, initial, "Counter-Reset-Changed-1")
	person.Do(chromedp.WaitVisible(chromedp.ID("account-menu")))

	var resetID string
	require.NoError(t, s.DB.Get(&resetID, `SELECT id FROM password_resets WHERE account_id = $1`, u.AccountID))
	assertNoPersonalDataInURLs(t, b, u.Name, u.IDNumber, u.Mobile, initial)
	AssertNoSecretsInHistory(t, s, []string{workflows.PasswordResetWorkflowID(resetID)}, u.Name, u.IDNumber, u.Mobile, initial)
}
