package api

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/lib/pq"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/passwords"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
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
	admins, err := store.ActiveAdministrators(ctx, s.DB)
	if err != nil {
		return err
	}
	cur, err := store.StaffStandingByID(ctx, s.DB, id)
	if err != nil {
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
	beforeM, err := store.StaffMemberByID(ctx, s.DB, id)
	if err != nil {
		return err
	}
	before := staffRow(beforeM)
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
	afterM, err := store.StaffMemberByID(ctx, s.DB, id)
	if err != nil {
		return err
	}
	after := staffRow(afterM)
	changed := !slices.Equal(sortedCopy(before.Roles), sortedCopy(after.Roles)) || before.Office != after.Office || before.Active != after.Active
	return c.JSON(http.StatusOK, struct {
		staffRow
		Changed           bool `json:"changed"`
		SoleAdministrator bool `json:"sole_administrator"`
	}{after, changed, true})
}

// staffRow is a staff member as the API shows it (never the password
// hash): store.StaffMember with the answer's names.
type staffRow struct {
	ID         string         `json:"id"`
	Username   string         `json:"username"`
	Name       string         `json:"name"`
	Roles      pq.StringArray `json:"roles"`
	Office     string         `json:"office"`
	Active     bool           `json:"active"`
	MustChange bool           `json:"must_change_password"`
}

// staffByID answers one staff member as the list shows it, with whether
// this request changed anything.
func (s *server) staffByID(c echo.Context, id string, changed bool) error {
	m, err := store.StaffMemberByID(c.Request().Context(), s.DB, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct {
		staffRow
		Changed bool `json:"changed"`
	}{staffRow(m), changed})
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

// createStaff adds a staff member (POST /v1/staff; administrator). The
// first password is generated, never chosen (api/staffchange.go): the sole
// administrator gets 201 with the member and initial_password, once; with
// two or more active administrators the answer is 202 with the request,
// and the approving administrator gets the password.
func (s *server) createStaff(c echo.Context) error {
	if !may(c, authz.StaffCreate) {
		return errForbidden("only an administrator may create staff", "仅管理员可以创建工作人员")
	}
	var req struct {
		Username string   `json:"username"`
		Name     string   `json:"name"`
		Roles    []string `json:"roles"`
		Office   string   `json:"office"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	var details []validate.FieldError
	if !staffUsername.MatchString(req.Username) {
		details = append(details, validate.FieldError{Field: "username", Code: "username_format",
			MessageZH: "用户名应为3至32位小写字母、数字或 . _ -，以字母开头", MessageEN: "the username must be 3 to 32 lower-case letters, digits, '.', '_' or '-', starting with a letter"})
	}
	if fe := validate.Text("name", req.Name, true, 1, 100); fe != nil {
		details = append(details, *fe)
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	roles := dedupe(req.Roles)
	ctx := c.Request().Context()
	taken, err := store.StaffUsernameTaken(ctx, s.DB, req.Username)
	if err != nil {
		return err
	}
	if taken {
		return newError(http.StatusConflict, "username_taken", "该用户名已被使用", "the username is taken")
	}
	id := uuid.NewString()
	office := strings.TrimSpace(req.Office)
	res, err := s.requestStaffChange(c, "create", id, activities.StaffChangeDetail{Username: req.Username,
		Name: strings.TrimSpace(req.Name), Roles: &roles, Office: &office})
	if err != nil {
		return err
	}
	if res.Pending {
		return s.pendingAnswer(c, res.ID)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/staff/"+id)
	return c.JSON(http.StatusCreated, map[string]any{"id": id, "username": req.Username, "name": strings.TrimSpace(req.Name),
		"roles": roles, "office": office, "active": true, "must_change_password": true,
		"initial_password": res.InitialPassword, "sole_administrator": true, "staff_change_id": res.ID})
}

func (s *server) listStaff(c echo.Context) error {
	if !may(c, authz.StaffList) {
		return errForbidden("only an administrator may list staff", "仅管理员可以查看工作人员")
	}
	members, err := store.ListStaff(c.Request().Context(), s.DB)
	if err != nil {
		return err
	}
	rows := make([]staffRow, len(members))
	for i, m := range members {
		rows[i] = staffRow(m)
	}
	return c.JSON(http.StatusOK, map[string]any{"staff": rows})
}

// BootstrapAdmin creates the first administrator from the settings if no
// staff member has that username yet. Its password must be changed at first
// sign-in.
func BootstrapAdmin(db *sqlx.DB, username, password string, params passwords.Params) error {
	if username == "" || password == "" {
		return nil
	}
	ctx := context.Background()
	exists, err := store.StaffUsernameTaken(ctx, db, username)
	if err != nil || exists {
		return err
	}
	hash, err := passwords.Hash(password, params)
	if err != nil {
		return err
	}
	id := uuid.NewString()
	err = store.AddBootstrapAdministrator(ctx, db, id, username, hash)
	if err == nil {
		_, err = store.AppendAudit(ctx, db, store.AuditEntry{ActorKind: "system", Action: "staff.bootstrapped", RecordKind: "staff", RecordID: id})
	}
	return err
}
