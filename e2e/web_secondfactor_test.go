package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C1.4 / C3.3(1) in the browser: a new staff member signs in, changes the
// first password, is sent to the enrolment page (QR code and the secret in
// text), confirms with a code computed from the page's secret, sees ten
// recovery codes once (with a print button), and reaches the console. The
// next sign-in asks for a code after the password; a wrong one is refused
// on the page, the right one opens the console; a recovery code works too.
func TestWebStaffEnrolsSecondFactorAndSignsInWithCode_C1_4_C3_3_1(t *testing.T) {
	b := testenv.NewBrowser(t)
	s := testenv.Start(t, testenv.Options{})
	username, first := staffAccount(t, s, workflows.RoleReviewer)
	pw := first + "-changed"

	w := b.Window()
	signIn(w, s.URL, username, first)
	w.Do(chromedp.WaitVisible(chromedp.ID("forced")),
		chromedp.SendKeys(chromedp.ID("f-old_password"), first),
		chromedp.SendKeys(chromedp.ID("f-new_password"), pw),
		chromedp.SendKeys(chromedp.ID("f-new_password2"), pw),
		chromedp.Click(chromedp.ID("password-submit")))
	require.Equal(t, "/second-factor", waitLeave(w, "/password"))
	require.NotEmpty(t, w.Text("#must-enrol"))
	// Nothing else opens before the enrolment.
	w.Do(chromedp.Navigate(s.URL + "/console/staff"))
	require.Equal(t, "/second-factor", waitLeave(w, "/console/staff"))

	w.Do(chromedp.WaitVisible(chromedp.ID("enrol-start")), chromedp.Click(chromedp.ID("enrol-start")),
		chromedp.WaitVisible(chromedp.ID("totp-qr")))
	secret := w.Text("#totp-secret")
	require.Regexp(t, `^[A-Z2-7]{32}$`, secret)
	keepScreenshot(t, w.Shot("second-factor-enrolment"), "second-factor-enrolment.png")
	browserSecrets.remember(w, secret) // codes as an authenticator app shows them, each step once
	w.Do(chromedp.SendKeys(chromedp.ID("f-code"), browserSecrets.code(t, username)),
		chromedp.Click(chromedp.ID("enrol-confirm")), chromedp.WaitVisible(chromedp.ID("recovery-codes")))
	var recovery []string
	for _, li := range strings.Split(w.Text("#recovery-codes"), "\n") {
		if li = strings.TrimSpace(li); li != "" {
			recovery = append(recovery, li)
		}
	}
	require.Len(t, recovery, 10)
	require.Regexp(t, `^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$`, recovery[0])
	w.Do(chromedp.WaitVisible(chromedp.ID("print")))
	keepScreenshot(t, w.Shot("recovery-codes"), "recovery-codes.png")
	w.Do(chromedp.Click(chromedp.ID("recovery-continue")), chromedp.WaitVisible(chromedp.ID("console-menu")))

	// The next sign-in: password, then the code prompt.
	w.Do(chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.ID("f-username")))
	w.Do(chromedp.Navigate(s.URL+"/signin"), chromedp.WaitVisible(chromedp.ID("f-username")),
		chromedp.SendKeys(chromedp.ID("f-username"), username),
		chromedp.SendKeys(chromedp.ID("f-password"), pw+"\r"))
	require.Equal(t, "/signin/code", waitLeave(w, "/signin"))
	w.Do(chromedp.WaitVisible(chromedp.ID("f-code")), chromedp.SendKeys(chromedp.ID("f-code"), "000000\r"),
		chromedp.WaitVisible(chromedp.ID("code-error")))
	keepScreenshot(t, w.Shot("code-prompt-refused"), "code-prompt.png")
	w.Do(chromedp.SendKeys(chromedp.ID("f-code"), browserSecrets.code(t, username)+"\r"),
		chromedp.WaitVisible(chromedp.ID("console-menu")))

	// A recovery code in place of a code.
	w.Do(chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.ID("f-username")),
		chromedp.SendKeys(chromedp.ID("f-username"), username),
		chromedp.SendKeys(chromedp.ID("f-password"), pw+"\r"))
	require.Equal(t, "/signin/code", waitLeave(w, "/signin"))
	w.Do(chromedp.WaitVisible(chromedp.ID("f-code")), chromedp.SendKeys(chromedp.ID("f-code"), recovery[3]+"\r"),
		chromedp.WaitVisible(chromedp.ID("console-menu")))
	assertNoPersonalDataInURLs(t, b, secret, recovery[3], pw)
}
