package activities

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hrss-backoffice/store"
)

// Dual control of staff changes (C1.4, issue 15): the staff-change
// workflow's activities. Each is keyed by the request ID: a retry finds the
// request decided and answers the stored outcome.

// StaffPickupWindow: a generated first password waits this long, sealed,
// for its single pickup; then the workflow destroys it.
const StaffPickupWindow = 10 * time.Minute

// StaffChangeDecisionInput names a request and who decided it.
type StaffChangeDecisionInput struct {
	RequestID     string `json:"request_id"`
	DeciderID     string `json:"decider_id"`
	HTTPRequestID string `json:"http_request_id,omitempty"`
}

// StaffChangeOutcome is what became of a request (no secret: Pickup only
// says that a sealed first password waits).
type StaffChangeOutcome struct {
	Status string `json:"status"`
	Code   string `json:"code,omitempty"`
	Pickup bool   `json:"pickup,omitempty"`
}

// StaffChangeDetail is what a request asks for, as the API stored it.
type StaffChangeDetail struct {
	Username string    `json:"username,omitempty"`
	Name     string    `json:"name,omitempty"`
	Roles    *[]string `json:"roles,omitempty"`
	Office   *string   `json:"office,omitempty"`
	Active   *bool     `json:"active,omitempty"`
	Reason   string    `json:"reason,omitempty"`
}

// StaffPickupKey names the sealed first password of a request.
func StaffPickupKey(requestID string) string { return "staff-change/" + requestID }

type staffChangeRow struct {
	ID          string          `db:"id"`
	Kind        string          `db:"kind"`
	TargetID    string          `db:"target_id"`
	RequestedBy string          `db:"requested_by"`
	SoleAdmin   bool            `db:"sole_admin"`
	Detail      json.RawMessage `db:"detail"`
	Status      string          `db:"status"`
	Code        string          `db:"outcome_code"`
	Roles       pq.StringArray  `db:"requester_roles"`
	SourceIP    string          `db:"source_ip"`
	RequestID   string          `db:"request_id"`
}

func loadStaffChange(ctx context.Context, tx *sqlx.Tx, id string) (staffChangeRow, StaffChangeDetail, error) {
	var r staffChangeRow
	var d StaffChangeDetail
	if err := tx.GetContext(ctx, &r, `SELECT id, kind, target_id, requested_by, sole_admin, detail, status, outcome_code,
		requester_roles, source_ip, request_id FROM staff_change_requests WHERE id = $1 FOR UPDATE`, id); err != nil {
		return r, d, err
	}
	err := json.Unmarshal(r.Detail, &d)
	return r, d, err
}

func (r staffChangeRow) outcome() StaffChangeOutcome {
	return StaffChangeOutcome{Status: r.Status, Code: r.Code,
		Pickup: r.Status == "applied" && (r.Kind == "create" || r.Kind == "password")}
}

// staffActionOf is the audit action of a change, as api/foureyes.go reads it.
var staffActionOf = map[string]string{"create": "staff.created", "update": "staff.updated",
	"password": "staff.password_set", "second_factor": "staff.second_factor_reset"}

