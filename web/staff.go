package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Staff management for administrators: the list (GET /v1/staff) and a new
// staff member with roles and a first password (POST /v1/staff).
func (a *app) staffPages() {
	a.get("/console/staff", a.staffPage)
	a.post("/console/staff", a.createStaff)
}

// roles are the staff roles, in the order the form lists them.
var roles = []string{"reviewer", "supervisor", "administrator", "investigator", "terms_editor", "auditor"}

func init() {
	addMessages(map[string][2]string{
		"staff.title":          {"工作人员管理", "Staff"},
		"staff.list":           {"工作人员", "Staff members"},
		"staff.create":         {"新增工作人员", "Add a staff member"},
		"staff.create_hint":    {"首次登录时须修改此密码。", "They must change this password at their first sign-in."},
		"staff.active":         {"在职", "Active"},
		"staff.must_change":    {"待改初始密码", "Must change password"},
		"staff.submit":         {"新增", "Add"},
		"field.roles":          {"角色", "Roles"},
		"field.office":         {"服务网点", "Office"},
		"field.staff_name":     {"姓名", "Name"},
		"field.staff_password": {"初始密码", "First password"},
		"notice.staff_created": {"已新增工作人员。", "The staff member is added."},
	})
}

type staffData struct {
	Staff []struct {
		ID         string   `json:"id"`
		Username   string   `json:"username"`
		Name       string   `json:"name"`
		Roles      []string `json:"roles"`
		Office     string   `json:"office"`
		Active     bool     `json:"active"`
		MustChange bool     `json:"must_change_password"`
	} `json:"staff"`
	Roles []string
}

func (a *app) showStaff(c echo.Context, status int, v view) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	var d staffData
	e := a.call(c, asSignedIn, http.MethodGet, "/v1/staff", nil, &d)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		return fail(c, e)
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
		"office": form.Get("office"), "password": form.Get("password")}
	e := a.call(c, asSignedIn, http.MethodPost, "/v1/staff", req, nil)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		if e.Status >= 500 {
			return fail(c, e)
		}
		form.Del("csrf")
		form.Del("password")
		return a.showStaff(c, e.Status, view{Err: e, Form: form})
	}
	return c.Redirect(http.StatusSeeOther, "/console/staff?notice=staff_created")
}
