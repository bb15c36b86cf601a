package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
	"hrss-backoffice/workflows"
)

// ---- Registration data updates (C3.2) ----

func (s *server) personOf(ctx context.Context, q store.Q, accountID string, forUpdate bool) (string, store.Person, error) {
	return store.PersonOfAccount(ctx, q, accountID, forUpdate)
}

// updateContact: the user keeps the contact data up to date at once
// (mobile, e-mail, address). The old values stay in the change record and
// the audit log. Name and ID number need a reviewed request.
func (s *server) updateContact(c echo.Context) error {
	p := caller(c)
	if !may(c, authz.UserArea) {
		return errUsersOnly()
	}
	var req struct {
		Mobile   *string `json:"mobile"`
		Email    *string `json:"email"`
		Address  *string `json:"address"`
		Name     *string `json:"name"`
		IDNumber *string `json:"id_number"`
		// Language of the messages to the user (zh|en).
		Language *string `json:"language"`
		// MobileCode: the code sent to the new mobile number
		// (POST /v1/verification-codes, purpose contact_change).
		MobileCode string `json:"mobile_code"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	var details []validate.FieldError
	for field, v := range map[string]*string{"name": req.Name, "id_number": req.IDNumber} {
		if v != nil {
			details = append(details, validate.FieldError{Field: field, Code: "needs_review",
				MessageZH: "姓名或身份证号的变更须提交申请并经审核（POST /v1/me/data-changes）",
				MessageEN: "a change of name or ID number is a request a reviewer decides (POST /v1/me/data-changes)"})
		}
	}
	changes, problems := contactChanges(req.Mobile, req.Email, req.Address)
	details = append(details, problems...)
	if req.Language != nil {
		// Given, it must be named: "" does not mean Chinese here.
		if fe := accountLanguage("language", *req.Language); fe != nil {
			details = append(details, *fe)
		}
	}
	if len(changes) == 0 && req.Language == nil && len(details) == 0 {
		details = append(details, validate.FieldError{Field: "body", Code: "empty_change",
			MessageZH: "请至少填写一项要修改的联系信息", MessageEN: "give at least one contact field to change"})
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	ctx := c.Request().Context()
	if newMobile, ok := changes["mobile"]; ok && !s.MobileCodes.Off {
		// A new mobile number is proved with a code sent to it (issue 18).
		current, err := store.MobileOfAccount(ctx, s.DB, p.AccountID)
		if err != nil {
			return err
		}
		if newMobile != current {
			if err := s.checkMobileCode(ctx, newMobile, PurposeContactChange, p.AccountID, req.MobileCode); err != nil {
				return err
			}
		}
	}
	var changed []string
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		personID, cur, err := s.personOf(ctx, tx, p.AccountID, true)
		if err != nil {
			return err
		}
		if req.Language != nil {
			// A preference, not contact data: no change record.
			if langChanged, err := store.SetAccountLanguage(ctx, tx, p.AccountID, *req.Language); err != nil {
				return err
			} else if langChanged {
				changed = append(changed, "language")
				if err := audit(ctx, tx, c, "account.language_changed", "account", p.AccountID,
					map[string]any{"language": *req.Language}); err != nil {
					return err
				}
			}
		}
		current := map[string]string{"mobile": cur.Mobile, "email": cur.Email.String, "address": cur.Address}
		old, updated := map[string]string{}, map[string]string{}
		var contact []string
		for _, f := range []string{"mobile", "email", "address"} {
			if v, ok := changes[f]; ok && v != current[f] {
				old[f], updated[f] = current[f], v
				contact = append(contact, f)
			}
		}
		if len(contact) == 0 {
			return nil
		}
		changed = append(changed, contact...)
		if err := store.ChangeContact(ctx, tx, personID, optional(updated, "mobile"), optional(updated, "email"),
			optional(updated, "address")); err != nil {
			return err
		}
		changeID := uuid.NewString()
		if err := store.RecordContactChange(ctx, tx, changeID, p.AccountID, mustJSON(old), mustJSON(updated)); err != nil {
			return err
		}
		// The audit entry names the fields and the change record, never
		// the values (docs/data-protection.md): they live in data_changes,
		// under the retention schedule.
		return audit(ctx, tx, c, "registration_data.contact_changed", "account", p.AccountID,
			map[string]any{"change_id": changeID, "fields": contact})
	})
	if err != nil {
		return err
	}
	if changed == nil {
		changed = []string{}
	}
	return c.JSON(http.StatusOK, map[string]any{"changed": changed})
}

func optional(m map[string]string, k string) any {
	if v, ok := m[k]; ok {
		return v
	}
	return nil
}

// requestDataChange: a change of name or ID number is a request that a
// reviewer decides (a workflow); one pending request per account.
func (s *server) requestDataChange(c echo.Context) error {
	p := caller(c)
	if !may(c, authz.UserArea) {
		return errUsersOnly()
	}
	var req struct {
		Name     *string `json:"name"`
		IDNumber *string `json:"id_number"`
		Note     string  `json:"note"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	id, keyed, err := s.intakeID(c, "data_change", req)
	if err != nil {
		return err
	}
	repeat := false
	var stored json.RawMessage
	if keyed {
		stored, err = store.RequestedDataChange(ctx, s.DB, id, p.AccountID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		repeat = err == nil
	}
	_, cur, err := s.personOf(ctx, s.DB, p.AccountID, false)
	if err != nil {
		return err
	}
	var details []validate.FieldError
	changes, old := map[string]string{}, map[string]string{}
	if repeat {
		// The same request again: the change as first stored (the person
		// may carry it already).
		if err := json.Unmarshal(stored, &changes); err != nil {
			return err
		}
	}
	if req.Name != nil {
		name := strings.TrimSpace(*req.Name)
		if fe := validate.PersonName("name", name); fe != nil {
			details = append(details, *fe)
		} else if name != cur.Name {
			changes["name"], old["name"] = name, cur.Name
		}
	}
	if req.IDNumber != nil {
		id := validate.NormalizeIDNumber(*req.IDNumber)
		if _, fe := validate.ResidentID("id_number", id, s.now()); fe != nil {
			details = append(details, *fe)
		} else if id != cur.IDNumber {
			changes["id_number"], old["id_number"] = id, cur.IDNumber
		}
	}
	if fe := validate.Text("note", req.Note, false, 0, 1000); fe != nil {
		details = append(details, *fe)
	}
	if repeat {
		details = nil
	}
	if len(details) == 0 && len(changes) == 0 {
		details = append(details, validate.FieldError{Field: "body", Code: "no_change",
			MessageZH: "请填写与现登记信息不同的姓名或身份证号", MessageEN: "give a name or ID number that differs from the registered one"})
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	fields := make([]string, 0, 2)
	for _, f := range []string{"name", "id_number"} {
		if _, ok := changes[f]; ok {
			fields = append(fields, f)
		}
	}
	err = s.unlessRepeat(repeat, func() error {
		return inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
			if err := store.FileIdentityChange(ctx, tx, id, p.AccountID, mustJSON(old), mustJSON(changes), strings.TrimSpace(req.Note)); err != nil {
				return err
			}
			return audit(ctx, tx, c, "registration_data.change_requested", "account", p.AccountID,
				map[string]any{"change_id": id, "fields": fields})
		})
	})
	if isUniqueViolation(err) {
		return newError(http.StatusConflict, "change_pending", "已有一项待审核的信息变更申请", "a change request is already waiting for review")
	}
	if err != nil {
		return err
	}
	opts := client.StartWorkflowOptions{
		ID:                    workflows.DataChangeWorkflowID(id),
		TaskQueue:             s.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		// One run per change: asking again after an unknown outcome
		// reaches it ("already started").
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
	}
	startRecord(&opts, workflows.RunRecord{Kind: workflows.KindDataChange, RecordID: id, Clause: "C3.2",
		Console: "/console/data-changes/" + id}, workflows.StatusPending)
	err = s.settleIntake(ctx, "data_change", id, repeat, s.startIntake(opts, workflows.DataChangeReview, workflows.DataChangeInput{ChangeID: id}),
		func(ctx context.Context) {
			// No review can run: withdraw the request so the user can file it again.
			s.discardIntake(ctx, id, store.DiscardDataChange)
		})
	if err != nil {
		slog.Error("start data change review", "change_id", id, "error", err)
		return intakeError(err)
	}
	status := workflows.StatusPending
	if repeat {
		if status, err = store.DataChangeStatus(ctx, s.DB, id); err != nil {
			return err
		}
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/data-changes/"+id)
	return c.JSON(http.StatusAccepted, map[string]any{"id": id, "status": status, "fields": fields})
}

type dataChangeRow store.DataChange

func (r dataChangeRow) view() map[string]any {
	return map[string]any{"id": r.ID, "account_id": r.AccountID, "kind": r.Kind, "status": r.Status,
		"old_values": r.OldValues, "new_values": r.NewValues, "note": r.Note, "requested_at": r.RequestedAt,
		"reason": nullable(r.Reason.String, r.Reason.Valid), "decided_at": nullable(r.DecidedAt.Time, r.DecidedAt.Valid)}
}

// getDataChange: the user who asked, or staff who may read accounts (staff
// also get the link to the review's run).
func (s *server) getDataChange(c echo.Context) error {
	p := caller(c)
	stored, err := store.DataChangeByID(c.Request().Context(), s.DB, c.Param("id"))
	if err != nil {
		return err
	}
	row := dataChangeRow(stored)
	if !(may(c, authz.DataChangeOwn) && p.AccountID == row.AccountID) && !may(c, authz.DataChangeRead) {
		return errNotFound()
	}
	out := row.view()
	if p.Kind == "staff" && row.Kind == "identity" {
		// Staff follow the review's run in the Temporal web UI, as on cases.
		out["workflow_url"] = s.workflowURL(workflows.DataChangeWorkflowID(row.ID))
	}
	return c.JSON(http.StatusOK, out)
}

// myDataChanges: the user's own changes of registration data (contact data
// changed at once, name and ID number changes with their review), newest
// first.
func (s *server) myDataChanges(c echo.Context) error {
	rows, err := store.DataChangesOf(c.Request().Context(), s.DB, caller(c).AccountID)
	if err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		items = append(items, dataChangeRow(r).view())
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// dataChangeQueue: pending name and ID number changes, oldest first.
func (s *server) dataChangeQueue(c echo.Context) error {
	if !may(c, authz.DataChangeQueue) {
		return errForbidden("only reviewers and supervisors see the data change queue", "仅审核人员和主管可以查看信息变更队列")
	}
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	// Paged by (requested_at, id) after the last one shown, like the
	// registration queue.
	after, afterID := time.Time{}, "00000000-0000-0000-0000-000000000000"
	if v := c.QueryParam("after"); v != "" {
		var ok bool
		if after, afterID, ok = decodeCursor(v); !ok {
			return errValidation(validate.FieldError{Field: "after", Code: "invalid_cursor", MessageZH: "分页游标无效", MessageEN: "invalid cursor"})
		}
	}
	rows, err := store.PendingDataChanges(c.Request().Context(), s.DB, limit, after, afterID)
	if err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		items = append(items, dataChangeRow(r).view())
	}
	out := map[string]any{"items": items}
	if len(rows) == limit {
		last := rows[len(rows)-1]
		out["next_cursor"] = encodeCursor(last.RequestedAt, last.ID)
	}
	return c.JSON(http.StatusOK, out)
}

// decideDataChange: a reviewer approves or rejects (with a reason).
func (s *server) decideDataChange(c echo.Context) error {
	p := caller(c)
	if !may(c, authz.DataChangeDecide) {
		return errForbidden("only a reviewer or supervisor may decide a change of registration data", "仅审核人员或主管可以审核信息变更")
	}
	var req struct {
		Decision string `json:"decision"`
		Reason   string `json:"reason"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if req.Decision == workflows.DecisionReject && req.Reason == "" {
		return errValidation(validate.FieldError{Field: "reason", Code: "required",
			MessageZH: "驳回时须说明理由", MessageEN: "a reason is required to reject"})
	}
	id := c.Param("id")
	ctx := c.Request().Context()
	exists, err := store.IdentityChangeExists(ctx, s.DB, id)
	if err != nil {
		return err
	}
	if !exists {
		return errNotFound()
	}
	uctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	h, err := s.Temporal.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.DataChangeWorkflowID(id), UpdateName: workflows.UpdateDecideDataChange,
		Args:         []any{workflows.DataChangeDecision{Actor: p.actor(), Decision: req.Decision, Reason: req.Reason}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res workflows.DataChangeResult
	if err == nil {
		err = h.Get(uctx, &res)
	}
	if err != nil {
		return fromWorkflow(err)
	}
	return c.JSON(http.StatusOK, res)
}
