package store

import (
	"context"
	"database/sql"
)

// In-person password resets (table password_resets, C3.3(2)): the API
// stores the request; the reset's workflow (activities/password.go)
// issues the password and marks it.

// PasswordResetState is how far a reset has gone.
type PasswordResetState struct {
	Status  string       `db:"status"`
	Lifted  bool         `db:"lifted_compromise"`
	Expires sql.NullTime `db:"pickup_expires_at"`
}

// PasswordResetOf reads a reset of the account; ErrNotFound when there is
// none.
func PasswordResetOf(ctx context.Context, q Q, id, accountID string) (PasswordResetState, error) {
	var st PasswordResetState
	err := getOne(ctx, q, &st, `SELECT status, lifted_compromise, pickup_expires_at FROM password_resets WHERE id = $1 AND account_id = $2`,
		id, accountID)
	return st, err
}

// NewPasswordReset is a reset as requested at the counter.
type NewPasswordReset struct {
	ID               string
	AccountID        string
	StaffID          string
	Office           string
	IdentityDocument string
	Note             string
}

// AddPasswordReset stores a requested reset.
func AddPasswordReset(ctx context.Context, q Q, r NewPasswordReset) error {
	_, err := q.ExecContext(ctx, `INSERT INTO password_resets (id, account_id, staff_id, office, identity_document, note)
		VALUES ($1, $2, $3, $4, $5, $6)`, r.ID, r.AccountID, r.StaffID, r.Office, r.IdentityDocument, r.Note)
	return err
}
