package web

import (
	"fmt"
	"html/template"
	"net/http"

	"strings"
	"time"

	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"
)

// The second factor in the pages (api/secondfactor.go): the code prompt
// after a right password (/signin/code, the challenge kept in a short-lived
// HttpOnly cookie), the enrolment page with the QR code and the secret in
// text (/second-factor), and the recovery codes, shown once with a print
// view.

const challengeCookie = "hrss_challenge"

func (a *app) secondFactorPages() {
	a.get("/signin/code", a.codePage)
	a.post("/signin/code", a.answerCode)
	a.get("/second-factor", a.enrolPage)
	a.post("/second-factor", a.startEnrolment)
	a.post("/second-factor/confirm", a.confirmEnrolment)
	a.get("/reauth", a.reauthPage)
	a.post("/reauth", a.reauth)
}

func init() {
	addMessages(map[string][2]string{
		"code.title":        {"输入动态验证码", "Enter your code"},
		"code.intro":        {"请打开身份验证器应用，输入其中显示的6位动态验证码；手机不在身边时，可输入一个恢复码。", "Open your authenticator app and enter the 6-digit code it shows; without your phone, enter one of your recovery codes."},
		"field.code":        {"动态验证码或恢复码", "Code or recovery code"},
		"code.submit":       {"验证并登录", "Verify and sign in"},
		"notice.code_again": {"验证已过期，请重新登录。", "The sign-in step expired; sign in again."},
		"enrol.title":       {"设置动态验证码", "Set up your second factor"},
		"enrol.why":         {"工作人员须以密码和动态验证码两重身份验证登录。设置完成前，只能修改密码和完成本设置。", "Staff sign in with a password and a one-time code. Until this is set up you can only change your password and finish this setup."},
		"enrol.optional":    {"开启后，登录时除密码外还须输入身份验证器应用中的动态验证码。", "Once on, signing in asks for the code from your authenticator app besides the password."},
		"enrol.start":       {"开始设置", "Start"},
		"enrol.scan":        {"用身份验证器应用（如 FreeOTP、Google Authenticator 或命令行 oathtool）扫描二维码，或手工输入下面的密钥。", "Scan the QR code with an authenticator app (FreeOTP, Google Authenticator or oathtool on the command line), or type in the secret below."},
		"enrol.secret":      {"密钥", "Secret"},
		"enrol.confirm":     {"输入应用显示的6位验证码以确认", "Enter the 6-digit code the app shows to confirm"},
		"enrol.submit":      {"确认", "Confirm"},
		"enrol.done":        {"已开启动态验证码。", "Your second factor is on."},
		"recovery.title":    {"恢复码", "Recovery codes"},
		"recovery.once":     {"这些恢复码只显示这一次。请打印或抄下，妥善保管；手机丢失时，每个恢复码可代替动态验证码使用一次。", "These recovery codes are shown this once. Print or copy them and keep them safe: each one replaces a code once if you lose your phone."},
		"recovery.print":    {"打印", "Print"},
		"recovery.continue": {"继续", "Continue"},
		"enrol.password":    {"当前密码（开启前须再次输入）", "Your current password (entered again to turn it on)"},
		"reauth.title":      {"再次验证身份", "Confirm it is you"},
		"reauth.intro":      {"导出数据、修改工作人员等敏感操作前，须在10分钟内输入过动态验证码。验证后请重新提交。", "Sensitive actions (exports, staff changes) need a code entered within the last 10 minutes. After this, submit again."},
		"reauth.submit":     {"验证", "Verify"},
	})
}

// toCodePrompt keeps the challenge for the code page.
func toCodePrompt(c echo.Context, challenge string, expires time.Time) error {
	setCookie(c, challengeCookie, challenge, max(int(time.Until(expires).Seconds()), 1))
	return c.Redirect(http.StatusSeeOther, "/signin/code")
}

