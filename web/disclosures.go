package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/authz"
)

// Disclosure requests in the console (C2.3): personal data leaves only with
// the user's consent or as the law requires, decided by a second person,
// exported once and kept in a register.
//
//	GET  /console/disclosures               the register (GET /v1/disclosures) for its readers; open by number; link to file
//	GET  /console/disclosures/new           the form to file a request
//	POST /console/disclosures               POST /v1/disclosures
//	GET  /console/disclosures/{id}          GET /v1/disclosures/{id}: state, basis, consent, timeline, run link, forms
//	POST /console/disclosures/{id}/decision POST /v1/disclosures/{id}/decision (never the one who filed it)
//	POST /console/disclosures/{id}/export   POST /v1/disclosures/{id}/export: the data on a no-store page answering the POST
//
// The API decides who may do what; the pages offer only what the reader's
// roles allow and show the API's refusals.
func (a *app) disclosurePages() {
	a.get("/console/disclosures", a.disclosureRegisterPage)
	a.get("/console/disclosures/new", a.newDisclosurePage)
	a.post("/console/disclosures", a.fileDisclosure)
	a.get("/console/disclosures/:id", a.disclosurePage)
	a.post("/console/disclosures/:id/decision", a.decideDisclosure)
	a.post("/console/disclosures/:id/export", a.exportDisclosure)
}

var (
	disclosureStates = []string{"received", "awaiting_consent", "awaiting_approval", "approved", "delivered", "refused", "expired"}
	disclosureBases  = []string{"law", "user_authorised", "service_need"}
	// disclosableFields are the field codes a request may name (activities.DisclosableFields).
	disclosableFields = []string{"name", "id_number", "birth_date", "mobile", "email", "address",
		"account_status", "registered_at", "services", "agreement"}
)

