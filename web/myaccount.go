package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
)

// "My account" for users, beyond the account facts: the site inbox
// (GET /v1/me/notices), the activity record (GET /v1/me/activity), the
// terms versions with accept and written rejection (GET /v1/me/terms, POST
// .../accept|reject), cases and sanctions with the answer and appeal forms
// (GET /v1/me/cases, /v1/me/sanctions, POST .../answer, .../appeal),
// consents (GET/POST /v1/me/consents), disclosures (GET /v1/me/disclosures),
// deregistration with its withdrawal (POST /v1/me/deregistration,
// GET /v1/me/deregistration/{id}, POST .../withdraw) and the compromise
// report (POST /v1/me/security-reports).
func (a *app) myAccountPages() {
	a.get("/signin/restricted", a.restrictedSignInPage)
	a.post("/signin/restricted", a.restrictedSignIn)
	a.get("/account/notices", a.noticesPage)
	a.get("/account/activity", a.activityPage)
	a.get("/account/terms", a.termsPage)
	a.post("/account/terms/:version/accept", a.acceptTerms)
	a.post("/account/terms/:version/reject", a.rejectTerms)
	a.get("/account/cases", a.myCasesPage)
	a.post("/account/cases/:id/answer", a.answerCase)
	a.post("/account/sanctions/:id/appeal", a.appealSanction)
	a.post("/account/cases/:id/correction", a.reportCaseCorrection)
	a.post("/account/sanctions/:id/correction", a.reportSanctionCorrection)
	a.get("/account/consents", a.consentsPage)
	a.post("/account/consents/:id", a.answerConsent)
	a.get("/account/disclosures", a.disclosuresPage)
	a.get("/account/deregistration", a.deregistrationPage)
	a.post("/account/deregistration", a.requestDeregistration)
	a.get("/account/deregistration/:id", a.deregistrationReceipt)
	a.post("/account/deregistration/:id/withdraw", a.withdrawDeregistration)
	a.get("/account/security", a.securityPage)
	a.post("/account/security", a.reportCompromise)
}

