package e2e

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C1.5, C2.1 (issue 18) in the browser, the whole online path: the
// applicant verifies the mobile on the registration form (the code from
// the SMS), applies, is approved, receives the approval SMS with the link
// to the follow page, picks the initial password up there with a code sent
// to the verified mobile (a wrong code refused at the field), signs in and
// changes it; a second pickup is refused. Screenshots at each step; nothing
// personal or secret in any URL.
func TestWebOnlineApplicantVerifiesAppliesAndPicksUp_C1_5_C2_1(t *testing.T) {
	b := testenv.NewBrowser(t)
	s := testenv.Start(t, testenv.Options{RequireMobileCode: true})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	p := testenv.NewPerson()
	lastCode := func(before int) string {
		texts := s.SMS.To(p.Mobile)
		require.Greater(t, len(texts), before, "a code by SMS")
		code := regexpSix.FindString(texts[len(texts)-1])
		require.NotEmpty(t, code)
		return code
	}

	// --- Verify the mobile on the form, then apply with the code.
	w := b.Window()
	w.Do(chromedp.Navigate(s.URL+"/register"), chromedp.WaitVisible(chromedp.ID("f-name")),
		chromedp.SendKeys(chromedp.ID("f-name"), p.Name),
		chromedp.SendKeys(chromedp.ID("f-id_number"), p.IDNumber),
		chromedp.SendKeys(chromedp.ID("f-mobile"), p.Mobile),
		chromedp.SendKeys(chromedp.ID("f-address"), p.Address))
	before := len(s.SMS.To(p.Mobile))
	w.Do(chromedp.Click(chromedp.ID("register-send-code")), chromedp.WaitVisible(chromedp.ID("notice")))
	require.Equal(t, p.Name, testenv.Run(w, chromedp.Value(chromedp.ID("f-name"))), "the form keeps what was typed")
	w.Shot("online-register-code-sent")
	regCode := lastCode(before)
	w.Do(chromedp.SendKeys(chromedp.ID("f-mobile_code"), regCode),
		chromedp.Click(chromedp.CSS(`input[name="services"][value="social_insurance_query"]`)),
		chromedp.Click(chromedp.ID("f-agreed")), chromedp.Click(chromedp.ID("register-submit")),
		chromedp.WaitVisible(chromedp.ID("follow-token")))
	id, follow := w.Text("#application-id"), w.Text("#follow-token")
	require.NoError(t, uuid.Validate(id))
	w.Shot("online-registration-submitted")
	s.WaitForStatus(id, "pending")

	// --- A reviewer approves; the approval SMS links to the follow page.
	s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "approve"}, testenv.Bearer(reviewer)), http.StatusOK)
	requireApprovalSMS(t, s, p.Mobile, follow)

	// --- The follow page's pickup step.
	w.Do(chromedp.Click(chromedp.ID("follow-link")), chromedp.WaitVisible(chromedp.ID("pickup")))
	require.Equal(t, "approved", w.Attr("#app-status", "data-status"))
	w.Shot("online-follow-approved-pickup")
	w.Do(chromedp.SendKeys(chromedp.ID("f-mobile_code"), "000000"), chromedp.Click(chromedp.ID("pickup-submit")),
		chromedp.WaitVisible(chromedp.ID("mobile_code-error")))
	require.Equal(t, "true", w.Attr("#f-mobile_code", "aria-invalid"))
	w.Shot("online-pickup-refused")
	before = len(s.SMS.To(p.Mobile))
	w.Do(chromedp.Click(chromedp.ID("pickup-send-code")), chromedp.WaitVisible(chromedp.ID("notice")))
	code := lastCode(before)
	w.Do(chromedp.SendKeys(chromedp.ID("f-mobile_code"), code), chromedp.Click(chromedp.ID("pickup-submit")),
		chromedp.WaitVisible(chromedp.ID("initial-password")))
	initial := w.Text("#initial-password")
	require.GreaterOrEqual(t, len(initial), 12)
	require.Equal(t, p.IDNumber, w.Text("#pickup-username"))
	keepScreenshot(t, w.Shot("online-pickup-password"), "applicant-pickup.png")

	// --- The new user signs in and changes the password.
	user := b.Window()
	newPw := "Online-Web-Pass-" + uuid.NewString()[:6]
	signIn(user, s.URL, p.IDNumber, initial)
	changePassword(user, initial, newPw)
	user.Do(chromedp.WaitVisible(chromedp.ID("agreement")))
	user.Shot("online-my-account")

	// --- Once only: the follow page says the password was picked up.
	w.Do(chromedp.Navigate(s.URL+"/follow"), chromedp.WaitVisible(chromedp.ID("pickup")),
		chromedp.Click(chromedp.ID("pickup-send-code")), chromedp.WaitVisible(chromedp.ID("problem")))
	require.Contains(t, w.Text("#problem"), "已被领取")
	w.Shot("online-pickup-again-refused")

	assertNoPersonalDataInURLs(t, b, p.Name, p.IDNumber, p.Mobile, initial, newPw, follow, code, regCode)
	AssertNoSecretsInHistory(t, s, []string{workflows.RegistrationWorkflowID(id)}, p.IDNumber, p.Mobile, initial, newPw, follow, code, regCode)
}
