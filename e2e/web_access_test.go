package e2e

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// Pages for everyone (issue 20; GB/T 37668-2019, WCAG 2.1 A/AA, the
// elder-friendly website guidelines). Every page a browser test opens is
// audited with axe-core (testenv.Window.Audit); these tests add the pages
// no other test opens, both languages, the elder-friendly mode and phones.

const (
	phoneWidth  = 375
	tabletWidth = 1024 // the console on a counter tablet
	phoneHeight = 740
)

// setMode switches the language and the elder-friendly mode with the
// page's own switches (kept in cookies for the next pages).
func setMode(t *testing.T, w *testenv.Window, lang string, elder bool) {
	t.Helper()
	htmlLang := map[string]string{"zh": "zh-CN", "en": "en"}[lang]
	if w.Attr("html", "lang") != htmlLang {
		w.Do(chromedp.Click(chromedp.ID("lang-switch")), chromedp.WaitReady(chromedp.CSS(`html[lang="`+htmlLang+`"]`)))
	}
	on := strings.Contains(" "+w.Attr("html", "class")+" ", " elder ")
	if on != elder {
		sel := `html.elder`
		if !elder {
			sel = `html:not(.elder)`
		}
		w.Do(chromedp.Click(chromedp.ID("elder-switch")), chromedp.WaitReady(chromedp.CSS(sel+` #elder-switch`)))
	}
}

// visit opens a page, waits for it, checks that it needs no sideways
// scrolling at the window's width (the audit runs after the step).
func visit(t *testing.T, w *testenv.Window, url string) {
	t.Helper()
	w.Do(chromedp.Navigate(url), chromedp.WaitVisible(chromedp.ID("main")))
	if n := w.SideScroll(); n > 0 {
		w.Shot("side-scroll")
		t.Errorf("%s scrolls sideways by %d px", url, n)
	}
}

// elderChecks: in the elder-friendly mode the body text is at least 18px,
// every button, menu link and form field is at least 44px high, nothing
// stands side by side in columns, and tables are lists.
func elderChecks(t *testing.T, w *testenv.Window) {
	t.Helper()
	problems := testenv.Run(w, chromedp.Evaluate[[]string](`(function () {
	  var out = [];
	  var px = function (el, p) { return parseFloat(getComputedStyle(el)[p]); };
	  if (px(document.body, "fontSize") < 18) { out.push("body text " + px(document.body, "fontSize") + "px"); }
	  document.querySelectorAll("main p, main li, main dd, main td, main label").forEach(function (el) {
	    if (el.offsetParent && px(el, "fontSize") < 18) { out.push("text " + el.tagName + " " + px(el, "fontSize") + "px"); }
	  });
	  document.querySelectorAll("button, .button, nav a, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea, fieldset label").forEach(function (el) {
	    var r = el.getBoundingClientRect();
	    if (el.offsetParent && r.height < 44) { out.push("target " + (el.id || el.tagName) + " " + r.height + "px high"); }
	  });
	  document.querySelectorAll(".cards, dl.facts").forEach(function (el) {
	    if (getComputedStyle(el).gridTemplateColumns.trim().split(/\s+/).length > 1) { out.push("columns in " + el.className); }
	  });
	  document.querySelectorAll("table").forEach(function (el) {
	    if (el.querySelector("thead") && !el.classList.contains("as-list")) { out.push("table " + (el.id || "") + " is not a list"); }
	  });
	  return out;
	})()`))
	if len(problems) > 0 {
		url := testenv.Run(w, chromedp.Location())
		if len(problems) > 8 {
			problems = append(problems[:8], "…")
		}
		t.Errorf("elder-friendly mode on %s: %s", url, strings.Join(problems, "; "))
	}
}

