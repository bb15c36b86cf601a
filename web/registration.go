package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/apitypes"
)

// The applicant's pages: the registration form with the agreement to read
// (POST /v1/registrations) and the follow page that the follow token opens
// (GET /v1/registrations/{id}, supplement, withdraw). The application ID and
// follow token travel in POST bodies and an HttpOnly cookie, never in a URL.
func (a *app) registrationPages() {
	a.get("/register", a.registerPage)
	a.post("/register", a.register)
	a.get("/follow", a.followPage)
	a.post("/follow", a.openFollow)
	a.post("/follow/supplement", a.supplement)
	a.post("/follow/withdraw", a.withdraw)
	a.post("/follow/forget", a.forgetFollow)
	a.pickupPages() // web/pickup.go
}

func init() {
	addMessages(map[string][2]string{
		"register.title":         {"注册为网站用户", "Register as a user"},
		"register.intro":         {"请如实填写以下信息。工作人员将当场审核，审核通过后发放初始密码。", "Enter your data truthfully. Staff review it on the spot and, once approved, give you an initial password."},
		"register.terms":         {"用户承诺书", "User agreement"},
		"register.terms_hint":    {"请完整阅读承诺书（可用方向键滚动），再勾选同意。", "Read the whole agreement (scroll with the arrow keys), then tick the box."},
		"register.terms_region":  {"承诺书全文", "Full text of the agreement"},
		"register.version":       {"版本", "Version"},
		"register.services":      {"申请开通的服务", "Services to open"},
		"register.services_hint": {"可多选；不符合年龄条件的服务将不予开通并说明理由。", "Choose any; a service whose age limits you do not meet is not opened, with the reason."},
		"register.submit":        {"提交注册申请", "Submit the application"},
		"field.name":             {"姓名", "Name"},
		"field.id_number":        {"公民身份号码", "Resident ID number"},
		"field.mobile":           {"手机号码", "Mobile number"},
		"field.email":            {"电子邮箱", "Email"},
		"field.address":          {"联系地址", "Address"},
		"field.channel":          {"办理渠道", "Channel"},
		"field.services":         {"服务", "Services"},
		"field.agreed":           {"我已阅读并同意用户承诺书", "I have read and agree to the user agreement"},
		"field.terms_version":    {"承诺书版本", "Terms version"},
		"field.note":             {"说明", "Note"},
		"field.body":             {"表单", "Form"},
		"channel.online":         {"网上", "online"},
		"channel.counter":        {"服务窗口", "service counter"},
		"channel.kiosk":          {"自助终端", "kiosk"},

		"submitted.title":          {"申请已提交", "Application submitted"},
		"submitted.intro":          {"请记下以下申请编号和查询码。查询码只显示这一次，凭它查看进度和补充资料。", "Write down the application number and follow code below. The code is shown only this once; you need it to follow the application and to supply data."},
		"submitted.id":             {"申请编号", "Application number"},
		"submitted.token":          {"查询码", "Follow code"},
		"submitted.follow":         {"查看申请进度", "Follow the application"},
		"follow.title":             {"申请进度", "Your application"},
		"follow.open_title":        {"查询申请进度", "Follow an application"},
		"follow.open_intro":        {"请输入申请编号和查询码。", "Enter the application number and the follow code."},
		"follow.open":              {"查询", "Open"},
		"follow.not_found":         {"未找到该申请，或查询码不正确。", "No such application, or a wrong follow code."},
		"field.application_id":     {"申请编号", "Application number"},
		"field.follow_token":       {"查询码", "Follow code"},
		"follow.status":            {"当前状态", "Status"},
		"follow.submitted":         {"提交时间", "Submitted"},
		"follow.channel":           {"办理渠道", "Channel"},
		"follow.services":          {"申请的服务", "Services applied for"},
		"follow.terms":             {"承诺书版本", "Terms version"},
		"follow.applicant":         {"申请人信息", "Your data"},
		"follow.missing":           {"需要补充的资料", "What is missing"},
		"follow.reason":            {"决定理由", "Reason of the decision"},
		"follow.timeline":          {"办理经过", "Timeline"},
		"follow.notices":           {"通知", "Notices"},
		"follow.supplement":        {"补充资料", "Supply the missing data"},
		"follow.supplement_hint":   {"只填写需要更正或补充的项目。", "Fill in only what needs correcting or adding."},
		"follow.supplement_submit": {"提交补充资料", "Send"},
		"follow.withdraw":          {"撤回申请", "Withdraw the application"},
		"follow.forget":            {"在此设备上退出查询", "Close on this device"},
		"follow.closed":            {"办结时间", "Closed"},
		"notice.supplement_done":   {"补充资料已提交，申请已回到审核队列。", "Your data was sent; the application is back in the review queue."},
		"notice.withdrawn":         {"申请已撤回。", "The application is withdrawn."},

		"status.submitted":      {"已提交", "submitted"},
		"status.pending":        {"待审核", "pending review"},
		"status.info_requested": {"待补充资料", "information requested"},
		"status.approved":       {"已批准", "approved"},
		"status.rejected":       {"已驳回", "rejected"},
		"status.expired":        {"已过期", "expired"},
		"status.withdrawn":      {"已撤回", "withdrawn"},
		"event.submitted":       {"提交申请", "application submitted"},
		"event.checked":         {"自动核验完成", "automated checks done"},
		"event.approved":        {"审核通过", "approved"},
		"event.rejected":        {"审核驳回", "rejected"},
		"event.info_requested":  {"要求补充资料", "information requested"},
		"event.supplemented":    {"已补充资料", "data supplied"},
		"event.reminded":        {"已提醒审核人员", "reviewers reminded"},
		"event.escalated":       {"已上报主管", "escalated to supervisors"},
		"event.expired":         {"申请过期", "expired"},
		"event.withdrawn":       {"申请撤回", "withdrawn"},
		"actor.applicant":       {"申请人", "applicant"},
		"actor.system":          {"系统", "system"},
		"actor.staff":           {"工作人员", "staff"},
	})
}

