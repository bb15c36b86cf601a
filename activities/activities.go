// Package activities holds every side effect of the back office's
// workflows: Postgres writes, password generation and sealing, notices.
// Each activity is idempotent: it is keyed by a business ID or an operation
// key, so a retry after a crash changes nothing twice.
package activities

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"hrss-backoffice/internal/dbtx"
	"hrss-backoffice/internal/passwords"
	"hrss-backoffice/internal/sealed"
	"hrss-backoffice/store"
)

// Activities holds the dependencies; its methods are the activities.
type Activities struct {
	// OutboxSendWindow bounds the provider calls of one outbox dispatch
	// (0: DefaultOutboxSendWindow); see DispatchOutbox.
	OutboxSendWindow time.Duration
	DB               *sqlx.DB
	// Box seals generated passwords for their single pickup.
	Box *sealed.Box
	// Hash sets the argon2id cost (passwords.OWASP in production).
	Hash passwords.Params
	// Now is the clock, for tests; nil means time.Now.
	Now func() time.Time
	// Temporal lets the intake sweep ask whether a run took a document
	// (DiscardUntakenIntakes); nil elsewhere is fine.
	Temporal client.Client
	// Senders, when set, send the outbox's channels (sms, email) instead
	// of the installed senders (SetSender): a test stack's own mailbox.
	Senders map[string]Sender
	// PublicBaseURL is the site's address that messages link to
	// (PUBLIC_BASE_URL; messages.DefaultBaseURL when empty).
	PublicBaseURL string
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// ErrTypeConflict marks an activity failure that no retry can mend (the
// record is not in a state that allows the operation).
const ErrTypeConflict = "Conflict"

func conflictf(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrTypeConflict, nil)
}

// inTx runs fn in a transaction and commits it, rolling back on error.
func (a *Activities) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return dbtx.Run(ctx, a.DB, fn)
}

// AuditEntry is one row of the append-only audit log.
type AuditEntry struct {
	OperationKey string
	ActorKind    string
	ActorID      string
	Action       string
	RecordKind   string
	RecordID     string
	Detail       any
}

// writeAudit appends an audit entry once per operation key.
func writeAudit(ctx context.Context, tx *sqlx.Tx, e AuditEntry) error {
	_, err := store.AppendAudit(ctx, tx, store.AuditEntry{OperationKey: e.OperationKey, ActorKind: e.ActorKind,
		ActorID: e.ActorID, Action: e.Action, RecordKind: e.RecordKind, RecordID: e.RecordID, Detail: orEmpty(e.Detail)})
	return err
}

// Notice is a site notice to an account, an applicant or a staff role.
type Notice = store.Notice

// writeNotice places a notice once per operation key.
func writeNotice(ctx context.Context, tx *sqlx.Tx, n Notice) error {
	_, err := store.PlaceNotice(ctx, tx, n)
	return err
}

func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// shanghai is the time zone (UTC+8, no daylight saving) in which notices
// show dates and deadlines.
var shanghai = time.FixedZone("CST", 8*3600)

// nullTime stores a zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func orEmpty(v any) any {
	if v == nil {
		return map[string]any{}
	}
	return v
}

// isNoRows reports a missing row.
func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
