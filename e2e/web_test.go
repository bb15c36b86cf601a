package e2e

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// staffAccount creates a staff member through the API and returns the
// username and first password, for a browser to sign in with.
func staffAccount(t *testing.T, s *testenv.Stack, roles ...string) (username, password string) {
	t.Helper()
	username = "web." + uuid.NewString()[:8]
	_, password = s.NewStaff(username, roles...)
	return username, password
}

// signIn fills the sign-in form with the keyboard (Enter submits); a staff
// member whose second factor the helpers enrolled answers the code prompt.
func signIn(w *testenv.Window, base, username, password string) {
	w.Do(chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.ID("f-username")),
		chromedp.SendKeys(chromedp.ID("f-username"), username),
		chromedp.SendKeys(chromedp.ID("f-password"), password+"\r"))
	browserSecrets.signedIn(w, username)
	if waitLeave(w, "/signin") == "/signin/code" {
		w.Do(chromedp.WaitVisible(chromedp.ID("f-code")),
			chromedp.SendKeys(chromedp.ID("f-code"), browserSecrets.code(w.B.T, username)+"\r"))
		waitLeave(w, "/signin/code")
	}
}

// changePassword answers the forced change of an initial password. A staff
// member is sent on to the second-factor enrolment: the helper enrols with
// the secret the page shows, then opens the console as the change would.
func changePassword(w *testenv.Window, old, new string) {
	w.Do(chromedp.WaitVisible(chromedp.ID("forced")),
		chromedp.SendKeys(chromedp.ID("f-old_password"), old),
		chromedp.SendKeys(chromedp.ID("f-new_password"), new),
		chromedp.SendKeys(chromedp.ID("f-new_password2"), new),
		chromedp.Click(chromedp.ID("password-submit")))
	if waitLeave(w, "/password") == "/second-factor" {
		enrolInBrowser(w)
		w.Do(chromedp.Click(chromedp.ID("recovery-continue")), chromedp.WaitVisible(chromedp.ID("main")))
		loc, err := url.Parse(testenv.Run(w, chromedp.Location()))
		require.NoError(w.B.T, err)
		w.Do(chromedp.Navigate(loc.Scheme + "://" + loc.Host + "/console?notice=password_done"))
	}
}

// enrolInBrowser sets up the second factor on the enrolment page with the
// secret shown in text, and leaves the browser on the recovery codes.
func enrolInBrowser(w *testenv.Window) (secret string, recovery []string) {
	w.Do(chromedp.WaitVisible(chromedp.ID("enrol-start")), chromedp.Click(chromedp.ID("enrol-start")),
		chromedp.WaitVisible(chromedp.ID("totp-secret")))
	secret = w.Text("#totp-secret")
	browserSecrets.remember(w, secret)
	w.Do(chromedp.SendKeys(chromedp.ID("f-code"), browserSecrets.code(w.B.T, browserSecrets.user(w))),
		chromedp.Click(chromedp.ID("enrol-confirm")), chromedp.WaitVisible(chromedp.ID("recovery-codes")))
	for _, li := range strings.Split(w.Text("#recovery-codes"), "\n") {
		if li = strings.TrimSpace(li); li != "" {
			recovery = append(recovery, li)
		}
	}
	return secret, recovery
}

// waitLeave waits until the window's page is no longer path (after a form
// was sent) and the new page has loaded; it returns the new path.
func waitLeave(w *testenv.Window, path string) string {
	w.B.T.Helper()
	var now string
	testenv.Eventually(w.B.T, testenv.StepTimeout, "the page after "+path, func() bool {
		raw, err := chromedp.Run(w.Ctx, chromedp.Location())
		if err != nil {
			return false
		}
		loc, err := url.Parse(raw)
		if err != nil || loc.Path == path {
			return false
		}
		if state, err := chromedp.Run(w.Ctx, chromedp.Evaluate[string]("document.readyState")); err != nil || state != "complete" {
			return false
		}
		now = loc.Path
		return true
	})
	return now
}

// browserSecrets remembers, for the browser tests, who signed in in which
// window, their second-factor secrets and the last time step used (the
// API accepts each code once).
var browserSecrets = &secretBook{users: map[*testenv.Window]string{}, secrets: map[string]string{}, steps: map[string]int64{}}

type secretBook struct {
	mu      sync.Mutex
	users   map[*testenv.Window]string
	secrets map[string]string
	steps   map[string]int64
}

func (b *secretBook) signedIn(w *testenv.Window, username string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.users[w] = username
}

func (b *secretBook) user(w *testenv.Window) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.users[w]
}

