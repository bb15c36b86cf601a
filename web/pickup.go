package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// The applicant's own pickup of the initial password (issue 18, C1.5):
// on the follow page of an approved online or kiosk application, a code is
// sent to the verified mobile (POST /v1/verification-codes, purpose
// pickup, with the follow token) and, with it, the initial password is
// shown once (POST /v1/registrations/{id}/initial-password) on a page that
// answers the POST: never in a URL, not cached (every page is no-store),
// never logged. Refusals (wrong code, window over, already picked up) come
// back on the follow page with the API's own bilingual message.

func init() {
	addMessages(map[string][2]string{
		"pickup.title":       {"领取初始密码", "Pick up the initial password"},
		"pickup.intro":       {"您的注册申请已批准。请先获取短信验证码（发送到申请时验证的手机号），再凭验证码领取初始密码。初始密码只能领取一次，首次登录时须修改；超过领取时限请持身份证到服务窗口重置。", "Your registration is approved. First get a code by SMS (sent to the mobile number verified with the application), then pick up the initial password with it. You can pick it up once only and must change it at first sign-in; after the pickup window, come to a service counter with your ID card."},
		"pickup.send_code":   {"发送验证码", "Send me a code"},
		"pickup.submit":      {"领取初始密码", "Show the initial password"},
		"field.mobile_code":  {"短信验证码", "Code from the SMS"},
		"notice.pickup_code": {"验证码已发送到申请时验证的手机号，10分钟内有效。", "A code was sent to the mobile number verified with the application; it is valid for 10 minutes."},
		"pickup.done_title":  {"您的初始密码", "Your initial password"},
		"pickup.once":        {"初始密码只显示这一次，请立即记下或直接登录修改。关闭本页后无法再次查看。", "The initial password is shown this once: write it down or sign in and change it now. It cannot be shown again."},
		"pickup.username":    {"用户名（公民身份号码）", "Username (resident ID number)"},
		"pickup.password":    {"初始密码", "Initial password"},
		"pickup.change":      {"首次登录时须修改初始密码。", "You must change it when you first sign in."},
		"pickup.signin":      {"现在登录", "Sign in now"},
	})
}

func (a *app) pickupPages() {
	a.post("/follow/pickup-code", a.pickupCode)
	a.post("/follow/pickup", a.pickUpOwn)
	a.post("/register/code", a.registerCode) // web/mobilecode.go
}

// pickupCode asks for a code to the application's verified mobile.
func (a *app) pickupCode(c echo.Context) error {
	id, token := followCredentials(c)
	if id == "" || token == "" {
		return c.Redirect(http.StatusSeeOther, "/follow")
	}
	var app application
	if e := a.call(c, anonymous, http.MethodGet, "/v1/registrations/"+url.PathEscape(id), nil, &app, "X-Follow-Token", token); e != nil {
		if e.Status >= 500 {
			return fail(c, e)
		}
		return a.showFollow(c, e.Status, view{Err: e})
	}
	req := map[string]any{"mobile": app.Applicant.Mobile, "purpose": "pickup", "application_id": id}
	if e := a.call(c, anonymous, http.MethodPost, "/v1/verification-codes", req, nil, "X-Follow-Token", token); e != nil {
		if e.Status >= 500 && e.Status != http.StatusServiceUnavailable {
			return fail(c, e)
		}
		return a.showFollow(c, e.Status, view{Err: e})
	}
	return c.Redirect(http.StatusSeeOther, "/follow?notice=pickup_code#pickup")
}

type pickedUp struct {
	Username        string `json:"username"`
	InitialPassword string `json:"initial_password"`
}

// pickUpOwn shows the initial password once, in answer to the POST.
func (a *app) pickUpOwn(c echo.Context) error {
	id, token := followCredentials(c)
	if id == "" || token == "" {
		return c.Redirect(http.StatusSeeOther, "/follow")
	}
	var out pickedUp
	req := map[string]any{"mobile_code": strings.TrimSpace(c.FormValue("mobile_code"))}
	if e := a.call(c, anonymous, http.MethodPost, "/v1/registrations/"+url.PathEscape(id)+"/initial-password", req, &out,
		"X-Follow-Token", token); e != nil {
		if e.Status >= 500 {
			return fail(c, e)
		}
		return a.showFollow(c, e.Status, view{Err: e})
	}
	return render(c, http.StatusOK, "registration/pickup.html", view{Title: "pickup.done_title", Data: out, Back: "/follow"})
}