// focused is the id of the element that has the keyboard focus.
func focused(w *testenv.Window) string {
	return testenv.Run(w, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
}

// The registration and "my account" paths on a phone (375 px) in the
// elder-friendly mode, with the keyboard: the switch is kept from page to
// page; a refused form puts the focus on an error summary at the top that
// links to each field and keeps the values typed; the user's first
// sign-in, the forced change and "my account" with its tables as lists,
// and a warning of when the session ends.
func TestWebRegistrationAndMyAccountOnAPhoneInElderMode_C1_5_C3_2(t *testing.T) {
	b := testenv.NewBrowser(t)
	// Sessions shorter than the warning's lead: the warning shows at once.
	s := testenv.Start(t, testenv.Options{SessionTTL: 9 * time.Minute})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	p := testenv.NewPerson()

	applicant := b.Window()
	applicant.Viewport(phoneWidth, phoneHeight)
	visit(t, applicant, s.URL+"/")
	// The switch, with the keyboard.
	applicant.Do(chromedp.Focus(chromedp.ID("elder-switch")), chromedp.KeyEvent("\r"),
		chromedp.WaitReady(chromedp.CSS(`html.elder #elder-switch`)))
	require.Equal(t, "退出长者模式", applicant.Text("#elder-switch"))
	elderChecks(t, applicant)
	keepScreenshot(t, applicant.Shot("home-phone-elder"), "home-375-zh-elder.png")

	visit(t, applicant, s.URL+"/register")
	require.Equal(t, "elder", applicant.Attr("html", "class"), "the mode is kept in a cookie")
	elderChecks(t, applicant)
	badID := p.IDNumber[:17] + map[bool]string{true: "0", false: "1"}[p.IDNumber[17] != '0']
	applicant.Do(
		chromedp.SendKeys(chromedp.ID("f-name"), p.Name),
		chromedp.SendKeys(chromedp.ID("f-id_number"), badID),
		chromedp.SendKeys(chromedp.ID("f-mobile"), p.Mobile),
		chromedp.SendKeys(chromedp.ID("f-address"), p.Address),
		chromedp.Focus(chromedp.ID("register-submit")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.ID("problem")))
	// The summary has the focus, names each refused field and links to it.
	require.Equal(t, "problem", focused(applicant), "the error summary has the focus")
	require.Equal(t, "#f-id_number", applicant.Attr(`#problem a[href="#f-id_number"]`, "href"))
	require.Equal(t, "#f-agreed", applicant.Attr(`#problem a[href="#f-agreed"]`, "href"))
	require.Equal(t, p.Name, testenv.Run(applicant, chromedp.Value(chromedp.ID("f-name"))), "the form keeps what was typed")
	require.Equal(t, p.Address, testenv.Run(applicant, chromedp.Value(chromedp.ID("f-address"))))
	elderChecks(t, applicant)
	keepScreenshot(t, applicant.Shot("register-errors-phone-elder"), "register-errors-375-zh-elder.png")
	applicant.Do(chromedp.Focus(chromedp.CSS(`#problem a[href="#f-id_number"]`)), chromedp.KeyEvent("\r"))
	testenv.Eventually(t, testenv.StepTimeout, "the focus on the refused field", func() bool { return focused(applicant) == "f-id_number" })

	applicant.Do(
		chromedp.Clear(chromedp.ID("f-id_number")),
		chromedp.SendKeys(chromedp.ID("f-id_number"), p.IDNumber),
		chromedp.Click(chromedp.CSS(`input[name="services"][value="social_insurance_query"]`)),
		chromedp.Focus(chromedp.ID("f-agreed")), chromedp.KeyEvent(" "),
		chromedp.Focus(chromedp.ID("register-submit")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.ID("follow-token")))
	id, follow := applicant.Text("#application-id"), applicant.Text("#follow-token")
	require.NoError(t, uuid.Validate(id))
	s.WaitForStatus(id, "pending")
	applicant.Do(chromedp.Click(chromedp.ID("follow-link")), chromedp.WaitVisible(chromedp.ID("app-status")))
	require.Equal(t, "待审核", applicant.Text("#app-status"), "the status reads in words")
	if n := applicant.SideScroll(); n > 0 {
		t.Errorf("the follow page scrolls sideways by %d px", n)
	}
	elderChecks(t, applicant)

	// Approved at the counter (through the API), the initial password picked up.
	s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "approve"}, testenv.Bearer(reviewer)), http.StatusOK)
	initial := s.PickUp(id, follow, p.Mobile)

	// The user, on their own phone, elder-friendly mode on.
	user := b.Window()
	user.Viewport(phoneWidth, phoneHeight)
	visit(t, user, s.URL+"/signin")
	setMode(t, user, "zh", true)
	signIn(user, s.URL, p.IDNumber, initial)
	newPw := "Elder-Home-Pass-" + uuid.NewString()[:6]
	changePassword(user, initial, newPw)
	user.Do(chromedp.WaitVisible(chromedp.ID("agreement")))
	require.Equal(t, p.Name, user.Text("#account-name"))
	// The session's fixed end is announced before it comes.
	require.Contains(t, user.Text("#session-warning"), "自动结束")
	require.Equal(t, "status", user.Attr("#session-warning", "role"))
	require.Contains(t, user.Attr("#services", "class"), "as-list", "the services table is a list")
	require.Contains(t, user.Text(`#services tr[data-code="social_insurance_query"]`), "已开通")
	if n := user.SideScroll(); n > 0 {
		t.Errorf("my account scrolls sideways by %d px", n)
	}
	elderChecks(t, user)
	keepScreenshot(t, user.Shot("my-account-phone-elder"), "my-account-375-zh-elder.png")
	// Each page of "my account", with the keyboard from the menu.
	for _, link := range []string{"link-details", "link-notices", "link-activity", "link-terms", "link-security"} {
		user.Do(chromedp.Navigate(s.URL+"/account"), chromedp.WaitVisible(chromedp.ID("account-menu")),
			chromedp.Focus(chromedp.ID(link)), chromedp.KeyEvent("\r"),
			chromedp.WaitNotPresent(chromedp.ID("account-menu")), chromedp.WaitVisible(chromedp.ID("main")))
		if n := user.SideScroll(); n > 0 {
			t.Errorf("%s scrolls sideways by %d px", link, n)
		}
		elderChecks(t, user)
	}
	// And back to the normal mode.
	setMode(t, user, "zh", false)
	require.Equal(t, "长者模式", user.Text("#elder-switch"))
	assertNoPersonalDataInURLs(t, b, p.Name, p.IDNumber, badID, p.Mobile, p.Address, initial, newPw)
}

