package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"
)

// Accounts: the registration workflow opens them, the account processes
// change them. Reads and row locks the API needs are here.

// AccountStatus reads an account's status, or ErrNotFound.
func AccountStatus(ctx context.Context, q Q, id string) (string, error) {
	var status string
	err := getOne(ctx, q, &status, `SELECT status FROM accounts WHERE id = $1`, id)
	return status, err
}

// ClosedAccountCandidate is a suspended or cancelled account a restricted
// sign-in may be for.
type ClosedAccountCandidate struct {
	ID     string `db:"id"`
	Hash   string `db:"password_hash"`
	Status string `db:"status"`
}

// ClosedAccountsByUsername lists, newest first, up to three suspended or
// cancelled accounts under the (normalised) username.
func ClosedAccountsByUsername(ctx context.Context, q Q, username string) ([]ClosedAccountCandidate, error) {
	var out []ClosedAccountCandidate
	err := sqlx.SelectContext(ctx, q, &out, `SELECT id, password_hash, status FROM accounts
		WHERE username = $1 AND status IN ('suspended', 'cancelled') ORDER BY opened_at DESC LIMIT 3`, username)
	return out, err
}

// LockAccountRow takes the account's row lock for the transaction q, which
// serialises one user's requests of a kind (exports).
func LockAccountRow(ctx context.Context, q Q, id string) error {
	_, err := q.ExecContext(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, id)
	return err
}

// AccountApplicationID reads the application an account came from (not
// valid when none). A missing account is sql.ErrNoRows.
func AccountApplicationID(ctx context.Context, q Q, id string) (sql.NullString, error) {
	var appID sql.NullString
	err := sqlx.GetContext(ctx, q, &appID, `SELECT application_id::text FROM accounts WHERE id = $1`, id)
	return appID, err
}

// AccountPasswordState is what staff see of an account beside its activity.
type AccountPasswordState struct {
	Status     string       `db:"status" json:"status"`
	MustChange bool         `db:"must_change_password" json:"must_change_password"`
	ChangedAt  time.Time    `db:"password_changed_at" json:"password_changed_at"`
	LockedAt   sql.NullTime `db:"compromise_locked_at" json:"-"`
}

// AccountPasswordStateByID reads it, or ErrNotFound.
func AccountPasswordStateByID(ctx context.Context, q Q, id string) (AccountPasswordState, error) {
	var acct AccountPasswordState
	err := getOne(ctx, q, &acct, `SELECT status, must_change_password, password_changed_at, compromise_locked_at FROM accounts WHERE id = $1`, id)
	return acct, err
}

// OpenServiceCodes lists the codes of the account's open services.
func OpenServiceCodes(ctx context.Context, q Q, accountID string) ([]string, error) {
	var open []string
	err := sqlx.SelectContext(ctx, q, &open, `SELECT service_code FROM account_services WHERE account_id = $1 AND status = 'open'`, accountID)
	return open, err
}
