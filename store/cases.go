package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Cases (fraud verification, violations), their sanctions, the users'
// submissions and restricted sessions (C2.2, C2.5, C3.4). The case,
// violation and sanction workflows write the decisions; the API files a
// case or a submission, takes it back when no run took it up, and reads.

// Case is a row of cases.
type Case struct {
	ID               string         `db:"id" json:"id"`
	Kind             string         `db:"kind" json:"kind"`
	State            string         `db:"state" json:"state"`
	AccountID        sql.NullString `db:"account_id" json:"-"`
	ApplicationID    sql.NullString `db:"application_id" json:"-"`
	Source           string         `db:"source" json:"source"`
	OpenedBy         sql.NullString `db:"opened_by" json:"-"`
	SuspectedFields  pq.StringArray `db:"suspected_fields" json:"suspected_fields"`
	Evidence         pq.StringArray `db:"evidence" json:"evidence"`
	Summary          string         `db:"summary" json:"-"`
	Rule             sql.NullString `db:"rule" json:"-"`
	Action           sql.NullString `db:"action" json:"-"`
	Instructions     string         `db:"instructions" json:"instructions"`
	Corrections      pq.StringArray `db:"corrections" json:"corrections"`
	Findings         pq.StringArray `db:"findings" json:"findings"`
	AnswerDueAt      sql.NullTime   `db:"answer_due_at" json:"-"`
	CorrectBy        sql.NullTime   `db:"correct_by" json:"-"`
	DueAt            sql.NullTime   `db:"due_at" json:"-"`
	EscalatedAt      sql.NullTime   `db:"escalated_at" json:"-"`
	Outcome          sql.NullString `db:"outcome" json:"-"`
	DecidedBy        sql.NullString `db:"decided_by" json:"-"`
	DecidedAt        sql.NullTime   `db:"decided_at" json:"-"`
	ReasonCode       sql.NullString `db:"reason_code" json:"-"`
	Clause           sql.NullString `db:"clause" json:"-"`
	DecisionEvidence pq.StringArray `db:"decision_evidence" json:"decision_evidence"`
	SanctionID       sql.NullString `db:"sanction_id" json:"-"`
	OpenedAt         time.Time      `db:"opened_at" json:"opened_at"`
	ClosedAt         sql.NullTime   `db:"closed_at" json:"-"`
}

const caseColumns = `id, kind, state, account_id, application_id, source, opened_by, suspected_fields, evidence, summary, rule, action,
	instructions, corrections, findings, answer_due_at, correct_by, due_at, escalated_at, outcome, decided_by, decided_at, reason_code,
	clause, decision_evidence, sanction_id, opened_at, closed_at`

// FraudReport is a fraud case as staff file it.
type FraudReport struct {
	ID, AccountID, ApplicationID, Source, CheckCode, OpenedBy string
	SuspectedFields, Evidence                                 []string
	Summary                                                   string
	AnswerDueAt                                               time.Time
}

// FileFraudCase stores a reported fraud case.
func FileFraudCase(ctx context.Context, q Q, r FraudReport) error {
	_, err := q.ExecContext(ctx, `INSERT INTO cases (id, kind, account_id, application_id, state, source, check_code, opened_by,
			suspected_fields, evidence, summary, answer_due_at) VALUES ($1, 'fraud', $2, $3, 'reported', $4, nullif($5, ''), $6, $7, $8, $9, $10)`,
		r.ID, nullString(r.AccountID), nullString(r.ApplicationID), r.Source, r.CheckCode, r.OpenedBy,
		pq.Array(r.SuspectedFields), pq.Array(r.Evidence), r.Summary, r.AnswerDueAt)
	return err
}

// ViolationReport is a violation case as staff file it.
type ViolationReport struct {
	ID, AccountID, OpenedBy string
	Evidence                []string
	Summary, Rule, Action   string
	Instructions            string
	Corrections             []string
	CorrectBy               time.Time // zero: none
}

