package api

import (
	"net/http"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
)

// searchAccounts finds the accounts of the person in front of the counter
// by the ID number on their document (POST /v1/accounts/search), so that
// staff need not know the account number. The ID number travels in the
// body, never in a URL or a log; the answer masks it. Every account found
// gets an audit row, so the person's own activity record shows that staff
// looked them up. Same readers as the activity record.
func (s *server) searchAccounts(c echo.Context) error {
	if !may(c, authz.AccountSearch) {
		return errForbidden("your role may not look up accounts", "您的角色无权查找账户")
	}
	var req struct {
		IDNumber string `json:"id_number"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	idNumber := validate.NormalizeIDNumber(req.IDNumber)
	if _, fe := validate.ResidentID("id_number", idNumber, s.now()); fe != nil {
		return errValidation(*fe)
	}
	type found struct {
		ID             string     `db:"id" json:"id"`
		Status         string     `db:"status" json:"status"`
		Name           string     `db:"name" json:"name"`
		IDNumber       string     `db:"id_number" json:"-"`
		IDNumberMasked string     `db:"-" json:"id_number_masked"`
		OpenedAt       time.Time  `db:"opened_at" json:"opened_at"`
		ClosedAt       *time.Time `db:"closed_at" json:"closed_at"`
	}
	items := []found{}
	ctx := c.Request().Context()
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if err := tx.SelectContext(ctx, &items, `SELECT a.id, a.status, p.name, p.id_number, a.opened_at, a.closed_at
			FROM accounts a JOIN people p ON p.id = a.person_id
			WHERE p.id_number = $1 ORDER BY a.opened_at DESC`, idNumber); err != nil {
			return err
		}
		for i := range items {
			items[i].IDNumberMasked = MaskIDNumber(items[i].IDNumber)
			if err := audit(ctx, tx, c, "account.looked_up", "account", items[i].ID, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}
