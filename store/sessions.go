package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/lib/pq"
)

// Sessions (table sessions) belong to the API's sign-in: it opens them,
// notes their use, marks a second-factor code entered and ends them.

// SessionPrincipal is the caller a live session stands for.
type SessionPrincipal struct {
	Kind      string         `db:"subject_kind"`
	AccountID sql.NullString `db:"account_id"`
	StaffID   sql.NullString `db:"staff_id"`
	Username  string         `db:"username"`
	Roles     pq.StringArray `db:"roles"`
	Must      bool           `db:"must_change_password"`
}

// SessionByToken resolves the hash of a session token to its caller: the
// session neither revoked nor expired (a staff session also not idle for
// staffIdle), its account active and not locked or its staff member
// active. ErrNotFound otherwise.
func SessionByToken(ctx context.Context, q Q, tokenHash []byte, staffIdle time.Duration) (SessionPrincipal, error) {
	var row SessionPrincipal
	err := getOne(ctx, q, &row, `
			SELECT s.subject_kind, s.account_id, s.staff_id,
			       coalesce(a.username, st.username) AS username,
			       coalesce(st.roles, '{}') AS roles,
			       coalesce(a.must_change_password, st.must_change_password) AS must_change_password
			FROM sessions s
			LEFT JOIN accounts a ON a.id = s.account_id AND a.status = 'active' AND a.compromise_locked_at IS NULL
			LEFT JOIN staff st ON st.id = s.staff_id AND st.active
			WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
			  AND (s.subject_kind <> 'staff' OR s.last_seen_at > now() - $2::interval)
			  AND (a.id IS NOT NULL OR st.id IS NOT NULL)`, tokenHash, staffIdle.String())
	return row, err
}

// TouchSession notes that a session is in use, unless that was noted less
// than grain ago.
func TouchSession(ctx context.Context, q Q, tokenHash []byte, grain time.Duration) error {
	_, err := q.ExecContext(ctx, `UPDATE sessions SET last_seen_at = now()
		WHERE token_hash = $1 AND last_seen_at < now() - $2::interval`, tokenHash, grain.String())
	return err
}

// EndSession revokes one session (sign-out).
func EndSession(ctx context.Context, q Q, tokenHash []byte) error {
	_, err := q.ExecContext(ctx, `UPDATE sessions SET revoked_at = now()
		WHERE token_hash = $1 AND revoked_at IS NULL`, tokenHash)
	return err
}

// EndOtherSessions revokes every live session of a subject (kind staff or
// user) except the one whose token hash is keep.
func EndOtherSessions(ctx context.Context, q Q, kind, id string, keep []byte) error {
	col := "account_id"
	if kind == "staff" {
		col = "staff_id"
	}
	_, err := q.ExecContext(ctx, `UPDATE sessions SET revoked_at = now()
			WHERE `+col+` = $1 AND token_hash <> $2 AND revoked_at IS NULL`, id, keep)
	return err
}

// NewSession is a session to open.
type NewSession struct {
	TokenHash []byte
	Kind      string // staff or user
	SubjectID string // the staff member's or the account's ID
	ExpiresAt time.Time
	SourceIP  string
	// FactorNow marks the session as having entered a second-factor code
	// now.
	FactorNow bool
}

// OpenSession stores a new session.
func OpenSession(ctx context.Context, q Q, s NewSession) error {
	var accountID, staffID any = s.SubjectID, nil
	if s.Kind == "staff" {
		accountID, staffID = nil, s.SubjectID
	}
	_, err := q.ExecContext(ctx, `INSERT INTO sessions (token_hash, subject_kind, account_id, staff_id, expires_at, source_ip, second_factor_at)
		VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7 THEN now() END)`, s.TokenHash, s.Kind, accountID, staffID, s.ExpiresAt, s.SourceIP, s.FactorNow)
	return err
}

// MarkSessionSecondFactor notes that the session entered a second-factor
// code now.
func MarkSessionSecondFactor(ctx context.Context, q Q, tokenHash []byte) error {
	_, err := q.ExecContext(ctx, `UPDATE sessions SET second_factor_at = now() WHERE token_hash = $1`, tokenHash)
	return err
}

// ReauthenticateSession notes a second-factor code entered now and returns
// that time (the database's).
func ReauthenticateSession(ctx context.Context, q Q, tokenHash []byte) (time.Time, error) {
	var at time.Time
	err := getOne(ctx, q, &at, `UPDATE sessions SET second_factor_at = now() WHERE token_hash = $1 RETURNING second_factor_at`,
		tokenHash)
	return at, err
}

// SessionReauthenticatedWithin tells whether the session entered a
// second-factor code within window (by the database's clock).
func SessionReauthenticatedWithin(ctx context.Context, q Q, tokenHash []byte, window time.Duration) (bool, error) {
	var recent bool
	err := getOne(ctx, q, &recent, `SELECT coalesce(second_factor_at > now() - $2::interval, false)
			FROM sessions WHERE token_hash = $1`, tokenHash, window.String())
	return recent, err
}

// StaffFactorState is what the enrolment gate needs of a staff session.
type StaffFactorState struct {
	// Has: the member has a confirmed second factor.
	Has bool `db:"has"`
	// FactorAt: when the session last entered a code (NULL: never).
	FactorAt sql.NullTime `db:"second_factor_at"`
}

// StaffSessionFactor reads whether the staff member has a confirmed second
// factor and when the session entered a code.
func StaffSessionFactor(ctx context.Context, q Q, staffID string, tokenHash []byte) (StaffFactorState, error) {
	var g StaffFactorState
	err := getOne(ctx, q, &g, `SELECT
		EXISTS (SELECT 1 FROM second_factors WHERE subject_kind = 'staff' AND subject_id = $1 AND confirmed_at IS NOT NULL) AS has,
		(SELECT second_factor_at FROM sessions WHERE token_hash = $2) AS second_factor_at`, staffID, tokenHash)
	return g, err
}