func (b *secretBook) remember(w *testenv.Window, secret string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.secrets[b.users[w]] = secret
}

// code is the username's next unused code, waiting for a new step if the
// three within the drift are used.
func (b *secretBook) code(t testing.TB, username string) string {
	t.Helper()
	deadline := time.Now().Add(75 * time.Second)
	for {
		b.mu.Lock()
		secret, last := b.secrets[username], b.steps[username]
		cur := time.Now().Unix() / 30
		for _, st := range []int64{cur, cur + 1} { // not cur-1: the step may end before the API checks
			if st > last {
				b.steps[username] = st
				b.mu.Unlock()
				return testenv.TOTP(secret, time.Unix(st*30, 0))
			}
		}
		b.mu.Unlock()
		if secret == "" || time.Now().After(deadline) {
			t.Fatalf("no second-factor code for %s", username)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// keepScreenshot copies a screenshot into docs/screenshots when
// UPDATE_SCREENSHOTS=1 (for the README).
func keepScreenshot(t *testing.T, path, name string) {
	t.Helper()
	if os.Getenv("UPDATE_SCREENSHOTS") != "1" || path == "" {
		return
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll("../docs/screenshots", 0o755))
	require.NoError(t, os.WriteFile(filepath.Join("../docs/screenshots", name), b, 0o644))
}

// assertNoPersonalDataInURLs fails if a marker appears in any URL the
// browser visited, raw or URL-encoded.
func assertNoPersonalDataInURLs(t *testing.T, b *testenv.Browser, markers ...string) {
	t.Helper()
	urls := b.URLs()
	require.NotEmpty(t, urls)
	for _, u := range urls {
		for _, m := range markers {
			if m == "" {
				continue
			}
			for _, form := range []string{m, url.QueryEscape(m), url.PathEscape(m)} {
				if strings.Contains(u, form) {
					t.Errorf("a URL carries personal data or a secret (%q…): %s", m[:min(len(m), 3)], u)
				}
			}
		}
	}
}

// C1.5 / C2.1 / C3.2 / C3.3(2) / C4 in the browser: a person registers at
// the counter's tablet (field errors in Chinese first, the English switch,
// the agreement read before agreeing), follows the application, a reviewer
// signs in (forced password change), finds it in the queue with its
// service level, approves it on the spot and picks up the initial password
// on a printable slip; the new user signs in with it, must change it, and
// sees the services and the agreement in force on "my account".
func TestWebRegistrationReviewPickupFirstSignInAccount_C1_5_C2_1_C3_2_C3_3_2_C4(t *testing.T) {
	b := testenv.NewBrowser(t)
	s := testenv.Start(t, testenv.Options{})
	reviewer, reviewerFirst := staffAccount(t, s, workflows.RoleReviewer)
	reviewerPw := reviewerFirst + "-changed"
	p := testenv.NewPerson()

	// Pages carry a Content-Security-Policy and no personal data is cached.
	resp, err := http.Get(s.URL + "/register")
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))

	// --- The applicant, at the counter's tablet.
	applicant := b.Window()
	applicant.Do(chromedp.Navigate(s.URL+"/register"), chromedp.WaitVisible(chromedp.ID("f-name")))
	require.Equal(t, "注册为网站用户", applicant.Text("h1"))
	require.Equal(t, "姓名", applicant.Text(`label[for="f-name"]`))
	require.Contains(t, applicant.Text("#terms-text"), "当场审核", "the agreement is on the page to read")
	// A wrong check digit and no agreement: the API's field-level messages, in Chinese.
	badID := p.IDNumber[:17] + map[bool]string{true: "0", false: "1"}[p.IDNumber[17] != '0']
	applicant.Do(
		chromedp.SendKeys(chromedp.ID("f-name"), p.Name),
		chromedp.SendKeys(chromedp.ID("f-id_number"), badID),
		chromedp.SendKeys(chromedp.ID("f-mobile"), p.Mobile),
		chromedp.SendKeys(chromedp.ID("f-address"), p.Address),
		chromedp.Click(chromedp.ID("register-submit")),
		chromedp.WaitVisible(chromedp.ID("problem")))
	require.Contains(t, applicant.Text("#id_number-error"), "校验位")
	require.Contains(t, applicant.Text("#agreed-error"), "同意")
	require.Equal(t, "true", applicant.Attr("#f-id_number", "aria-invalid"))
	require.Equal(t, p.Name, testenv.Run(applicant, chromedp.Value(chromedp.ID("f-name"))), "the form keeps what was typed")
	keepScreenshot(t, applicant.Shot("register-field-errors"), "register-errors.png")

	// The English switch, and back.
	// Wait for the new page (its <html lang>), not just any visible field:
	// the old page's field is visible until the navigation completes.
	applicant.Do(chromedp.Click(chromedp.ID("lang-switch")), chromedp.WaitReady(chromedp.CSS(`html[lang="en"]`)),
		chromedp.WaitVisible(chromedp.ID("f-name")))
	require.Equal(t, "Register as a user", applicant.Text("h1"))
	require.Equal(t, "Name", applicant.Text(`label[for="f-name"]`))
	applicant.Do(chromedp.Click(chromedp.ID("lang-switch")), chromedp.WaitReady(chromedp.CSS(`html[lang="zh-CN"]`)),
		chromedp.WaitVisible(chromedp.ID("f-name")))
	require.Equal(t, "注册为网站用户", applicant.Text("h1"))

	applicant.Do(
		chromedp.SendKeys(chromedp.ID("f-name"), p.Name),
		chromedp.SendKeys(chromedp.ID("f-id_number"), p.IDNumber),
		chromedp.SendKeys(chromedp.ID("f-mobile"), p.Mobile),
		chromedp.SendKeys(chromedp.ID("f-address"), p.Address),
		chromedp.Click(chromedp.CSS(`input[name="services"][value="social_insurance_query"]`)),
		chromedp.Click(chromedp.CSS(`input[name="services"][value="pension_claim"]`)),
		chromedp.Click(chromedp.ID("f-agreed")),
		chromedp.Click(chromedp.ID("register-submit")),
		chromedp.WaitVisible(chromedp.ID("follow-token")))
	id, follow := applicant.Text("#application-id"), applicant.Text("#follow-token")
	require.NoError(t, uuid.Validate(id))
	require.NotEmpty(t, follow)
	applicant.Shot("registration-submitted")
	s.WaitForStatus(id, "pending")
	applicant.Do(chromedp.Click(chromedp.ID("follow-link")), chromedp.WaitVisible(chromedp.ID("app-status")))
	require.Equal(t, "pending", applicant.Attr("#app-status", "data-status"))
	require.Equal(t, "待审核", applicant.Text("#app-status"))
	require.NotContains(t, applicant.Text("main"), p.IDNumber, "the applicant's view masks the ID number")
	applicant.Shot("follow-pending")

	// --- The reviewer: first sign-in with the keyboard, forced change, the queue.
	rev := b.Window()
	signIn(rev, s.URL, reviewer, reviewerFirst)
	changePassword(rev, reviewerFirst, reviewerPw)
	rev.Do(chromedp.WaitVisible(chromedp.ID("queue")))
	require.Equal(t, "密码已修改，其他设备上的登录已失效。", rev.Text("#notice"))
	row := `#queue tr[data-id="` + id + `"]`
	require.Equal(t, "on_time", rev.Attr(row+` [data-level]`, "data-level"))
	require.Equal(t, "时限内", rev.Text(row+` [data-level]`))
	require.Contains(t, rev.Text(row), p.Name)
	require.NotContains(t, rev.Text(row), p.IDNumber, "the queue masks ID numbers")
	keepScreenshot(t, rev.Shot("review-queue"), "review-queue.png")

	rev.Do(chromedp.Click(chromedp.CSS(row+" a.button")), chromedp.WaitVisible(chromedp.ID("decision-form")))
	require.Equal(t, p.IDNumber, rev.Text(`#h-applicant + dl dd:nth-of-type(2)`), "staff see the full ID number")
	require.Contains(t, rev.Attr("#temporal-link", "href"), "/namespaces/default/workflows/registration%2F"+id)
	require.Equal(t, "核验未发现问题。", rev.Text("#no-flags"))
	rev.Shot("review-detail")
	rev.Do(chromedp.Click(chromedp.ID("decision-approve")), chromedp.Click(chromedp.ID("decision-submit")),
		chromedp.WaitVisible(chromedp.ID("pickup-by-applicant")))
	require.Contains(t, rev.Text("#opened"), "社会保险查询")
	rev.Shot("approved")
	// An online application: the reviewer never sees the initial password;
	// the applicant picks it up with the follow token and a code by SMS.
	initial := s.PickUp(id, follow, p.Mobile)
	require.GreaterOrEqual(t, len(initial), 12)
	rev.Do(chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.ID("f-username")))

	// --- The new user: first sign-in, forced change, my account.
	user := b.Window()
	newPw := "Zhao-Home-Pass-" + uuid.NewString()[:6]
	signIn(user, s.URL, p.IDNumber, initial)
	changePassword(user, initial, newPw)
	user.Do(chromedp.WaitVisible(chromedp.ID("agreement")))
	require.Equal(t, "2026-01", user.Text("#terms-version"))
	require.Equal(t, "是", user.Text("#in-force"))
	require.Contains(t, user.Text(`#services tr[data-code="social_insurance_query"]`), "已开通")
	require.Equal(t, p.Name, user.Text("#account-name"))
	keepScreenshot(t, user.Shot("my-account"), "my-account.png")

	// The session cookie is HttpOnly and SameSite=Strict, and a form
	// without its CSRF token is refused.
	got, err := chromedp.Call(user.Ctx, network.GetCookies, network.GetCookiesParams{})
	require.NoError(t, err)
	require.NotEmpty(t, got.Cookies)
	for _, ck := range got.Cookies {
		require.True(t, ck.HTTPOnly, ck.Name)
		require.Equal(t, network.CookieSameSiteStrict, ck.SameSite, ck.Name)
	}
	forged, err := http.PostForm(s.URL+"/password", url.Values{"old_password": {newPw}, "new_password": {"x"}})
	require.NoError(t, err)
	forged.Body.Close()
	require.Equal(t, http.StatusForbidden, forged.StatusCode)

	// Nothing personal or secret in any URL, nor in the run's history.
	assertNoPersonalDataInURLs(t, b, p.Name, p.IDNumber, badID, p.Mobile, p.Address, initial, newPw, follow, reviewerPw)
	AssertNoSecretsInHistory(t, s, []string{workflows.RegistrationWorkflowID(id)}, p.Name, p.IDNumber, p.Mobile, p.Address, initial, newPw, follow)
}