func init() {
	addMessages(map[string][2]string{
		"disc.mine":                 {"我录入的请求", "Requests I entered"},
		"disc.mine_empty":           {"您尚未录入请求。", "You have entered no request."},
		"disc.title":                {"数据提供请求", "Disclosure requests"},
		"disc.register":             {"数据提供登记簿（最早录入的在前）", "Disclosure register (oldest first)"},
		"disc.register_hint":        {"登记簿记录每一次数据提供：谁请求、提供了什么、何时、依据什么、由谁批准。", "The register records every disclosure: who asked, what was given, when, on which basis and who approved it."},
		"disc.register_readers":     {"登记簿仅供主管、管理员和审计人员查阅。您录入的请求可凭请求编号打开。", "The register is for supervisors, administrators and auditors. A request you filed opens by its number."},
		"disc.filter":               {"筛选", "Filter"},
		"disc.any":                  {"全部", "any"},
		"disc.apply":                {"筛选", "Apply"},
		"disc.empty":                {"没有符合条件的请求。", "No request matches."},
		"disc.more":                 {"更多", "More"},
		"disc.open":                 {"查看", "Open"},
		"disc.open_by_number":       {"按请求编号打开", "Open by request number"},
		"disc.number_hint":          {"请求编号见录入后的请求页面。", "The number is shown on the request's page after filing."},
		"disc.bad_number":           {"请求编号格式不正确", "this is not a request number"},
		"disc.bad_account":          {"账户编号格式不正确", "this is not an account number"},
		"disc.new":                  {"录入数据提供请求", "File a disclosure request"},
		"disc.not_filer":            {"只有审核人员、主管、管理员和调查人员可以录入数据提供请求。", "Only reviewers, supervisors, administrators and investigators file disclosure requests."},
		"disc.request_form":         {"请求内容", "The request"},
		"disc.new_intro":            {"依法律程序的请求须注明法律文书；经用户授权的请求将征求用户本人同意；因服务需要的请求须注明部门和服务。除经用户授权的请求外，均须由另一名主管或管理员批准。密码及其散列值在任何情况下都不得提供。", "A request under the law names its legal document; a request on the user's authorisation asks the user; a request for a service's need names the department and the service. Other than those the user authorises, a second supervisor or administrator must approve. A password or its hash is never disclosed."},
		"disc.subject_hint":         {"填写账户编号或公民身份号码之一（不会出现在网址中）。", "Give either the account number or the resident ID number (it never appears in an address)."},
		"disc.law_only":             {"仅依法律程序的请求填写。", "For a request under the law only."},
		"disc.service_only":         {"仅因服务需要的请求填写。", "For a request for a service's need only."},
		"disc.secrecy_hint":         {"附保密令时，用户在保密期限届满前看不到此次提供。", "Under a secrecy order the user does not see the disclosure before the order ends."},
		"disc.submit":               {"录入请求", "File the request"},
		"disc.request":              {"请求", "Request"},
		"disc.number":               {"请求编号", "Request number"},
		"disc.state":                {"状态", "State"},
		"disc.entered":              {"录入时间", "Filed"},
		"disc.entered_by":           {"录入人员", "Filed by"},
		"disc.subject":              {"数据主体账户", "Subject's account"},
		"disc.requested_fields":     {"请求的数据项", "Data asked for"},
		"disc.approved_fields":      {"批准提供的数据项", "Data approved"},
		"disc.secrecy":              {"保密令", "Secrecy order"},
		"disc.secrecy_until_lbl":    {"保密期限至", "Secret until"},
		"disc.consent":              {"用户授权", "The user's consent"},
		"disc.consent_waiting":      {"等待用户答复，期限：%s。逾期未答复视为拒绝。", "Waiting for the user's answer until %s. No answer by then is a refusal."},
		"disc.consent_pending":      {"系统正在向用户征求同意。", "The user is being asked."},
		"disc.approval":             {"审批", "Approval"},
		"disc.approval_due":         {"须在 %s 前作出决定，逾期请求失效。", "To be decided before %s; after that the request expires."},
		"disc.approved_by":          {"审批人员", "Decided by"},
		"disc.decided":              {"决定时间", "Decided"},
		"disc.reason":               {"理由", "Reason"},
		"disc.delivery":             {"交付", "Delivery"},
		"disc.delivery_until":       {"须在 %s 前由录入人员导出，逾期失效。", "To be exported by the staff member who filed it before %s; after that it expires."},
		"disc.delivered":            {"交付时间", "Delivered"},
		"disc.delivered_to":         {"交付给", "Delivered to"},
		"disc.timeline":             {"经过", "Timeline"},
		"disc.temporal":             {"在 Temporal 网页界面中查看此请求的流程运行", "This request's run in the Temporal web UI"},
		"disc.temporal_search":      {"按搜索属性查找", "Find it by its search attributes"},
		"disc.decision":             {"审批决定", "Decision"},
		"disc.decision_hint":        {"批准时可只选择部分数据项（不选即全部请求的数据项）；拒绝须说明理由。", "When approving you may choose some of the data asked for (none chosen: all of it); refusing needs a reason."},
		"disc.approve":              {"批准提供", "Approve"},
		"disc.refuse":               {"拒绝提供", "Refuse"},
		"disc.fields_to_approve":    {"批准的数据项", "Data to approve"},
		"disc.reason_label":         {"理由（拒绝时必填）", "Reason (required to refuse)"},
		"disc.decide":               {"记录决定", "Record the decision"},
		"disc.four_eyes_self":       {"此请求由您录入。按照双人审批规则，须由另一名主管或管理员决定。", "You filed this request. Under the four-eyes rule another supervisor or administrator decides it."},
		"disc.four_eyes_refused":    {"您的决定未被接受：录入请求的工作人员不得审批该请求（双人审批）。请求未作任何改变。", "Your decision was not accepted: the staff member who filed a request may not decide it (four eyes). Nothing changed."},
		"disc.user_decides":         {"此请求经用户授权，由用户本人决定。", "The user decides a request on their authorisation."},
		"disc.refused_state":        {"您的操作未被接受：此请求的状态已改变，当前状态如下。", "Your action was not accepted: the request is no longer in that state. Its current state is below."},
		"disc.export":               {"导出批准的数据", "Export the approved data"},
		"disc.export_hint":          {"数据只能由您导出一次，导出后即记为已交付。请当场交给请求方，不要另存副本。", "Only you can export the data, once; the export records the delivery. Hand it to the requester at once and keep no copy."},
		"disc.export_button":        {"导出数据（仅一次）", "Export the data (once)"},
		"disc.export_title":         {"提供的数据", "The disclosed data"},
		"disc.export_once":          {"这些数据只显示这一次，离开本页后无法再次查看；本页不会被缓存。", "This data is shown only this once and cannot be shown again after you leave this page; the page is not cached."},
		"disc.export_field":         {"数据项", "Data"},
		"disc.export_value":         {"内容", "Value"},
		"disc.print":                {"打印", "Print"},
		"disc.back":                 {"返回请求", "Back to the request"},
		"disc.until_open":           {"至今有效", "open-ended"},
		"notice.disclosure_filed":   {"请求已录入。", "The request is filed."},
		"notice.disclosure_decided": {"决定已记录。", "The decision is recorded."},

		"discstate.received":               {"已收到", "received"},
		"discstate.awaiting_consent":       {"等待用户同意", "awaiting the user's consent"},
		"discstate.awaiting_approval":      {"等待审批", "awaiting approval"},
		"discstate.approved":               {"已批准，待导出", "approved, to be exported"},
		"discstate.delivered":              {"已交付", "delivered"},
		"discstate.refused":                {"已拒绝", "refused"},
		"discstate.expired":                {"已失效", "expired"},
		"discconsent.accepted":             {"用户已同意", "the user consented"},
		"discconsent.refused":              {"用户已拒绝", "the user refused"},
		"discconsent.no_answer":            {"用户逾期未答复（视为拒绝）", "no answer by the deadline (a refusal)"},
		"discreason.refused_by_user":       {"用户拒绝", "refused by the user"},
		"discreason.no_answer_by_deadline": {"用户逾期未答复", "no answer by the deadline"},
		"discreason.no_decision_in_time":   {"未在期限内审批", "not decided in time"},
		"discreason.not_exported_in_time":  {"未在期限内导出", "not exported in time"},
		"devent.entered":                   {"录入请求", "request filed"},
		"devent.consent_accepted":          {"用户同意", "the user consented"},
		"devent.consent_refused":           {"用户拒绝", "the user refused"},
		"devent.consent_no_answer":         {"用户逾期未答复", "no answer from the user"},
		"devent.approved":                  {"批准提供", "approved"},
		"devent.refused":                   {"拒绝提供", "refused"},
		"devent.delivered":                 {"数据已交付", "data delivered"},
		"devent.expired":                   {"请求失效", "expired"},

		"basis.law":             {"依法律程序", "under the law"},
		"basis.user_authorised": {"经用户授权", "on the user's authorisation"},
		"basis.service_need":    {"因本网站服务需要", "for a service's need"},

		"field.subject":           {"数据主体", "Whose data"},
		"field.account_id":        {"账户编号", "Account number"},
		"field.requester":         {"请求方（机关、单位或个人）", "Requester (body or person asking)"},
		"field.basis":             {"依据", "Basis"},
		"field.legal_reference":   {"法律文书（文号及名称）", "Legal document (reference and title)"},
		"field.secrecy_order":     {"保密令", "Secrecy order"},
		"field.secrecy_reference": {"保密决定书文号", "Secrecy order reference"},
		"field.secrecy_until":     {"保密期限至（北京时间）", "Secret until (China Standard Time)"},
		"field.department":        {"部门", "Department"},
		"field.service_code":      {"服务", "Service"},
		"field.purpose":           {"用途", "Purpose"},
		"field.fields":            {"请求的数据项", "Data asked for"},
		"field.account_status":    {"账户状态", "Account state"},
		"field.registered_at":     {"注册时间", "Registered"},
		"field.agreement":         {"用户承诺书", "User agreement"},
	})
}

