package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"
)

// Changes of registration data (data_changes): contact changes applied at
// once and requests for a change of name or ID number, filed by the API;
// the data-change review workflow decides and applies the requests.

// DataChange is a change of registration data.
type DataChange struct {
	ID          string          `db:"id" json:"id"`
	AccountID   string          `db:"account_id" json:"account_id"`
	Kind        string          `db:"kind" json:"kind"`
	Status      string          `db:"status" json:"status"`
	OldValues   json.RawMessage `db:"old_values" json:"old_values"`
	NewValues   json.RawMessage `db:"new_values" json:"new_values"`
	Note        string          `db:"note" json:"note"`
	Reason      sql.NullString  `db:"reason" json:"-"`
	RequestedAt time.Time       `db:"requested_at" json:"requested_at"`
	DecidedAt   sql.NullTime    `db:"decided_at" json:"-"`
}

const dataChangeColumns = `id, account_id, kind, status, old_values, new_values, note, reason, requested_at, decided_at`

// RecordContactChange stores a contact change applied at once (old and new
// values as JSON).
func RecordContactChange(ctx context.Context, q Q, id, accountID string, old, updated []byte) error {
	_, err := q.ExecContext(ctx, `INSERT INTO data_changes (id, account_id, kind, status, old_values, new_values)
			VALUES ($1, $2, 'contact', 'applied', $3, $4)`, id, accountID, old, updated)
	return err
}

// FileIdentityChange stores a request for a change of name or ID number;
// a pending request of the account is a unique violation.
func FileIdentityChange(ctx context.Context, q Q, id, accountID string, old, changes []byte, note string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO data_changes (id, account_id, kind, status, old_values, new_values, note)
			VALUES ($1, $2, 'identity', 'pending', $3, $4, $5)`, id, accountID, old, changes, note)
	return err
}

// RequestedDataChange reads the new values of an account's change
// (ErrNotFound: none with this ID for the account).
func RequestedDataChange(ctx context.Context, q Q, id, accountID string) (json.RawMessage, error) {
	var stored json.RawMessage
	err := getOne(ctx, q, &stored, `SELECT new_values FROM data_changes WHERE id = $1 AND account_id = $2`, id, accountID)
	return stored, err
}

// DataChangeStatus reads a change's status.
func DataChangeStatus(ctx context.Context, q Q, id string) (string, error) {
	var status string
	err := getOne(ctx, q, &status, `SELECT status FROM data_changes WHERE id = $1`, id)
	return status, err
}

// DataChangeByID reads one change.
func DataChangeByID(ctx context.Context, q Q, id string) (DataChange, error) {
	var row DataChange
	err := getOne(ctx, q, &row, `SELECT `+dataChangeColumns+` FROM data_changes WHERE id = $1`, id)
	return row, err
}

// DataChangesOf lists an account's changes, newest first (at most 100).
func DataChangesOf(ctx context.Context, q Q, accountID string) ([]DataChange, error) {
	rows := []DataChange{}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+dataChangeColumns+` FROM data_changes
		WHERE account_id = $1 ORDER BY requested_at DESC, id LIMIT 100`, accountID)
	return rows, err
}

// PendingDataChanges lists pending changes requested after (after,
// afterID), oldest first, at most limit.
func PendingDataChanges(ctx context.Context, q Q, limit int, after time.Time, afterID string) ([]DataChange, error) {
	rows := []DataChange{}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+dataChangeColumns+` FROM data_changes
		WHERE status = 'pending' AND (requested_at, id) > ($2, $3::uuid) ORDER BY requested_at, id LIMIT $1`, limit, after, afterID)
	return rows, err
}

// IdentityChangeExists tells whether a change of name or ID number with
// this ID exists.
func IdentityChangeExists(ctx context.Context, q Q, id string) (bool, error) {
	var exists bool
	err := getOne(ctx, q, &exists, `SELECT EXISTS (SELECT 1 FROM data_changes WHERE id = $1 AND kind = 'identity')`, id)
	return exists, err
}