func (a *app) codePage(c echo.Context) error {
	if cookieValue(c, challengeCookie) == "" {
		return c.Redirect(http.StatusSeeOther, "/signin?notice=code_again")
	}
	return render(c, http.StatusOK, "account/code.html", view{Title: "code.title"})
}

func (a *app) answerCode(c echo.Context) error {
	ch := cookieValue(c, challengeCookie)
	if ch == "" {
		return c.Redirect(http.StatusSeeOther, "/signin?notice=code_again")
	}
	var s sessionAnswer
	e := a.call(c, anonymous, http.MethodPost, "/v1/sessions/second-factor",
		map[string]string{"challenge": ch, "code": strings.TrimSpace(c.FormValue("code"))}, &s)
	switch {
	case e == nil:
		setCookie(c, challengeCookie, "", -1)
		return startSignedIn(c, s)
	case e.Code == "challenge_invalid":
		setCookie(c, challengeCookie, "", -1)
		return c.Redirect(http.StatusSeeOther, "/signin?notice=code_again")
	case e.Status >= 500:
		return fail(c, e)
	}
	return render(c, e.Status, "account/code.html", view{Title: "code.title", Err: e, Back: "/signin/code"})
}

// enrolPage: staff who must, or anyone from "my account", start here.
func (a *app) enrolPage(c echo.Context) error {
	if sessionToken(c) == "" {
		return c.Redirect(http.StatusSeeOther, "/signin?notice=signin_first")
	}
	me, e := a.me(c)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		return fail(c, e)
	}
	return render(c, http.StatusOK, "account/enrol.html", view{Title: "enrol.title", Data: enrolView{
		Must: me.MustEnrol, Enrolled: me.SecondFactor.Enrolled}})
}

type enrolView struct {
	Must, Enrolled bool
	Secret         string
	QR             template.HTML
}

func (a *app) startEnrolment(c echo.Context) error {
	var out struct {
		Secret string `json:"secret"`
		URI    string `json:"otpauth_uri"`
	}
	// A user confirms with the current password (staff forms have none).
	var body any
	if pw := c.FormValue("password"); pw != "" {
		body = map[string]string{"password": pw}
	}
	if e := a.call(c, asSignedIn, http.MethodPost, "/v1/me/second-factor", body, &out); e != nil {
		if done, err := needSignIn(c, e); done {
			return err
		}
		if e.Code == "second_factor_already_enrolled" {
			return c.Redirect(http.StatusSeeOther, "/second-factor")
		}
		if e.Status == http.StatusUnprocessableEntity || e.Status == http.StatusTooManyRequests {
			return render(c, e.Status, "account/enrol.html", view{Title: "enrol.title", Err: e, Back: "/second-factor", Data: enrolView{}})
		}
		return fail(c, e)
	}
	qr, err := qrSVG(out.URI)
	if err != nil {
		return err
	}
	me, _ := a.me(c)
	must := me != nil && me.MustEnrol
	return render(c, http.StatusOK, "account/enrol.html", view{Title: "enrol.title", Back: "/second-factor",
		Data: enrolView{Must: must, Secret: out.Secret, QR: qr}})
}

func (a *app) confirmEnrolment(c echo.Context) error {
	var out struct {
		Codes []string `json:"recovery_codes"`
	}
	e := a.call(c, asSignedIn, http.MethodPost, "/v1/me/second-factor/confirm",
		map[string]string{"code": strings.TrimSpace(c.FormValue("code"))}, &out)
	if e != nil {
		if e.Code != "second_factor_failed" {
			if done, err := needSignIn(c, e); done {
				return err
			}
		}
		if e.Status >= 500 {
			return fail(c, e)
		}
		// The secret is not shown again: a wrong code starts over.
		return render(c, e.Status, "account/enrol.html", view{Title: "enrol.title", Err: e, Back: "/second-factor",
			Data: enrolView{Must: cookieValue(c, kindCookie) == "staff"}})
	}
	next := "/account"
	if cookieValue(c, kindCookie) == "staff" {
		next = "/console"
	}
	return render(c, http.StatusOK, "account/recovery.html", view{Title: "recovery.title", Back: "/second-factor",
		Data: map[string]any{"Codes": out.Codes, "Next": next}})
}

