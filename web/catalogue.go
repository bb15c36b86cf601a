package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/authz"
)

// The service catalogue in the console (C1.4, C2.7, C3.4(6)) for terms
// editors and administrators, read-only for auditors: every service with
// its rules, status and changes (GET /v1/service-catalogue), a form to
// create one (POST /v1/services), and per service a rename form (PATCH
// /v1/services/{code}), new rules and retirement (POST
// /v1/services/{code}/changes). The rules are entered as fields, one
// group per rule type; an empty group means no rule of that type.
func (a *app) cataloguePages() {
	a.get("/console/services", a.servicesPage)
	a.post("/console/services", a.createService)
	a.post("/console/services/:code/rename", a.renameService)
	a.post("/console/services/:code/changes", a.changeService)
}

func init() {
	addMessages(map[string][2]string{
		"svc.title":              {"服务目录", "Service catalogue"},
		"svc.list":               {"全部服务", "All services"},
		"svc.code":               {"代码", "Code"},
		"svc.name":               {"名称", "Name"},
		"svc.rules":              {"办理条件", "Eligibility rules"},
		"svc.status":             {"状态", "Status"},
		"svc.changes":            {"变更", "Changes"},
		"svc.none":               {"无条件限制", "open to everyone"},
		"svc.create":             {"新增服务", "Create a service"},
		"svc.rename":             {"修改名称", "Rename"},
		"svc.change_rules":       {"修改办理条件并通知用户", "Change the rules and tell the users"},
		"svc.retire":             {"停止提供并为用户关闭", "Retire and close it for its users"},
		"svc.retire_hint":        {"停止后，已开通该服务的用户将收到通知，服务逐一关闭，无法撤销。", "The users holding it are told and it is closed for each of them; this cannot be undone."},
		"svc.rules_hint":         {"留空的项目不作限制。户籍或居住地：身份证号码前几位（行政区划代码）或登记地址中的地名，或审核人员核验的居住证。参保：审核人员核对参保记录。", "Leave a group empty for no rule of that type. Household or residence: the leading digits of the ID number (division codes) or a place name in the registered address, or a residence permit the reviewer checks. Insured: the reviewer checks the insurance record."},
		"svc.progress":           {"已通知 %d / %d，已关闭 %d", "%d of %d told, %d closed"},
		"svc.kind.rules":         {"办理条件调整", "new rules"},
		"svc.kind.retire":        {"停止提供", "retirement"},
		"svc.status.available":   {"正常", "available"},
		"svc.status.interrupted": {"暂停中", "interrupted"},
		"svc.interrupted_until":  {"计划暂停，恢复时间", "planned interruption until"},
		"svc.status.retired":     {"已停止", "retired"},
		"svcf.code":              {"服务代码（小写字母、数字、下划线）", "Service code (lower-case letters, digits, underscores)"},
		"svcf.name_zh":           {"中文名称", "Name in Chinese"},
		"svcf.name_en":           {"英文名称", "Name in English"},
		"svcf.min_age":           {"最低年龄", "Minimum age"},
		"svcf.max_age":           {"最高年龄", "Maximum age"},
		"svcf.region_codes":      {"户籍行政区划代码（逗号分隔）", "Division codes of the household register (comma-separated)"},
		"svcf.place_names":       {"居住地名（逗号分隔）", "Place names of residence (comma-separated)"},
		"svcf.scheme":            {"参保要求", "Insurance required"},
		"svcf.note_zh":           {"给用户的说明（中文）", "Note to the users (Chinese)"},
		"svcf.note_en":           {"给用户的说明（英文）", "Note to the users (English)"},
		"scheme.":                {"不要求", "none"},
		"scheme.any":             {"任一险种", "any scheme"},
		"scheme.employee":        {"职工社会保险", "employee scheme"},
		"scheme.resident":        {"城乡居民社会保险", "residents' scheme"},
		"notice.service_created": {"服务已创建。", "The service is created."},
		"notice.service_renamed": {"名称已修改。", "The name is changed."},
		"notice.service_change":  {"变更已开始，用户将收到通知。", "The change is under way; the users are being told."},
	})
}

type catalogueRule struct {
	Type        string   `json:"type"`
	MinAge      *int     `json:"min_age"`
	MaxAge      *int     `json:"max_age"`
	RegionCodes []string `json:"region_codes"`
	PlaceNames  []string `json:"place_names"`
	Scheme      string   `json:"scheme"`
}

type catalogueChange struct {
	ID             string `json:"id"`
	Kind           string `json:"kind"`
	Status         string `json:"status"`
	UsersTargeted  int64  `json:"users_targeted"`
	NoticesWritten int64  `json:"notices_written"`
	ServicesClosed int64  `json:"services_closed"`
	CreatedAt      string `json:"created_at"`
}

type catalogueService struct {
	Code    string            `json:"code"`
	NameZH  string            `json:"name_zh"`
	NameEN  string            `json:"name_en"`
	Rules   []catalogueRule   `json:"rules"`
	Status  string            `json:"status"`
	Changes []catalogueChange `json:"changes"`
}

type catalogueData struct {
	Services []catalogueService `json:"services"`
	Editor   bool
	// Target is the service whose form was refused (its forms open).
	Target string
}

func (a *app) showServices(c echo.Context, status int, v view, target string) error {
	me, done, err := a.staffOnly(c)
	if done {
		return err
	}
	var d catalogueData
	if e := a.call(c, asSignedIn, http.MethodGet, "/v1/service-catalogue", nil, &d); e != nil {
		return fail(c, e)
	}
	d.Editor = mayStaff(me.Staff.Roles, authz.ServiceEdit)
	d.Target = target
	v.Title, v.Data = "svc.title", d
	return render(c, status, "catalogue/services.html", v)
}

