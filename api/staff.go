package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/lib/pq"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/workflows"
)

// Changes of staff accounts by an administrator (creation, roles, office,
// active flag, password and second-factor resets) are requests that the
// staff-change workflow carries out (api/staffchange.go, dual control,
// issue 15); the API checks them, stores the request and answers. A
// member's own password change and second-factor enrolment stay the API's
// to write, like sessions and sign-in records (C1.4: staff act only within
// the roles an administrator gave them, and every change is on record).

// updateStaff asks to change a staff member's roles, office or active flag
// (PATCH /v1/staff/{id}; administrator): at once for the sole
// administrator, else a request for a second one (202). A reason is
// required and goes to the audit row with the old and new values.
// Deactivating ends the member's sessions at once. Two rules keep the
// office from locking itself out: administrators cannot take away their
// own administrator role or deactivate themselves, and the last active
// administrator stays one (checked again when the change is applied).
func (s *server) updateStaff(c echo.Context) error {
	p := caller(c)
	if !may(c, authz.StaffUpdate) {
		return errForbidden("only an administrator may change staff", "仅管理员可以修改工作人员")
	}
	var req struct {
		Roles  *[]string `json:"roles"`
		Office *string   `json:"office"`
		Active *bool     `json:"active"`
		Reason string    `json:"reason"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	var details []validate.FieldError
	if req.Roles == nil && req.Office == nil && req.Active == nil {
		details = append(details, validate.FieldError{Field: "roles", Code: "nothing_to_change",
			MessageZH: "请至少修改角色、服务网点或在职状态之一", MessageEN: "change at least one of roles, office or active"})
	}
	if req.Roles != nil && len(*req.Roles) == 0 {
		details = append(details, validate.FieldError{Field: "roles", Code: "required",
			MessageZH: "请至少选择一个角色", MessageEN: "choose at least one role"})
	}
	if fe := validate.Text("reason", req.Reason, true, 1, 500); fe != nil {
		details = append(details, *fe)
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	id := c.Param("id")
	ctx := c.Request().Context()
	if _, err := s.staffUsername(ctx, id); err != nil {
		return err
	}
	// The rules that keep the office from locking itself out, checked here
	// for a clear answer and again when the change is applied.
	var admins []string
	if err := s.DB.SelectContext(ctx, &admins, `SELECT id FROM staff WHERE active AND 'administrator' = ANY(roles)`); err != nil {
		return err
	}
	var cur struct {
		Roles  pq.StringArray `db:"roles"`
		Active bool           `db:"active"`
	}
	if err := getOne(ctx, s.DB, &cur, `SELECT roles, active FROM staff WHERE id = $1`, id); err != nil {
		return err
	}
	roles, active := []string(cur.Roles), cur.Active
	if req.Roles != nil {
		roles = dedupe(*req.Roles)
		req.Roles = &roles
	}
	if req.Active != nil {
		active = *req.Active
	}
	staysAdmin := active && slices.Contains(roles, workflows.RoleAdministrator)
	if id == p.StaffID && !staysAdmin {
		return newError(http.StatusConflict, "own_administrator_role",
			"不能取消自己的管理员角色或停用自己的账户，请由另一位管理员操作",
			"you cannot remove your own administrator role or deactivate yourself; ask another administrator")
	}
	if slices.Contains(admins, id) && !staysAdmin && len(admins) == 1 {
		return newError(http.StatusConflict, "last_administrator",
			"这是最后一位在职管理员，须保留", "this is the last active administrator; keep one")
	}
	var before staffRow
	if err := s.DB.GetContext(ctx, &before, `SELECT `+staffColumns+` FROM staff WHERE id = $1`, id); err != nil {
		return err
	}
	if req.Office != nil {
		office := strings.TrimSpace(*req.Office)
		req.Office = &office
	}
	res, err := s.requestStaffChange(c, "update", id, activities.StaffChangeDetail{Roles: req.Roles, Office: req.Office,
		Active: req.Active, Reason: strings.TrimSpace(req.Reason)})
	if err != nil {
		return err
	}
	if res.Pending {
		return s.pendingAnswer(c, res.ID)
	}
	var after staffRow
	if err := s.DB.GetContext(ctx, &after, `SELECT `+staffColumns+` FROM staff WHERE id = $1`, id); err != nil {
		return err
	}
	changed := !slices.Equal(sortedCopy(before.Roles), sortedCopy(after.Roles)) || before.Office != after.Office || before.Active != after.Active
	return c.JSON(http.StatusOK, struct {
		staffRow
		Changed           bool `json:"changed"`
		SoleAdministrator bool `json:"sole_administrator"`
	}{after, changed, true})
}

// staffRow is a staff member as the API shows it (never the password hash).
type staffRow struct {
	ID         string         `db:"id" json:"id"`
	Username   string         `db:"username" json:"username"`
	Name       string         `db:"name" json:"name"`
	Roles      pq.StringArray `db:"roles" json:"roles"`
	Office     string         `db:"office" json:"office"`
	Active     bool           `db:"active" json:"active"`
	MustChange bool           `db:"must_change_password" json:"must_change_password"`
}

const staffColumns = `id, username, name, roles, office, active, must_change_password`

// staffByID answers one staff member as the list shows it, with whether
// this request changed anything.
func (s *server) staffByID(c echo.Context, id string, changed bool) error {
	var row staffRow
	if err := s.DB.GetContext(c.Request().Context(), &row, `SELECT `+staffColumns+` FROM staff WHERE id = $1`, id); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct {
		staffRow
		Changed bool `json:"changed"`
	}{row, changed})
}

func sortedCopy(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return out
}

// setStaffPassword gives a staff member who lost their password a new,
// generated first password (PUT /v1/staff/{id}/password; administrator):
// it must be changed at the next sign-in, and every session of the member
// ends. The sole administrator gets 200 with initial_password, once; with
// two or more active administrators the answer is 202 with the request and
// the approving administrator gets it. Administrators change their own
// password with PUT /v1/me/password instead.
func (s *server) setStaffPassword(c echo.Context) error {
	p := caller(c)
	if !may(c, authz.StaffSetPassword) {
		return errForbidden("only an administrator may set a staff member's password", "仅管理员可以为工作人员设置密码")
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	id := c.Param("id")
	ctx := c.Request().Context()
	username, err := s.staffUsername(ctx, id)
	if err != nil {
		return err
	}
	if fe := validate.Text("reason", req.Reason, true, 1, 500); fe != nil {
		return errValidation(*fe)
	}
	if id == p.StaffID {
		return newError(http.StatusConflict, "own_password", "请在“修改密码”中修改自己的密码", "change your own password with PUT /v1/me/password")
	}
	res, err := s.requestStaffChange(c, "password", id, activities.StaffChangeDetail{Reason: strings.TrimSpace(req.Reason)})
	if err != nil {
		return err
	}
	if res.Pending {
		return s.pendingAnswer(c, res.ID)
	}
	return c.JSON(http.StatusOK, map[string]any{"id": id, "username": username, "initial_password": res.InitialPassword,
		"must_change_password": true, "sole_administrator": true, "staff_change_id": res.ID})
}
