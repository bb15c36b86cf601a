package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// AuditEntry is one row of the append-only audit log (table audit_log,
// written only through AppendAudit).
type AuditEntry struct {
	// OperationKey makes the entry once-only: a retried activity or request
	// with the same key adds nothing. Empty: no key (an API action that
	// cannot repeat).
	OperationKey string
	ActorKind    string // staff, user, applicant, system
	ActorID      string
	ActorRoles   []string
	Action       string
	RecordKind   string
	RecordID     string
	// Detail is stored as JSON; nil is {}.
	Detail    any
	SourceIP  string
	RequestID string
}

// AppendAudit is the one writer of audit_log. It reports whether the entry
// was added (false: its operation key was there already).
func AppendAudit(ctx context.Context, q Q, e AuditEntry) (bool, error) {
	detail := e.Detail
	if detail == nil {
		detail = map[string]any{}
	}
	d, err := json.Marshal(detail)
	if err != nil {
		return false, err
	}
	roles := e.ActorRoles
	if roles == nil {
		roles = []string{}
	}
	res, err := q.ExecContext(ctx, `
		INSERT INTO audit_log (operation_key, actor_kind, actor_id, actor_roles, action, record_kind, record_id, detail, source_ip, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (operation_key) DO NOTHING`,
		nullString(e.OperationKey), e.ActorKind, e.ActorID, pq.Array(roles), e.Action, e.RecordKind, e.RecordID, d,
		e.SourceIP, e.RequestID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// AuditRecord is an entry of the audit log as the register shows it.
type AuditRecord struct {
	ID         int64           `db:"id" json:"id"`
	At         time.Time       `db:"at" json:"at"`
	ActorKind  string          `db:"actor_kind" json:"actor_kind"`
	ActorID    string          `db:"actor_id" json:"actor_id"`
	ActorRoles pq.StringArray  `db:"actor_roles" json:"actor_roles"`
	Action     string          `db:"action" json:"action"`
	RecordKind string          `db:"record_kind" json:"record_kind"`
	RecordID   string          `db:"record_id" json:"record_id"`
	Detail     json.RawMessage `db:"detail" json:"detail"`
	SourceIP   string          `db:"source_ip" json:"source_ip"`
	RequestID  string          `db:"request_id" json:"request_id"`
}

// AuditFilter selects entries of the audit log; empty fields do not
// filter.
type AuditFilter struct {
	ActorKind, ActorID, RecordKind, RecordID, RequestID string
	// Action matches exactly, or as a prefix when ActionPrefix.
	Action       string
	ActionPrefix bool
	// From (inclusive) and To (exclusive); zero: open.
	From, To time.Time
}

// where turns the filter into a condition and its arguments.
func (f AuditFilter) where() (string, []any) {
	var conds []string
	var args []any
	for _, c := range []struct{ col, v string }{{"actor_kind", f.ActorKind}, {"actor_id", f.ActorID}, {"record_kind", f.RecordKind},
		{"record_id", f.RecordID}, {"request_id", f.RequestID}, {"action", f.Action}} {
		if c.v == "" {
			continue
		}
		args = append(args, c.v)
		if c.col == "action" && f.ActionPrefix {
			conds = append(conds, fmt.Sprintf("starts_with(action, $%d)", len(args)))
			continue
		}
		conds = append(conds, fmt.Sprintf("%s = $%d", c.col, len(args)))
	}
	for _, b := range []struct {
		op string
		t  time.Time
	}{{">=", f.From}, {"<", f.To}} {
		if b.t.IsZero() {
			continue
		}
		args = append(args, b.t)
		conds = append(conds, fmt.Sprintf("at %s $%d", b.op, len(args)))
	}
	if len(conds) == 0 {
		return "true", args
	}
	return strings.Join(conds, " AND "), args
}

const auditRecordColumns = `id, at, actor_kind, actor_id, actor_roles, action, record_kind, record_id,
		detail, source_ip, request_id`

// SearchAuditLog lists the matching entries after the ID after, oldest
// first, at most limit.
func SearchAuditLog(ctx context.Context, q Q, f AuditFilter, after int64, limit int) ([]AuditRecord, error) {
	where, args := f.where()
	args = append(args, after, limit)
	rows := []AuditRecord{}
	err := sqlx.SelectContext(ctx, q, &rows, fmt.Sprintf(`SELECT `+auditRecordColumns+` FROM audit_log WHERE %s AND id > $%d ORDER BY id LIMIT $%d`,
		where, len(args)-1, len(args)), args...)
	return rows, err
}

// CountAuditLog counts the matching entries.
func CountAuditLog(ctx context.Context, q Q, f AuditFilter) (int, error) {
	where, args := f.where()
	var total int
	err := sqlx.GetContext(ctx, q, &total, `SELECT count(*) FROM audit_log WHERE `+where, args...)
	return total, err
}

// AuditLogRows opens the matching entries, oldest first, at most limit, to
// be streamed (StructScan into AuditRecord); the caller closes them.
func AuditLogRows(ctx context.Context, q Q, f AuditFilter, limit int) (*sqlx.Rows, error) {
	where, args := f.where()
	return q.QueryxContext(ctx, `SELECT `+auditRecordColumns+` FROM audit_log WHERE `+where+` ORDER BY id LIMIT `+strconv.Itoa(limit), args...)
}

// RecentActions counts the entries of an action on a record within the
// window before the database's now, with the oldest of them and that now.
type RecentActions struct {
	N      int        `db:"n"`
	Oldest *time.Time `db:"oldest"`
	Now    time.Time  `db:"now"`
}

// RecentActionsOn reads them.
func RecentActionsOn(ctx context.Context, q Q, recordKind, recordID, action string, window time.Duration) (RecentActions, error) {
	var recent RecentActions
	err := sqlx.GetContext(ctx, q, &recent, `SELECT count(*) AS n, min(at) AS oldest, now() AS now FROM audit_log
			WHERE record_kind = $1 AND record_id = $2 AND action = $3 AND at > now() - make_interval(secs => $4)`,
		recordKind, recordID, action, window.Seconds())
	return recent, err
}

// ActivityEntry is an entry of an account's activity record: an audit
// entry about it or a sign-in attempt against it.
type ActivityEntry struct {
	Source    string          `db:"source" json:"source"` // audit | sign_in
	ID        int64           `db:"id" json:"-"`
	At        time.Time       `db:"at" json:"at"`
	Action    string          `db:"action" json:"action"`
	ActorKind string          `db:"actor_kind" json:"actor_kind"`
	ActorID   string          `db:"actor_id" json:"actor_id,omitempty"`
	SourceIP  string          `db:"source_ip" json:"source_ip,omitempty"`
	Detail    json.RawMessage `db:"detail" json:"detail"`
}

// ActivityQuery is one page of an account's activity record: entries
// before the cursor (at, source, id), newest first.
type ActivityQuery struct {
	AccountID, ApplicationID string
	At                       time.Time
	Source                   string
	ID                       int64
	Limit                    int
	// HiddenActions are left out.
	HiddenActions []string
}

// AccountActivity reads one page of an account's activity record: the
// audit entries about the account or its application and the sign-in
// attempts against it.
func AccountActivity(ctx context.Context, q Q, a ActivityQuery) ([]ActivityEntry, error) {
	entries := []ActivityEntry{}
	err := sqlx.SelectContext(ctx, q, &entries, `
		SELECT source, id, at, action, actor_kind, actor_id, source_ip, detail FROM (
			SELECT 'audit' AS source, id, at, action, actor_kind, actor_id, source_ip, detail
			FROM audit_log
			WHERE ((record_kind = 'account' AND record_id = $1::text) OR (record_kind = 'application' AND record_id = $2))
			  AND NOT action = ANY($7)
			UNION ALL
			SELECT 'sign_in', id, at, 'sign_in.' || outcome, 'sign_in', '', source_ip, '{}'::jsonb
			FROM sign_in_attempts WHERE account_id = $1::uuid
		) r
		WHERE (at, source, id) < ($3, $4, $5)
		ORDER BY at DESC, source DESC, id DESC
		LIMIT $6`, a.AccountID, a.ApplicationID, a.At, a.Source, a.ID, a.Limit, pq.Array(a.HiddenActions))
	return entries, err
}

// StaffChangedBy tells whether staff member requesterID changed member
// approverID with one of actions within the interval within (such as
// "30 days"): as the actor of the audit row or as the administrator who
// approved it (four eyes, api/foureyes.go).
func StaffChangedBy(ctx context.Context, q Q, requesterID, approverID string, actions []string, within string) (bool, error) {
	var changed bool
	err := getOne(ctx, q, &changed, `SELECT EXISTS (SELECT 1 FROM audit_log
		WHERE actor_kind = 'staff' AND (actor_id = $1 OR detail->>'approved_by' = $1) AND record_kind = 'staff' AND record_id = $2
		  AND action = ANY($3) AND at > now() - $4::interval)`, requesterID, approverID, pq.Array(actions), within)
	return changed, err
}
