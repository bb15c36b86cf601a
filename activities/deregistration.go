package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hrss-backoffice/store"
)

// Deregistration and cancellation of services (C3.5, C4), and the
// retention schedule applied when the agreement ends.

// auditAs appends an audit entry once per operation key, with the actor's
// roles and the HTTP request that caused it (writeAudit leaves both empty).
func auditAs(ctx context.Context, tx *sqlx.Tx, e AuditEntry, roles []string, httpRequestID string) error {
	_, err := store.AppendAudit(ctx, tx, store.AuditEntry{OperationKey: e.OperationKey, ActorKind: e.ActorKind, ActorID: e.ActorID,
		ActorRoles: roles, Action: e.Action, RecordKind: e.RecordKind, RecordID: e.RecordID, Detail: orEmpty(e.Detail),
		RequestID: httpRequestID})
	return err
}

// setting reads a duration from process_settings.
func setting(ctx context.Context, q sqlx.QueryerContext, name string) (time.Duration, error) {
	var secs float64
	if err := sqlx.GetContext(ctx, q, &secs, `SELECT extract(epoch FROM value)::float8 FROM process_settings WHERE name = $1`, name); err != nil {
		if isNoRows(err) {
			return 0, conflictf("setting %s is missing", name)
		}
		return 0, err
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// DeregistrationPlan is the configuration a deregistration runs with.
type DeregistrationPlan struct {
	CoolingOff  time.Duration `json:"cooling_off"`
	CaseRecheck time.Duration `json:"case_recheck"`
}

// LoadDeregistrationPlan checks the request and reads the cooling-off
// period and the case re-check interval in force.
func (a *Activities) LoadDeregistrationPlan(ctx context.Context, requestID string) (DeregistrationPlan, error) {
	var plan DeregistrationPlan
	var scope string
	if err := a.DB.GetContext(ctx, &scope, `SELECT scope FROM deregistration_requests WHERE id = $1`, requestID); err != nil {
		if isNoRows(err) {
			return plan, conflictf("deregistration request %s does not exist", requestID)
		}
		return plan, err
	}
	if scope != "account" {
		return plan, conflictf("request %s cancels services, it does not deregister", requestID)
	}
	var err error
	if plan.CoolingOff, err = setting(ctx, a.DB, "deregistration.cooling_off"); err != nil {
		return plan, err
	}
	plan.CaseRecheck, err = setting(ctx, a.DB, "deregistration.case_recheck")
	return plan, err
}

// HasOpenCase reports an open fraud or violation case against the account.
func (a *Activities) HasOpenCase(ctx context.Context, accountID string) (bool, error) {
	var open bool
	err := a.DB.GetContext(ctx, &open, `SELECT EXISTS (SELECT 1 FROM cases WHERE account_id = $1 AND closed_at IS NULL)`, accountID)
	return open, err
}

// DeregistrationStep moves an open deregistration into the cooling-off
// period (until Until) or marks it blocked by an open case. Round counts
// the times it entered the state, for the operation keys.
type DeregistrationStep struct {
	RequestID string    `json:"request_id"`
	AccountID string    `json:"account_id"`
	Status    string    `json:"status"` // cooling_off | blocked
	Until     time.Time `json:"until,omitzero"`
	Round     int       `json:"round"`
}

// MarkDeregistration records the step, with a notice to the user.
func (a *Activities) MarkDeregistration(ctx context.Context, in DeregistrationStep) error {
	key := fmt.Sprintf("deregistration/%s/%s/%d", in.RequestID, in.Status, in.Round)
	var titleZH, titleEN, bodyZH, bodyEN string
	switch in.Status {
	case "cooling_off":
		titleZH, titleEN = "注销申请已受理，处于冷静期", "Your deregistration request is in its cooling-off period"
		bodyZH = "冷静期至 " + in.Until.UTC().Format(time.RFC3339) + " 结束，此前您可以撤回申请。"
		bodyEN = "It ends at " + in.Until.UTC().Format(time.RFC3339) + "; until then you may withdraw the request."
	case "blocked":
		titleZH, titleEN = "注销暂缓：您的账户有未结案件", "Deregistration on hold: a case concerning your account is open"
		bodyZH, bodyEN = "案件结案后冷静期开始计算。", "The cooling-off period starts when the case closes."
	default:
		return conflictf("unknown deregistration step %q", in.Status)
	}
	return a.inTx(ctx, func(tx *sqlx.Tx) error {
		var status string
		if err := tx.GetContext(ctx, &status, `SELECT status FROM deregistration_requests WHERE id = $1 FOR UPDATE`, in.RequestID); err != nil {
			return err
		}
		if status != "received" && status != "cooling_off" && status != "blocked" {
			return conflictf("deregistration request %s is %s", in.RequestID, status)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deregistration_requests SET status = $2,
			cooling_off_until = CASE WHEN $2 = 'cooling_off' THEN $3::timestamptz END,
			blocked_since = CASE WHEN $2 = 'blocked' THEN coalesce(blocked_since, now()) END
			WHERE id = $1`, in.RequestID, in.Status, nullTime(in.Until)); err != nil {
			return err
		}
		if err := writeNotice(ctx, tx, Notice{OperationKey: key, AccountID: in.AccountID, Kind: "deregistration_" + in.Status,
			TitleZH: titleZH, TitleEN: titleEN, BodyZH: bodyZH, BodyEN: bodyEN}); err != nil {
			return err
		}
		detail := map[string]any{"request_id": in.RequestID}
		if !in.Until.IsZero() {
			detail["until"] = in.Until.UTC()
		}
		return writeAudit(ctx, tx, AuditEntry{OperationKey: key, ActorKind: "system", Action: "account.deregistration_" + in.Status,
			RecordKind: "account", RecordID: in.AccountID, Detail: detail})
	})
}

// WithdrawDeregistrationInput is the user's withdrawal.
type WithdrawDeregistrationInput struct {
	RequestID     string `json:"request_id"`
	AccountID     string `json:"account_id"`
	HTTPRequestID string `json:"http_request_id,omitempty"`
}

// WithdrawDeregistration ends an open deregistration request; the account
// and the agreement go on.
func (a *Activities) WithdrawDeregistration(ctx context.Context, in WithdrawDeregistrationInput) error {
	key := "deregistration/" + in.RequestID + "/withdrawn"
	return a.inTx(ctx, func(tx *sqlx.Tx) error {
		var status string
		if err := tx.GetContext(ctx, &status, `SELECT status FROM deregistration_requests WHERE id = $1 FOR UPDATE`, in.RequestID); err != nil {
			return err
		}
		switch status {
		case "withdrawn":
			return nil // a retry
		case "received", "cooling_off", "blocked":
		default:
			return conflictf("deregistration request %s is %s", in.RequestID, status)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deregistration_requests SET status = 'withdrawn', withdrawn_at = now() WHERE id = $1`, in.RequestID); err != nil {
			return err
		}
		if err := writeNotice(ctx, tx, Notice{OperationKey: key, AccountID: in.AccountID, Kind: "deregistration_withdrawn",
			TitleZH: "您已撤回注销申请", TitleEN: "You withdrew your deregistration request",
			BodyZH: "您的账户和服务继续有效。", BodyEN: "Your account and services continue."}); err != nil {
			return err
		}
		return auditAs(ctx, tx, AuditEntry{OperationKey: key, ActorKind: "user", ActorID: in.AccountID,
			Action: "account.deregistration_withdrawn", RecordKind: "account", RecordID: in.AccountID,
			Detail: map[string]any{"request_id": in.RequestID}}, nil, in.HTTPRequestID)
	})
}

// DeregistrationRef names a request and its account.
type DeregistrationRef struct {
	RequestID string `json:"request_id"`
	AccountID string `json:"account_id"`
}

// RetentionPlanStep is a category's step after the agreement ends.
type RetentionPlanStep struct {
	Category string    `json:"category"`
	Action   string    `json:"action"` // deidentify | erase
	DueAt    time.Time `json:"due_at"`
	Done     bool      `json:"done"`
}

// CloseAccountResult reports the end of the agreement.
type CloseAccountResult struct {
	Superseded bool                `json:"superseded"`
	ClosedAt   time.Time           `json:"closed_at,omitzero"`
	Steps      []RetentionPlanStep `json:"steps"`
}

// CloseAccount carries out a deregistration (C3.5, C4) in one transaction:
// every service closes, every session ends, the password stops working,
// the account is deregistered (sign-in refuses it), the agreement ends
// with its end date, and the retention schedule is laid down per data
// category. A retry returns the same result. An account cancelled
// meanwhile (C2.2, C2.5) supersedes the request.
func (a *Activities) CloseAccount(ctx context.Context, in DeregistrationRef) (CloseAccountResult, error) {
	var res CloseAccountResult
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		var req struct {
			Status    string `db:"status"`
			AccountID string `db:"account_id"`
		}
		if err := tx.GetContext(ctx, &req, `SELECT status, account_id FROM deregistration_requests WHERE id = $1 FOR UPDATE`, in.RequestID); err != nil {
			return err
		}
		if req.AccountID != in.AccountID {
			return conflictf("deregistration request %s belongs to another account", in.RequestID)
		}
		switch req.Status {
		case "completed":
			return loadRetention(ctx, tx, in.AccountID, &res)
		case "superseded":
			res.Superseded = true
			return nil
		case "cooling_off", "blocked", "received":
		default:
			return conflictf("deregistration request %s is %s", in.RequestID, req.Status)
		}
		var acct string
		if err := tx.GetContext(ctx, &acct, `SELECT status FROM accounts WHERE id = $1 FOR UPDATE`, in.AccountID); err != nil {
			return err
		}
		if acct != "active" && acct != "suspended" {
			res.Superseded = true
			if _, err := tx.ExecContext(ctx, `UPDATE deregistration_requests SET status = 'superseded' WHERE id = $1`, in.RequestID); err != nil {
				return err
			}
			return writeAudit(ctx, tx, AuditEntry{OperationKey: "deregistration/" + in.RequestID + "/superseded", ActorKind: "system",
				Action: "account.deregistration_superseded", RecordKind: "account", RecordID: in.AccountID,
				Detail: map[string]any{"request_id": in.RequestID, "account_status": acct}})
		}
		now := a.now().UTC()
		var closed []string
		if err := tx.SelectContext(ctx, &closed, `UPDATE account_services SET status = 'closed', closed_at = $2
			WHERE account_id = $1 AND status <> 'closed' RETURNING service_code`, in.AccountID, now); err != nil {
			return err
		}
		ended, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL`, in.AccountID, now)
		if err != nil {
			return err
		}
		sessions, _ := ended.RowsAffected()
		// The password hash is replaced by a value no password matches.
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET status = 'deregistered', closed_at = $2, password_hash = '!deregistered'
			WHERE id = $1`, in.AccountID, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE agreements SET effective_until = $2, end_reason = 'deregistered'
			WHERE account_id = $1 AND effective_until IS NULL`, in.AccountID, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deregistration_requests SET status = 'completed', completed_at = $2 WHERE id = $1`,
			in.RequestID, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO retention_steps (account_id, category, action, due_at)
			SELECT $1, category, CASE WHEN keep = interval '0' THEN 'deidentify' ELSE 'erase' END, $2::timestamptz + keep
			FROM retention_schedule ON CONFLICT (account_id, category) DO NOTHING`, in.AccountID, now); err != nil {
			return err
		}
		if err := loadRetention(ctx, tx, in.AccountID, &res); err != nil {
			return err
		}
		base := "deregistration/" + in.RequestID
		for _, e := range []AuditEntry{
			{OperationKey: base + "/services-closed", Action: "account.services_closed", Detail: map[string]any{"services": nonNil(closed), "request_id": in.RequestID}},
			{OperationKey: base + "/sessions-ended", Action: "account.sessions_ended", Detail: map[string]any{"sessions": sessions}},
			{OperationKey: base + "/deregistered", Action: "account.deregistered", Detail: map[string]any{"request_id": in.RequestID}},
			{OperationKey: base + "/agreement-ended", Action: "agreement.ended", Detail: map[string]any{"effective_until": now, "end_reason": "deregistered"}},
			{OperationKey: base + "/retention-scheduled", Action: "account.retention_scheduled", Detail: map[string]any{"steps": res.Steps}},
		} {
			e.ActorKind, e.RecordKind, e.RecordID = "system", "account", in.AccountID
			if err := writeAudit(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

func loadRetention(ctx context.Context, tx *sqlx.Tx, accountID string, res *CloseAccountResult) error {
	if err := tx.GetContext(ctx, &res.ClosedAt, `SELECT closed_at FROM accounts WHERE id = $1`, accountID); err != nil {
		return err
	}
	res.ClosedAt = res.ClosedAt.UTC()
	var steps []struct {
		Category string    `db:"category"`
		Action   string    `db:"action"`
		DueAt    time.Time `db:"due_at"`
		Done     bool      `db:"done"`
	}
	if err := tx.SelectContext(ctx, &steps, `SELECT category, action, due_at, done_at IS NOT NULL AS done
		FROM retention_steps WHERE account_id = $1 ORDER BY due_at, category`, accountID); err != nil {
		return err
	}
	res.Steps = make([]RetentionPlanStep, 0, len(steps))
	for _, s := range steps {
		res.Steps = append(res.Steps, RetentionPlanStep{Category: s.Category, Action: s.Action, DueAt: s.DueAt.UTC(), Done: s.Done})
	}
	return nil
}

// RetentionInput names one account's retention step.
type RetentionInput struct {
	AccountID string `json:"account_id"`
	Category  string `json:"category"`
}

// retentionSQL de-identifies or erases one category of an account's data.
// $1 is the account ID. The person record is shared by every account the
// person ever held: it is touched only when no other account still needs
// it. Every table and column with personal data is in the inventory of
// docs/data-protection.md, which names the category (or the legal hold)
// that ends it; e2e TestErasureLeavesNoPersonalData_C3_5_C4_C2_3 proves
// that nothing is left once the schedule has run.
var retentionSQL = map[string][]string{
	"contact_details": {
		// one-time codes sent to the account's numbers (before the numbers
		// themselves are erased below)
		`DELETE FROM verification_codes WHERE account_id = $1
			OR application_id = (SELECT application_id FROM accounts WHERE id = $1)
			OR mobile = (SELECT mobile FROM applications WHERE id = (SELECT application_id FROM accounts WHERE id = $1))
			OR mobile = (SELECT p.mobile FROM people p JOIN accounts a ON a.person_id = p.id WHERE a.id = $1)`,
		`UPDATE applications SET mobile = '', email = NULL, address = '' WHERE id = (SELECT application_id FROM accounts WHERE id = $1)`,
		`UPDATE application_supplements SET changes = changes - 'mobile' - 'email' - 'address'
			WHERE application_id = (SELECT application_id FROM accounts WHERE id = $1)`,
		`UPDATE people p SET mobile = '', email = NULL, address = '', updated_at = now()
			WHERE p.id = (SELECT person_id FROM accounts WHERE id = $1)
			  AND NOT EXISTS (SELECT 1 FROM accounts o WHERE o.person_id = p.id AND o.id <> $1 AND o.status IN ('active', 'suspended'))`,
		// old and new contact values of the account's changes of data
		`UPDATE data_changes SET old_values = old_values - 'mobile' - 'email' - 'address',
			new_values = new_values - 'mobile' - 'email' - 'address' WHERE account_id = $1`,
		// the address and text of every SMS and e-mail sent to the account
		// and, before it existed, to its application (more information
		// requested)
		`UPDATE notification_log SET address = '', text = ''
			WHERE message_id IN (SELECT id FROM notification_outbox WHERE account_id = $1
				OR application_id = (SELECT application_id FROM accounts WHERE id = $1)) AND (address <> '' OR text <> '')`,
		`UPDATE notification_outbox SET last_error = NULL WHERE (account_id = $1
			OR application_id = (SELECT application_id FROM accounts WHERE id = $1)) AND last_error IS NOT NULL`,
		`UPDATE message_deliveries SET reason = NULL WHERE (account_id = $1
			OR application_id = (SELECT application_id FROM accounts WHERE id = $1)) AND reason IS NOT NULL`,
	},
	"notices": {
		`DELETE FROM notices WHERE account_id = $1`,
		`DELETE FROM notices WHERE application_id = (SELECT application_id FROM accounts WHERE id = $1)`,
	},
	"sign_in_records": {
		`DELETE FROM sign_in_attempts WHERE account_id = $1`,
		`DELETE FROM sessions WHERE account_id = $1`,
		`DELETE FROM restricted_sessions WHERE account_id = $1`,
		`DELETE FROM sign_in_challenges WHERE account_id = $1`,
		`DELETE FROM second_factors WHERE subject_kind = 'user' AND subject_id = $1`,
		`UPDATE terms_acceptances SET source_ip = NULL WHERE account_id = $1 AND source_ip IS NOT NULL`,
		`UPDATE terms_rejections SET source_ip = '' WHERE account_id = $1 AND source_ip <> ''`,
		`UPDATE deregistration_requests SET source_ip = '' WHERE account_id = $1 AND source_ip <> ''`,
		`UPDATE security_reports SET source_ip = '' WHERE account_id = $1 AND source_ip <> ''`,
	},
	"registration_record": {
		`UPDATE applications SET name = '', id_number = 'erased:' || id, birth_date = '0001-01-01', mobile = '', email = NULL, address = ''
			WHERE id = (SELECT application_id FROM accounts WHERE id = $1)`,
		`UPDATE application_supplements SET changes = '{}'::jsonb, note = ''
			WHERE application_id = (SELECT application_id FROM accounts WHERE id = $1)`,
		`UPDATE accounts SET username = 'erased:' || id WHERE id = $1`,
		`UPDATE people p SET name = '', id_number = 'erased:' || id, birth_date = '0001-01-01', mobile = '', email = NULL, address = '', updated_at = now()
			WHERE p.id = (SELECT person_id FROM accounts WHERE id = $1)
			  AND NOT EXISTS (SELECT 1 FROM accounts o WHERE o.person_id = p.id AND o.id <> $1
			      AND NOT EXISTS (SELECT 1 FROM retention_steps r WHERE r.account_id = o.id
			          AND r.category = 'registration_record' AND r.done_at IS NOT NULL))`,
		// the changes of name and ID number, with the user's note and the reviewer's reason
		`UPDATE data_changes SET old_values = '{}', new_values = '{}', note = '', reason = NULL WHERE account_id = $1`,
		`UPDATE password_resets SET note = '', refusal = NULL WHERE account_id = $1 AND (note <> '' OR refusal IS NOT NULL)`,
		`UPDATE security_reports SET description = '' WHERE account_id = $1 AND description <> ''`,
	},
	"decisions": {
		`DELETE FROM application_events WHERE application_id = (SELECT application_id FROM accounts WHERE id = $1)`,
		`UPDATE applications SET decision_reason = NULL, info_requested = NULL WHERE id = (SELECT application_id FROM accounts WHERE id = $1)`,
		// cases and sanctions: the written statements, evidence and staff texts;
		// the outcome, reason code and clause stay
		`UPDATE case_submissions SET body = '', evidence = '{}'
			WHERE account_id = $1 OR case_id IN (SELECT id FROM cases WHERE account_id = $1)
			   OR sanction_id IN (SELECT id FROM sanctions WHERE account_id = $1)`,
		`UPDATE case_events SET detail = '{}' WHERE case_id IN (SELECT id FROM cases WHERE account_id = $1
			OR application_id = (SELECT application_id FROM accounts WHERE id = $1))`,
		`UPDATE cases SET summary = '', instructions = '', evidence = '{}', corrections = '{}', decision_evidence = '{}'
			WHERE account_id = $1 OR application_id = (SELECT application_id FROM accounts WHERE id = $1)`,
		`UPDATE sanction_events SET detail = '{}' WHERE sanction_id IN (SELECT id FROM sanctions WHERE account_id = $1)`,
		`UPDATE sanctions SET evidence = '{}', conditions = '{}', appeal_reason = NULL, end_reason = NULL WHERE account_id = $1`,
	},
	"deregistration_request": {
		`UPDATE deregistration_requests SET document = '', erased_at = now() WHERE account_id = $1 AND erased_at IS NULL`,
		`UPDATE terms_rejections SET statement = '' WHERE account_id = $1 AND statement <> ''`,
	},
}

// ApplyRetention carries out one retention step once: de-identification at
// the end of the agreement, or erasure when the category's period ends.
// The audit log keeps IDs only and is never erased.
func (a *Activities) ApplyRetention(ctx context.Context, in RetentionInput) error {
	stmts, ok := retentionSQL[in.Category]
	if !ok {
		return conflictf("no retention handler for category %q", in.Category)
	}
	return a.inTx(ctx, func(tx *sqlx.Tx) error {
		var step struct {
			Action string     `db:"action"`
			DueAt  time.Time  `db:"due_at"`
			DoneAt *time.Time `db:"done_at"`
		}
		if err := tx.GetContext(ctx, &step, `SELECT action, due_at, done_at FROM retention_steps
			WHERE account_id = $1 AND category = $2 FOR UPDATE`, in.AccountID, in.Category); err != nil {
			if isNoRows(err) {
				return conflictf("no retention step %s for account %s", in.Category, in.AccountID)
			}
			return err
		}
		if step.DoneAt != nil {
			return nil // done before: a retry
		}
		if a.now().Before(step.DueAt) {
			return conflictf("retention step %s of account %s is due at %s", in.Category, in.AccountID, step.DueAt.UTC().Format(time.RFC3339))
		}
		affected := int64(0)
		for _, q := range stmts {
			r, err := tx.ExecContext(ctx, q, in.AccountID)
			if err != nil {
				return err
			}
			n, _ := r.RowsAffected()
			affected += n
		}
		if _, err := tx.ExecContext(ctx, `UPDATE retention_steps SET done_at = now() WHERE account_id = $1 AND category = $2`,
			in.AccountID, in.Category); err != nil {
			return err
		}
		verb := map[string]string{"deidentify": "deidentified", "erase": "erased"}[step.Action]
		return writeAudit(ctx, tx, AuditEntry{OperationKey: "retention/" + in.AccountID + "/" + in.Category, ActorKind: "system",
			Action: "account.retention_" + verb, RecordKind: "account", RecordID: in.AccountID,
			Detail: map[string]any{"category": in.Category, "rows": affected, "due_at": step.DueAt.UTC()}})
	})
}

// CancelServices closes the services a written request names (C3.5); the
// account and the agreement go on. A retry closes nothing twice.
func (a *Activities) CancelServices(ctx context.Context, in DeregistrationRef) ([]string, error) {
	var closed []string
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		var req struct {
			Scope     string         `db:"scope"`
			Status    string         `db:"status"`
			AccountID string         `db:"account_id"`
			Services  pq.StringArray `db:"services"`
		}
		if err := tx.GetContext(ctx, &req, `SELECT scope, status, account_id, services FROM deregistration_requests WHERE id = $1 FOR UPDATE`,
			in.RequestID); err != nil {
			if isNoRows(err) {
				return conflictf("request %s does not exist", in.RequestID)
			}
			return err
		}
		if req.Scope != "services" || req.AccountID != in.AccountID {
			return conflictf("request %s does not cancel services of account %s", in.RequestID, in.AccountID)
		}
		if req.Status == "completed" {
			closed = req.Services
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE account_services SET status = 'closed', closed_at = now()
			WHERE account_id = $1 AND service_code = ANY($2) AND status <> 'closed'`, in.AccountID, req.Services); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deregistration_requests SET status = 'completed', completed_at = now() WHERE id = $1`, in.RequestID); err != nil {
			return err
		}
		closed = req.Services
		key := "service-cancellation/" + in.RequestID
		if err := writeNotice(ctx, tx, Notice{OperationKey: key, AccountID: in.AccountID, Kind: "services_cancelled",
			TitleZH: "您申请取消的服务已关闭", TitleEN: "The services you cancelled are closed",
			BodyZH: "已关闭：" + joinCodes(closed), BodyEN: "Closed: " + joinCodes(closed)}); err != nil {
			return err
		}
		return writeAudit(ctx, tx, AuditEntry{OperationKey: key, ActorKind: "user", ActorID: in.AccountID,
			Action: "account.services_cancelled", RecordKind: "account", RecordID: in.AccountID,
			Detail: map[string]any{"services": closed, "request_id": in.RequestID}})
	})
	return closed, err
}

func joinCodes(codes []string) string {
	out := ""
	for i, c := range codes {
		if i > 0 {
			out += ", "
		}
		out += c
	}
	return out
}
