package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/apitypes"
	"hrss-backoffice/internal/authz"
)

// The reviewer's console: the queue (GET /v1/review/queue), an
// application's detail with its automated-check flags and its run in the
// Temporal web UI (GET /v1/registrations/{id}), the decision (POST
// .../decision) and the one-time initial password with a printable slip
// (POST .../initial-password).
func (a *app) reviewPages() {
	a.get("/console", a.console)
	a.get("/console/applications/:id", a.applicationPage)
	a.post("/console/applications/:id/decision", a.decide)
	a.post("/console/applications/:id/initial-password", a.pickUp)
}

func init() {
	addMessages(map[string][2]string{
		"console.title":             {"工作台", "Console"},
		"console.hello":             {"您好，%s。您的角色：%s。", "Hello, %s. Your roles: %s."},
		"role.reviewer":             {"审核人员", "reviewer"},
		"role.supervisor":           {"主管", "supervisor"},
		"role.administrator":        {"管理员", "administrator"},
		"role.investigator":         {"调查人员", "investigator"},
		"role.terms_editor":         {"承诺书编辑", "terms editor"},
		"role.auditor":              {"审计人员", "auditor"},
		"role.operator":             {"运维人员", "operator"},
		"queue.title":               {"待审核申请（最早提交的在前）", "Applications waiting for review (oldest first)"},
		"queue.empty":               {"目前没有待审核的申请。", "No application is waiting."},
		"queue.queued":              {"进入队列", "Queued"},
		"queue.applicant":           {"申请人", "Applicant"},
		"queue.id_number":           {"身份证号", "ID number"},
		"queue.channel":             {"渠道", "Channel"},
		"queue.services":            {"服务", "Services"},
		"queue.flags":               {"核验提示", "Check flags"},
		"queue.waiting":             {"已等待", "Waiting"},
		"queue.level":               {"服务时限", "Service level"},
		"queue.open":                {"审核", "Review"},
		"queue.more":                {"更多", "More"},
		"level.on_time":             {"时限内", "on time"},
		"level.reminded":            {"已提醒", "reminded"},
		"level.escalated":           {"已上报主管", "escalated"},
		"flag.blocked_false_data":   {"该身份证号曾因虚假资料被注销", "this ID number was cancelled for false data"},
		"flag.mobile_in_use":        {"该手机号已被其他用户使用", "another account uses this mobile number"},
		"flag.already_registered":   {"此人已持有账户", "this person already has an account"},
		"review.title":              {"审核申请", "Review an application"},
		"review.applicant":          {"申请人资料", "Applicant"},
		"review.application":        {"申请", "Application"},
		"review.flags":              {"自动核验提示", "Automated-check flags"},
		"review.no_flags":           {"核验未发现问题。", "The checks found nothing."},
		"review.temporal":           {"在 Temporal 网页界面中查看此申请的流程运行", "This application's run in the Temporal web UI"},
		"review.temporal_search":    {"按搜索属性查找", "Find it by its search attributes"},
		"review.decision":           {"审核决定", "Decision"},
		"review.approve":            {"批准（开通账户）", "Approve (open the account)"},
		"review.reject":             {"驳回", "Reject"},
		"review.request_info":       {"要求补充资料", "Ask for more information"},
		"review.reason":             {"理由（驳回或要求补充资料时必填，申请人可见）", "Reason (required to reject or ask for information; the applicant reads it)"},
		"review.qualifications":     {"已核验的资格（用于服务办理条件）", "Qualifications checked on documents (for the services' rules)"},
		"qual.residence_permit":     {"本市居住证", "residence permit of the city"},
		"qual.insured_employee":     {"职工社会保险参保记录", "insured in the employee scheme"},
		"qual.insured_resident":     {"城乡居民社会保险参保记录", "insured in the residents' scheme"},
		"review.submit":             {"提交决定", "Record the decision"},
		"review.checking":           {"系统正在核验，稍后即可审核。", "The automated checks are running; the application can be reviewed in a moment."},
		"review.closed":             {"此申请已有决定或已办结。", "This application is decided or closed."},
		"review.refused":            {"您的决定未被接受：此申请已有决定或已办结，当前状态如下。", "Your decision was not accepted: this application is already decided or closed. Its current state is below."},
		"field.decision":            {"审核决定", "Decision"},
		"field.reason":              {"理由", "Reason"},
		"notice.decided":            {"决定已记录。", "The decision is recorded."},
		"approved.title":            {"已批准：账户已开通", "Approved: the account is open"},
		"approved.opened":           {"已开通的服务", "Services opened"},
		"approved.refused":          {"未开通的服务", "Services not opened"},
		"approved.pickup":           {"初始密码只能由您领取一次，请在 %s 前领取并当面交给申请人。", "Only you can pick up the initial password, once, before %s; hand it to the applicant in person."},
		"approved.applicant_pickup": {"网上或自助终端申请：初始密码由申请人凭进度查询码和发送到其手机的验证码自行领取，工作人员不经手。", "An online or kiosk application: the applicant picks the initial password up with the follow token and a code sent to their mobile; staff never see it."},
		"approved.pickup_button":    {"领取初始密码（仅一次）", "Pick up the initial password (once)"},
		"slip.title":                {"初始密码", "Initial password"},
		"slip.heading":              {"网上服务账户开通通知", "Your online service account"},
		"slip.username":             {"用户名（身份证号）", "Username (ID number)"},
		"slip.password":             {"初始密码", "Initial password"},
		"slip.once":                 {"此密码只显示这一次，离开本页后无法再次查看。", "This password is shown only this once; it cannot be shown again after you leave this page."},
		"slip.change":               {"首次登录时须修改初始密码。请妥善保管，不要告诉他人。", "Change it at your first sign-in. Keep it safe and tell no one."},
		"slip.print":                {"打印通知单", "Print the slip"},
		"slip.back":                 {"返回审核队列", "Back to the queue"},
	})
}

