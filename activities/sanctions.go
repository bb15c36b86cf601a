package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Sanctions: suspensions and cancellations of an account (C2.2, C2.5).
// Several can be in force at once; the account's status, its services and
// its agreement are derived from those in force (deriveAccount), so lifting
// one restriction leaves the others in place.

func sanctionEvent(ctx context.Context, tx *sqlx.Tx, sanctionID, key, kind, actor string, detail any) error {
	d, err := jsonOf(detail)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO sanction_events (sanction_id, event_key, kind, actor, detail)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sanction_id, event_key) DO NOTHING`, sanctionID, key, kind, actor, d)
	return err
}

// sanctionAudit writes the entry on the sanction and on the account.
func sanctionAudit(ctx context.Context, tx *sqlx.Tx, sanctionID, accountID, key, actorKind, actorID, action string, detail map[string]any) error {
	if err := writeAudit(ctx, tx, AuditEntry{OperationKey: key, ActorKind: actorKind, ActorID: actorID, Action: action,
		RecordKind: "sanction", RecordID: sanctionID, Detail: detail}); err != nil {
		return err
	}
	d := map[string]any{"sanction_id": sanctionID}
	for k, v := range detail {
		d[k] = v
	}
	return writeAudit(ctx, tx, AuditEntry{OperationKey: key + "/account", ActorKind: actorKind, ActorID: actorID, Action: action,
		RecordKind: "account", RecordID: accountID, Detail: d})
}

// deriveAccount sets the account's status from the sanctions in force: any
// cancellation makes it cancelled (services closed, agreement ended, C4);
// else any suspension makes it suspended (services paused); else it is
// active again and the services a sanction held reopen. A deregistered
// account is left alone. It returns the status.
func deriveAccount(ctx context.Context, tx *sqlx.Tx, accountID string, now time.Time) (string, error) {
	var cur string
	if err := tx.GetContext(ctx, &cur, `SELECT status FROM accounts WHERE id = $1 FOR UPDATE`, accountID); err != nil {
		if isNoRows(err) {
			return "", conflictf("account %s does not exist", accountID)
		}
		return "", err
	}
	if cur == "deregistered" {
		return cur, nil
	}
	var cancelled, suspended bool
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(bool_or(kind = 'cancellation'), false), coalesce(bool_or(kind = 'suspension'), false)
		FROM sanctions WHERE account_id = $1 AND state = 'in_force'`, accountID).Scan(&cancelled, &suspended); err != nil {
		return "", err
	}
	status, svc := "active", "open"
	switch {
	case cancelled:
		status, svc = "cancelled", "closed"
	case suspended:
		status, svc = "suspended", "paused"
	}
	if _, err := tx.ExecContext(ctx, `UPDATE accounts SET status = $2,
		closed_at = CASE WHEN $2 = 'cancelled' THEN coalesce(closed_at, $3) END WHERE id = $1`, accountID, status, now); err != nil {
		if isUniqueViolation(err) {
			return "", conflictf("account %s cannot be reinstated: the person holds another live account", accountID)
		}
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE account_services SET status = $2, sanction_hold = ($2 <> 'open'),
		closed_at = CASE WHEN $2 = 'closed' THEN coalesce(closed_at, $3) END
		WHERE account_id = $1 AND (status = 'open' OR sanction_hold)`, accountID, svc, now); err != nil {
		return "", err
	}
	if cancelled {
		_, err := tx.ExecContext(ctx, `UPDATE agreements SET effective_until = $2, end_reason = 'cancelled'
			WHERE account_id = $1 AND effective_until IS NULL`, accountID, now)
		return status, err
	}
	_, err := tx.ExecContext(ctx, `UPDATE agreements SET effective_until = NULL, end_reason = NULL
		WHERE account_id = $1 AND end_reason = 'cancelled'`, accountID)
	return status, err
}

func isUniqueViolation(err error) bool {
	pqErr, ok := err.(*pq.Error)
	return ok && pqErr.Code == "23505"
}

// ImposeInput imposes a sanction (mirrors workflows.SanctionInput).
type ImposeInput struct {
	SanctionID  string    `json:"sanction_id"`
	CaseID      string    `json:"case_id"`
	AccountID   string    `json:"account_id"`
	Kind        string    `json:"kind"`
	ReasonCode  string    `json:"reason_code"`
	Clause      string    `json:"clause"`
	Evidence    []string  `json:"evidence,omitempty"`
	Conditions  []string  `json:"conditions,omitempty"`
	FalseData   bool      `json:"false_data"`
	ImposedBy   string    `json:"imposed_by,omitempty"`
	ImposedKind string    `json:"imposed_kind"`
	AppealUntil time.Time `json:"appeal_until"`
}

func blockReason(sanctionID string) string { return "false_data:sanction/" + sanctionID }

// ImposeSanction records the sanction and applies its effects at once:
// every session of the account ends, sign-in is refused (the account's
// status), services pause (suspension) or close and the agreement ends
// (cancellation); an ID number cancelled for false data is blocked from
// registering again. The user is told the decision, the reason, the clause
// and how to appeal. Once per sanction ID.
func (a *Activities) ImposeSanction(ctx context.Context, in ImposeInput) error {
	if in.Kind != "suspension" && in.Kind != "cancellation" {
		return conflictf("unknown sanction kind %q", in.Kind)
	}
	return a.inTx(ctx, func(tx *sqlx.Tx) error {
		now := a.now()
		var imposedBy any
		if in.ImposedBy != "" {
			imposedBy = in.ImposedBy
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO sanctions (id, account_id, case_id, kind, state, reason_code, clause, evidence,
			conditions, false_data, imposed_by, imposed_by_kind, imposed_at, appeal_until)
			VALUES ($1, $2, $3, $4, 'in_force', $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING`,
			in.SanctionID, in.AccountID, in.CaseID, in.Kind, in.ReasonCode, in.Clause, pq.Array(nonNil(in.Evidence)),
			pq.Array(nonNil(in.Conditions)), in.FalseData, imposedBy, in.ImposedKind, now, in.AppealUntil)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // imposed before: a retry
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL`,
			in.AccountID, now); err != nil {
			return err
		}
		status, err := deriveAccount(ctx, tx, in.AccountID, now)
		if err != nil {
			return err
		}
		if in.Kind == "cancellation" && in.FalseData {
			if _, err := tx.ExecContext(ctx, `INSERT INTO registration_blocks (id_number, reason)
				SELECT p.id_number, $2 FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.id = $1
				ON CONFLICT (id_number) DO NOTHING`, in.AccountID, blockReason(in.SanctionID)); err != nil {
				return err
			}
		}
		detail := map[string]any{"kind": in.Kind, "case_id": in.CaseID, "reason_code": in.ReasonCode, "clause": in.Clause,
			"evidence": nonNil(in.Evidence), "conditions": nonNil(in.Conditions), "false_data": in.FalseData,
			"appeal_until": in.AppealUntil.UTC(), "account_status": status}
		actor := actorLabel(in.ImposedKind, in.ImposedBy)
		if err := sanctionEvent(ctx, tx, in.SanctionID, "imposed", "imposed", actor, detail); err != nil {
			return err
		}
		until := in.AppealUntil.In(shanghai).Format("2006-01-02 15:04")
		titleZH, titleEN := "您的用户资格已被暂停", "Your account has been suspended"
		effectZH, effectEN := "暂停期间不能登录，网上服务暂停。", "While suspended you cannot sign in and your services are paused."
		if in.Kind == "cancellation" {
			titleZH, titleEN = "您的用户资格已被注销", "Your account has been cancelled"
			effectZH, effectEN = "您的用户资格及本承诺书自即日起终止。", "Your account and the agreement end today."
		}
		bodyZH := fmt.Sprintf("决定依据：%s（用户承诺书 %s），案件编号 %s。%s如有异议，可于 %s 前通过网站（受限登录后提交申诉，处分编号 %s）或到经办服务机构申诉，由未参与本决定的工作人员复核。",
			in.ReasonCode, in.Clause, in.CaseID, effectZH, until, in.SanctionID)
		bodyEN := fmt.Sprintf("Reason: %s (clause %s), case %s. %s You may appeal by %s on the website (restricted sign-in, sanction %s) or at a service office; a staff member who took no part in this decision reviews it.",
			in.ReasonCode, in.Clause, in.CaseID, effectEN, until, in.SanctionID)
		if err := writeNotice(ctx, tx, Notice{OperationKey: "sanction/" + in.SanctionID + "/imposed", AccountID: in.AccountID,
			Kind: "sanction_imposed", TitleZH: titleZH, TitleEN: titleEN, BodyZH: bodyZH, BodyEN: bodyEN}); err != nil {
			return err
		}
		return sanctionAudit(ctx, tx, in.SanctionID, in.AccountID, "sanction/"+in.SanctionID+"/imposed", in.ImposedKind, in.ImposedBy,
			"sanction."+in.Kind+"_imposed", detail)
	})
}

type sanctionRow struct {
	ID              string `db:"id"`
	AccountID       string `db:"account_id"`
	Kind            string `db:"kind"`
	State           string `db:"state"`
	FalseData       bool   `db:"false_data"`
	AppealState     string `db:"appeal_state"`
	CorrectionState string `db:"correction_state"`
	Final           bool   `db:"final"`
}

func loadSanction(ctx context.Context, tx *sqlx.Tx, id string) (sanctionRow, error) {
	var s sanctionRow
	err := tx.GetContext(ctx, &s, `SELECT id, account_id, kind, state, false_data, appeal_state, correction_state, final
		FROM sanctions WHERE id = $1 FOR UPDATE`, id)
	if isNoRows(err) {
		return s, conflictf("sanction %s does not exist", id)
	}
	return s, err
}

// EndSanctionInput lifts a suspension (a supervisor's decision, or the
// corrections verified) or overturns a sanction on appeal.
type EndSanctionInput struct {
	SanctionID string `json:"sanction_id"`
	State      string `json:"state"` // lifted | overturned
	Via        string `json:"via"`   // lift | correction | appeal
	ByID       string `json:"by_id"`
	ReasonCode string `json:"reason_code"`
}

// EndSanction ends a sanction and undoes its effects as far as no other
// restriction holds them: the account's status, services and agreement are
// derived again, and a block on the ID number this sanction caused is
// removed. Sessions are not restored: the user signs in again.
func (a *Activities) EndSanction(ctx context.Context, in EndSanctionInput) error {
	if in.State != "lifted" && in.State != "overturned" {
		return conflictf("cannot end a sanction as %q", in.State)
	}
	return a.inTx(ctx, func(tx *sqlx.Tx) error {
		s, err := loadSanction(ctx, tx, in.SanctionID)
		if err != nil {
			return err
		}
		if s.State == in.State {
			return nil // a retry
		}
		if s.State != "in_force" {
			return conflictf("sanction %s is %s", in.SanctionID, s.State)
		}
		now := a.now()
		if _, err := tx.ExecContext(ctx, `UPDATE sanctions SET state = $2, ended_at = $3, ended_by = $4, end_reason = $5,
			appeal_state = CASE WHEN $6 = 'appeal' THEN 'overturned' ELSE appeal_state END,
			appeal_decided_by = CASE WHEN $6 = 'appeal' THEN $4 ELSE appeal_decided_by END,
			appeal_decided_at = CASE WHEN $6 = 'appeal' THEN $3 ELSE appeal_decided_at END,
			appeal_reason = CASE WHEN $6 = 'appeal' THEN $5 ELSE appeal_reason END,
			correction_state = CASE WHEN $6 = 'correction' THEN 'verified' ELSE correction_state END
			WHERE id = $1`, in.SanctionID, in.State, now, in.ByID, in.ReasonCode, in.Via); err != nil {
			return err
		}
		status, err := deriveAccount(ctx, tx, s.AccountID, now)
		if err != nil {
			return err
		}
		if in.State == "overturned" && s.FalseData {
			if _, err := tx.ExecContext(ctx, `DELETE FROM registration_blocks WHERE reason = $1`, blockReason(in.SanctionID)); err != nil {
				return err
			}
		}
		detail := map[string]any{"via": in.Via, "reason_code": in.ReasonCode, "account_status": status}
		if err := sanctionEvent(ctx, tx, in.SanctionID, "ended", in.State, "staff:"+in.ByID, detail); err != nil {
			return err
		}
		titleZH, titleEN := "暂停已解除，您的用户资格已恢复", "The suspension is lifted: your account is reinstated"
		if in.State == "overturned" {
			titleZH, titleEN = "申诉成立，处分已撤销", "Your appeal succeeded: the sanction is undone"
		}
		bodyZH := fmt.Sprintf("处分编号 %s。账户当前状态：%s。", in.SanctionID, status)
		bodyEN := fmt.Sprintf("Sanction %s. Your account is now %s.", in.SanctionID, status)
		if status != "active" {
			bodyZH += "您的账户另有其他限制仍然有效。"
			bodyEN += " Another restriction on your account is still in force."
		}
		key := "sanction/" + in.SanctionID + "/ended"
		if err := writeNotice(ctx, tx, Notice{OperationKey: key, AccountID: s.AccountID, Kind: "sanction_" + in.State,
			TitleZH: titleZH, TitleEN: titleEN, BodyZH: bodyZH, BodyEN: bodyEN}); err != nil {
			return err
		}
		return sanctionAudit(ctx, tx, in.SanctionID, s.AccountID, key, "staff", in.ByID, "sanction."+in.State, detail)
	})
}

// SanctionSubmissionInput accepts an appeal or a correction report the API
// stored for a sanction.
type SanctionSubmissionInput struct {
	SanctionID   string `json:"sanction_id"`
	SubmissionID string `json:"submission_id"`
	Kind         string `json:"kind"` // appeal | correction
}

// AcceptSanctionSubmission marks the submission accepted, records the
// appeal (or correction report) on the sanction and tells staff.
func (a *Activities) AcceptSanctionSubmission(ctx context.Context, in SanctionSubmissionInput) error {
	return a.inTx(ctx, func(tx *sqlx.Tx) error {
		s, err := loadSanction(ctx, tx, in.SanctionID)
		if err != nil {
			return err
		}
		var sub struct {
			SanctionID *string    `db:"sanction_id"`
			Kind       string     `db:"kind"`
			Accepted   *time.Time `db:"accepted_at"`
		}
		if err := tx.GetContext(ctx, &sub, `SELECT sanction_id, kind, accepted_at FROM case_submissions WHERE id = $1 FOR UPDATE`, in.SubmissionID); err != nil {
			if isNoRows(err) {
				return conflictf("submission %s does not exist", in.SubmissionID)
			}
			return err
		}
		if sub.SanctionID == nil || *sub.SanctionID != in.SanctionID || sub.Kind != in.Kind {
			return conflictf("submission %s does not belong to sanction %s", in.SubmissionID, in.SanctionID)
		}
		if sub.Accepted != nil {
			return nil // a retry
		}
		if s.State != "in_force" {
			return conflictf("sanction %s is %s", in.SanctionID, s.State)
		}
		now := a.now()
		if _, err := tx.ExecContext(ctx, `UPDATE case_submissions SET accepted_at = $2 WHERE id = $1`, in.SubmissionID, now); err != nil {
			return err
		}
		role, kind := "supervisor", "appealed"
		if in.Kind == "correction" {
			role, kind = "investigator", "correction_reported"
			_, err = tx.ExecContext(ctx, `UPDATE sanctions SET correction_state = 'reported' WHERE id = $1`, in.SanctionID)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE sanctions SET appeal_state = 'pending', appealed_at = $2 WHERE id = $1`, in.SanctionID, now)
		}
		if err != nil {
			return err
		}
		detail := map[string]any{"submission_id": in.SubmissionID}
		if err := sanctionEvent(ctx, tx, in.SanctionID, "submission/"+in.SubmissionID, kind, "user", detail); err != nil {
			return err
		}
		key := "sanction/" + in.SanctionID + "/submission/" + in.SubmissionID
		if err := writeNotice(ctx, tx, Notice{OperationKey: key, StaffRole: role, Kind: "sanction_" + kind,
			TitleZH: "处分待复核：用户已提交申诉或改正报告", TitleEN: "A sanction awaits review: the user appealed or reported a correction",
			BodyZH: "处分编号 " + in.SanctionID, BodyEN: "Sanction " + in.SanctionID}); err != nil {
			return err
		}
		return sanctionAudit(ctx, tx, in.SanctionID, s.AccountID, key, "user", s.AccountID, "sanction."+kind, detail)
	})
}