// termsAnswer is the document's Terms (GET /v1/terms/current).
type termsAnswer = apitypes.Terms

// service is the document's Service (GET /v1/services).
type service = apitypes.Service

// services is the catalogue, for the names of service codes.
type services []service

// Name finds a service by code; an unknown code keeps its code as name.
func (s services) Name(code string) service {
	for _, x := range s {
		if x.Code == code {
			return x
		}
	}
	return service{Code: code, NameZH: code, NameEN: code}
}

func (a *app) catalogue(c echo.Context) (services, *apiError) {
	var out apitypes.ServiceList
	e := a.call(c, anonymous, http.MethodGet, "/v1/services", nil, &out)
	return out.Services, e
}

type registerData struct {
	Terms    termsAnswer
	Services services
}

func (a *app) registerForm(c echo.Context, status int, v view) error {
	var d registerData
	if e := a.call(c, anonymous, http.MethodGet, "/v1/terms/current", nil, &d.Terms); e != nil {
		return fail(c, e)
	}
	var e *apiError
	if d.Services, e = a.catalogue(c); e != nil {
		return fail(c, e)
	}
	v.Title, v.Data = "register.title", d
	if v.Form == nil {
		v.Form = url.Values{}
	}
	return render(c, status, "registration/register.html", v)
}

func (a *app) registerPage(c echo.Context) error {
	return a.registerForm(c, http.StatusOK, view{})
}

func (a *app) register(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return a.registerForm(c, http.StatusBadRequest, view{Problem: "error.unexpected"})
	}
	svc := form["services"]
	if svc == nil {
		svc = []string{}
	}
	req := map[string]any{
		"name": form.Get("name"), "id_number": form.Get("id_number"), "mobile": form.Get("mobile"),
		"email": form.Get("email"), "address": form.Get("address"),
		"services": svc, "terms_version": form.Get("terms_version"), "agreed": form.Get("agreed") == "yes",
		"language": language(c), // the messages to the applicant speak the page's language
	}
	if code := strings.TrimSpace(form.Get("mobile_code")); code != "" {
		req["mobile_code"] = code // the verified mobile (web/mobilecode.go)
	}
	var out struct {
		ID          string `json:"id"`
		Status      string `json:"status"`
		FollowToken string `json:"follow_token"`
	}
	if e := a.call(c, anonymous, http.MethodPost, "/v1/registrations", req, &out); e != nil {
		if e.Status >= 500 {
			return fail(c, e)
		}
		form.Del("csrf")
		return a.registerForm(c, e.Status, view{Err: e, Form: form})
	}
	// The follow page opens in this browser without typing the code again.
	setCookie(c, followCookie, out.ID+"."+out.FollowToken, 0)
	return render(c, http.StatusAccepted, "registration/submitted.html", view{Title: "submitted.title", Back: "/follow",
		Data: out})
}

