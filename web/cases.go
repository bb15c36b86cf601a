package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/authz"
)

// Cases and sanctions in the console for investigators, supervisors and
// auditors: the list with filters (GET /v1/cases), a case with its
// timeline, submissions, run link and the decision form (GET /v1/cases/{id},
// POST .../decision), and a sanction with the lift and appeal decisions
// (GET /v1/sanctions/{id}, POST .../lift, .../appeal-decision). The API
// decides who may do what; the pages show its refusals.
func (a *app) casePages() {
	a.get("/console/cases", a.casesPage)
	a.get("/console/cases/:id", a.casePage)
	a.post("/console/cases/:id/decision", a.decideCase)
	a.get("/console/sanctions/:id", a.sanctionPage)
	a.post("/console/sanctions/:id/lift", a.liftSanction)
	a.post("/console/cases/:id/correction-review", a.reviewCaseCorrection)
	a.post("/console/sanctions/:id/correction-review", a.reviewSanctionCorrection)
	a.post("/console/sanctions/:id/appeal-decision", a.decideAppeal)
}

var (
	caseStates   = []string{"reported", "awaiting_answer", "awaiting_decision", "awaiting_correction", "correction_reported", "cleared", "corrected", "suspended", "cancelled"}
	caseReasons  = []string{"false_identity", "false_contact_data", "false_address", "duplicate_identity", "other_false_data"}
	regFields    = []string{"name", "id_number", "birth_date", "mobile", "email", "address"}
	liftReasons  = []string{"conditions_met", "supervisor_review", "error_in_decision"}
	appealReason = []string{"evidence_insufficient", "procedure_error", "new_evidence", "decision_confirmed"}
)

func init() {
	addMessages(map[string][2]string{
		"cases.title":                {"案件", "Cases"},
		"cases.filter":               {"筛选", "Filter"},
		"cases.any":                  {"全部", "any"},
		"cases.overdue":              {"仅显示超时未结的案件", "Only open cases past their deadline"},
		"cases.apply":                {"筛选", "Apply"},
		"cases.open":                 {"查看", "Open"},
		"cases.empty":                {"没有符合条件的案件。", "No case matches."},
		"case.title":                 {"案件详情", "Case"},
		"case.source":                {"来源", "Source"},
		"case.summary":               {"摘要", "Summary"},
		"case.due":                   {"办理时限", "Due"},
		"case.overdue":               {"已超时", "overdue"},
		"case.suspected":             {"可疑字段", "Suspected fields"},
		"case.evidence":              {"证据", "Evidence"},
		"case.submissions":           {"当事人提交的材料", "The user's submissions"},
		"case.account":               {"账户", "Account"},
		"case.sanction":              {"处理决定", "Sanction"},
		"case.temporal":              {"在 Temporal 网页界面中查看此案件的流程运行", "This case's run in the Temporal web UI"},
		"case.decision":              {"案件决定", "Decision"},
		"case.decide":                {"记录决定", "Record the decision"},
		"case.decision_hint":         {"暂停或注销须说明理由；暂停时选择须更正的字段。", "Suspending or cancelling needs a reason; for a suspension choose the fields to correct."},
		"field.reason_code":          {"理由", "Reason"},
		"field.corrections":          {"须更正的字段", "Fields to correct"},
		"field.evidence":             {"证据编号（每行一个）", "Evidence references (one a line)"},
		"cdecision.cleared":          {"排除嫌疑", "Clear"},
		"cdecision.suspend":          {"暂停账户", "Suspend the account"},
		"cdecision.cancel":           {"注销账户", "Cancel the account"},
		"notice.case_decided":        {"决定已记录。", "The decision is recorded."},
		"correction.review":          {"核实更正", "Verify the correction"},
		"correction.confirmed":       {"更正属实", "Confirmed"},
		"correction.rejected":        {"更正不成立", "Rejected"},
		"field.result":               {"核实结果", "Result"},
		"notice.correction_reviewed": {"核实结果已记录。", "The verification is recorded."},
		"sanction.title":             {"处理决定详情", "Sanction"},
		"sanction.lift":              {"解除暂停", "Lift the suspension"},
		"sanction.appeal_decision":   {"申诉决定", "Appeal decision"},
		"sanction.decide_appeal":     {"记录申诉决定", "Record the appeal decision"},
		"adecision.upheld":           {"维持", "Uphold"},
		"adecision.overturned":       {"撤销处理决定", "Overturn"},
		"notice.sanction_lifted":     {"暂停已解除。", "The suspension is lifted."},
		"notice.appeal_decided":      {"申诉决定已记录。", "The appeal decision is recorded."},

		"cstate.reported":              {"已立案", "reported"},
		"cstate.awaiting_answer":       {"等待当事人答复", "awaiting the answer"},
		"cstate.awaiting_decision":     {"等待决定", "awaiting a decision"},
		"cstate.awaiting_correction":   {"等待更正", "awaiting correction"},
		"cstate.correction_reported":   {"已报告更正", "correction reported"},
		"cstate.cleared":               {"已排除", "cleared"},
		"cstate.corrected":             {"已更正", "corrected"},
		"cstate.suspended":             {"已暂停", "suspended"},
		"cstate.cancelled":             {"已注销", "cancelled"},
		"sstate.in_force":              {"生效中", "in force"},
		"sstate.lifted":                {"已解除", "lifted"},
		"sstate.overturned":            {"已撤销", "overturned"},
		"appeal.none":                  {"未申诉", "none"},
		"appeal.pending":               {"申诉处理中", "pending"},
		"appeal.upheld":                {"申诉被驳回", "upheld"},
		"appeal.overturned":            {"申诉成立", "overturned"},
		"reason.false_identity":        {"身份信息虚假", "false identity"},
		"reason.false_contact_data":    {"联系信息虚假", "false contact data"},
		"reason.false_address":         {"地址虚假", "false address"},
		"reason.duplicate_identity":    {"重复身份", "duplicate identity"},
		"reason.other_false_data":      {"其他虚假资料", "other false data"},
		"reason.conditions_met":        {"已满足解除条件", "conditions met"},
		"reason.supervisor_review":     {"主管复核", "supervisor's review"},
		"reason.error_in_decision":     {"原决定有误", "error in the decision"},
		"reason.evidence_insufficient": {"证据不足", "evidence insufficient"},
		"reason.procedure_error":       {"程序错误", "procedure error"},
		"reason.new_evidence":          {"新证据", "new evidence"},
		"reason.decision_confirmed":    {"维持原决定", "decision confirmed"},
		"field.birth_date":             {"出生日期", "Date of birth"},
	})
}