func init() {
	addMessages(map[string][2]string{
		"action.sign_in.success":                    {"登录成功", "signed in"},
		"action.sign_in.failed":                     {"登录失败", "failed sign-in"},
		"action.sign_in.throttled":                  {"登录被限制（失败次数过多）", "sign-in refused after too many failures"},
		"action.sign_in.wrong_old_password":         {"修改密码时原密码错误", "wrong old password in a password change"},
		"action.sign_in.wrong_confirmation":         {"确认申请时密码错误", "wrong password confirming a request"},
		"action.sign_in.initial_expired":            {"初始密码已过期，登录被拒绝", "sign-in refused: the initial password expired"},
		"action.password.changed":                   {"修改密码", "password changed"},
		"action.password.reset_in_person":           {"窗口重置密码", "password reset at a counter"},
		"action.account.locked_for_compromise":      {"因被盗用报告锁定账户", "account locked after a misuse report"},
		"action.account.opened":                     {"开通账户", "account opened"},
		"action.account.initial_password_issued":    {"生成初始密码", "initial password issued"},
		"action.account.initial_password_picked_up": {"领取初始密码", "initial password picked up"},
		"action.account.activity_viewed":            {"工作人员查阅活动记录", "activity record read by staff"},
		"action.application.submitted":              {"提交注册申请", "application submitted"},
		"action.application.checked":                {"自动核验", "automated checks"},
		"action.application.approved":               {"批准注册申请", "application approved"},
		"event.reported":                            {"立案", "reported"},
		"event.cross_checked":                       {"已交叉核验", "cross-checked"},
		"event.opened":                              {"立案", "opened"},
		"event.user_notified":                       {"已通知当事人", "user notified"},
		"event.answered":                            {"当事人已答复", "user answered"},
		"event.reminder":                            {"提醒", "reminder"},
		"event.escalation":                          {"上报主管", "escalated"},
		"event.cleared":                             {"排除嫌疑", "cleared"},
		"event.suspended":                           {"暂停账户", "account suspended"},
		"event.cancelled":                           {"注销账户", "account cancelled"},
		"event.correction_reported":                 {"当事人报告已更正", "correction reported"},
		"event.corrected":                           {"更正已确认", "correction confirmed"},
		"restricted.link":                           {"账户已被暂停或注销？登录查看处理决定并申诉", "Account suspended or cancelled? Sign in to see the decision and appeal"},
		"restricted.title":                          {"查看处理决定并申诉", "See the decision and appeal"},
		"restricted.code":                           {"动态验证码或恢复码（已设置动态验证码的用户须填写）", "Second-factor code or a recovery code (if you set one up)"},
		"restricted.code_needed":                    {"您已设置动态验证码：请再次输入密码，并填写验证器应用中的动态验证码或一个恢复码。", "You have a second factor: enter the password again with the code from your app or a recovery code."},
		"restricted.intro":                          {"账户被暂停或注销的用户可在此登录，只能查看与本人有关的案件、处理决定并提出申诉或报告更正。", "A suspended or cancelled user signs in here to read their cases and sanctions and to appeal or report corrections; nothing else."},
		"restricted.banner":                         {"您正在使用受限登录：只能查看案件和处理决定并申诉。", "You are in a restricted session: cases and sanctions, and appeals, only."},
		"case.correction":                           {"报告已完成更正", "Report the correction made"},
		"field.correction":                          {"已作出的更正", "What you corrected"},
		"notice.correction_reported":                {"已报告更正，工作人员将核实。", "Your correction is reported; staff will verify it."},
		"my.menu":                                   {"账户功能", "Your account"},
		"my.notices":                                {"站内通知", "Notices"},
		"my.activity":                               {"活动记录", "Activity record"},
		"my.terms":                                  {"用户承诺书版本", "User agreement versions"},
		"my.cases":                                  {"案件与处理决定", "Cases and sanctions"},
		"my.consents":                               {"数据提供授权请求", "Requests for your consent"},
		"my.disclosures":                            {"数据提供记录", "Disclosures of your data"},
		"my.deregistration":                         {"取消服务或注销账户", "Cancel services or deregister"},
		"my.security":                               {"报告账户被盗用", "Report misuse of your account"},
		"my.back":                                   {"返回我的账户", "Back to my account"},
		"my.when":                                   {"时间", "Time"},
		"my.none":                                   {"暂无记录。", "Nothing yet."},
		"my.more":                                   {"更早的记录", "Older entries"},
		"notices.title":                             {"站内通知", "Notices"},
		"activity.title":                            {"活动记录", "Activity record"},
		"activity.action":                           {"事项", "What"},
		"activity.actor":                            {"操作者", "By"},
		"activity.ip":                               {"来源地址", "Address"},
		"activity.detail":                           {"详情", "Details"},
		"terms.title":                               {"用户承诺书版本", "User agreement versions"},
		"terms.version":                             {"版本", "Version"},
		"terms.summary":                             {"修订摘要", "Summary of changes"},
		"terms.effective":                           {"生效时间", "In force from"},
		"terms.position":                            {"您的态度", "Your position"},
		"terms.open":                                {"尚未表态", "not answered"},
		"terms.accept":                              {"同意此版本", "Accept this version"},
		"terms.reject":                              {"不同意（书面申请）", "Reject (written request)"},
		"terms.reject_hint":                         {"不同意新版本时，须选择取消部分服务或注销账户。提交即为您的书面申请，立即办理（注销账户有冷静期，期间可撤回）。", "If you reject the new version, choose to cancel services or to deregister. Sending this is your written request and it is carried out at once (a deregistration has a cooling-off period in which you may withdraw it)."},
		"terms.reject_password_hint":                {"输入当前密码以确认这份书面申请。", "Enter your current password to confirm this written request."},
		"field.password_confirm":                    {"当前密码", "Current password"},
		"terms.closure":                             {"书面申请", "Written request"},
		"terms.closure_receipt":                     {"查看回执与办理进度", "See the receipt and where it stands"},
		"position.accepted":                         {"已同意", "accepted"},
		"position.rejected":                         {"不同意", "rejected"},
		"position.deemed_accepted":                  {"视为同意", "deemed accepted"},
		"field.choice":                              {"您的选择", "Your choice"},
		"choice.cancel_services":                    {"取消下列服务", "Cancel the services below"},
		"choice.deregister":                         {"注销账户", "Deregister the account"},
		"field.statement":                           {"书面说明", "Written statement"},
		"notice.terms_accepted":                     {"已记录您同意该版本。", "Your acceptance is recorded."},
		"notice.terms_rejected":                     {"已收到您的书面申请。", "Your written request is received."},
		"cases.mine":                                {"与您有关的案件", "Cases concerning you"},
		"cases.sanctions":                           {"处理决定", "Sanctions"},
		"case.kind":                                 {"类型", "Kind"},
		"case.state":                                {"状态", "State"},
		"case.opened":                               {"立案时间", "Opened"},
		"case.answer_due":                           {"答复期限", "Answer by"},
		"case.outcome":                              {"结果", "Outcome"},
		"case.clause":                               {"依据条款", "Clause"},
		"case.reason":                               {"理由", "Reason"},
		"case.timeline":                             {"经过", "Timeline"},
		"case.answer":                               {"提交答复", "Send your answer"},
		"field.text":                                {"答复或申诉内容", "Your answer or appeal"},
		"kind.fraud":                                {"虚假资料", "false data"},
		"kind.violation":                            {"违规使用", "misuse"},
		"kind.suspension":                           {"暂停账户", "suspension"},
		"kind.cancellation":                         {"注销账户", "cancellation"},
		"sanction.state":                            {"状态", "State"},
		"sanction.imposed":                          {"作出时间", "Imposed"},
		"sanction.appeal_until":                     {"申诉期限", "Appeal by"},
		"sanction.appeal_state":                     {"申诉", "Appeal"},
		"sanction.conditions":                       {"需更正的内容", "Corrections required"},
		"sanction.appeal":                           {"提出申诉", "Appeal"},
		"notice.answered":                           {"答复已提交。", "Your answer is sent."},
		"notice.appealed":                           {"申诉已提交。", "Your appeal is sent."},
		"consents.requester":                        {"请求方", "Requester"},
		"consents.purpose":                          {"用途", "Purpose"},
		"consents.fields":                           {"数据项", "Data"},
		"consents.deadline":                         {"答复期限", "Answer by"},
		"consents.decision":                         {"您的答复", "Your answer"},
		"consents.accept":                           {"同意提供", "Consent"},
		"consents.refuse":                           {"拒绝", "Refuse"},
		"decision.accept":                           {"已同意", "consented"},
		"decision.refuse":                           {"已拒绝", "refused"},
		"notice.consent_answered":                   {"已记录您的答复。", "Your answer is recorded."},
		"disclosures.basis":                         {"依据", "Basis"},
		"disclosures.delivered":                     {"提供时间", "Delivered"},
		"dereg.intro":                               {"请写明申请并以当前密码确认。注销账户后有冷静期，期间可撤回。", "Write your request and confirm it with your current password. Deregistering has a cooling-off period during which you can withdraw it."},
		"field.scope":                               {"申请内容", "Request"},
		"scope.services":                            {"取消下列服务", "Cancel the services below"},
		"scope.account":                             {"注销账户", "Deregister the account"},
		"dereg.submit":                              {"提交书面申请", "Send the written request"},
		"dereg.receipt":                             {"申请回执", "Receipt"},
		"dereg.status":                              {"状态", "Status"},
		"dereg.received":                            {"收到时间", "Received"},
		"dereg.cooling":                             {"冷静期至", "Cooling-off until"},
		"dereg.sha":                                 {"文件摘要（SHA-256）", "Document digest (SHA-256)"},
		"dereg.document":                            {"存档的申请", "The stored request"},
		"dereg.withdraw":                            {"撤回注销申请", "Withdraw the deregistration"},
		"dereg.earlier":                             {"我的申请", "My requests"},
		"dstatus.received":                          {"已收到", "received"},
		"dstatus.cooling_off":                       {"冷静期中", "cooling off"},
		"dstatus.blocked":                           {"暂缓处理", "on hold"},
		"dstatus.withdrawn":                         {"已撤回", "withdrawn"},
		"dstatus.completed":                         {"已办结", "completed"},
		"dstatus.superseded":                        {"已被新申请取代", "superseded"},
		"notice.dereg_withdrawn":                    {"注销申请已撤回。", "The deregistration is withdrawn."},
		"security.intro":                            {"如发现账户被他人使用或存在安全风险，请立即报告。账户将立即锁定，所有登录失效，须本人持身份证到服务窗口重置密码后方可使用。", "If someone else used your account or it is at risk, report it now. The account is locked at once and every session ends; it opens again only after an in-person password reset at a counter."},
		"field.description":                         {"发生了什么", "What happened"},
		"security.submit":                           {"报告并锁定账户", "Report and lock the account"},
		"security.done":                             {"已报告，账户已锁定", "Reported: the account is locked"},
		"security.done_text":                        {"所有登录已失效。请本人携带身份证到服务窗口重置密码。", "Every session has ended. Bring your ID card to a counter for a password reset."},
	})
}