func (a *app) servicesPage(c echo.Context) error {
	v := view{}
	if n := c.QueryParam("notice"); strings.HasPrefix(n, "service_") {
		v.Notice = "notice." + n
	}
	return a.showServices(c, http.StatusOK, v, "")
}

var ruleField = regexp.MustCompile(`^rules\.[0-9]+\.([a-z_]+)`)

// rulesFromForm builds the rules from the form's groups; ruleErrors maps
// the API's rules.N.param errors back to the form's fields.
func rulesFromForm(form url.Values) ([]map[string]any, map[string]string) {
	rules := []map[string]any{}
	errs := map[string]string{}
	age := map[string]any{"type": "age_range"}
	for _, k := range []string{"min_age", "max_age"} {
		if s := strings.TrimSpace(form.Get(k)); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				errs[k] = "not_a_number"
				continue
			}
			age[k] = n
		}
	}
	if len(age) > 1 {
		rules = append(rules, age)
	}
	split := func(k string) []string {
		var out []string
		for _, p := range strings.FieldsFunc(form.Get(k), func(r rune) bool { return r == ',' || r == '，' || r == ' ' }) {
			out = append(out, p)
		}
		return out
	}
	codes, places := split("region_codes"), split("place_names")
	if len(codes) > 0 || len(places) > 0 {
		r := map[string]any{"type": "household_or_residence"}
		if len(codes) > 0 {
			r["region_codes"] = codes
		}
		if len(places) > 0 {
			r["place_names"] = places
		}
		rules = append(rules, r)
	}
	if s := form.Get("scheme"); s != "" {
		rules = append(rules, map[string]any{"type": "insured", "scheme": s})
	}
	return rules, errs
}

// formFields maps the API's field errors to the form's field names.
func formFields(e *apiError) map[string][]fieldError {
	out := map[string][]fieldError{}
	for _, d := range e.Details {
		name, _, _ := strings.Cut(d.Field, ".")
		if m := ruleField.FindStringSubmatch(d.Field); m != nil {
			name = m[1]
			if name == "type" {
				name = "min_age"
			}
		} else if name == "rules" {
			name = "min_age"
		}
		out[name] = append(out[name], d)
	}
	return out
}

func localFieldErrors(errs map[string]string) map[string][]fieldError {
	out := map[string][]fieldError{}
	for k := range errs {
		out[k] = []fieldError{{Field: k, Code: "not_a_number", MessageZH: "请填写整数", MessageEN: "a whole number"}}
	}
	return out
}

func (a *app) refusedServiceForm(c echo.Context, form url.Values, e *apiError, target string) error {
	form.Del("csrf")
	v := view{Err: e, Form: form}
	if e.Status == http.StatusUnprocessableEntity {
		v.Fields = formFields(e)
	}
	return a.showServices(c, e.Status, v, target)
}

// sendServiceForm calls the API for a catalogue form and answers: the
// page again with the field errors, or back to the list with a notice.
func (a *app) sendServiceForm(c echo.Context, form url.Values, method, path string, body map[string]any, target, notice string) error {
	e := a.call(c, asSignedIn, method, path, body, nil)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		if e.Status >= 500 || e.Status == http.StatusForbidden || e.Status == http.StatusNotFound {
			return fail(c, e)
		}
		return a.refusedServiceForm(c, form, e, target)
	}
	to := "/console/services?notice=" + notice
	if target != "" {
		to += "#svc-" + target
	}
	return c.Redirect(http.StatusSeeOther, to)
}

func (a *app) createService(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	form, _ := c.FormParams()
	rules, bad := rulesFromForm(form)
	if len(bad) > 0 {
		form.Del("csrf")
		return a.showServices(c, http.StatusUnprocessableEntity, view{Form: form, Fields: localFieldErrors(bad),
			Err: newAPIError(http.StatusUnprocessableEntity, "validation_failed", "", "")}, "")
	}
	body := map[string]any{"code": strings.TrimSpace(form.Get("code")), "name_zh": form.Get("name_zh"), "name_en": form.Get("name_en"), "rules": rules}
	return a.sendServiceForm(c, form, http.MethodPost, "/v1/services", body, "", "service_created")
}

func (a *app) renameService(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	form, _ := c.FormParams()
	code := c.Param("code")
	body := map[string]any{}
	for _, k := range []string{"name_zh", "name_en"} {
		if s := form.Get(k); s != "" {
			body[k] = s
		}
	}
	return a.sendServiceForm(c, form, http.MethodPatch, "/v1/services/"+url.PathEscape(code), body, code, "service_renamed")
}

func (a *app) changeService(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	form, _ := c.FormParams()
	code := c.Param("code")
	body := map[string]any{"kind": form.Get("kind"), "note_zh": form.Get("note_zh"), "note_en": form.Get("note_en")}
	if form.Get("kind") == "rules" {
		rules, bad := rulesFromForm(form)
		if len(bad) > 0 {
			form.Del("csrf")
			return a.showServices(c, http.StatusUnprocessableEntity, view{Form: form, Fields: localFieldErrors(bad),
				Err: newAPIError(http.StatusUnprocessableEntity, "validation_failed", "", "")}, code)
		}
		body["rules"] = rules
	}
	return a.sendServiceForm(c, form, http.MethodPost, "/v1/services/"+url.PathEscape(code)+"/changes", body, code, "service_change")
}