func hasRole(roles []string, want ...string) bool {
	for _, r := range roles {
		for _, w := range want {
			if r == w {
				return true
			}
		}
	}
	return false
}

// staffOnly answers the page request of someone who is not signed-in staff.
func (a *app) staffOnly(c echo.Context) (*meAnswer, bool, error) {
	if sessionToken(c) == "" {
		return nil, true, c.Redirect(http.StatusSeeOther, "/signin?notice=signin_first")
	}
	me, e := a.me(c)
	if done, err := needSignIn(c, e); done {
		return nil, true, err
	}
	if e != nil {
		return nil, true, fail(c, e)
	}
	if !authz.AdmitsKind(me.Kind, authz.Console) {
		return nil, true, c.Redirect(http.StatusSeeOther, "/account")
	}
	if me.MustEnrol { // the second factor first (web/secondfactor.go)
		return nil, true, c.Redirect(http.StatusSeeOther, "/second-factor")
	}
	return me, false, nil
}

// queueItem is the document's QueueItem (GET /v1/review/queue).
type queueItem struct{ apitypes.QueueItem }

// ServiceLevel is the item's service-level state as the page's functions
// take it (a string).
func (q queueItem) ServiceLevel() string { return string(q.QueueItem.ServiceLevel) }

type consoleData struct {
	Me       *meAnswer
	Roles    string
	Reviewer bool
	Admin    bool
	Queue    []queueItem
	Next     string
	Services services
}

func (a *app) console(c echo.Context) error {
	me, done, err := a.staffOnly(c)
	if done {
		return err
	}
	lang := language(c)
	names := make([]string, len(me.Staff.Roles))
	for i, r := range me.Staff.Roles {
		names[i] = text(lang, "role."+r)
	}
	d := consoleData{Me: me, Roles: strings.Join(names, lang2(lang, "、", ", ")),
		Reviewer: mayStaff(me.Staff.Roles, authz.ReviewQueue),
		Admin:    mayStaff(me.Staff.Roles, authz.StaffList)}
	if d.Reviewer {
		path := "/v1/review/queue"
		if after := c.QueryParam("after"); after != "" {
			path += "?after=" + url.QueryEscape(after)
		}
		var q apitypes.ReviewQueue
		if e := a.call(c, asSignedIn, http.MethodGet, path, nil, &q); e != nil {
			return fail(c, e)
		}
		for _, it := range q.Items {
			d.Queue = append(d.Queue, queueItem{it})
		}
		d.Next = q.NextCursor
		d.Services, _ = a.catalogue(c)
	}
	return render(c, http.StatusOK, "review/console.html", view{Title: "console.title", Data: d})
}

func lang2(lang, zh, en string) string {
	if lang == "en" {
		return en
	}
	return zh
}