type caseListData struct {
	Items  []map[string]any `json:"items"`
	States []string
	Kind   string
	State  string
	Due    bool
	Opener bool // an investigator: the links to open a case
}

func (a *app) casesPage(c echo.Context) error {
	me, done, err := a.staffOnly(c)
	if done {
		return err
	}
	d := caseListData{States: caseStates, Opener: mayStaff(me.Staff.Roles, authz.FraudCaseOpen)}
	q := url.Values{}
	if k := c.QueryParam("kind"); k == "fraud" || k == "violation" {
		q.Set("kind", k)
		d.Kind = k
	}
	if st := c.QueryParam("state"); hasRole(caseStates, st) {
		q.Set("state", st)
		d.State = st
	}
	if c.QueryParam("overdue") == "true" {
		q.Set("overdue", "true")
		d.Due = true
	}
	path := "/v1/cases"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	if e := a.call(c, asSignedIn, http.MethodGet, path, nil, &d); e != nil {
		if done, err := needSignIn(c, e); done {
			return err
		}
		return fail(c, e)
	}
	return render(c, http.StatusOK, "cases/list.html", view{Title: "cases.title", Data: d})
}

type caseData struct {
	Case         map[string]any
	Reasons      []string
	Fields       []string
	LiftReasons  []string
	AppealReason []string
	Decider      bool // investigator or supervisor (auditors read only)
}

func (a *app) showCase(c echo.Context, status int, v view) error {
	me, done, err := a.staffOnly(c)
	if done {
		return err
	}
	d := caseData{Reasons: caseReasons, Fields: regFields, Decider: mayStaff(me.Staff.Roles, authz.CaseDecide)}
	if e := a.call(c, asSignedIn, http.MethodGet, "/v1/cases/"+url.PathEscape(c.Param("id")), nil, &d.Case); e != nil {
		if done, err := needSignIn(c, e); done {
			return err
		}
		return fail(c, e)
	}
	v.Title, v.Data, v.Back = "case.title", d, "/console/cases/"+c.Param("id")
	return render(c, status, "cases/case.html", v)
}

