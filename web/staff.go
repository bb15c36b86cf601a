package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/apitypes"
	"hrss-backoffice/internal/authz"
)

// Staff management for administrators: the list (GET /v1/staff), a new
// staff member with roles (POST /v1/staff; the first password is
// generated and shown once), and a member's page to change roles, office
// or active flag with a reason (PATCH /v1/staff/{id}). While two or more
// administrators are active each change is a request that another
// administrator approves on /console/staff-changes (web/staffchanges.go).
func (a *app) staffPages() {
	a.get("/console/staff", a.staffPage)
	a.post("/console/staff", a.createStaff)
	a.get("/console/staff/:id", a.staffMemberPage)
	a.post("/console/staff/:id", a.updateStaff)
	a.post("/console/staff/:id/password", a.setStaffPassword)
	a.staffChangePages()
}

// roles are the staff roles, in the order the form lists them.
var roles = authz.AllRoles

func init() {
	addMessages(map[string][2]string{
		"staff.title":               {"工作人员管理", "Staff"},
		"staff.list":                {"工作人员", "Staff members"},
		"staff.create":              {"新增工作人员", "Add a staff member"},
		"staff.create_hint":         {"初始密码由系统生成，只显示一次，请当面交给本人；首次登录时须修改。", "The first password is generated and shown once: hand it over in person; it must be changed at the first sign-in."},
		"staff.active":              {"在职", "Active"},
		"staff.must_change":         {"待改初始密码", "Must change password"},
		"staff.submit":              {"新增", "Add"},
		"field.roles":               {"角色", "Roles"},
		"field.office":              {"服务网点", "Office"},
		"field.staff_name":          {"姓名", "Name"},
		"field.staff_password":      {"初始密码", "First password"},
		"notice.staff_created":      {"已新增工作人员。", "The staff member is added."},
		"staff.edit":                {"修改", "Change"},
		"staff.member":              {"工作人员", "Staff member"},
		"staff.change":              {"修改角色与状态", "Change roles and state"},
		"staff.change_hint":         {"新角色在其下一次操作时生效；停用会立即结束其所有登录。原因会记入审计日志。", "New roles apply from their next request; deactivating ends all their sessions at once. The reason goes to the audit log."},
		"staff.state":               {"状态", "State"},
		"staff.inactive":            {"停用", "Inactive"},
		"staff.save":                {"保存修改", "Save the change"},
		"staff.back":                {"返回工作人员列表", "Back to the staff list"},
		"staff.set_password":        {"设置新的初始密码", "Set a new first password"},
		"staff.set_password_hint":   {"用于忘记密码的工作人员：新密码由系统生成、只显示一次；其所有登录立即失效，下次登录时须修改。", "For a member who lost the password: the new one is generated and shown once; every session ends at once and it must be changed at the next sign-in."},
		"staff.set_password_submit": {"设置密码", "Set the password"},
		"field.password_reason":     {"设置原因", "Reason"},
		"notice.staff_password_set": {"已设置新的初始密码。", "The new first password is set."},
		"notice.staff_updated":      {"已保存修改。", "The change is saved."},
		"notice.staff_same":         {"没有变化：值与原来相同。", "Nothing changed: the values were already those."},
	})
}

// staffMember is the document's Staff (GET /v1/staff).
type staffMember = apitypes.Staff

type staffData struct {
	Staff []staffMember `json:"staff"`
	Roles []string
}

// staffList reads the staff list for a console page; done means the page
// has already been answered (sign-in, refusal).
func (a *app) staffList(c echo.Context) (staffData, bool, error) {
	var d staffData
	if _, done, err := a.staffOnly(c); done {
		return d, true, err
	}
	e := a.call(c, asSignedIn, http.MethodGet, "/v1/staff", nil, &d)
	if done, err := needSignIn(c, e); done {
		return d, true, err
	}
	if e != nil {
		return d, true, fail(c, e)
	}
	return d, false, nil
}

