package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Notice is a site notice to an account, an applicant (by application) or
// a staff role; exactly one of the three is set.
type Notice struct {
	// OperationKey makes the notice once-only (one per event).
	OperationKey  string
	AccountID     string
	ApplicationID string
	StaffRole     string
	Kind          string
	TitleZH       string
	TitleEN       string
	BodyZH        string
	BodyEN        string
}

// PlaceNotice is the one writer of new notices. It reports whether the
// notice was placed (false: its operation key was there already).
func PlaceNotice(ctx context.Context, q Q, n Notice) (bool, error) {
	res, err := q.ExecContext(ctx, `
		INSERT INTO notices (id, operation_key, account_id, application_id, staff_role, kind, title_zh, title_en, body_zh, body_en)
		VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (operation_key) DO NOTHING`,
		n.OperationKey, nullString(n.AccountID), nullString(n.ApplicationID), nullString(n.StaffRole),
		n.Kind, n.TitleZH, n.TitleEN, n.BodyZH, n.BodyEN)
	if err != nil {
		return false, err
	}
	k, err := res.RowsAffected()
	return k == 1, err
}

// InboxNotice is a notice as an inbox shows it.
type InboxNotice struct {
	ID        string    `db:"id" json:"id"`
	Kind      string    `db:"kind" json:"kind"`
	TitleZH   string    `db:"title_zh" json:"title_zh"`
	TitleEN   string    `db:"title_en" json:"title_en"`
	BodyZH    string    `db:"body_zh" json:"body_zh"`
	BodyEN    string    `db:"body_en" json:"body_en"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

const inboxNoticeColumns = `id, kind, title_zh, title_en, body_zh, body_en, created_at`

// AccountInbox lists an account's notices newest first, before the time
// before (nil: from the newest), at most limit.
func AccountInbox(ctx context.Context, q Q, accountID string, before any, limit int) ([]InboxNotice, error) {
	rows := []InboxNotice{}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+inboxNoticeColumns+`
		FROM notices WHERE account_id = $1 AND ($2::timestamptz IS NULL OR created_at < $2)
		ORDER BY created_at DESC LIMIT $3`, accountID, before, limit)
	return rows, err
}

// StaffNotice is a notice to a staff role, with its operation key (which
// names the record it is about).
type StaffNotice struct {
	InboxNotice
	Role string `db:"staff_role" json:"role"`
	Key  string `db:"operation_key" json:"-"`
}

// StaffInbox lists the notices to the roles newest first, before the time
// before (nil: from the newest), at most limit.
func StaffInbox(ctx context.Context, q Q, roles []string, before any, limit int) ([]StaffNotice, error) {
	rows := []StaffNotice{}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+inboxNoticeColumns+`, staff_role, operation_key
		FROM notices WHERE staff_role = ANY($1) AND ($2::timestamptz IS NULL OR created_at < $2)
		ORDER BY created_at DESC, id LIMIT $3`, pq.Array(roles), before, limit)
	return rows, err
}