// qrSVG draws the otpauth URI as an inline SVG (the pages' policy allows
// no data: images), one square per dark module.
func qrSVG(uri string) (template.HTML, error) {
	q, err := qrcode.New(uri, qrcode.Medium)
	if err != nil {
		return "", err
	}
	bm := q.Bitmap()
	n := len(bm)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" id="totp-qr" role="img" aria-labelledby="totp-qr-title" viewBox="0 0 %d %d" width="256" height="256" shape-rendering="crispEdges"><title id="totp-qr-title">QR</title><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n, n, n)
	for y, row := range bm {
		for x, dark := range row {
			if dark {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x, y)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()), nil // built here from numbers only
}

// startSignedIn sets the session cookies and sends the person on: to the
// forced password change, the second-factor enrolment, or their start page.
func startSignedIn(c echo.Context, s sessionAnswer) error {
	if restrictedToken(c) != "" {
		setCookie(c, restrictedCookie, "", -1)
	}
	// Session cookies (no Max-Age): closing the browser of a shared tablet
	// at the counter ends them; the API ends the session itself at its
	// expiry, and a staff session after an idle time (C3.3(1)).
	setCookie(c, sessionCookie, s.Token, 0)
	setCookie(c, kindCookie, s.Kind, 0)
	setSessionEnd(c, s.ExpiresAt)
	setIdleWindow(c, s.IdleSeconds)
	renewCSRF(c)
	switch {
	case s.MustChange:
		return c.Redirect(http.StatusSeeOther, "/password")
	case s.MustEnrol:
		return c.Redirect(http.StatusSeeOther, "/second-factor")
	case s.Kind == "staff":
		return c.Redirect(http.StatusSeeOther, "/console")
	default:
		return c.Redirect(http.StatusSeeOther, "/account")
	}
}

// reauthNext is where the person goes back to after re-authenticating: the
// page itself for a GET, the page of the form for a POST (the form is sent
// again by hand).
func reauthNext(c echo.Context) string {
	p := c.Request().URL.Path
	if c.Request().Method == http.MethodGet {
		return c.Request().URL.RequestURI()
	}
	for _, suffix := range []string{"/export", "/password"} {
		if strings.HasSuffix(p, suffix) {
			return strings.TrimSuffix(p, suffix)
		}
	}
	return p
}

// safeNext keeps a redirect on this site.
func safeNext(next string) string {
	path, _, _ := strings.Cut(next, "?")
	if localPath(path) != path || strings.ContainsFunc(next, isControl) {
		return "/console"
	}
	return next
}

func (a *app) reauthPage(c echo.Context) error {
	if sessionToken(c) == "" {
		return c.Redirect(http.StatusSeeOther, "/signin?notice=signin_first")
	}
	return render(c, http.StatusOK, "account/reauth.html", view{Title: "reauth.title",
		Form: map[string][]string{"next": {safeNext(c.QueryParam("next"))}}})
}

func (a *app) reauth(c echo.Context) error {
	next := safeNext(c.FormValue("next"))
	e := a.call(c, asSignedIn, http.MethodPost, "/v1/sessions/reauth",
		map[string]string{"code": strings.TrimSpace(c.FormValue("code"))}, nil)
	if e == nil {
		return c.Redirect(http.StatusSeeOther, next)
	}
	if e.Code != "second_factor_failed" {
		if done, err := needSignIn(c, e); done {
			return err
		}
	}
	if e.Status >= 500 {
		return fail(c, e)
	}
	return render(c, e.Status, "account/reauth.html", view{Title: "reauth.title", Err: e, Back: "/reauth",
		Form: map[string][]string{"next": {next}}})
}
