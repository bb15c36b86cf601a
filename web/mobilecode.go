package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// The registration form's verified mobile (issue 18, C1.5): online
// applicants prove the number before the application is accepted. The
// form's "send code" button posts the whole form here (formaction): a code
// goes to the typed number (POST /v1/verification-codes, purpose
// registration) and the form comes back with everything typed kept, ready
// for the code (mobile_code, sent on with the application).

func init() {
	addMessages(map[string][2]string{
		"register.send_code":   {"发送验证码到此手机号", "Send a code to this number"},
		"register.code_hint":   {"请先获取并填写发送到上述手机号的短信验证码（10分钟内有效）。", "Get the code sent by SMS to the number above and enter it (valid for 10 minutes)."},
		"notice.register_code": {"验证码已发送，请查看短信并填写。", "A code was sent: enter it from the SMS."},
	})
}

func (a *app) registerCode(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return a.registerForm(c, http.StatusBadRequest, view{Problem: "error.unexpected"})
	}
	form.Del("csrf")
	req := map[string]any{"mobile": strings.TrimSpace(form.Get("mobile")), "purpose": "registration", "language": language(c)}
	if e := a.call(c, anonymous, http.MethodPost, "/v1/verification-codes", req, nil); e != nil {
		if e.Status >= 500 && e.Status != http.StatusServiceUnavailable {
			return fail(c, e)
		}
		return a.registerForm(c, e.Status, view{Err: e, Form: form})
	}
	form.Del("mobile_code")
	return a.registerForm(c, http.StatusOK, view{Notice: "notice.register_code", Form: form})
}
