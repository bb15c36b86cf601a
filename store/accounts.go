package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"
)

// IDNumberRegistered tells whether the person with this ID number has an
// account in use (active or suspended).
func IDNumberRegistered(ctx context.Context, q Q, idNumber string) (bool, error) {
	var registered bool
	err := getOne(ctx, q, &registered, `SELECT EXISTS (SELECT 1 FROM accounts a JOIN people p ON p.id = a.person_id
		WHERE p.id_number = $1 AND a.status IN ('active', 'suspended'))`, idNumber)
	return registered, err
}

// AccountPassword is what confirms a written request: the password's hash
// and when it was set.
type AccountPassword struct {
	Hash      string    `db:"password_hash"`
	ChangedAt time.Time `db:"password_changed_at"`
}

// PasswordOfAccount reads an account's password hash.
func PasswordOfAccount(ctx context.Context, q Q, accountID string) (AccountPassword, error) {
	var acct AccountPassword
	err := getOne(ctx, q, &acct, `SELECT password_hash, password_changed_at FROM accounts WHERE id = $1`, accountID)
	return acct, err
}

// AccountIDByID reads the ID of an existing account (ErrNotFound: none).
func AccountIDByID(ctx context.Context, q Q, accountID string) (string, error) {
	var id string
	err := getOne(ctx, q, &id, `SELECT id FROM accounts WHERE id = $1`, accountID)
	return id, err
}

// LatestAccountOf reads the ID of the person's latest account by ID number
// (ErrNotFound: none).
func LatestAccountOf(ctx context.Context, q Q, idNumber string) (string, error) {
	var id string
	err := getOne(ctx, q, &id, `SELECT a.id FROM accounts a JOIN people p ON p.id = a.person_id
			WHERE p.id_number = $1 ORDER BY a.opened_at DESC LIMIT 1`, idNumber)
	return id, err
}

// HoldsActiveService tells whether the account holds the service (not
// closed) and the service is still on offer.
func HoldsActiveService(ctx context.Context, q Q, accountID, serviceCode string) (bool, error) {
	var held bool
	err := getOne(ctx, q, &held, `SELECT EXISTS (SELECT 1 FROM account_services s JOIN services c ON c.code = s.service_code
			WHERE s.account_id = $1 AND s.service_code = $2 AND s.status <> 'closed' AND c.active)`, accountID, serviceCode)
	return held, err
}

// UnclosedServiceCodes lists the codes of the account's services that are
// not closed.
func UnclosedServiceCodes(ctx context.Context, q Q, accountID string) ([]string, error) {
	var open []string
	err := sqlx.SelectContext(ctx, q, &open, `SELECT service_code FROM account_services WHERE account_id = $1 AND status <> 'closed'`,
		accountID)
	return open, err
}

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