// userCall reads a /v1/me endpoint for a user page. done is set when the
// answer was handled (sign-in needed, staff sent to the console, an error
// page).
func (a *app) userCall(c echo.Context, path string, out any) (bool, error) {
	if sessionToken(c) == "" && restrictedToken(c) == "" {
		return true, c.Redirect(http.StatusSeeOther, "/signin?notice=signin_first")
	}
	e := a.call(c, asSignedIn, http.MethodGet, path, nil, out)
	if done, err := needSignIn(c, e); done {
		return true, err
	}
	if e != nil {
		if e.Status == http.StatusForbidden && cookieValue(c, kindCookie) == "staff" {
			return true, c.Redirect(http.StatusSeeOther, "/console")
		}
		return true, fail(c, e)
	}
	return false, nil
}

// userPost sends a form's request; a refused one shows its page again with
// the API's message (and field errors) in place.
func (a *app) userPost(c echo.Context, method, path string, body any, out any, again func(view) error) (bool, error) {
	if sessionToken(c) == "" && restrictedToken(c) == "" {
		return true, c.Redirect(http.StatusSeeOther, "/signin?notice=signin_first")
	}
	e := a.call(c, asSignedIn, method, path, body, out)
	if done, err := needSignIn(c, e); done {
		return true, err
	}
	if e != nil {
		if e.Status >= 500 || again == nil {
			return true, fail(c, e)
		}
		form, _ := c.FormParams()
		form.Del("csrf")
		form.Del("password")
		c.Response().Status = e.Status
		return true, again(view{Err: e, Form: form})
	}
	return false, nil
}

