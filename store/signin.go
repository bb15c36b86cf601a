package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/lib/pq"
)

// Sign-in records (table sign_in_attempts) belong to the API's sign-in
// limits (api/signinlimit.go): every check of a password or a second-factor
// code is counted here before it is made. The subjects it signs in are
// read from accounts (store/accounts.go) and staff (store/staff.go) with
// the types below.

// SignInSubject is an account or a staff member as a sign-in sees it.
type SignInSubject struct {
	ID        string         `db:"id"`
	Hash      string         `db:"password_hash"`
	Must      bool           `db:"must_change_password"`
	Roles     pq.StringArray `db:"roles"`
	LockedAt  sql.NullTime   `db:"compromise_locked_at"`
	ChangedAt time.Time      `db:"password_changed_at"`
	// Expired: an initial password not changed within its time to live.
	Expired bool `db:"initial_expired"`
}

// PasswordHolder is what a change of one's own password needs: the hash
// and the personal data the new password must not contain.
type PasswordHolder struct {
	Hash      string    `db:"password_hash"`
	Name      string    `db:"name"`
	Mobile    string    `db:"mobile"`
	ChangedAt time.Time `db:"password_changed_at"`
}

// SessionSubject is what a new session needs of its subject.
type SessionSubject struct {
	Must  bool           `db:"must_change_password"`
	Roles pq.StringArray `db:"roles"`
}

// failureOutcomes are the attempts that count towards a lock.
const failureOutcomes = `('failed', 'wrong_old_password', 'wrong_confirmation')`

// LockSignInKey takes a transaction-scoped advisory lock on key (a
// username's or an address's counter).
func LockSignInKey(ctx context.Context, q Q, key int64) error {
	_, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, key)
	return err
}

// SignInFailures counts recent failed attempts.
type SignInFailures struct {
	ByName   int `db:"by_name"`   // of the username
	ByPair   int `db:"by_pair"`   // of the username from the address
	BySource int `db:"by_source"` // from the address, any username
}

// RecentSignInFailures counts the failures within window of the username
// hash and the address; the username's failures before changedAt (zero:
// none) do not count.
func RecentSignInFailures(ctx context.Context, q Q, usernameHash []byte, ip string, window time.Duration, changedAt time.Time) (SignInFailures, error) {
	var f SignInFailures
	err := getOne(ctx, q, &f, `SELECT
				count(*) FILTER (WHERE username_hash = $1 AND at > coalesce($4::timestamptz, '-infinity')) AS by_name,
				count(*) FILTER (WHERE username_hash = $1 AND source_ip = $2 AND at > coalesce($4::timestamptz, '-infinity')) AS by_pair,
				count(*) FILTER (WHERE source_ip = $2) AS by_source
			FROM sign_in_attempts
			WHERE (username_hash = $1 OR source_ip = $2) AND outcome IN `+failureOutcomes+` AND at > now() - $3::interval`,
		usernameHash, ip, window.String(), nullTime(changedAt))
	return f, err
}

// SignInAttempt is an attempt to record, as not successful.
type SignInAttempt struct {
	UsernameHash       []byte
	AccountID, StaffID string // "" when none
	SourceIP           string
	Outcome            string
}

// RecordSignInAttempt stores an attempt and returns its ID.
func RecordSignInAttempt(ctx context.Context, q Q, a SignInAttempt) (int64, error) {
	var id int64
	err := getOne(ctx, q, &id, `INSERT INTO sign_in_attempts (username_hash, account_id, staff_id, success, source_ip, outcome)
			VALUES ($1, $2, $3, false, $4, $5) RETURNING id`, a.UsernameHash, nullString(a.AccountID), nullString(a.StaffID), a.SourceIP, a.Outcome)
	return id, err
}

// TakeBackSignInAttempt removes an attempt (not made after all, or not a
// sign-in).
func TakeBackSignInAttempt(ctx context.Context, q Q, id int64) error {
	_, err := q.ExecContext(ctx, `DELETE FROM sign_in_attempts WHERE id = $1`, id)
	return err
}

// SettleSignInAttempt records the outcome of an attempt whose password was
// right (success, locked, initial_expired), with the account when it was
// not known at the start.
func SettleSignInAttempt(ctx context.Context, q Q, id int64, outcome, accountID string) error {
	_, err := q.ExecContext(ctx, `UPDATE sign_in_attempts SET outcome = $2, success = $3,
			account_id = coalesce(account_id, $4) WHERE id = $1`, id, outcome, outcome == "success", nullString(accountID))
	return err
}
