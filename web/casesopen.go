package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/authz"
)

// Opening cases in the console: a fraud verification against an account or
// a pending application (POST /v1/cases/fraud, C2.2) and a violation case
// naming the conduct rule broken and the action (POST /v1/cases/violation,
// C2.5 / C3.4). Investigators open cases; the forms are not offered to
// other roles, and the API's refusal is shown if a stale page tries anyway.
// After opening, the page goes to the case's own page.
func (a *app) caseOpenPages() {
	a.get("/console/cases/new/fraud", a.newFraudCasePage)
	a.post("/console/cases/new/fraud", a.openFraudCase)
	a.get("/console/cases/new/violation", a.newViolationCasePage)
	a.post("/console/cases/new/violation", a.openViolationCase)
}

var (
	caseSources      = []string{"staff", "automated_check"}
	violationRules   = []string{"C3.4(1)", "C3.4(2)", "C3.4(3)", "C3.4(4)", "C3.4(5)", "C3.4(6)", "C3.4(7)", "C3.4(8)"}
	violationActions = []string{"correct", "suspend", "cancel"}
)

func init() {
	addMessages(map[string][2]string{
		"copen.fraud_title":         {"开立虚假资料核查案件（第二条第2款）", "Open a fraud verification (C2.2)"},
		"copen.violation_title":     {"开立违规案件（第二条第5款）", "Open a violation case (C2.5)"},
		"copen.only_investigators":  {"仅调查人员可以开立案件。", "Only investigators open cases."},
		"copen.target":              {"核查对象", "What is verified"},
		"copen.target_hint":         {"填写账户编号，或待审核申请的申请编号，只填其一。", "Enter an account number or the number of a pending application, not both."},
		"copen.account_hint":        {"输入账户编号（见账户、申请或案件页面）。", "Enter the account number (shown on the account, application or case)."},
		"copen.summary":             {"摘要（工作人员填写，勿写个人资料）", "Summary (staff prose: write no personal data)"},
		"copen.evidence_hint":       {"以编号引用证据，每行一个，例如 doc:utility-bill-17。", "Reference evidence by ID, one a line, e.g. doc:utility-bill-17."},
		"copen.answer_hint":         {"不填写时为7天后；须在将来且不超过90天。", "Empty: in 7 days; in the future and within 90 days."},
		"copen.check_hint":          {"来源为自动核查时必填，例如 mobile_shared。", "Required when the source is an automated check, e.g. mobile_shared."},
		"copen.submit_fraud":        {"开立核查案件", "Open the verification"},
		"copen.action_hint":         {"责令改正须规定期限（不超过90天）并说明改正要求。", "An order to correct needs a deadline (within 90 days) and what to fix."},
		"copen.corrections":         {"解除条件代码（直接暂停时填写，每行一个）", "Lifting-condition codes (for a direct suspension, one a line)"},
		"copen.submit_violation":    {"开立违规案件", "Open the violation case"},
		"field.suspected_fields":    {"可疑字段", "Suspected fields"},
		"field.source":              {"来源", "Source"},
		"field.check_code":          {"核查代码", "Check code"},
		"field.answer_by":           {"答复期限（北京时间）", "Answer by (China Standard Time)"},
		"field.rule":                {"违反的条款（第三条第4款）", "Rule broken (C3.4)"},
		"field.violation_action":    {"处理方式", "Action"},
		"field.correct_by":          {"改正期限（北京时间）", "Correct by (China Standard Time)"},
		"field.instructions":        {"改正要求（工作人员填写，勿写个人资料）", "What to correct (staff prose: write no personal data)"},
		"csource.staff":             {"工作人员发现", "found by staff"},
		"csource.automated_check":   {"自动核查", "automated check"},
		"vaction.correct":           {"责令限期改正", "Order a correction by a deadline"},
		"vaction.suspend":           {"直接暂停账户", "Suspend the account directly"},
		"vaction.cancel":            {"直接注销账户", "Cancel the account directly"},
		"rule.C3.4(1)":              {"遵守国家的各项有关法律、法规和行政规章制度", "obey the laws, regulations and administrative rules"},
		"rule.C3.4(2)":              {"不得利用网站从事危害国家安全、泄露国家秘密等违法犯罪活动", "no crime through the site, such as endangering national security or leaking state secrets"},
		"rule.C3.4(3)":              {"不得利用网站传输和发布违法、妨碍社会治安或淫秽色情的信息", "no unlawful, disorderly or obscene information sent or published through the site"},
		"rule.C3.4(4)":              {"不得传输和发布侵犯他人合法权益、造谣中伤、骚扰恐吓性的信息", "no information that infringes others' rights, slanders, harasses or threatens"},
		"rule.C3.4(5)":              {"遵守网站公布的所有网上办事规定、相应条款和解释", "follow every rule, term and interpretation the site publishes"},
		"rule.C3.4(6)":              {"符合网站服务内容所需具备的各项资质和条件", "meet the qualifications and conditions of each service"},
		"rule.C3.4(7)":              {"保证传输和发布的所有信息均真实、有效", "everything sent or published is true and valid"},
		"rule.C3.4(8)":              {"不得恶意干扰网站的正常运行", "no malicious disruption of the site"},
		"copen.bad_id":              {"编号格式不正确（形如 0f8c2d4e-…，见账户、申请或案件页面）", "this is not such a number (like 0f8c2d4e-…, shown on the account, application or case)"},
		"copen.check_fields":        {"请检查标出的项目。", "Please check the fields marked."},
		"notice.case_opened":        {"案件已开立，流程已启动。", "The case is open and its run has started."},
		"cases.open_fraud_link":     {"开立虚假资料核查", "Open a fraud verification"},
		"cases.open_violation_link": {"开立违规案件", "Open a violation case"},
	})
}

