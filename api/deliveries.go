package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
)

// Delivery records (issue 18, C1.5): every verification code the API sends
// is recorded as a delivery (sent with the provider's ID, or failed with
// the reason; never the code), and staff who may read an account's
// activity read its messages' deliveries on the account page.

func (s *server) deliveryRoutes(v1 *echo.Group) {
	v1.GET("/accounts/:id/messages", s.accountMessages, s.allow(authz.Console))
}

// recordCodeDelivery records the one send attempt of a verification code,
// tied to the account (contact change) or application (pickup) it is for.
// A failure to record is logged, not answered: the code went out (or not)
// whatever the record says.
func (s *server) recordCodeDelivery(ctx context.Context, codeID, purpose string, accountID, applicationID any, msg activities.Message,
	sender string, r activities.Receipt) {
	d := store.Delivery{CodeID: codeID, Channel: msg.Channel, Kind: msg.Kind, Sender: sender, Attempt: 1, Status: store.DeliverySent,
		ProviderID: r.ProviderID, Address: msg.Address}
	if id, ok := accountID.(string); ok {
		d.AccountID = id
	}
	if id, ok := applicationID.(string); ok {
		d.ApplicationID = id
	}
	if r.Err != nil {
		d.Status, d.Reason, d.ProviderID = store.DeliveryFailed, r.Err.Error(), ""
	}
	if err := store.RecordDeliveries(context.WithoutCancel(ctx), s.DB, []store.Delivery{d}); err != nil {
		slog.Warn("verification code delivery not recorded", "code_id", codeID, "purpose", purpose, "error", err)
	}
}

// accountMessages is GET /v1/accounts/{id}/messages: the messages sent to
// an account and its registration application (notices by SMS and e-mail,
// verification codes), newest first, each with its attempts: channel,
// kind, status, provider ID, reason, times; never the text or a code. The
// same roles as the activity record; the reading is recorded.
func (s *server) accountMessages(c echo.Context) error {
	if !may(c, authz.AccountActivityRead) {
		return errForbidden("your role may not read account messages", "您的角色无权查看账户的短信及邮件记录")
	}
	limit := 100
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return errValidation(validate.FieldError{Field: "limit", Code: "out_of_range", MessageZH: "条数须为 1 到 500",
				MessageEN: "limit is 1 to 500"})
		}
		limit = n
	}
	accountID := c.Param("id")
	ctx := c.Request().Context()
	if _, err := store.AccountStatus(ctx, s.DB, accountID); err != nil {
		return err // store.ErrNotFound: 404
	}
	items, err := store.AccountMessages(ctx, s.DB, accountID, limit)
	if err != nil {
		return err
	}
	if err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		return audit(ctx, tx, c, "account.messages_viewed", "account", accountID, nil)
	}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}
