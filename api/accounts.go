package api

import (
	"net/http"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
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
		ID             string     `json:"id"`
		Status         string     `json:"status"`
		Name           string     `json:"name"`
		IDNumberMasked string     `json:"id_number_masked"`
		OpenedAt       time.Time  `json:"opened_at"`
		ClosedAt       *time.Time `json:"closed_at"`
	}
	items := []found{}
	ctx := c.Request().Context()
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		accounts, err := store.AccountsByIDNumber(ctx, tx, idNumber)
		if err != nil {
			return err
		}
		for _, a := range accounts {
			items = append(items, found{ID: a.ID, Status: a.Status, Name: a.Name, IDNumberMasked: MaskIDNumber(a.IDNumber),
				OpenedAt: a.OpenedAt, ClosedAt: a.ClosedAt})
		}
		for i := range items {
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