// links lists the local links of the page's main part under prefix, one
// per route (IDs stand for any ID), leaving out downloads.
func links(w *testenv.Window, prefix string) []string {
	all := testenv.Run(w, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("main a[href^='`+prefix+`']"))
	  .map(function (a) { return a.getAttribute("href"); })`))
	seen, out := map[string]bool{}, []string(nil)
	for _, h := range all {
		if strings.ContainsAny(h, "?#") || strings.Contains(h, "export") {
			continue
		}
		route := idSegment.ReplaceAllString(h, "/:id")
		if !seen[route] {
			seen[route] = true
			out = append(out, h)
		}
	}
	return out
}

var idSegment = regexp.MustCompile(`/[0-9a-fA-F-]{8,}`)

// screenshots: with UPDATE_SCREENSHOTS=1, the page at the window's width
// and at 1280 px goes into docs/screenshots (README).
func screenshots(t *testing.T, w *testenv.Window, name string, width, height int64, mode string) {
	t.Helper()
	if os.Getenv("UPDATE_SCREENSHOTS") != "1" {
		return
	}
	keepScreenshot(t, w.Shot(name), fmt.Sprintf("%s-%d-%s.png", name, width, mode))
	w.Viewport(1280, 900)
	keepScreenshot(t, w.Shot(name), fmt.Sprintf("%s-1280-%s.png", name, mode))
	w.Viewport(width, height)
}

// Every main page, for the applicant, a user and each staff role, in
// Chinese and in English, in the normal and the elder-friendly mode:
// axe-core finds no WCAG 2.1 A/AA violation, no applicant or user page
// scrolls sideways at 375 px, no console page at 1024 px.
func TestWebEveryPageAccessibleInBothLanguagesAndModes_C1_1(t *testing.T) {
	b := testenv.NewBrowser(t)
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	// Something in the reviewer's queue.
	pending, _ := s.Register(testenv.NewPerson(), "employment_registration")
	s.WaitForStatus(pending, "pending")

	// Two passes a window: Chinese in the normal mode, English in the
	// elder-friendly mode. The first pass also follows the links of each
	// page under prefix (one a route), so that detail pages are audited.
	// shots names the pages kept as screenshots.
	// seen: the routes audited so far; a staff role's walk leaves out the
	// console pages an earlier role's walk audited (but not its own start page).
	seen := map[string]bool{}
	walk := func(w *testenv.Window, width, height int64, prefix string, pages []string, shots map[string]string) {
		for _, p := range pages {
			seen[idSegment.ReplaceAllString(p, "/:id")] = true
		}
		for pass, mode := range []struct {
			lang  string
			elder bool
		}{{"zh", false}, {"en", true}} {
			visit(t, w, s.URL+pages[0])
			setMode(t, w, mode.lang, mode.elder)
			for i := 0; i < len(pages); i++ {
				visit(t, w, s.URL+pages[i])
				if mode.elder {
					elderChecks(t, w)
				}
				if name := shots[pages[i]]; name != "" {
					screenshots(t, w, name, width, height, mode.lang+map[bool]string{false: "-normal", true: "-elder"}[mode.elder])
				}
				if pass == 0 && prefix != "" {
					for _, l := range links(w, prefix) {
						if r := idSegment.ReplaceAllString(l, "/:id"); !seen[r] {
							seen[r] = true
							pages = append(pages, l)
						}
					}
				}
			}
		}
		t.Logf("audited: %v", pages)
	}

	// The applicant (not signed in), on a phone.
	applicant := b.Window()
	applicant.Viewport(phoneWidth, phoneHeight)
	walk(applicant, phoneWidth, phoneHeight, "", []string{"/", "/register", "/follow", "/signin", "/security-report"},
		map[string]string{"/": "home", "/register": "register"})

	// A user, on a phone: every page of "my account".
	user := b.Window()
	user.Viewport(phoneWidth, phoneHeight)
	signIn(user, s.URL, u.IDNumber, u.Password)
	user.Do(chromedp.WaitVisible(chromedp.ID("account-menu")))
	walk(user, phoneWidth, phoneHeight, "/account", []string{"/account", "/account/details", "/account/notices", "/account/activity", "/account/terms",
		"/account/cases", "/account/consents", "/account/disclosures", "/account/deregistration", "/account/security", "/account/export", "/password"},
		map[string]string{"/account": "my-account", "/account/activity": "activity"})

	// Each staff role, on the counter's tablet: the console, every page
	// its menu links to and one page of each kind these link to.
	for _, role := range workflows.AllRoles {
		w := b.Window()
		w.Viewport(tabletWidth, 768)
		name, first := staffAccount(t, s, role)
		signIn(w, s.URL, name, first)
		changePassword(w, first, first+"-changed")
		w.Do(chromedp.WaitVisible(chromedp.ID("console-menu")))
		shots := map[string]string{}
		if role == workflows.RoleReviewer {
			shots["/console"] = "review-queue"
		}
		walk(w, tabletWidth, 768, "/console", []string{"/console"}, shots)
	}
	require.Greater(t, b.Audited(), 60, "pages audited")
}