type caseOpenData struct {
	Fields  []string // registration fields a fraud report may name
	Sources []string
	Rules   []string
	Actions []string
}

func newCaseOpenData() caseOpenData {
	return caseOpenData{Fields: regFields, Sources: caseSources, Rules: violationRules, Actions: violationActions}
}

// investigatorOnly answers the page request of staff who may not open cases
// (the API would refuse them: the form is not offered).
func (a *app) investigatorOnly(c echo.Context) (bool, error) {
	me, done, err := a.staffOnly(c)
	if done {
		return true, err
	}
	if !mayStaff(me.Staff.Roles, authz.FraudCaseOpen) || !mayStaff(me.Staff.Roles, authz.ViolationCaseOpen) {
		return true, fail(c, newAPIError(http.StatusForbidden, "forbidden",
			text("zh", "copen.only_investigators"), text("en", "copen.only_investigators")))
	}
	return false, nil
}

func (a *app) showFraudForm(c echo.Context, status int, v view) error {
	v.Title, v.Data, v.Back = "copen.fraud_title", newCaseOpenData(), "/console/cases/new/fraud"
	return render(c, status, "cases/open_fraud.html", v)
}

func (a *app) showViolationForm(c echo.Context, status int, v view) error {
	v.Title, v.Data, v.Back = "copen.violation_title", newCaseOpenData(), "/console/cases/new/violation"
	return render(c, status, "cases/open_violation.html", v)
}

func (a *app) newFraudCasePage(c echo.Context) error {
	if done, err := a.investigatorOnly(c); done {
		return err
	}
	return a.showFraudForm(c, http.StatusOK, view{})
}

func (a *app) newViolationCasePage(c echo.Context) error {
	if done, err := a.investigatorOnly(c); done {
		return err
	}
	return a.showViolationForm(c, http.StatusOK, view{})
}

// nonNil keeps an empty list a list in JSON (the API requires the arrays).
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *app) openFraudCase(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	form, _ := c.FormParams()
	body := map[string]any{
		"suspected_fields": nonNil(form["suspected_fields"]),
		"evidence":         nonNil(evidenceRefs(form.Get("evidence"))),
		"summary":          strings.TrimSpace(form.Get("summary")),
	}
	var bad []fieldError
	for _, f := range []string{"account_id", "application_id"} {
		if id := strings.TrimSpace(form.Get(f)); id != "" {
			body[f] = id
			bad = append(bad, checkID(f, id)...)
		}
	}
	if len(bad) > 0 {
		return a.refuseForm(c, bad, a.showFraudForm)
	}
	if src := form.Get("source"); src != "" {
		body["source"] = src
	}
	if code := strings.TrimSpace(form.Get("check_code")); code != "" {
		body["check_code"] = code
	}
	if by := form.Get("answer_by"); by != "" {
		body["answer_by"] = localTime(by)
	}
	return a.openCase(c, "/v1/cases/fraud", body, a.showFraudForm)
}

func (a *app) openViolationCase(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	form, _ := c.FormParams()
	body := map[string]any{
		"account_id": strings.TrimSpace(form.Get("account_id")),
		"rule":       form.Get("rule"),
		"action":     form.Get("action"),
		"evidence":   nonNil(evidenceRefs(form.Get("evidence"))),
		"summary":    strings.TrimSpace(form.Get("summary")),
	}
	if bad := checkID("account_id", body["account_id"].(string)); len(bad) > 0 {
		return a.refuseForm(c, bad, a.showViolationForm)
	}
	if by := form.Get("correct_by"); by != "" {
		body["correct_by"] = localTime(by)
	}
	if s := strings.TrimSpace(form.Get("instructions")); s != "" {
		body["instructions"] = s
	}
	if codes := evidenceRefs(form.Get("corrections")); len(codes) > 0 {
		body["corrections"] = codes
	}
	return a.openCase(c, "/v1/cases/violation", body, a.showViolationForm)
}

// checkID: an account or application is named by its number (a UUID); the
// page says so under the field rather than sending the API something that
// is no number at all.
func checkID(field, id string) []fieldError {
	if id == "" || uuidPattern.MatchString(id) {
		return nil
	}
	return []fieldError{{Field: field, Code: "invalid", MessageZH: text("zh", "copen.bad_id"), MessageEN: text("en", "copen.bad_id")}}
}

// refuseForm shows the form again with the page's own field errors; the
// API was not called.
func (a *app) refuseForm(c echo.Context, bad []fieldError, again func(echo.Context, int, view) error) error {
	form, _ := c.FormParams()
	form.Del("csrf")
	e := newAPIError(http.StatusUnprocessableEntity, "validation_failed",
		text("zh", "copen.check_fields"), text("en", "copen.check_fields"), bad...)
	return again(c, e.Status, view{Err: e, Form: form})
}

// openCase sends the report; a refused one shows the form again with the
// API's field errors (nothing was stored), an accepted one goes to the
// case's page.
func (a *app) openCase(c echo.Context, path string, body map[string]any, again func(echo.Context, int, view) error) error {
	var out struct {
		ID string `json:"id"`
	}
	e := a.call(c, asSignedIn, http.MethodPost, path, body, &out)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		if e.Status >= 500 || e.Status == http.StatusForbidden {
			return fail(c, e)
		}
		form, _ := c.FormParams()
		form.Del("csrf")
		return again(c, e.Status, view{Err: e, Form: form})
	}
	return c.Redirect(http.StatusSeeOther, "/console/cases/"+url.PathEscape(out.ID)+"?notice=case_opened")
}