func (a *app) casePage(c echo.Context) error { return a.showCase(c, http.StatusOK, view{}) }

// evidenceRefs splits the evidence field into references, one a line.
func evidenceRefs(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// staffPost sends a console form; a refused one shows the page again with
// the API's message.
func (a *app) staffPost(c echo.Context, path string, body any, again func(int, view) error) (bool, error) {
	e := a.call(c, asSignedIn, http.MethodPost, path, body, nil)
	if done, err := needSignIn(c, e); done {
		return true, err
	}
	if e != nil {
		// A refused role or a missing record gets the refusal page.
		if e.Status >= 500 || e.Status == http.StatusForbidden || e.Status == http.StatusNotFound {
			return true, fail(c, e)
		}
		form, _ := c.FormParams()
		form.Del("csrf")
		return true, again(e.Status, view{Err: e, Form: form})
	}
	return false, nil
}

func (a *app) decideCase(c echo.Context) error {
	id := c.Param("id")
	form, _ := c.FormParams()
	body := map[string]any{"decision": form.Get("decision")}
	if r := form.Get("reason_code"); r != "" {
		body["reason_code"] = r
	}
	if len(form["corrections"]) > 0 {
		body["corrections"] = form["corrections"]
	}
	if ev := evidenceRefs(form.Get("evidence")); len(ev) > 0 {
		body["evidence"] = ev
	}
	if done, err := a.staffPost(c, "/v1/cases/"+url.PathEscape(id)+"/decision", body,
		func(st int, v view) error { return a.showCase(c, st, v) }); done {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/console/cases/"+url.PathEscape(id)+"?notice=case_decided")
}

func (a *app) showSanction(c echo.Context, status int, v view) error {
	me, done, err := a.staffOnly(c)
	if done {
		return err
	}
	d := caseData{LiftReasons: liftReasons, AppealReason: appealReason, Decider: mayStaff(me.Staff.Roles, authz.SanctionCorrectionReview)}
	if e := a.call(c, asSignedIn, http.MethodGet, "/v1/sanctions/"+url.PathEscape(c.Param("id")), nil, &d.Case); e != nil {
		if done, err := needSignIn(c, e); done {
			return err
		}
		return fail(c, e)
	}
	v.Title, v.Data, v.Back = "sanction.title", d, "/console/sanctions/"+c.Param("id")
	return render(c, status, "cases/sanction.html", v)
}

func (a *app) sanctionPage(c echo.Context) error { return a.showSanction(c, http.StatusOK, view{}) }

func (a *app) liftSanction(c echo.Context) error {
	id := c.Param("id")
	if done, err := a.staffPost(c, "/v1/sanctions/"+url.PathEscape(id)+"/lift", map[string]any{"reason_code": c.FormValue("reason_code")},
		func(st int, v view) error { return a.showSanction(c, st, v) }); done {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/console/sanctions/"+url.PathEscape(id)+"?notice=sanction_lifted")
}

func (a *app) decideAppeal(c echo.Context) error {
	id := c.Param("id")
	if done, err := a.staffPost(c, "/v1/sanctions/"+url.PathEscape(id)+"/appeal-decision",
		map[string]any{"decision": c.FormValue("decision"), "reason_code": c.FormValue("reason_code")},
		func(st int, v view) error { return a.showSanction(c, st, v) }); done {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/console/sanctions/"+url.PathEscape(id)+"?notice=appeal_decided")
}

func (a *app) reviewCaseCorrection(c echo.Context) error {
	id := c.Param("id")
	if done, err := a.staffPost(c, "/v1/cases/"+url.PathEscape(id)+"/correction-review", map[string]any{"result": c.FormValue("result")},
		func(st int, v view) error { return a.showCase(c, st, v) }); done {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/console/cases/"+url.PathEscape(id)+"?notice=correction_reviewed")
}

func (a *app) reviewSanctionCorrection(c echo.Context) error {
	id := c.Param("id")
	if done, err := a.staffPost(c, "/v1/sanctions/"+url.PathEscape(id)+"/correction-review", map[string]any{"result": c.FormValue("result")},
		func(st int, v view) error { return a.showSanction(c, st, v) }); done {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/console/sanctions/"+url.PathEscape(id)+"?notice=correction_reviewed")
}