// page renders with the status a refused form set (200 otherwise).
func page(c echo.Context, tmpl, title string, v view, data any) error {
	status := c.Response().Status
	if status < 400 {
		status = http.StatusOK
	}
	v.Title, v.Data = title, data
	return render(c, status, tmpl, v)
}

func (a *app) noticesPage(c echo.Context) error {
	var d map[string]any
	path := "/v1/me/notices?limit=50"
	if b := c.QueryParam("before"); b != "" {
		path += "&before=" + url.QueryEscape(b)
	}
	if done, err := a.userCall(c, path, &d); done {
		return err
	}
	return page(c, "myaccount/notices.html", "notices.title", view{}, d)
}

func (a *app) activityPage(c echo.Context) error {
	var d map[string]any
	path := "/v1/me/activity?limit=50"
	if after := c.QueryParam("after"); after != "" {
		path += "&after=" + url.QueryEscape(after)
	}
	if done, err := a.userCall(c, path, &d); done {
		return err
	}
	return page(c, "myaccount/activity.html", "activity.title", view{}, d)
}

type termsData struct {
	Versions []map[string]any `json:"versions"`
	Me       *meAnswer
}

func (a *app) showTerms(c echo.Context, v view) error {
	var d termsData
	if done, err := a.userCall(c, "/v1/me/terms", &d); done {
		return err
	}
	d.Me, _ = a.me(c)
	return page(c, "myaccount/terms.html", "terms.title", v, d)
}

func (a *app) termsPage(c echo.Context) error { return a.showTerms(c, view{}) }

