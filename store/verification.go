package store

import (
	"context"
	"database/sql"
	"time"
)

// Verification codes (verification_codes): written by the API alone, which
// sends a code and checks the answer (api/verification.go).

// LockCodeSending takes the transaction's advisory locks that serialise
// sending codes: one per mobile number, then one per source address, always
// in this order.
func LockCodeSending(ctx context.Context, q Q, mobile, addr string) error {
	if _, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('verification-mobile:' || $1, 0))`, mobile); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('verification-addr:' || $1, 0))`, addr)
	return err
}

// CodesSent is how many codes went to a number for a purpose within a
// window, and how many seconds ago the last one went (invalid: none).
type CodesSent struct {
	N    int             `db:"n"`
	Last sql.NullFloat64 `db:"last"`
}

// CodesToMobile counts the codes sent to a number for a purpose within the
// window.
func CodesToMobile(ctx context.Context, q Q, mobile, purpose string, window time.Duration) (CodesSent, error) {
	var m CodesSent
	err := getOne(ctx, q, &m, `SELECT count(*) AS n, extract(epoch FROM now() - max(created_at)) AS last
			FROM verification_codes WHERE mobile = $1 AND purpose = $3 AND created_at > now() - $2::interval`, mobile, window.String(),
		purpose)
	return m, err
}

// CodesFromAddress counts the codes requested from a source address within
// the window.
func CodesFromAddress(ctx context.Context, q Q, addr string, window time.Duration) (int, error) {
	var n int
	err := getOne(ctx, q, &n, `SELECT count(*) FROM verification_codes WHERE source_addr = $1 AND created_at > now() - $2::interval`,
		addr, window.String())
	return n, err
}

// NewCode is a verification code as stored: its MAC, never the code.
type NewCode struct {
	ID            string
	Mobile        string
	Purpose       string
	AccountID     any // the account of a contact change, else nil
	ApplicationID any // the application of a pickup, else nil
	CodeMAC       []byte
	SourceAddr    string
	TTL           time.Duration
}

// IssueCode replaces the unused codes of the same number and purpose with a
// new one and returns when the new one expires.
func IssueCode(ctx context.Context, q Q, c NewCode) (time.Time, error) {
	if _, err := q.ExecContext(ctx, `UPDATE verification_codes SET used_at = now(), send_result = coalesce(send_result, '') || ' (replaced)'
			WHERE mobile = $1 AND purpose = $2 AND used_at IS NULL`, c.Mobile, c.Purpose); err != nil {
		return time.Time{}, err
	}
	var expires time.Time
	err := getOne(ctx, q, &expires, `INSERT INTO verification_codes (id, mobile, purpose, account_id, application_id, code_mac,
			source_addr, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8::interval) RETURNING expires_at`,
		c.ID, c.Mobile, c.Purpose, c.AccountID, c.ApplicationID, c.CodeMAC, c.SourceAddr, c.TTL.String())
	return expires, err
}

// RecordCodeSent records the delivery of a code (the sender's result,
// never the code).
func RecordCodeSent(ctx context.Context, q Q, id, result string) error {
	_, err := q.ExecContext(ctx, `UPDATE verification_codes SET sent_at = now(), send_result = $2 WHERE id = $1`, id, result)
	return err
}

// LiveCode is the newest unused code of a number and purpose.
type LiveCode struct {
	ID       string         `db:"id"`
	MAC      []byte         `db:"code_mac"`
	Attempts int            `db:"attempts"`
	Expired  bool           `db:"expired"`
	BoundTo  sql.NullString `db:"bound_to"`
}

// LockNewestCode locks the newest unused code of a number and purpose
// (ErrNotFound: none).
func LockNewestCode(ctx context.Context, q Q, mobile, purpose string) (LiveCode, error) {
	var row LiveCode
	err := getOne(ctx, q, &row, `SELECT id, code_mac, attempts, expires_at <= now() AS expired,
			coalesce(account_id, application_id)::text AS bound_to FROM verification_codes WHERE mobile = $1 AND purpose = $2 AND used_at IS NULL
			ORDER BY created_at DESC LIMIT 1 FOR UPDATE`, mobile, purpose)
	return row, err
}

// CountWrongCode counts a wrong answer to a code.
func CountWrongCode(ctx context.Context, q Q, id string) error {
	_, err := q.ExecContext(ctx, `UPDATE verification_codes SET attempts = attempts + 1 WHERE id = $1`, id)
	return err
}

// UseCode marks a code used.
func UseCode(ctx context.Context, q Q, id string) error {
	_, err := q.ExecContext(ctx, `UPDATE verification_codes SET used_at = now() WHERE id = $1`, id)
	return err
}

// One-time codes sent to a mobile number (table verification_codes).

// DeletePastVerificationCodes deletes the codes created more than 25 hours
// ago: the per-number limits look back one hour; the number itself is kept
// no longer than a day (docs/data-protection.md).
func DeletePastVerificationCodes(ctx context.Context, q Q) error {
	_, err := q.ExecContext(ctx, `DELETE FROM verification_codes WHERE created_at < now() - interval '25 hours'`)
	return err
}
