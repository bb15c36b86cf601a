package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
)

// Sign-in, sign-out, the (forced) password change and "my account", over
// POST /v1/sessions, DELETE /v1/sessions/current, PUT /v1/me/password and
// GET /v1/me.
func (a *app) accountPages() {
	a.get("/signin", a.signInPage)
	a.post("/signin", a.signIn)
	a.post("/signout", a.signOut)
	a.get("/password", a.passwordPage)
	a.post("/password", a.changePassword)
	a.get("/account", a.accountPage)
	a.secondFactorPages()
}

func init() {
	addMessages(map[string][2]string{
		"signin.title":         {"登录", "Sign in"},
		"signin.intro":         {"用户请以公民身份号码登录，工作人员请以用户名登录。", "Users sign in with their resident ID number, staff with their username."},
		"signin.username":      {"身份证号或用户名", "ID number or username"},
		"field.username":       {"用户名", "Username"},
		"field.password":       {"密码", "Password"},
		"signin.submit":        {"登录", "Sign in"},
		"notice.signed_out":    {"您已退出登录。", "You are signed out."},
		"notice.signin_first":  {"请先登录。", "Please sign in first."},
		"password.title":       {"修改密码", "Change your password"},
		"password.forced":      {"首次登录须先修改初始密码，修改前不能使用其他功能。", "You must change your initial password before you can do anything else."},
		"password.policy":      {"新密码长度为10至128个字符，不能包含身份证号、手机号或姓名。", "The new password has 10 to 128 characters and must not contain your ID number, mobile number or name."},
		"field.old_password":   {"当前密码", "Current password"},
		"field.new_password":   {"新密码", "New password"},
		"field.new_password2":  {"再次输入新密码", "New password again"},
		"password.mismatch":    {"两次输入的新密码不一致", "the two new passwords differ"},
		"password.submit":      {"修改密码", "Change password"},
		"notice.password_done": {"密码已修改，其他设备上的登录已失效。", "Your password is changed; your sessions on other devices have ended."},
		"account.title":        {"我的账户", "My account"},
		"account.details":      {"账户信息", "Account"},
		"account.username":     {"用户名（身份证号）", "Username (ID number)"},
		"account.name":         {"姓名", "Name"},
		"account.status":       {"状态", "Status"},
		"account.opened":       {"开通时间", "Opened"},
		"account.mobile":       {"手机号码", "Mobile"},
		"account.address":      {"联系地址", "Address"},
		"account.pw_changed":   {"密码最近修改", "Password last changed"},
		"account.change_pw":    {"修改密码", "Change password"},
		"account.services":     {"已开通的服务", "Services"},
		"account.service":      {"服务", "Service"},
		"account.no_services":  {"尚未开通任何服务。", "No service is open."},
		"account.agreement":    {"用户承诺书", "User agreement"},
		"account.terms":        {"承诺书版本", "Terms version"},
		"account.channel":      {"签署渠道", "Channel"},
		"account.accepted":     {"同意时间", "Agreed on"},
		"account.effective":    {"生效时间", "In force since"},
		"account.until":        {"终止时间", "Ended"},
		"account.in_force":     {"是否有效", "In force"},
		"status.active":        {"正常", "active"},
		"status.suspended":     {"已暂停", "suspended"},
		"status.open":          {"已开通", "open"},
		"status.closed":        {"已关闭", "closed"},
	})
}

func (a *app) signInPage(c echo.Context) error {
	return render(c, http.StatusOK, "account/signin.html", view{Title: "signin.title"})
}

type sessionAnswer struct {
	Token      string    `json:"token"`
	MustChange bool      `json:"must_change_password"`
	MustEnrol  bool      `json:"must_enrol_second_factor"`
	Kind       string    `json:"kind"`
	ExpiresAt  time.Time `json:"expires_at"`
	// IdleSeconds: staff only, the session ends after this long unused.
	IdleSeconds int `json:"idle_timeout_seconds"`
	// A right password of someone with a second factor: the challenge
	// (expires_at is then the challenge's).
	Required  bool   `json:"second_factor_required"`
	Challenge string `json:"challenge"`
}

func (a *app) signIn(c echo.Context) error {
	username := c.FormValue("username")
	// A session still in this browser (a shared tablet at the counter) ends
	// before another person signs in.
	if sessionToken(c) != "" {
		_ = a.call(c, asSignedIn, http.MethodDelete, "/v1/sessions/current", nil, nil)
	}
	var s sessionAnswer
	if e := a.call(c, anonymous, http.MethodPost, "/v1/sessions",
		map[string]string{"username": username, "password": c.FormValue("password")}, &s); e != nil {
		clearSession(c)
		if e.Status >= 500 {
			return fail(c, e)
		}
		return render(c, e.Status, "account/signin.html", view{Title: "signin.title", Err: e,
			Form: url.Values{"username": {username}}})
	}
	if s.Required {
		clearSession(c)
		return toCodePrompt(c, s.Challenge, s.ExpiresAt)
	}
	return startSignedIn(c, s) // web/secondfactor.go
}

func clearSession(c echo.Context) {
	for _, name := range []string{sessionCookie, kindCookie, restrictedCookie, sessionEndCookie, idleCookie} {
		if cookieValue(c, name) != "" {
			setCookie(c, name, "", -1)
		}
	}
}

func (a *app) signOut(c echo.Context) error {
	if sessionToken(c) != "" {
		_ = a.call(c, asSignedIn, http.MethodDelete, "/v1/sessions/current", nil, nil)
	}
	clearSession(c)
	if cookieValue(c, followCookie) != "" {
		setCookie(c, followCookie, "", -1)
	}
	renewCSRF(c)
	return c.Redirect(http.StatusSeeOther, "/signin?notice=signed_out")
}