// FileViolationCase stores a reported violation case.
func FileViolationCase(ctx context.Context, q Q, r ViolationReport) error {
	_, err := q.ExecContext(ctx, `INSERT INTO cases (id, kind, account_id, state, opened_by, evidence, summary, rule, action,
			instructions, corrections, correct_by) VALUES ($1, 'violation', $2, 'reported', $3, $4, $5, $6, $7, $8, $9, $10)`,
		r.ID, r.AccountID, r.OpenedBy, pq.Array(r.Evidence), r.Summary, r.Rule, r.Action,
		r.Instructions, pq.Array(r.Corrections), nullTime(r.CorrectBy))
	return err
}

// RecordCaseReported writes a case's first event ("reported").
func RecordCaseReported(ctx context.Context, q Q, caseID, actor string, detail []byte) error {
	_, err := q.ExecContext(ctx, `INSERT INTO case_events (case_id, event_key, kind, actor, detail) VALUES ($1, 'reported', 'reported', $2, $3)`,
		caseID, actor, detail)
	return err
}

// CaseFiled tells whether a case with this ID is stored.
func CaseFiled(ctx context.Context, q Q, id string) (bool, error) {
	var ok bool
	err := sqlx.GetContext(ctx, q, &ok, `SELECT EXISTS (SELECT 1 FROM cases WHERE id = $1)`, id)
	return ok, err
}

// CaseFilter selects cases for the staff list; empty fields do not filter.
type CaseFilter struct {
	Kind, State, AccountID string
	// Overdue: nil does not filter; true keeps open cases past their due
	// time at Now, false the others.
	Overdue *bool
	Now     time.Time
	Limit   int
}

// ListCases lists cases newest first.
func ListCases(ctx context.Context, q Q, f CaseFilter) ([]Case, error) {
	query := `SELECT ` + caseColumns + ` FROM cases WHERE true`
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		query += fmt.Sprintf(" AND "+cond, len(args))
	}
	if f.Kind != "" {
		add("kind = $%d", f.Kind)
	}
	if f.State != "" {
		add("state = $%d", f.State)
	}
	if f.AccountID != "" {
		add("account_id = $%d", f.AccountID)
	}
	if f.Overdue != nil {
		if *f.Overdue {
			add("closed_at IS NULL AND due_at < $%d", f.Now)
		} else {
			add("NOT (closed_at IS NULL AND coalesce(due_at < $%d, false))", f.Now)
		}
	}
	args = append(args, f.Limit)
	query += fmt.Sprintf(" ORDER BY opened_at DESC, id LIMIT $%d", len(args))
	rows := []Case{}
	err := sqlx.SelectContext(ctx, q, &rows, query, args...)
	return rows, err
}

// CaseByID reads a case, or ErrNotFound.
func CaseByID(ctx context.Context, q Q, id string) (Case, error) {
	var r Case
	err := getOne(ctx, q, &r, `SELECT `+caseColumns+` FROM cases WHERE id = $1`, id)
	return r, err
}

// CasesOfAccount lists an account's cases past their report, newest first.
func CasesOfAccount(ctx context.Context, q Q, accountID string) ([]Case, error) {
	rows := []Case{}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+caseColumns+` FROM cases WHERE account_id = $1
		AND state <> 'reported' ORDER BY opened_at DESC`, accountID)
	return rows, err
}

// CaseKind reads a case's kind, or ErrNotFound.
func CaseKind(ctx context.Context, q Q, id string) (string, error) {
	var kind string
	err := getOne(ctx, q, &kind, `SELECT kind FROM cases WHERE id = $1`, id)
	return kind, err
}

// CaseKindOfAccount reads the kind of a case about the account, or
// ErrNotFound (also when the case is someone else's).
func CaseKindOfAccount(ctx context.Context, q Q, id, accountID string) (string, error) {
	var kind string
	err := getOne(ctx, q, &kind, `SELECT kind FROM cases WHERE id = $1 AND account_id = $2`, id, accountID)
	return kind, err
}

// CaseParties is whom a case concerns.
type CaseParties struct {
	Kind          string         `db:"kind"`
	AccountID     sql.NullString `db:"account_id"`
	ApplicationID sql.NullString `db:"application_id"`
}