// disclosure is the API's record of a request (GET /v1/disclosures/{id}).
type disclosure struct {
	ID                string     `json:"id"`
	AccountID         string     `json:"account_id"`
	Requester         string     `json:"requester"`
	Basis             string     `json:"basis"`
	LegalReference    *string    `json:"legal_reference"`
	Department        *string    `json:"department"`
	ServiceCode       *string    `json:"service_code"`
	Purpose           string     `json:"purpose"`
	Fields            []string   `json:"fields"`
	SecrecyOrder      *string    `json:"secrecy_order"`
	SecrecyUntil      *time.Time `json:"secrecy_until"`
	EnteredBy         string     `json:"entered_by"`
	EnteredRoles      []string   `json:"entered_roles"`
	EnteredAt         time.Time  `json:"entered_at"`
	Status            string     `json:"status"`
	Deadline          *time.Time `json:"deadline"`
	ConsentDecision   *string    `json:"consent_decision"`
	ConsentAt         *time.Time `json:"consent_at"`
	ApprovedBy        *string    `json:"approved_by"`
	ApproverRoles     []string   `json:"approver_roles"`
	DecidedAt         *time.Time `json:"decided_at"`
	DecisionReason    *string    `json:"decision_reason"`
	ApprovedFields    []string   `json:"approved_fields"`
	DeliveryExpiresAt *time.Time `json:"delivery_expires_at"`
	DeliveredAt       *time.Time `json:"delivered_at"`
	DeliveredTo       *string    `json:"delivered_to"`
	ClosedAt          *time.Time `json:"closed_at"`
}