func (a *app) showStaff(c echo.Context, status int, v view) error {
	d, done, err := a.staffList(c)
	if done {
		return err
	}
	d.Roles = roles
	v.Title, v.Data = "staff.title", d
	return render(c, status, "staff/staff.html", v)
}

func (a *app) staffPage(c echo.Context) error { return a.showStaff(c, http.StatusOK, view{}) }

func (a *app) createStaff(c echo.Context) error {
	form, _ := c.FormParams()
	rs := form["roles"]
	if rs == nil {
		rs = []string{}
	}
	req := map[string]any{"username": form.Get("username"), "name": form.Get("name"), "roles": rs,
		"office": form.Get("office")}
	var out changeAnswer
	e := a.call(c, asSignedIn, http.MethodPost, "/v1/staff", req, &out)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		if e.Status >= 500 {
			return fail(c, e)
		}
		form.Del("csrf")
		return a.showStaff(c, e.Status, view{Err: e, Form: form})
	}
	return a.afterStaffChange(c, out, form.Get("username"), "staff_created")
}

// staffMemberData is one member's page: the member as the list shows it
// and the values the form shows (the member's own, or what was typed
// before a refusal).
type staffMemberData struct {
	Member staffMember
	Roles  []string
	Form   url.Values
}

func (a *app) showStaffMember(c echo.Context, status int, v view) error {
	d, done, err := a.staffList(c)
	if done {
		return err
	}
	i := slices.IndexFunc(d.Staff, func(m staffMember) bool { return m.ID == c.Param("id") })
	if i < 0 {
		return fail(c, newAPIError(http.StatusNotFound, "not_found",
			"未找到该工作人员", "no such staff member"))
	}
	m := d.Staff[i]
	form := v.Form
	if form == nil {
		form = url.Values{"roles": m.Roles, "office": {m.Office}, "active": {strconv.FormatBool(m.Active)}}
	}
	v.Title, v.Back = "staff.member", "/console/staff/"+m.ID
	v.Data, v.Form = staffMemberData{Member: m, Roles: roles, Form: form}, form
	return render(c, status, "staff/member.html", v)
}

func (a *app) staffMemberPage(c echo.Context) error {
	return a.showStaffMember(c, http.StatusOK, view{})
}

func (a *app) setStaffPassword(c echo.Context) error {
	body := map[string]any{"reason": c.FormValue("password_reason")}
	var out changeAnswer
	e := a.call(c, asSignedIn, http.MethodPut, "/v1/staff/"+url.PathEscape(c.Param("id"))+"/password", body, &out)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		if e.Status >= 500 || e.Status == http.StatusNotFound || e.Status == http.StatusForbidden {
			return fail(c, e)
		}
		for i := range e.Details {
			if e.Details[i].Field == "reason" {
				e.Details[i].Field = "password_reason"
			}
		}
		return a.showStaffMember(c, e.Status, view{Err: e})
	}
	return a.afterStaffChange(c, out, out.Username, "staff_password_set")
}

func (a *app) updateStaff(c echo.Context) error {
	form, _ := c.FormParams()
	form.Del("csrf")
	rs := form["roles"]
	if rs == nil {
		rs = []string{}
	}
	// The form always sends the whole set; the API writes only what differs.
	req := map[string]any{"roles": rs, "office": form.Get("office"), "active": form.Get("active") == "true",
		"reason": form.Get("reason")}
	var out changeAnswer
	e := a.call(c, asSignedIn, http.MethodPatch, "/v1/staff/"+url.PathEscape(c.Param("id")), req, &out)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		if e.Status >= 500 || e.Status == http.StatusNotFound || e.Status == http.StatusForbidden {
			return fail(c, e)
		}
		return a.showStaffMember(c, e.Status, view{Err: e, Form: form})
	}
	if out.StaffChange != nil {
		return c.Redirect(http.StatusSeeOther, "/console/staff-changes?notice=staff_change_requested")
	}
	notice := "staff_updated_sole"
	if !out.Changed {
		notice = "staff_same"
	}
	return c.Redirect(http.StatusSeeOther, "/console/staff?notice="+notice)
}