// CasePartiesByID reads whom a case concerns, or ErrNotFound.
func CasePartiesByID(ctx context.Context, q Q, id string) (CaseParties, error) {
	var cs CaseParties
	err := getOne(ctx, q, &cs, `SELECT kind, account_id, application_id FROM cases WHERE id = $1`, id)
	return cs, err
}

// CaseEvent is one event of a case's, a sanction's (or an application's)
// timeline.
type CaseEvent struct {
	Kind   string          `db:"kind" json:"kind"`
	At     time.Time       `db:"at" json:"at"`
	Actor  string          `db:"actor" json:"actor"`
	Detail json.RawMessage `db:"detail" json:"detail"`
}

// CaseTimeline lists a case's events in order.
func CaseTimeline(ctx context.Context, q Q, caseID string) ([]CaseEvent, error) {
	events := []CaseEvent{}
	err := sqlx.SelectContext(ctx, q, &events, `SELECT kind, at, actor, detail FROM case_events WHERE case_id = $1 ORDER BY at, event_key`, caseID)
	return events, err
}

// SanctionTimeline lists a sanction's events in order.
func SanctionTimeline(ctx context.Context, q Q, sanctionID string) ([]CaseEvent, error) {
	events := []CaseEvent{}
	err := sqlx.SelectContext(ctx, q, &events, `SELECT kind, at, actor, detail FROM sanction_events WHERE sanction_id = $1 ORDER BY at, event_key`, sanctionID)
	return events, err
}

// AcceptedSubmission is a user's answer or correction report a run took up.
type AcceptedSubmission struct {
	ID          string         `db:"id" json:"id"`
	Kind        string         `db:"kind" json:"kind"`
	Body        string         `db:"body" json:"body"`
	Evidence    pq.StringArray `db:"evidence" json:"evidence"`
	SubmittedAt time.Time      `db:"submitted_at" json:"submitted_at"`
	AcceptedAt  sql.NullTime   `db:"accepted_at" json:"accepted_at"`
}

// AcceptedSubmissions lists a case's accepted submissions in order.
func AcceptedSubmissions(ctx context.Context, q Q, caseID string) ([]AcceptedSubmission, error) {
	subs := []AcceptedSubmission{}
	err := sqlx.SelectContext(ctx, q, &subs, `SELECT id, kind, body, evidence, submitted_at, accepted_at FROM case_submissions
		WHERE case_id = $1 AND accepted_at IS NOT NULL ORDER BY submitted_at`, caseID)
	return subs, err
}

// Submission is a user's answer, correction report or appeal as filed.
type Submission struct {
	ID, Kind, CaseID, SanctionID, AccountID string // empty IDs: none
	Body                                    string
	Evidence                                []string
}

// SubmissionFiled tells whether a submission with this ID is stored.
func SubmissionFiled(ctx context.Context, q Q, id string) (bool, error) {
	var ok bool
	err := sqlx.GetContext(ctx, q, &ok, `SELECT EXISTS (SELECT 1 FROM case_submissions WHERE id = $1)`, id)
	return ok, err
}

