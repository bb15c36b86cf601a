package api

import (
	"database/sql"
	"fmt"
	"net/http"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
)

// pickUpCredential hands out a sealed initial password (registration
// approval or in-person reset) exactly once, to the staff member it was
// issued to, within its pickup window. The sealed copy is destroyed in the
// same transaction and the pickup is written to the audit log of the
// account. The answer carries initial_password, username and account_id.
func (s *server) pickUpCredential(c echo.Context, key, auditAction string, auditDetail map[string]any) (map[string]any, error) {
	p := caller(c)
	ctx := c.Request().Context()
	var plain []byte
	var out map[string]any
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var row struct {
			AccountID  string       `db:"account_id"`
			IssuedTo   string       `db:"issued_to"`
			Ciphertext []byte       `db:"ciphertext"`
			ExpiresAt  time.Time    `db:"expires_at"`
			PickedUpAt sql.NullTime `db:"picked_up_at"`
			Username   string       `db:"username"`
		}
		err := getOne(ctx, tx, &row, `SELECT cp.account_id, cp.issued_to, cp.ciphertext, cp.expires_at, cp.picked_up_at, a.username
			FROM credential_pickups cp JOIN accounts a ON a.id = cp.account_id WHERE cp.operation_key = $1 FOR UPDATE OF cp`, key)
		if err != nil {
			return err
		}
		if row.IssuedTo != p.StaffID {
			return errForbidden("the initial password is issued to the staff member who approved or reset", "初始密码仅发放给办理审批或重置的工作人员")
		}
		if row.Ciphertext == nil || !s.now().Before(row.ExpiresAt) {
			if row.PickedUpAt.Valid {
				return newError(http.StatusGone, "already_picked_up", "初始密码已被领取", "the initial password was already picked up")
			}
			return newError(http.StatusGone, "pickup_expired", "领取时限已过，请为用户重置密码", "the pickup window has passed; reset the password at the counter")
		}
		plain, err = s.Box.Open(row.Ciphertext, []byte(key))
		if err != nil {
			return fmt.Errorf("open sealed password: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE credential_pickups SET ciphertext = NULL, picked_up_at = now() WHERE operation_key = $1`, key); err != nil {
			return err
		}
		out = map[string]any{"username": row.Username, "account_id": row.AccountID}
		return audit(ctx, tx, c, auditAction, "account", row.AccountID, auditDetail)
	})
	if err != nil {
		return nil, err
	}
	out["initial_password"] = string(plain)
	return out, nil
}
