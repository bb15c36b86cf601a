package store

import (
	"context"
	"time"
)

// Accounts (table accounts, with the person's data in people) are written
// by the processes that own them (registration, password, deregistration);
// the API's sign-in reads them and changes only a password its owner
// changed.

// AccountForSignIn reads the active account with this username (the ID
// number) for a sign-in; Expired tells whether its initial password is
// older than initialTTL. ErrNotFound when there is none.
func AccountForSignIn(ctx context.Context, q Q, username string, initialTTL time.Duration) (SignInSubject, error) {
	var subj SignInSubject
	err := getOne(ctx, q, &subj, `SELECT id, password_hash, must_change_password, '{}'::text[] AS roles, compromise_locked_at, password_changed_at,
			must_change_password AND password_changed_at < now() - $2::interval AS initial_expired
			FROM accounts WHERE username = $1 AND status = 'active'`, username, initialTTL.String())
	return subj, err
}

// AccountPasswordHolder reads an account's password hash with the
// person's name and mobile number.
func AccountPasswordHolder(ctx context.Context, q Q, id string) (PasswordHolder, error) {
	var h PasswordHolder
	err := getOne(ctx, q, &h, `SELECT a.password_hash, pe.name, pe.mobile, a.password_changed_at FROM accounts a JOIN people pe ON pe.id = a.person_id WHERE a.id = $1`, id)
	return h, err
}

// ChangeAccountPassword stores the password its owner chose; the initial
// password no longer needs changing.
func ChangeAccountPassword(ctx context.Context, q Q, id, hash string) error {
	_, err := q.ExecContext(ctx, `UPDATE accounts SET password_hash = $2, must_change_password = false,
			password_changed_at = now() WHERE id = $1`, id, hash)
	return err
}

// AccountSessionSubject reads an active, unlocked account for a new
// session; ErrNotFound otherwise.
func AccountSessionSubject(ctx context.Context, q Q, id string) (SessionSubject, error) {
	var s SessionSubject
	err := getOne(ctx, q, &s, `SELECT must_change_password, '{}'::text[] AS roles FROM accounts WHERE id = $1 AND status = 'active' AND compromise_locked_at IS NULL`, id)
	return s, err
}