// ApplyStaffChange makes an approved change effective: the staff row, the
// end of the member's sessions where the change calls for it, a generated
// first password sealed for its single pickup by the decider, and the audit
// rows. The change is on record as the requester's (with who approved it and
// whether the requester was the sole administrator), for the four-eyes
// rule. A change that the state no longer allows (the username was taken
// meanwhile, the last administrator would go) ends the request as failed.
func (a *Activities) ApplyStaffChange(ctx context.Context, in StaffChangeDecisionInput) (StaffChangeOutcome, error) {
	var out StaffChangeOutcome
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		r, d, err := loadStaffChange(ctx, tx, in.RequestID)
		if err != nil {
			return err
		}
		if r.Status != "pending" {
			out = r.outcome()
			return nil
		}
		detail := map[string]any{"request_id": r.ID, "approved_by": in.DeciderID, "sole_administrator": r.SoleAdmin}
		if d.Reason != "" {
			detail["reason"] = d.Reason
		}
		code, err := a.applyStaffChange(ctx, tx, r, d, in, detail)
		if err != nil {
			return err
		}
		r.Status, r.Code = "applied", code
		if code != "" {
			r.Status = "failed"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE staff_change_requests SET status = $2, outcome_code = $3, decided_by = $4, decided_at = now()
			WHERE id = $1`, r.ID, r.Status, r.Code, in.DeciderID); err != nil {
			return err
		}
		out = r.outcome()
		ev := AuditEntry{OperationKey: "staff-change/" + r.ID + "/decided", ActorKind: "staff", ActorID: in.DeciderID,
			Action: "staff_change.approved", RecordKind: "staff_change", RecordID: r.ID,
			Detail: map[string]any{"kind": r.Kind, "target_id": r.TargetID, "outcome": r.Status, "code": r.Code, "sole_administrator": r.SoleAdmin}}
		if err := writeAudit(ctx, tx, ev); err != nil {
			return err
		}
		if r.Status == "failed" {
			return nil
		}
		if c, ok := detail["changes"].(map[string]any); ok && len(c) == 0 {
			return nil // the same values again: nothing changed, nothing to audit
		}
		// On record as the requester's change, with the requester's roles,
		// address and request ID (the approval has its own row above).
		return writeRequesterAudit(ctx, tx, r, AuditEntry{OperationKey: "staff-change/" + r.ID + "/applied", ActorKind: "staff",
			ActorID: r.RequestedBy, Action: staffActionOf[r.Kind], RecordKind: "staff", RecordID: r.TargetID, Detail: detail})
	})
	return out, err
}

func (a *Activities) applyStaffChange(ctx context.Context, tx *sqlx.Tx, r staffChangeRow, d StaffChangeDetail,
	in StaffChangeDecisionInput, detail map[string]any) (string, error) {
	switch r.Kind {
	case "create":
		var taken bool
		if err := tx.GetContext(ctx, &taken, `SELECT EXISTS (SELECT 1 FROM staff WHERE username = $1 OR id = $2)`, d.Username, r.TargetID); err != nil {
			return "", err
		}
		if taken {
			return "username_taken", nil
		}
		roles, office := []string{}, ""
		if d.Roles != nil {
			roles = *d.Roles
		}
		if d.Office != nil {
			office = *d.Office
		}
		hash, sealedPw, err := a.newSealedPassword(StaffPickupKey(r.ID))
		if err != nil {
			return "", err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO staff (id, username, name, roles, office, password_hash, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.TargetID, d.Username, d.Name, pq.Array(roles), office, hash, r.RequestedBy); err != nil {
			return "", err
		}
		detail["roles"] = roles
		return "", a.storeStaffPickup(ctx, tx, r.ID, r.TargetID, in.DeciderID, sealedPw)
	case "update":
		return updateStaffRow(ctx, tx, r, d, detail)
	case "password":
		hash, sealedPw, err := a.newSealedPassword(StaffPickupKey(r.ID))
		if err != nil {
			return "", err
		}
		res, err := tx.ExecContext(ctx, `UPDATE staff SET password_hash = $2, must_change_password = true, password_changed_at = now()
			WHERE id = $1`, r.TargetID, hash)
		if err != nil {
			return "", err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return "not_found", nil
		}
		if err := endStaffSessions(ctx, tx, r.TargetID); err != nil {
			return "", err
		}
		return "", a.storeStaffPickup(ctx, tx, r.ID, r.TargetID, in.DeciderID, sealedPw)
	case "second_factor":
		res, err := tx.ExecContext(ctx, `DELETE FROM second_factors WHERE subject_kind = 'staff' AND subject_id = $1`, r.TargetID)
		if err != nil {
			return "", err
		}
		n, _ := res.RowsAffected()
		detail["had_factor"] = n > 0
		return "", endStaffSessions(ctx, tx, r.TargetID)
	}
	return "unknown_kind", nil
}

// storeStaffPickup keeps a sealed first password for its single pickup
// by the administrator who made the change effective.
func (a *Activities) storeStaffPickup(ctx context.Context, tx *sqlx.Tx, requestID, staffID, issuedTo string, sealedPw []byte) error {
	now := a.now()
	_, err := tx.ExecContext(ctx, `INSERT INTO staff_credential_pickups (operation_key, staff_id, issued_to, ciphertext, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, StaffPickupKey(requestID), staffID, issuedTo, sealedPw, now, now.Add(StaffPickupWindow))
	return err
}

// updateStaffRow changes roles, office or the active flag. The active
// administrators are locked first, in a fixed order, so that two changes
// cannot both remove the last one.
func updateStaffRow(ctx context.Context, tx *sqlx.Tx, r staffChangeRow, d StaffChangeDetail, detail map[string]any) (string, error) {
	var admins []string
	if err := tx.SelectContext(ctx, &admins, `SELECT id FROM staff WHERE active AND 'administrator' = ANY(roles)
		ORDER BY id FOR UPDATE`); err != nil {
		return "", err
	}
	var cur struct {
		Roles  pq.StringArray `db:"roles"`
		Office string         `db:"office"`
		Active bool           `db:"active"`
	}
	if err := tx.GetContext(ctx, &cur, `SELECT roles, office, active FROM staff WHERE id = $1 FOR UPDATE`, r.TargetID); err != nil {
		if isNoRows(err) {
			return "not_found", nil
		}
		return "", err
	}
	roles, office, active := []string(cur.Roles), cur.Office, cur.Active
	if d.Roles != nil {
		roles = *d.Roles
	}
	if d.Office != nil {
		office = strings.TrimSpace(*d.Office)
	}
	if d.Active != nil {
		active = *d.Active
	}
	staysAdmin := active && slices.Contains(roles, "administrator")
	if slices.Contains(admins, r.TargetID) && !staysAdmin && len(admins) == 1 {
		return "last_administrator", nil
	}
	changed := map[string]any{}
	if !slices.Equal(sorted(cur.Roles), sorted(roles)) {
		changed["roles"] = map[string]any{"from": []string(cur.Roles), "to": roles}
	}
	if office != cur.Office {
		changed["office"] = map[string]any{"from": cur.Office, "to": office}
	}
	if active != cur.Active {
		changed["active"] = map[string]any{"from": cur.Active, "to": active}
	}
	detail["changes"] = changed
	if len(changed) == 0 {
		return "", nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE staff SET roles = $2, office = $3, active = $4 WHERE id = $1`,
		r.TargetID, pq.Array(roles), office, active); err != nil {
		return "", err
	}
	if !active && cur.Active {
		return "", endStaffSessions(ctx, tx, r.TargetID)
	}
	return "", nil
}

func sorted(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return out
}

// endStaffSessions revokes every open session of a staff member.
func endStaffSessions(ctx context.Context, tx *sqlx.Tx, staffID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = now() WHERE staff_id = $1 AND revoked_at IS NULL`, staffID)
	return err
}

// writeAuditWithRequest appends an audit entry once per operation key,
// with the HTTP request ID of the decision.
func writeAuditWithRequest(ctx context.Context, tx *sqlx.Tx, e AuditEntry, httpRequestID string) error {
	_, err := store.AppendAudit(ctx, tx, store.AuditEntry{OperationKey: e.OperationKey, ActorKind: e.ActorKind, ActorID: e.ActorID,
		Action: e.Action, RecordKind: e.RecordKind, RecordID: e.RecordID, Detail: orEmpty(e.Detail), RequestID: httpRequestID})
	return err
}

// writeRequesterAudit appends the audit row of an applied change once.
func writeRequesterAudit(ctx context.Context, tx *sqlx.Tx, r staffChangeRow, e AuditEntry) error {
	_, err := store.AppendAudit(ctx, tx, store.AuditEntry{OperationKey: e.OperationKey, ActorKind: e.ActorKind, ActorID: e.ActorID,
		ActorRoles: r.Roles, Action: e.Action, RecordKind: e.RecordKind, RecordID: e.RecordID, Detail: orEmpty(e.Detail),
		SourceIP: r.SourceIP, RequestID: r.RequestID})
	return err
}

// RefuseStaffChange ends a request refused by a second administrator.
func (a *Activities) RefuseStaffChange(ctx context.Context, in StaffChangeDecisionInput) (StaffChangeOutcome, error) {
	return a.closeStaffChange(ctx, in.RequestID, "refused", in.DeciderID, in.HTTPRequestID)
}

// ExpireStaffChange ends a request that no second administrator decided in
// time, with a notice to the administrators (the requester among them).
func (a *Activities) ExpireStaffChange(ctx context.Context, requestID string) (StaffChangeOutcome, error) {
	return a.closeStaffChange(ctx, requestID, "expired", "", "")
}

func (a *Activities) closeStaffChange(ctx context.Context, requestID, status, deciderID, httpRequestID string) (StaffChangeOutcome, error) {
	var out StaffChangeOutcome
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		r, _, err := loadStaffChange(ctx, tx, requestID)
		if err != nil {
			return err
		}
		if r.Status != "pending" {
			out = r.outcome()
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE staff_change_requests SET status = $2, decided_by = $3, decided_at = now() WHERE id = $1`,
			r.ID, status, nullString(deciderID)); err != nil {
			return err
		}
		r.Status = status
		out = r.outcome()
		ev := AuditEntry{OperationKey: "staff-change/" + r.ID + "/" + status, ActorKind: "system", Action: "staff_change." + status,
			RecordKind: "staff_change", RecordID: r.ID, Detail: map[string]any{"kind": r.Kind, "target_id": r.TargetID, "requested_by": r.RequestedBy}}
		if deciderID != "" {
			ev.ActorKind, ev.ActorID = "staff", deciderID
		}
		if err := writeAuditWithRequest(ctx, tx, ev, httpRequestID); err != nil {
			return err
		}
		if status != "expired" {
			return nil
		}
		return writeNotice(ctx, tx, Notice{OperationKey: "staff-change/" + r.ID + "/expired", StaffRole: "administrator", Kind: "staff_change_expired",
			TitleZH: "工作人员变更请求已过期，未生效", TitleEN: "A staff change request expired without a decision",
			BodyZH: "请求编号 " + r.ID + "：24小时内无第二位管理员审批，变更未生效；如仍需要，请重新提出。",
			BodyEN: "Request " + r.ID + ": no second administrator decided it in time; nothing changed. Ask again if still needed."})
	})
	return out, err
}

// DestroyStaffPickup destroys a sealed first password that was not picked
// up within the pickup window.
func (a *Activities) DestroyStaffPickup(ctx context.Context, requestID string) error {
	_, err := a.DB.ExecContext(ctx, `UPDATE staff_credential_pickups SET ciphertext = NULL, destroyed_at = now()
		WHERE operation_key = $1 AND ciphertext IS NOT NULL`, StaffPickupKey(requestID))
	return err
}