type reviewData struct {
	App          application
	Services     services
	SearchURL    string
	Result       *decisionResult
	PickupBefore string
	PickupEnd    time.Time
}

// temporalSearchURL is the Temporal web UI's list of runs filtered by the
// application's search attributes, next to its run's own page.
func temporalSearchURL(workflowURL, id string) string {
	i := strings.Index(workflowURL, "/workflows/")
	if i < 0 {
		return ""
	}
	q := `HrssKind = "registration" AND WorkflowId = "registration/` + id + `"`
	return workflowURL[:i] + "/workflows?query=" + url.QueryEscape(q)
}

func (a *app) loadApplication(c echo.Context, id string) (reviewData, *apiError) {
	var d reviewData
	if e := a.call(c, asSignedIn, http.MethodGet, "/v1/registrations/"+url.PathEscape(id), nil, &d.App); e != nil {
		return d, e
	}
	d.Services, _ = a.catalogue(c)
	d.SearchURL = temporalSearchURL(d.App.WorkflowURL, d.App.ID)
	return d, nil
}

func (a *app) showApplication(c echo.Context, status int, v view) error {
	d, e := a.loadApplication(c, c.Param("id"))
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		return fail(c, e)
	}
	v.Title, v.Data, v.Back = "review.title", d, "/console/applications/"+d.App.ID
	return render(c, status, "review/application.html", v)
}

func (a *app) applicationPage(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	return a.showApplication(c, http.StatusOK, view{})
}

type decisionResult struct {
	Status          string   `json:"status"`
	AccountID       string   `json:"account_id"`
	OpenedServices  []string `json:"opened_services"`
	RefusedServices []struct {
		Code   string `json:"code"`
		Reason string `json:"reason"`
	} `json:"refused_services"`
	PickupExpiresAt time.Time `json:"pickup_expires_at"`
}

func (a *app) decide(c echo.Context) error {
	id := c.Param("id")
	req := map[string]any{"decision": c.FormValue("decision")}
	if r := strings.TrimSpace(c.FormValue("reason")); r != "" {
		req["reason"] = r
	}
	// Qualifications seen on documents, for the services' rules (C3.4(6)).
	if form, _ := c.FormParams(); len(form["qualifications"]) > 0 && c.FormValue("decision") == "approve" {
		req["qualifications"] = form["qualifications"]
	}
	var res decisionResult
	e := a.call(c, asSignedIn, http.MethodPost, "/v1/registrations/"+url.PathEscape(id)+"/decision", req, &res)
	if done, err := needSignIn(c, e); done {
		return err
	}
	switch {
	case e == nil && res.Status == "approved":
		d, le := a.loadApplication(c, id)
		if le != nil {
			return fail(c, le)
		}
		d.Result = &res
		d.PickupBefore = res.PickupExpiresAt.In(shanghai).Format("15:04")
		d.PickupEnd = res.PickupExpiresAt
		return render(c, http.StatusOK, "review/approved.html", view{Title: "approved.title", Data: d, Back: "/console"})
	case e == nil:
		return c.Redirect(http.StatusSeeOther, "/console/applications/"+url.PathEscape(id)+"?notice=decided")
	case e.Status == http.StatusConflict:
		// Someone decided first (or the application closed): the decision
		// changed nothing; show why and the state as it is now.
		// The API's message names the state in English; the page says it
		// in the reader's language and shows the state itself.
		return a.showApplication(c, http.StatusConflict, view{Problem: "review.refused"})
	case e.Status >= 500:
		return fail(c, e)
	default:
		form, _ := c.FormParams()
		form.Del("csrf")
		return a.showApplication(c, e.Status, view{Err: e, Form: form})
	}
}

type pickupData struct {
	Username        string `json:"username"`
	AccountID       string `json:"account_id"`
	InitialPassword string `json:"initial_password"`
	Name            string
}

func (a *app) pickUp(c echo.Context) error {
	id := c.Param("id")
	var p pickupData
	e := a.call(c, asSignedIn, http.MethodPost, "/v1/registrations/"+url.PathEscape(id)+"/initial-password", nil, &p)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		if e.Status >= 500 {
			return fail(c, e)
		}
		return a.showApplication(c, e.Status, view{Err: e})
	}
	if d, le := a.loadApplication(c, id); le == nil {
		p.Name = d.App.Applicant.Name
	}
	return render(c, http.StatusOK, "review/slip.html", view{Title: "slip.title", Data: p, Back: "/console"})
}