// application is GET /v1/registrations/{id}, as the applicant or staff
// sees it.
type application struct {
	ID             string     `json:"id"`
	Status         string     `json:"status"`
	Channel        string     `json:"channel"`
	Services       []string   `json:"services"`
	TermsVersion   string     `json:"terms_version"`
	SubmittedAt    time.Time  `json:"submitted_at"`
	QueuedAt       *time.Time `json:"queued_at"`
	ClosedAt       *time.Time `json:"closed_at"`
	InfoRequested  *string    `json:"info_requested"`
	Decision       *string    `json:"decision"`
	DecisionReason *string    `json:"decision_reason"`
	Applicant      struct {
		Name     string `json:"name"`
		IDNumber string `json:"id_number"`
		Mobile   string `json:"mobile"`
		Email    string `json:"email"`
		Address  string `json:"address"`
	} `json:"applicant"`
	Flags       []string `json:"flags"`
	WorkflowURL string   `json:"workflow_url"`
	Timeline    []struct {
		Kind  string    `json:"kind"`
		At    time.Time `json:"at"`
		Actor string    `json:"actor"`
	} `json:"timeline"`
	Notices []struct {
		Kind    string    `json:"kind"`
		TitleZH string    `json:"title_zh"`
		TitleEN string    `json:"title_en"`
		BodyZH  string    `json:"body_zh"`
		BodyEN  string    `json:"body_en"`
		At      time.Time `json:"at"`
	} `json:"notices"`
}

// Open says whether the application still waits for a decision.
func (a application) Open() bool {
	return a.Status == "submitted" || a.Status == "pending" || a.Status == "info_requested"
}

// ActorKind is the timeline actor's kind (staff:<id> → staff).
func ActorKind(actor string) string {
	kind, _, _ := strings.Cut(actor, ":")
	return kind
}

type followData struct {
	App      application
	Services services
}

func followCredentials(c echo.Context) (id, token string) {
	id, token, _ = strings.Cut(cookieValue(c, followCookie), ".")
	return id, token
}

func (a *app) followPage(c echo.Context) error {
	return a.showFollow(c, http.StatusOK, view{})
}

// showFollow renders the application that the follow cookie names, or the
// form that opens one.
func (a *app) showFollow(c echo.Context, status int, v view) error {
	id, token := followCredentials(c)
	if id == "" || token == "" {
		v.Title = "follow.open_title"
		return render(c, status, "registration/follow_open.html", v)
	}
	var d followData
	if e := a.call(c, anonymous, http.MethodGet, "/v1/registrations/"+url.PathEscape(id), nil, &d.App, "X-Follow-Token", token); e != nil {
		if e.Status >= 500 {
			return fail(c, e)
		}
		setCookie(c, followCookie, "", -1)
		return render(c, http.StatusNotFound, "registration/follow_open.html", view{Title: "follow.open_title", Problem: "follow.not_found"})
	}
	d.Services, _ = a.catalogue(c)
	v.Title, v.Data, v.Back = "follow.title", d, "/follow"
	return render(c, status, "registration/follow.html", v)
}

func (a *app) openFollow(c echo.Context) error {
	id, token := strings.TrimSpace(c.FormValue("application_id")), strings.TrimSpace(c.FormValue("follow_token"))
	var app application
	if id == "" || token == "" || strings.ContainsAny(id, "./") ||
		a.call(c, anonymous, http.MethodGet, "/v1/registrations/"+url.PathEscape(id), nil, &app, "X-Follow-Token", token) != nil {
		return render(c, http.StatusNotFound, "registration/follow_open.html", view{Title: "follow.open_title",
			Problem: "follow.not_found", Form: url.Values{"application_id": {id}}, Back: "/follow"})
	}
	setCookie(c, followCookie, id+"."+token, 0)
	return c.Redirect(http.StatusSeeOther, "/follow")
}

func (a *app) supplement(c echo.Context) error {
	id, token := followCredentials(c)
	if id == "" {
		return c.Redirect(http.StatusSeeOther, "/follow")
	}
	req := map[string]any{"note": c.FormValue("note")}
	for _, f := range []string{"name", "mobile", "email", "address"} {
		if v := strings.TrimSpace(c.FormValue(f)); v != "" {
			req[f] = v
		}
	}
	if e := a.call(c, anonymous, http.MethodPost, "/v1/registrations/"+url.PathEscape(id)+"/supplement", req, nil, "X-Follow-Token", token); e != nil {
		if e.Status >= 500 {
			return fail(c, e)
		}
		form, _ := c.FormParams()
		form.Del("csrf")
		return a.showFollow(c, e.Status, view{Err: e, Form: form})
	}
	return c.Redirect(http.StatusSeeOther, "/follow?notice=supplement_done")
}

func (a *app) withdraw(c echo.Context) error {
	id, token := followCredentials(c)
	if id == "" {
		return c.Redirect(http.StatusSeeOther, "/follow")
	}
	if e := a.call(c, anonymous, http.MethodPost, "/v1/registrations/"+url.PathEscape(id)+"/withdraw", nil, nil, "X-Follow-Token", token); e != nil {
		if e.Status >= 500 {
			return fail(c, e)
		}
		return a.showFollow(c, e.Status, view{Err: e})
	}
	return c.Redirect(http.StatusSeeOther, "/follow?notice=withdrawn")
}

func (a *app) forgetFollow(c echo.Context) error {
	setCookie(c, followCookie, "", -1)
	return c.Redirect(http.StatusSeeOther, "/follow")
}