// Badge is the CSS class of the state's badge (the state is also written).
func (d disclosure) Badge() string {
	switch d.Status {
	case "approved", "delivered":
		return "approved"
	case "refused":
		return "rejected"
	case "expired":
		return "expired"
	}
	return "pending"
}

// short abbreviates a staff ID for the register's table; the full ID is
// in its title and on the request's page.
func short(id string) string {
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}

// ShortEnteredBy and ShortApprovedBy are the staff IDs as the register shows them.
func (d disclosure) ShortEnteredBy() string { return short(d.EnteredBy) }

func (d disclosure) ShortApprovedBy() string {
	if d.ApprovedBy == nil {
		return ""
	}
	return short(*d.ApprovedBy)
}

type discEvent struct {
	Kind  string
	At    time.Time
	Actor string // a staff ID, when a staff member acted
}

// Timeline puts the request's dated steps in order.
func (d disclosure) Timeline() []discEvent {
	ev := []discEvent{{Kind: "entered", At: d.EnteredAt, Actor: d.EnteredBy}}
	if d.ConsentAt != nil && d.ConsentDecision != nil {
		ev = append(ev, discEvent{Kind: "consent_" + *d.ConsentDecision, At: *d.ConsentAt})
	}
	if d.DecidedAt != nil && d.ApprovedBy != nil {
		kind := "approved"
		if d.Status == "refused" {
			kind = "refused"
		}
		ev = append(ev, discEvent{Kind: kind, At: *d.DecidedAt, Actor: *d.ApprovedBy})
	}
	if d.DeliveredAt != nil {
		actor := ""
		if d.DeliveredTo != nil {
			actor = *d.DeliveredTo
		}
		ev = append(ev, discEvent{Kind: "delivered", At: *d.DeliveredAt, Actor: actor})
	}
	if d.Status == "expired" && d.ClosedAt != nil {
		ev = append(ev, discEvent{Kind: "expired", At: *d.ClosedAt})
	}
	sort.SliceStable(ev, func(i, j int) bool { return ev[i].At.Before(ev[j].At) })
	return ev
}

type disclosureListData struct {
	Items   []disclosure `json:"items"`
	Next    string       `json:"next_cursor"`
	Reader  bool         // may read the register
	Mine    []disclosure // a filer's own requests, when they may not read the register
	Filer   bool         // may file a request
	States  []string
	Bases   []string
	State   string
	Basis   string
	Account string
	More    string // the next page, with the same filters
}