// SanctionStepInput records a step that does not end the sanction.
type SanctionStepInput struct {
	SanctionID string `json:"sanction_id"`
	// Kind: appeal_upheld (the appeal failed), correction_rejected (the
	// reported correction is insufficient), final (a cancellation's appeal
	// time passed, or its appeal failed).
	Kind       string `json:"kind"`
	ByID       string `json:"by_id,omitempty"`
	ReasonCode string `json:"reason_code,omitempty"`
	Round      int    `json:"round,omitempty"`
}

// SanctionStep records the step once.
func (a *Activities) SanctionStep(ctx context.Context, in SanctionStepInput) error {
	return a.inTx(ctx, func(tx *sqlx.Tx) error {
		s, err := loadSanction(ctx, tx, in.SanctionID)
		if err != nil {
			return err
		}
		eventKey := fmt.Sprintf("%s/%d", in.Kind, in.Round)
		var done bool
		if err := tx.GetContext(ctx, &done, `SELECT EXISTS (SELECT 1 FROM sanction_events WHERE sanction_id = $1 AND event_key = $2)`,
			in.SanctionID, eventKey); err != nil {
			return err
		}
		if done {
			return nil
		}
		now := a.now()
		var titleZH, titleEN, bodyZH, bodyEN string
		switch in.Kind {
		case "appeal_upheld":
			_, err = tx.ExecContext(ctx, `UPDATE sanctions SET appeal_state = 'upheld', appeal_decided_by = $2, appeal_decided_at = $3,
				appeal_reason = $4 WHERE id = $1`, in.SanctionID, in.ByID, now, in.ReasonCode)
			titleZH, titleEN = "申诉未获支持，原处分维持", "Your appeal was not upheld: the sanction stands"
			bodyZH, bodyEN = "处分编号 "+in.SanctionID+"，复核理由："+in.ReasonCode, "Sanction "+in.SanctionID+", reason: "+in.ReasonCode
		case "correction_rejected":
			_, err = tx.ExecContext(ctx, `UPDATE sanctions SET correction_state = 'rejected' WHERE id = $1`, in.SanctionID)
			titleZH, titleEN = "您报告的改正未获确认", "Your reported correction was not confirmed"
			bodyZH, bodyEN = "处分编号 "+in.SanctionID+"，请按要求改正后再次报告。", "Sanction "+in.SanctionID+": correct as required and report again."
		case "final":
			_, err = tx.ExecContext(ctx, `UPDATE sanctions SET final = true WHERE id = $1`, in.SanctionID)
		default:
			return conflictf("unknown sanction step %q", in.Kind)
		}
		if err != nil {
			return err
		}
		actorKind, actor := "system", "system"
		if in.ByID != "" {
			actorKind, actor = "staff", "staff:"+in.ByID
		}
		detail := map[string]any{"reason_code": in.ReasonCode}
		if err := sanctionEvent(ctx, tx, in.SanctionID, eventKey, in.Kind, actor, detail); err != nil {
			return err
		}
		key := fmt.Sprintf("sanction/%s/%s/%d", in.SanctionID, in.Kind, in.Round)
		if titleZH != "" {
			if err := writeNotice(ctx, tx, Notice{OperationKey: key, AccountID: s.AccountID, Kind: "sanction_" + in.Kind,
				TitleZH: titleZH, TitleEN: titleEN, BodyZH: bodyZH, BodyEN: bodyEN}); err != nil {
				return err
			}
		}
		return sanctionAudit(ctx, tx, in.SanctionID, s.AccountID, key, actorKind, in.ByID, "sanction."+in.Kind, detail)
	})
}