// C2.1 in the browser: two tabs hold the same application; the reviewer
// approves in one, then submits a rejection from the other. The second
// decision is refused with a clear message, the state shown is the real
// one, and nothing changed.
func TestWebSecondDecisionIsRefusedWithAClearMessage_C2_1(t *testing.T) {
	b := testenv.NewBrowser(t)
	s := testenv.Start(t, testenv.Options{})
	reviewer, first := staffAccount(t, s, workflows.RoleReviewer)
	p := testenv.NewPerson()
	id, _ := s.Register(p, "employment_registration")
	s.WaitForStatus(id, "pending")

	one := b.Window()
	signIn(one, s.URL, reviewer, first)
	changePassword(one, first, first+"-changed")
	one.Do(chromedp.WaitVisible(chromedp.ID("queue")))
	two := one.Tab()
	for _, w := range []*testenv.Window{one, two} {
		w.Do(chromedp.Navigate(s.URL+"/console/applications/"+id), chromedp.WaitVisible(chromedp.ID("decision-form")))
	}

	// A rejection without a reason: the field-level message, nothing decided.
	one.Do(chromedp.Click(chromedp.ID("decision-reject")), chromedp.Click(chromedp.ID("decision-submit")),
		chromedp.WaitVisible(chromedp.ID("reason-error")))
	require.Contains(t, one.Text("#reason-error"), "须说明理由")
	require.Equal(t, "pending", one.Attr("#app-status", "data-status"))

	// Approve in the first tab…
	one.Do(chromedp.Click(chromedp.ID("decision-approve")), chromedp.Click(chromedp.ID("decision-submit")),
		chromedp.WaitVisible(chromedp.ID("pickup-by-applicant")))
	// …then reject from the stale second tab.
	two.Do(chromedp.Click(chromedp.ID("decision-reject")),
		chromedp.SendKeys(chromedp.ID("f-reason"), "资料不全"),
		chromedp.Click(chromedp.ID("decision-submit")),
		chromedp.WaitVisible(chromedp.ID("problem")))
	require.Contains(t, two.Text("#problem"), "您的决定未被接受")
	require.Equal(t, "approved", two.Attr("#app-status", "data-status"))
	require.Equal(t, "已批准", two.Text("#app-status"))
	two.Do(chromedp.WaitNotPresent(chromedp.ID("decision-form")))
	two.Shot("second-decision-refused")

	var status string
	require.NoError(t, s.DB.Get(&status, `SELECT status FROM applications WHERE id = $1`, id))
	require.Equal(t, "approved", status)
	var decisions int
	require.NoError(t, s.DB.Get(&decisions, `SELECT count(*) FROM application_events WHERE application_id = $1
		AND kind IN ('approved', 'rejected', 'info_requested')`, id))
	require.Equal(t, 1, decisions, "the refused decision changed nothing")
	assertNoPersonalDataInURLs(t, b, p.Name, p.IDNumber, p.Mobile)
	AssertNoSecretsInHistory(t, s, []string{workflows.RegistrationWorkflowID(id)}, p.Name, p.IDNumber, p.Mobile, p.Address)
}
