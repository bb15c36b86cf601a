package store

import (
	"context"
	"database/sql"
	"time"

	"hrss-backoffice/internal/passwords"
)

// Sealed initial passwords (credential_pickups): written by the activities
// that approve a registration or reset a password, handed out once by the
// API, which destroys the sealed copy as it hands it out.

// StaffPickup is a sealed initial password issued to a staff member.
type StaffPickup struct {
	AccountID  string         `db:"account_id"`
	IssuedTo   sql.NullString `db:"issued_to"`
	Ciphertext []byte         `db:"ciphertext"`
	ExpiresAt  time.Time      `db:"expires_at"`
	PickedUpAt sql.NullTime   `db:"picked_up_at"`
	Username   string         `db:"username"`
}

// LockStaffPickup locks the sealed initial password of an operation key,
// with the account's username.
func LockStaffPickup(ctx context.Context, q Q, key string) (StaffPickup, error) {
	var row StaffPickup
	err := getOne(ctx, q, &row, `SELECT cp.account_id, cp.issued_to, cp.ciphertext, cp.expires_at, cp.picked_up_at, a.username
			FROM credential_pickups cp JOIN accounts a ON a.id = cp.account_id WHERE cp.operation_key = $1 FOR UPDATE OF cp`, key)
	return row, err
}

// ApplicantPickup is the sealed initial password of an approval.
type ApplicantPickup struct {
	AccountID   string       `db:"account_id"`
	ToApplicant bool         `db:"to_applicant"`
	Ciphertext  []byte       `db:"ciphertext"`
	Expired     bool         `db:"expired"`
	PickedUpAt  sql.NullTime `db:"picked_up_at"`
	Username    string       `db:"username"`
}

// ApplicantPickupByKey reads (and locks, when lock) the sealed initial
// password of an operation key, with the account's username.
func ApplicantPickupByKey(ctx context.Context, q Q, key string, lock bool) (ApplicantPickup, error) {
	var row ApplicantPickup
	query := `SELECT cp.account_id, cp.to_applicant, cp.ciphertext, cp.expires_at <= now() AS expired, cp.picked_up_at, a.username
		FROM credential_pickups cp JOIN accounts a ON a.id = cp.account_id WHERE cp.operation_key = $1`
	if lock {
		query += ` FOR UPDATE OF cp`
	}
	err := getOne(ctx, q, &row, query, key)
	return row, err
}

// ActivateInitialPassword stores the hash of an initial password as it is
// handed out, on an account that waits for its pickup
// (passwords.AwaitingPickup, which the caller checked and locked with
// AwaitsPickup); on any other account it changes nothing.
func ActivateInitialPassword(ctx context.Context, q Q, accountID, hash string) error {
	_, err := q.ExecContext(ctx, `UPDATE accounts SET password_hash = $2 WHERE id = $1 AND password_hash = $3`,
		accountID, hash, passwords.AwaitingPickup)
	return err
}

// AwaitsPickup tells whether an account's initial password takes effect
// at its pickup, and locks the account's row until the caller's
// transaction ends.
func AwaitsPickup(ctx context.Context, q Q, accountID string) (bool, error) {
	var waits bool
	err := getOne(ctx, q, &waits, `SELECT password_hash = $2 FROM accounts WHERE id = $1 FOR UPDATE`, accountID, passwords.AwaitingPickup)
	return waits, err
}

// MarkPickedUp destroys the sealed copy of a handed-out initial password.
func MarkPickedUp(ctx context.Context, q Q, key string) error {
	_, err := q.ExecContext(ctx, `UPDATE credential_pickups SET ciphertext = NULL, picked_up_at = now() WHERE operation_key = $1`, key)
	return err
}
