package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/store"
	"hrss-backoffice/workflows"
)

// exportDisclosure hands the approved fields, and nothing else, once to the
// staff member who entered the request, within the delivery window. This
// single pickup is the API's to write, like an initial password's: the
// data never passes through a workflow.
func (s *server) exportDisclosure(c echo.Context) error {
	p := caller(c)
	ctx := c.Request().Context()
	id := c.Param("id")
	var out map[string]any
	var accountID string
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		r, err := store.LockDisclosureForExport(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.EnteredBy != p.StaffID {
			return errForbidden("only the staff member who entered the request exports it", "仅录入请求的工作人员可以导出")
		}
		switch {
		case r.Status == workflows.DisclosureDelivered:
			return newError(http.StatusGone, "already_delivered", "数据已交付，不能再次导出", "the data was delivered already")
		case r.Status != workflows.DisclosureApproved:
			return newError(http.StatusConflict, "not_approved", "该请求未获批准", "the request is "+r.Status+", not approved")
		case r.Expires == nil || !s.now().Before(*r.Expires):
			return newError(http.StatusGone, "delivery_expired", "交付期限已过", "the delivery window has passed")
		}
		data, err := disclosedData(ctx, tx, r.AccountID, r.ApprovedFields)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if err := store.MarkDisclosureDelivered(ctx, tx, id, now, p.StaffID); err != nil {
			return err
		}
		d := map[string]any{"account_id": r.AccountID, "fields": []string(r.ApprovedFields)}
		if err := audit(ctx, tx, c, "disclosure.delivered", "disclosure", id, d); err != nil {
			return err
		}
		if !r.Secret {
			if err := audit(ctx, tx, c, "account.disclosure_delivered", "account", r.AccountID, map[string]any{"disclosure_id": id,
				"fields": []string(r.ApprovedFields)}); err != nil {
				return err
			}
		}
		accountID = r.AccountID
		out = map[string]any{"disclosure_id": id, "account_id": r.AccountID, "fields": []string(r.ApprovedFields), "data": data, "delivered_at": now}
		return nil
	})
	if err != nil {
		return err
	}
	// Let the workflow close at once; its delivery timer covers a lost signal.
	if err := s.Temporal.SignalWorkflow(context.WithoutCancel(ctx), workflows.DisclosureWorkflowID(id), "", workflows.SignalDisclosureDelivered, nil); err != nil {
		slog.Warn("signal disclosure delivered", "disclosure_id", id, "account_id", accountID, "error", err)
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="disclosure-`+id+`.json"`)
	return c.JSON(http.StatusOK, out)
}

// disclosedData reads exactly the approved fields of the account: a field
// not approved is never read into the answer. There is no code path for a
// password or its hash.
func disclosedData(ctx context.Context, tx *sqlx.Tx, accountID string, fields []string) (map[string]any, error) {
	row, err := store.DisclosedPersonOf(ctx, tx, accountID)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, f := range fields {
		switch f {
		case "name":
			out[f] = row.Name
		case "id_number":
			out[f] = row.IDNumber
		case "birth_date":
			out[f] = row.BirthDate.Format("2006-01-02")
		case "mobile":
			out[f] = row.Mobile
		case "email":
			out[f] = row.Email.String
		case "address":
			out[f] = row.Address
		case "account_status":
			out[f] = row.Status
		case "registered_at":
			out[f] = row.OpenedAt.UTC()
		case "services":
			services, err := store.OpenServiceCodes(ctx, tx, accountID)
			if err != nil {
				return nil, err
			}
			out[f] = services
		case "agreement":
			agr, err := store.AgreementTermsOf(ctx, tx, accountID)
			if err != nil {
				return nil, err
			}
			out[f] = agr
		default:
			return nil, fmt.Errorf("no disclosure reader for field %q", f)
		}
	}
	return out, nil
}
