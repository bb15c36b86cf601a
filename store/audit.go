package store

import (
	"context"
	"encoding/json"

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