// needSignIn handles the API answers that mean the person is not (fully)
// signed in: no session (to the sign-in page) or an initial password that
// must be changed first (to the password page).
func needSignIn(c echo.Context, e *apiError) (bool, error) {
	switch {
	case e == nil:
		return false, nil
	case e.Status == http.StatusUnauthorized:
		clearSession(c)
		return true, c.Redirect(http.StatusSeeOther, "/signin?notice=signin_first")
	case e.Code == "password_change_required":
		return true, c.Redirect(http.StatusSeeOther, "/password")
	case e.Code == "second_factor_enrolment_required":
		return true, c.Redirect(http.StatusSeeOther, "/second-factor")
	case e.Code == "reauthentication_required":
		return true, c.Redirect(http.StatusSeeOther, "/reauth?next="+url.QueryEscape(reauthNext(c)))
	}
	return false, nil
}

// accountService is one of a user's services as GET /v1/me lists it.
type accountService struct {
	Code     string    `json:"code"`
	NameZH   string    `json:"name_zh"`
	NameEN   string    `json:"name_en"`
	Status   string    `json:"status"`
	OpenedAt time.Time `json:"opened_at"`
	// InterruptedUntil: a planned interruption pauses the service until
	// then (zero: none, C2.7).
	InterruptedUntil time.Time `json:"interrupted_until"`
}

// meAnswer is GET /v1/me.
type meAnswer struct {
	Kind  string `json:"kind"`
	Staff struct {
		ID       string   `json:"id"`
		Username string   `json:"username"`
		Name     string   `json:"name"`
		Roles    []string `json:"roles"`
		Office   string   `json:"office"`
	} `json:"staff"`
	MustEnrol    bool `json:"must_enrol_second_factor"`
	SecondFactor struct {
		Enrolled bool `json:"enrolled"`
	} `json:"second_factor"`
	Account struct {
		ID                string    `json:"id"`
		Username          string    `json:"username"`
		Status            string    `json:"status"`
		Name              string    `json:"name"`
		Mobile            string    `json:"mobile"`
		Email             string    `json:"email"`
		Address           string    `json:"address"`
		OpenedAt          time.Time `json:"opened_at"`
		PasswordChangedAt time.Time `json:"password_changed_at"`
	} `json:"account"`
	Services  []accountService `json:"services"`
	Agreement struct {
		TermsVersion   string     `json:"terms_version"`
		Channel        string     `json:"channel"`
		AcceptedAt     time.Time  `json:"accepted_at"`
		EffectiveFrom  time.Time  `json:"effective_from"`
		EffectiveUntil *time.Time `json:"effective_until"`
		InForce        bool       `json:"in_force"`
	} `json:"agreement"`
}

func (a *app) me(c echo.Context) (*meAnswer, *apiError) {
	var me meAnswer
	if e := a.call(c, asSignedIn, http.MethodGet, "/v1/me", nil, &me); e != nil {
		return nil, e
	}
	return &me, nil
}

func (a *app) passwordPage(c echo.Context) error {
	if sessionToken(c) == "" {
		return c.Redirect(http.StatusSeeOther, "/signin?notice=signin_first")
	}
	_, e := a.me(c)
	forced := e != nil && e.Code == "password_change_required"
	if e != nil && !forced {
		if done, err := needSignIn(c, e); done {
			return err
		}
		return fail(c, e)
	}
	return render(c, http.StatusOK, "account/password.html", view{Title: "password.title", Data: forced})
}

func (a *app) changePassword(c echo.Context) error {
	if sessionToken(c) == "" {
		return c.Redirect(http.StatusSeeOther, "/signin?notice=signin_first")
	}
	oldPw, newPw := c.FormValue("old_password"), c.FormValue("new_password")
	again := func(e *apiError, fields map[string][]fieldError) error {
		_, me := a.me(c)
		forced := me != nil && me.Code == "password_change_required"
		return render(c, http.StatusUnprocessableEntity, "account/password.html",
			view{Title: "password.title", Err: e, Fields: fields, Data: forced})
	}
	if newPw != c.FormValue("new_password2") {
		return again(nil, map[string][]fieldError{"new_password2": {{Field: "new_password2", Code: "mismatch",
			MessageZH: text("zh", "password.mismatch"), MessageEN: text("en", "password.mismatch")}}})
	}
	e := a.call(c, asSignedIn, http.MethodPut, "/v1/me/password",
		map[string]string{"old_password": oldPw, "new_password": newPw}, nil)
	if e != nil {
		if e.Code == "wrong_password" {
			return again(e, map[string][]fieldError{"old_password": {{Field: "old_password", Code: e.Code,
				MessageZH: e.MessageZH, MessageEN: e.MessageEN}}})
		}
		if e.Status == http.StatusUnprocessableEntity {
			return again(e, nil)
		}
		if done, err := needSignIn(c, e); done {
			return err
		}
		return fail(c, e)
	}
	if cookieValue(c, kindCookie) == "staff" {
		return c.Redirect(http.StatusSeeOther, "/console?notice=password_done")
	}
	return c.Redirect(http.StatusSeeOther, "/account?notice=password_done")
}

func (a *app) accountPage(c echo.Context) error {
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
	if me.Kind == "staff" {
		return c.Redirect(http.StatusSeeOther, "/console")
	}
	return render(c, http.StatusOK, "account/account.html", view{Title: "account.title", Data: me})
}