// disclosureRegisterPage is the register for its readers, the "open by number"
// form and the way to file a request for the roles that may.
func (a *app) disclosureRegisterPage(c echo.Context) error {
	me, done, err := a.staffOnly(c)
	if done {
		return err
	}
	if n := c.QueryParam("request"); n != "" {
		if uuidPattern.MatchString(n) {
			return c.Redirect(http.StatusSeeOther, "/console/disclosures/"+n)
		}
	}
	d := disclosureListData{Reader: mayStaff(me.Staff.Roles, authz.DisclosureRegister), Filer: mayStaff(me.Staff.Roles, authz.DisclosureEnter),
		States: disclosureStates, Bases: disclosureBases}
	v := view{Title: "disc.title", Fields: map[string][]fieldError{}}
	status := http.StatusOK
	if n := c.QueryParam("request"); n != "" {
		v.Fields["request"] = []fieldError{{Field: "request", Code: "invalid",
			MessageZH: text("zh", "disc.bad_number"), MessageEN: text("en", "disc.bad_number")}}
		status = http.StatusUnprocessableEntity
	}
	// Somebody in neither group gets the API's own refusal of the register.
	if d.Reader || !d.Filer {
		q := url.Values{}
		if st := c.QueryParam("status"); hasRole(disclosureStates, st) {
			q.Set("status", st)
			d.State = st
		}
		if b := c.QueryParam("basis"); hasRole(disclosureBases, b) {
			q.Set("basis", b)
			d.Basis = b
		}
		if acc := strings.TrimSpace(c.QueryParam("account_id")); acc != "" {
			d.Account = acc
			if uuidPattern.MatchString(acc) {
				q.Set("account_id", acc)
			} else {
				v.Fields["account_id"] = []fieldError{{Field: "account_id", Code: "invalid",
					MessageZH: text("zh", "disc.bad_account"), MessageEN: text("en", "disc.bad_account")}}
				status = http.StatusUnprocessableEntity
			}
		}
		if after := c.QueryParam("after"); after != "" {
			q.Set("after", after)
		}
		path := "/v1/disclosures"
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
		// A bad filter shows its error and no register.
		if v.Fields["account_id"] == nil || !d.Reader {
			if e := a.call(c, asSignedIn, http.MethodGet, path, nil, &d); e != nil {
				if done, err := needSignIn(c, e); done {
					return err
				}
				return fail(c, e)
			}
		}
		if d.Next != "" {
			q.Set("after", d.Next)
			d.More = "/console/disclosures?" + q.Encode()
		}
	} else {
		// A filer who may not read the register still finds their own
		// requests (they alone export them).
		var mine struct {
			Items []disclosure `json:"items"`
		}
		if e := a.call(c, asSignedIn, http.MethodGet, "/v1/disclosures?mine=true&limit=200", nil, &mine); e != nil {
			if done, err := needSignIn(c, e); done {
				return err
			}
			return fail(c, e)
		}
		d.Mine = mine.Items
	}
	v.Data = d
	return render(c, status, "disclosures/list.html", v)
}

type newDisclosureData struct {
	Bases    []string
	Fields   []string
	Services services
}

func (a *app) showNewDisclosure(c echo.Context, status int, v view) error {
	me, done, err := a.staffOnly(c)
	if done {
		return err
	}
	// The form is not offered to a role the API would refuse (its POST
	// still gets the API's own refusal).
	if !mayStaff(me.Staff.Roles, authz.DisclosureEnter) {
		return fail(c, &apiError{Status: http.StatusForbidden, Code: "forbidden",
			MessageZH: text("zh", "disc.not_filer"), MessageEN: text("en", "disc.not_filer")})
	}
	d := newDisclosureData{Bases: disclosureBases, Fields: disclosableFields}
	d.Services, _ = a.catalogue(c)
	v.Title, v.Data, v.Back = "disc.new", d, "/console/disclosures/new"
	return render(c, status, "disclosures/new.html", v)
}

func (a *app) newDisclosurePage(c echo.Context) error {
	return a.showNewDisclosure(c, http.StatusOK, view{})
}