// FileSubmission stores a submission before its run is told.
func FileSubmission(ctx context.Context, q Q, s Submission) error {
	_, err := q.ExecContext(ctx, `INSERT INTO case_submissions (id, kind, case_id, sanction_id, account_id, body, evidence)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, s.ID, s.Kind, nullString(s.CaseID), nullString(s.SanctionID), nullString(s.AccountID),
		s.Body, pq.Array(s.Evidence))
	return err
}

// Sanction is a row of sanctions.
type Sanction struct {
	ID              string         `db:"id"`
	AccountID       string         `db:"account_id"`
	CaseID          string         `db:"case_id"`
	Kind            string         `db:"kind"`
	State           string         `db:"state"`
	Final           bool           `db:"final"`
	ReasonCode      string         `db:"reason_code"`
	Clause          string         `db:"clause"`
	Evidence        pq.StringArray `db:"evidence"`
	Conditions      pq.StringArray `db:"conditions"`
	FalseData       bool           `db:"false_data"`
	ImposedBy       sql.NullString `db:"imposed_by"`
	ImposedKind     string         `db:"imposed_by_kind"`
	ImposedAt       time.Time      `db:"imposed_at"`
	AppealUntil     time.Time      `db:"appeal_until"`
	AppealState     string         `db:"appeal_state"`
	AppealedAt      sql.NullTime   `db:"appealed_at"`
	AppealDecidedBy sql.NullString `db:"appeal_decided_by"`
	AppealDecidedAt sql.NullTime   `db:"appeal_decided_at"`
	AppealReason    sql.NullString `db:"appeal_reason"`
	CorrectionState string         `db:"correction_state"`
	EndedAt         sql.NullTime   `db:"ended_at"`
	EndedBy         sql.NullString `db:"ended_by"`
	EndReason       sql.NullString `db:"end_reason"`
}

const sanctionColumns = `id, account_id, case_id, kind, state, final, reason_code, clause, evidence, conditions, false_data, imposed_by,
	imposed_by_kind, imposed_at, appeal_until, appeal_state, appealed_at, appeal_decided_by, appeal_decided_at, appeal_reason,
	correction_state, ended_at, ended_by, end_reason`

// SanctionByID reads a sanction, or ErrNotFound.
func SanctionByID(ctx context.Context, q Q, id string) (Sanction, error) {
	var r Sanction
	err := getOne(ctx, q, &r, `SELECT `+sanctionColumns+` FROM sanctions WHERE id = $1`, id)
	return r, err
}

// SanctionsOfAccount lists an account's sanctions, newest first.
func SanctionsOfAccount(ctx context.Context, q Q, accountID string) ([]Sanction, error) {
	rows := []Sanction{}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+sanctionColumns+` FROM sanctions WHERE account_id = $1 ORDER BY imposed_at DESC`,
		accountID)
	return rows, err
}

// SanctionExists tells whether the sanction exists (and, with a non-empty
// accountID, is that account's).
func SanctionExists(ctx context.Context, q Q, id, accountID string) (bool, error) {
	var exists bool
	query := `SELECT EXISTS (SELECT 1 FROM sanctions WHERE id = $1)`
	args := []any{id}
	if accountID != "" {
		query = `SELECT EXISTS (SELECT 1 FROM sanctions WHERE id = $1 AND account_id = $2)`
		args = append(args, accountID)
	}
	err := sqlx.GetContext(ctx, q, &exists, query, args...)
	return exists, err
}

// SanctionCaseOpener names the staff member who opened the case a
// sanction came from; not valid when there is none (or no such sanction).
func SanctionCaseOpener(ctx context.Context, q Q, sanctionID string) (sql.NullString, error) {
	var opener sql.NullString
	err := getOne(ctx, q, &opener, `SELECT c.opened_by::text FROM sanctions sn JOIN cases c ON c.id = sn.case_id
		WHERE sn.id::text = $1`, sanctionID)
	if err == ErrNotFound {
		return sql.NullString{}, nil
	}
	return opener, err
}

// RestrictedSessionAccount is the suspended or cancelled account of a live
// restricted session, or ErrNotFound.
func RestrictedSessionAccount(ctx context.Context, q Q, tokenHash []byte) (string, error) {
	var accountID string
	err := getOne(ctx, q, &accountID, `SELECT r.account_id FROM restricted_sessions r
			JOIN accounts a ON a.id = r.account_id AND a.status IN ('suspended', 'cancelled')
			WHERE r.token_hash = $1 AND r.revoked_at IS NULL AND r.expires_at > now()`, tokenHash)
	return accountID, err
}

// OpenRestrictedSession stores a restricted session by its token's hash.
func OpenRestrictedSession(ctx context.Context, q Q, tokenHash []byte, accountID string, expires time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO restricted_sessions (token_hash, account_id, expires_at) VALUES ($1, $2, $3)`,
		tokenHash, accountID, expires)
	return err
}
