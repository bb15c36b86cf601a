package api

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/lib/pq"

	"hrss-backoffice/internal/passwords"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/workflows"
)

// Staff accounts are not owned by any workflow: like sessions and sign-in
// records, the API writes them directly, in one transaction with their
// audit row (C1.4: staff act only within the roles an administrator gave
// them, and every change is on record).

// updateStaff changes a staff member's roles, office or active flag
// (PATCH /v1/staff/{id}; administrator). A reason is required and goes to
// the audit row with the old and new values. Deactivating ends the
// member's sessions at once. Two rules keep the office from locking itself
// out: administrators cannot take away their own administrator role or
// deactivate themselves, and the last active administrator stays one.
func (s *server) updateStaff(c echo.Context) error {
	p := caller(c)
	if !p.hasRole(workflows.RoleAdministrator) {
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
	self := id == p.StaffID
	ctx := c.Request().Context()
	var changed map[string]any
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		// Lock the active administrators first, in a fixed order, so that two
		// administrators demoting each other at once cannot both succeed.
		var admins []string
		if err := tx.SelectContext(ctx, &admins, `SELECT id FROM staff WHERE active AND 'administrator' = ANY(roles)
			ORDER BY id FOR UPDATE`); err != nil {
			return err
		}
		if !slices.Contains(admins, p.StaffID) {
			// Demoted or deactivated by another administrator while this
			// request was on its way.
			return errForbidden("only an administrator may change staff", "仅管理员可以修改工作人员")
		}
		var cur struct {
			Roles  pq.StringArray `db:"roles"`
			Office string         `db:"office"`
			Active bool           `db:"active"`
		}
		err := getOne(ctx, tx, &cur, `SELECT roles, office, active FROM staff WHERE id = $1 FOR UPDATE`, id)
		if err != nil {
			return err
		}
		roles, office, active := []string(cur.Roles), cur.Office, cur.Active
		if req.Roles != nil {
			roles = dedupe(*req.Roles)
		}
		if req.Office != nil {
			office = strings.TrimSpace(*req.Office)
		}
		if req.Active != nil {
			active = *req.Active
		}
		staysAdmin := active && slices.Contains(roles, workflows.RoleAdministrator)
		wasAdmin := slices.Contains(admins, id)
		if self && !staysAdmin {
			return newError(http.StatusConflict, "own_administrator_role",
				"不能取消自己的管理员角色或停用自己的账户，请由另一位管理员操作",
				"you cannot remove your own administrator role or deactivate yourself; ask another administrator")
		}
		if wasAdmin && !staysAdmin && len(admins) == 1 {
			return newError(http.StatusConflict, "last_administrator",
				"这是最后一位在职管理员，须保留", "this is the last active administrator; keep one")
		}
		changed = map[string]any{}
		if !slices.Equal(sortedCopy(cur.Roles), sortedCopy(roles)) {
			changed["roles"] = map[string]any{"from": []string(cur.Roles), "to": roles}
		}
		if office != cur.Office {
			changed["office"] = map[string]any{"from": cur.Office, "to": office}
		}
		if active != cur.Active {
			changed["active"] = map[string]any{"from": cur.Active, "to": active}
		}
		if len(changed) == 0 {
			return nil // the same values again: nothing to write, nothing to audit
		}
		if _, err := tx.ExecContext(ctx, `UPDATE staff SET roles = $2, office = $3, active = $4 WHERE id = $1`,
			id, pq.Array(roles), office, active); err != nil {
			return err
		}
		if !active && cur.Active {
			if err := endStaffSessions(ctx, tx, id); err != nil {
				return err
			}
		}
		return audit(ctx, tx, c, "staff.updated", "staff", id, map[string]any{"changes": changed, "reason": strings.TrimSpace(req.Reason)})
	})
	if err != nil {
		return err
	}
	return s.staffByID(c, id, len(changed) > 0)
}

// endStaffSessions revokes every open session of a staff member.
func endStaffSessions(ctx context.Context, tx *sqlx.Tx, staffID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = now() WHERE staff_id = $1 AND revoked_at IS NULL`, staffID)
	return err
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

// setStaffPassword gives a staff member who lost their password a new first
// password (PUT /v1/staff/{id}/password; administrator): it must be changed
// at the next sign-in, and every session of the member ends. Administrators
// change their own password with PUT /v1/me/password instead.
func (s *server) setStaffPassword(c echo.Context) error {
	p := caller(c)
	if !p.hasRole(workflows.RoleAdministrator) {
		return errForbidden("only an administrator may set a staff member's password", "仅管理员可以为工作人员设置密码")
	}
	var req struct {
		Password string `json:"password"`
		Reason   string `json:"reason"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	id := c.Param("id")
	ctx := c.Request().Context()
	var username string
	err := getOne(ctx, s.DB, &username, `SELECT username FROM staff WHERE id = $1`, id)
	if err != nil {
		return err
	}
	details := passwordPolicy("password", req.Password, username)
	if fe := validate.Text("reason", req.Reason, true, 1, 500); fe != nil {
		details = append(details, *fe)
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	if id == p.StaffID {
		return newError(http.StatusConflict, "own_password", "请在“修改密码”中修改自己的密码", "change your own password with PUT /v1/me/password")
	}
	hash, err := passwords.Hash(req.Password, s.Hash)
	if err != nil {
		return err
	}
	err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE staff SET password_hash = $2, must_change_password = true, password_changed_at = now()
			WHERE id = $1`, id, hash); err != nil {
			return err
		}
		if err := endStaffSessions(ctx, tx, id); err != nil {
			return err
		}
		return audit(ctx, tx, c, "staff.password_set", "staff", id, map[string]any{"reason": strings.TrimSpace(req.Reason)})
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