// fileDisclosure sends the form to POST /v1/disclosures. Every key goes
// along (empty when left empty) so that the API names each missing field.
func (a *app) fileDisclosure(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	form, _ := c.FormParams()
	subject := map[string]string{}
	if v := strings.TrimSpace(form.Get("account_id")); v != "" {
		subject["account_id"] = v
	}
	if v := strings.TrimSpace(form.Get("id_number")); v != "" {
		subject["id_number"] = v
	}
	fields := form["fields"]
	if fields == nil {
		fields = []string{}
	}
	body := map[string]any{"subject": subject, "requester": form.Get("requester"), "basis": form.Get("basis"),
		"purpose": form.Get("purpose"), "fields": fields}
	for _, k := range []string{"legal_reference", "department", "service_code"} {
		if v := strings.TrimSpace(form.Get(k)); v != "" {
			body[k] = v
		}
	}
	if ref, until := strings.TrimSpace(form.Get("secrecy_reference")), strings.TrimSpace(form.Get("secrecy_until")); ref != "" || until != "" {
		body["secrecy_order"] = map[string]string{"reference": ref, "until": localTime(until)}
	}
	var out struct {
		ID string `json:"id"`
	}
	e := a.call(c, asSignedIn, http.MethodPost, "/v1/disclosures", body, &out)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		if e.Status >= 500 || e.Status == http.StatusForbidden || e.Status == http.StatusNotFound {
			return fail(c, e)
		}
		form.Del("csrf")
		return a.showNewDisclosure(c, e.Status, view{Err: e, Form: form})
	}
	return c.Redirect(http.StatusSeeOther, "/console/disclosures/"+url.PathEscape(out.ID)+"?notice=disclosure_filed")
}

type disclosureData struct {
	D          disclosure
	RunURL     string
	SearchURL  string
	MeID       string
	Decider    bool // an approver role, not the filer, and the request waits for approval
	SelfFiled  bool // the reader filed it and holds an approver role (four eyes)
	Exporter   bool // the filer, and the data waits for export
	UserDecide bool // a user_authorised request: the user decides
	Services   services
}

// disclosureSearchURL is the Temporal web UI's list of runs filtered by
// the request's search attributes.
func disclosureSearchURL(workflowURL, id string) string {
	i := strings.Index(workflowURL, "/workflows/")
	if i < 0 {
		return ""
	}
	q := `HrssKind = "disclosure" AND WorkflowId = "disclosure/` + id + `"`
	return workflowURL[:i] + "/workflows?query=" + url.QueryEscape(q)
}

func (a *app) showDisclosure(c echo.Context, status int, v view) error {
	me, done, err := a.staffOnly(c)
	if done {
		return err
	}
	var out struct {
		Disclosure  disclosure `json:"disclosure"`
		WorkflowURL string     `json:"workflow_url"`
	}
	if e := a.call(c, asSignedIn, http.MethodGet, "/v1/disclosures/"+url.PathEscape(c.Param("id")), nil, &out); e != nil {
		if done, err := needSignIn(c, e); done {
			return err
		}
		return fail(c, e)
	}
	dd := out.Disclosure
	d := disclosureData{D: dd, RunURL: out.WorkflowURL, SearchURL: disclosureSearchURL(out.WorkflowURL, dd.ID), MeID: me.Staff.ID,
		UserDecide: dd.Basis == "user_authorised"}
	approver := mayStaff(me.Staff.Roles, authz.DisclosureDecide)
	waiting := dd.Status == "awaiting_approval" && !d.UserDecide
	d.Decider = approver && waiting && dd.EnteredBy != me.Staff.ID
	d.SelfFiled = approver && waiting && dd.EnteredBy == me.Staff.ID
	d.Exporter = dd.Status == "approved" && dd.EnteredBy == me.Staff.ID
	if dd.ServiceCode != nil {
		d.Services, _ = a.catalogue(c)
	}
	v.Title, v.Data, v.Back = "disc.request", d, "/console/disclosures/"+dd.ID
	return render(c, status, "disclosures/detail.html", v)
}

