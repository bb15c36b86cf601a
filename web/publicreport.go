package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// The public compromise report (C3.3(3)): someone who cannot sign in —
// the password was changed by whoever took the account — reports with the
// ID number and mobile number (POST /v1/security-reports). The answer is
// the same whether or not they match an account; a match locks it.
func (a *app) publicReportPages() {
	a.get("/security-report", a.publicReportPage)
	a.post("/security-report", a.publicReport)
}

func init() {
	addMessages(map[string][2]string{
		"preport.title":  {"报告账户被盗用", "Report a stolen account"},
		"preport.intro":  {"无法登录、怀疑账户被他人使用时，请填写登记的身份证号码和手机号码。信息相符的账户将立即锁定，之后请携带本人有效身份证件到任一经办服务机构重置密码。", "If you cannot sign in and think someone else uses your account, give the registered ID number and mobile number. A matching account is locked at once; then bring your identity document to a service office to reset the password."},
		"preport.submit": {"提交报告", "Send the report"},
		"preport.link":   {"账户被盗用？", "Account stolen?"},
		"preport.done":   {"报告已收到", "Report received"},
	})
}

func (a *app) publicReportPage(c echo.Context) error {
	return render(c, http.StatusOK, "account/report.html", view{Title: "preport.title"})
}

func (a *app) publicReport(c echo.Context) error {
	form := url.Values{"id_number": {c.FormValue("id_number")}, "mobile": {c.FormValue("mobile")}, "description": {c.FormValue("description")}}
	var out struct {
		MessageZH string `json:"message_zh"`
		MessageEN string `json:"message_en"`
	}
	body := map[string]any{"id_number": form.Get("id_number"), "mobile": form.Get("mobile"), "description": form.Get("description")}
	if e := a.call(c, anonymous, http.MethodPost, "/v1/security-reports", body, &out); e != nil {
		if e.Status >= 500 {
			return fail(c, e)
		}
		return render(c, e.Status, "account/report.html", view{Title: "preport.title", Err: e, Form: form})
	}
	return render(c, http.StatusAccepted, "account/report_done.html", view{Title: "preport.done", Data: out})
}