func (a *app) acceptTerms(c echo.Context) error {
	if done, err := a.userPost(c, http.MethodPost, "/v1/me/terms/"+url.PathEscape(c.Param("version"))+"/accept", nil, nil,
		func(v view) error { return a.showTerms(c, v) }); done {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account/terms?notice=terms_accepted")
}

func (a *app) rejectTerms(c echo.Context) error {
	form, _ := c.FormParams()
	services := form["services"]
	body := map[string]any{"choice": c.FormValue("choice"), "statement": c.FormValue("statement"), "password": c.FormValue("password")}
	if len(services) > 0 {
		body["services"] = services
	}
	if done, err := a.userPost(c, http.MethodPost, "/v1/me/terms/"+url.PathEscape(c.Param("version"))+"/reject", body, nil,
		func(v view) error { return a.showTerms(c, v) }); done {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account/terms?notice=terms_rejected")
}

type myCasesData struct {
	Cases     []map[string]any
	Sanctions []map[string]any
	Status    string
}

func (a *app) showMyCases(c echo.Context, v view) error {
	var cs struct {
		Items []map[string]any `json:"items"`
	}
	var ss struct {
		Items  []map[string]any `json:"items"`
		Status string           `json:"account_status"`
	}
	if done, err := a.userCall(c, "/v1/me/cases", &cs); done {
		return err
	}
	if done, err := a.userCall(c, "/v1/me/sanctions", &ss); done {
		return err
	}
	return page(c, "myaccount/cases.html", "my.cases", v, myCasesData{Cases: cs.Items, Sanctions: ss.Items, Status: ss.Status})
}

func (a *app) myCasesPage(c echo.Context) error { return a.showMyCases(c, view{}) }

func (a *app) answerCase(c echo.Context) error {
	if done, err := a.userPost(c, http.MethodPost, "/v1/me/cases/"+url.PathEscape(c.Param("id"))+"/answer",
		map[string]any{"text": c.FormValue("text")}, nil, func(v view) error { return a.showMyCases(c, v) }); done {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account/cases?notice=answered")
}

func (a *app) appealSanction(c echo.Context) error {
	if done, err := a.userPost(c, http.MethodPost, "/v1/me/sanctions/"+url.PathEscape(c.Param("id"))+"/appeal",
		map[string]any{"text": c.FormValue("text")}, nil, func(v view) error { return a.showMyCases(c, v) }); done {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account/cases?notice=appealed")
}

// reportCorrection tells staff the corrections a violation case or a
// suspension requires are made; staff verify them.
func (a *app) reportCorrection(c echo.Context, kind string) error {
	if done, err := a.userPost(c, http.MethodPost, "/v1/me/"+kind+"/"+url.PathEscape(c.Param("id"))+"/correction",
		map[string]any{"text": c.FormValue("text")}, nil, func(v view) error { return a.showMyCases(c, v) }); done {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account/cases?notice=correction_reported")
}

func (a *app) reportCaseCorrection(c echo.Context) error { return a.reportCorrection(c, "cases") }
func (a *app) reportSanctionCorrection(c echo.Context) error {
	return a.reportCorrection(c, "sanctions")
}

func (a *app) showConsents(c echo.Context, v view) error {
	var d map[string]any
	if done, err := a.userCall(c, "/v1/me/consents", &d); done {
		return err
	}
	return page(c, "myaccount/consents.html", "my.consents", v, d)
}

func (a *app) consentsPage(c echo.Context) error { return a.showConsents(c, view{}) }

func (a *app) answerConsent(c echo.Context) error {
	if done, err := a.userPost(c, http.MethodPost, "/v1/me/consents/"+url.PathEscape(c.Param("id")),
		map[string]any{"decision": c.FormValue("decision")}, nil, func(v view) error { return a.showConsents(c, v) }); done {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account/consents?notice=consent_answered")
}

func (a *app) disclosuresPage(c echo.Context) error {
	var d map[string]any
	if done, err := a.userCall(c, "/v1/me/disclosures", &d); done {
		return err
	}
	return page(c, "myaccount/disclosures.html", "my.disclosures", view{}, d)
}

// deregistrationData is the request form (the user's open services) and
// the user's earlier requests, whose receipts stay reachable from here.
type deregistrationData struct {
	Services []accountService
	Requests []map[string]any
}

func (a *app) showDeregistration(c echo.Context, v view) error {
	var me meAnswer
	if done, err := a.userCall(c, "/v1/me", &me); done {
		return err
	}
	var mine struct {
		Items []map[string]any `json:"items"`
	}
	if done, err := a.userCall(c, "/v1/me/deregistration", &mine); done {
		return err
	}
	return page(c, "myaccount/deregistration.html", "my.deregistration", v, deregistrationData{Services: me.Services, Requests: mine.Items})
}

func (a *app) deregistrationPage(c echo.Context) error { return a.showDeregistration(c, view{}) }

func (a *app) requestDeregistration(c echo.Context) error {
	body := map[string]any{"scope": c.FormValue("scope"), "statement": c.FormValue("statement"), "password": c.FormValue("password")}
	if form, _ := c.FormParams(); len(form["services"]) > 0 {
		s := form["services"]
		body["services"] = s
	}
	var receipt map[string]any
	if done, err := a.userPost(c, http.MethodPost, "/v1/me/deregistration", body, &receipt,
		func(v view) error { return a.showDeregistration(c, v) }); done {
		return err
	}
	id, _ := receipt["id"].(string)
	return c.Redirect(http.StatusSeeOther, "/account/deregistration/"+url.PathEscape(id))
}

func (a *app) deregistrationReceipt(c echo.Context) error {
	var d map[string]any
	if done, err := a.userCall(c, "/v1/me/deregistration/"+url.PathEscape(c.Param("id")), &d); done {
		return err
	}
	return page(c, "myaccount/receipt.html", "dereg.receipt", view{}, d)
}

func (a *app) withdrawDeregistration(c echo.Context) error {
	id := c.Param("id")
	if done, err := a.userPost(c, http.MethodPost, "/v1/me/deregistration/"+url.PathEscape(id)+"/withdraw", nil, nil, nil); done {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account/deregistration/"+url.PathEscape(id)+"?notice=dereg_withdrawn")
}

func (a *app) securityPage(c echo.Context) error {
	var me meAnswer
	if done, err := a.userCall(c, "/v1/me", &me); done {
		return err
	}
	return page(c, "myaccount/security.html", "my.security", view{}, nil)
}

func (a *app) reportCompromise(c echo.Context) error {
	if done, err := a.userPost(c, http.MethodPost, "/v1/me/security-reports",
		map[string]any{"description": c.FormValue("description")}, nil,
		func(v view) error { return page(c, "myaccount/security.html", "my.security", v, nil) }); done {
		return err
	}
	// Every session of the account ended, this one included.
	clearSession(c)
	renewCSRF(c)
	return render(c, http.StatusOK, "myaccount/locked.html", view{Title: "security.done", Back: "/"})
}

func (a *app) restrictedSignInPage(c echo.Context) error {
	return render(c, http.StatusOK, "myaccount/restricted.html", view{Title: "restricted.title"})
}

// restrictedSignIn opens a restricted session (POST /v1/sessions/restricted)
// and keeps its token in its own cookie; an ordinary session in this
// browser ends first.
func (a *app) restrictedSignIn(c echo.Context) error {
	username := c.FormValue("username")
	if sessionToken(c) != "" {
		_ = a.call(c, asSignedIn, http.MethodDelete, "/v1/sessions/current", nil, nil)
	}
	clearSession(c)
	var s struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	body := map[string]string{"username": username, "password": c.FormValue("password")}
	if code := c.FormValue("code"); code != "" {
		body["code"] = code
	}
	if e := a.call(c, anonymous, http.MethodPost, "/v1/sessions/restricted", body, &s); e != nil {
		if e.Status >= 500 {
			return fail(c, e)
		}
		return render(c, e.Status, "myaccount/restricted.html", view{Title: "restricted.title", Err: e,
			Form: url.Values{"username": {username}}})
	}
	if s.Token == "" { // second_factor_required: the code too
		return render(c, http.StatusOK, "myaccount/restricted.html", view{Title: "restricted.title", Problem: "restricted.code_needed",
			Form: url.Values{"username": {username}}})
	}
	setCookie(c, restrictedCookie, s.Token, 0) // a session cookie; the API ends the token at its expiry
	renewCSRF(c)
	return c.Redirect(http.StatusSeeOther, "/account/cases")
}