func (a *app) disclosurePage(c echo.Context) error { return a.showDisclosure(c, http.StatusOK, view{}) }

// refusedOnDetail shows a refused action on the request's page with its
// real state: four eyes (403 four_eyes), a changed state (409), a closed
// delivery (410), or field errors (422). Other refusals get the refusal
// page.
func (a *app) refusedOnDetail(c echo.Context, e *apiError) error {
	form, _ := c.FormParams()
	form.Del("csrf")
	switch {
	case e.Status == http.StatusForbidden && e.Code == "four_eyes":
		return a.showDisclosure(c, http.StatusForbidden, view{Problem: "disc.four_eyes_refused", Err: e})
	case e.Status == http.StatusConflict || e.Status == http.StatusGone:
		return a.showDisclosure(c, e.Status, view{Problem: "disc.refused_state", Err: e})
	case e.Status == http.StatusUnprocessableEntity:
		return a.showDisclosure(c, e.Status, view{Err: e, Form: form})
	}
	return fail(c, e)
}

func (a *app) decideDisclosure(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	id := c.Param("id")
	form, _ := c.FormParams()
	body := map[string]any{"decision": form.Get("decision")}
	if form.Get("decision") == "approve" && len(form["fields"]) > 0 {
		body["fields"] = form["fields"]
	}
	if r := strings.TrimSpace(form.Get("reason")); r != "" {
		body["reason"] = r
	}
	e := a.call(c, asSignedIn, http.MethodPost, "/v1/disclosures/"+url.PathEscape(id)+"/decision", body, nil)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		return a.refusedOnDetail(c, e)
	}
	return c.Redirect(http.StatusSeeOther, "/console/disclosures/"+url.PathEscape(id)+"?notice=disclosure_decided")
}

type exportRow struct {
	Field string
	Value string
}

type exportData struct {
	ID          string
	Rows        []exportRow
	DeliveredAt time.Time
}

// exportValue writes one disclosed value as text.
func exportValue(lang, field string, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if field == "registered_at" {
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return t.In(shanghai).Format("2006-01-02 15:04")
			}
		}
		return x
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = exportValue(lang, "", p)
		}
		return strings.Join(parts, lang2(lang, "、", ", "))
	case map[string]any:
		if field == "agreement" {
			s := fmt.Sprintf("%s %s, %s", text(lang, "field.terms_version"), exportValue(lang, "", x["terms_version"]),
				exportDate(x["effective_from"]))
			if until := exportDate(x["effective_until"]); until != "" {
				return s + " – " + until
			}
			return s + " – " + text(lang, "disc.until_open")
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + exportValue(lang, k, x[k])
		}
		return strings.Join(parts, "; ")
	}
	return fmt.Sprint(v)
}

func exportDate(v any) string {
	s, _ := v.(string)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.In(shanghai).Format("2006-01-02")
	}
	return ""
}

// exportDisclosure hands the approved data out once: it is shown on the
// page answering the POST, never stored by the pages, never in a URL, and
// the page is not cached.
func (a *app) exportDisclosure(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	id := c.Param("id")
	var out struct {
		DisclosureID string         `json:"disclosure_id"`
		Fields       []string       `json:"fields"`
		Data         map[string]any `json:"data"`
		DeliveredAt  time.Time      `json:"delivered_at"`
	}
	e := a.call(c, asSignedIn, http.MethodPost, "/v1/disclosures/"+url.PathEscape(id)+"/export", nil, &out)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		return a.refusedOnDetail(c, e)
	}
	lang := language(c)
	d := exportData{ID: out.DisclosureID, DeliveredAt: out.DeliveredAt}
	for _, f := range out.Fields {
		d.Rows = append(d.Rows, exportRow{Field: f, Value: exportValue(lang, f, out.Data[f])})
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusOK, "disclosures/export.html", view{Title: "disc.export_title", Data: d,
		Back: "/console/disclosures/" + out.DisclosureID})
}
