package store

import (
	"context"
	"database/sql"
	"time"
)

// Second factors (tables second_factors, recovery_codes and
// sign_in_challenges) belong to the API's sign-in (api/secondfactor.go):
// a subject is a kind (staff or user) and an ID.

// HasConfirmedFactor tells whether the subject has a confirmed factor.
func HasConfirmedFactor(ctx context.Context, q Q, kind, id string) (bool, error) {
	var has bool
	err := getOne(ctx, q, &has, `SELECT EXISTS (SELECT 1 FROM second_factors
		WHERE subject_kind = $1 AND subject_id = $2 AND confirmed_at IS NOT NULL)`, kind, id)
	return has, err
}

// HasPendingFactor tells whether the subject has a factor waiting for
// confirmation.
func HasPendingFactor(ctx context.Context, q Q, kind, id string) (bool, error) {
	var pending bool
	err := getOne(ctx, q, &pending, `SELECT EXISTS (SELECT 1 FROM second_factors
		WHERE subject_kind = $1 AND subject_id = $2 AND confirmed_at IS NULL)`, kind, id)
	return pending, err
}

// FactorSecret is a factor's sealed secret and the last time step used.
type FactorSecret struct {
	Sealed   []byte `db:"secret_sealed"`
	LastStep int64  `db:"last_step"`
}

// FactorSecretOf reads the subject's confirmed factor (confirmed) or the
// one being enrolled; ErrNotFound when there is none.
func FactorSecretOf(ctx context.Context, q Q, kind, id string, confirmed bool) (FactorSecret, error) {
	var f FactorSecret
	cond := "confirmed_at IS NOT NULL"
	if !confirmed {
		cond = "confirmed_at IS NULL"
	}
	err := getOne(ctx, q, &f, `SELECT secret_sealed, last_step FROM second_factors
		WHERE subject_kind = $1 AND subject_id = $2 AND `+cond, kind, id)
	return f, err
}

// UseFactorStep records step as the last used, if it is later than the
// one recorded; it tells whether it was (a code is accepted once).
func UseFactorStep(ctx context.Context, q Q, kind, id string, step int64) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE second_factors SET last_step = $3
			WHERE subject_kind = $1 AND subject_id = $2 AND last_step < $3`, kind, id, step)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// UseRecoveryCode uses up an unused recovery code by its hash; it tells
// whether there was one.
func UseRecoveryCode(ctx context.Context, q Q, kind, id string, codeHash []byte) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE recovery_codes SET used_at = now()
			WHERE subject_kind = $1 AND subject_id = $2 AND code_hash = $3 AND used_at IS NULL`, kind, id, codeHash)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RecoveryCodesLeft counts the subject's unused recovery codes.
func RecoveryCodesLeft(ctx context.Context, q Q, kind, id string) (int, error) {
	var left int
	err := getOne(ctx, q, &left, `SELECT count(*) FROM recovery_codes
			WHERE subject_kind = $1 AND subject_id = $2 AND used_at IS NULL`, kind, id)
	return left, err
}

// StartFactorEnrolment stores a new, unconfirmed secret, replacing one
// not confirmed yet; a confirmed factor stays.
func StartFactorEnrolment(ctx context.Context, q Q, kind, id string, sealedSecret []byte) error {
	_, err := q.ExecContext(ctx, `INSERT INTO second_factors (subject_kind, subject_id, secret_sealed) VALUES ($1, $2, $3)
			ON CONFLICT (subject_kind, subject_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed, last_step = 0, created_at = now()
			WHERE second_factors.confirmed_at IS NULL`, kind, id, sealedSecret)
	return err
}

// ConfirmFactor confirms the subject's pending factor; it tells whether
// there was one to confirm.
func ConfirmFactor(ctx context.Context, q Q, kind, id string) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE second_factors SET confirmed_at = now()
			WHERE subject_kind = $1 AND subject_id = $2 AND confirmed_at IS NULL`, kind, id)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DropRecoveryCodes removes every recovery code of the subject.
func DropRecoveryCodes(ctx context.Context, q Q, kind, id string) error {
	_, err := q.ExecContext(ctx, `DELETE FROM recovery_codes WHERE subject_kind = $1 AND subject_id = $2`, kind, id)
	return err
}

// AddRecoveryCode stores the hash of a new recovery code.
func AddRecoveryCode(ctx context.Context, q Q, kind, id string, codeHash []byte) error {
	_, err := q.ExecContext(ctx, `INSERT INTO recovery_codes (subject_kind, subject_id, code_hash) VALUES ($1, $2, $3)`,
		kind, id, codeHash)
	return err
}

// NewChallenge is the step between a right password and a code.
type NewChallenge struct {
	Hash         []byte
	Kind         string // staff or user
	SubjectID    string
	UsernameHash []byte
	ExpiresAt    time.Time
}

// PlaceChallenge stores a sign-in challenge.
func PlaceChallenge(ctx context.Context, q Q, ch NewChallenge) error {
	var accountID, staffID any = ch.SubjectID, nil
	if ch.Kind == "staff" {
		accountID, staffID = nil, ch.SubjectID
	}
	_, err := q.ExecContext(ctx, `INSERT INTO sign_in_challenges
		(challenge_hash, subject_kind, account_id, staff_id, username_hash, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		ch.Hash, ch.Kind, accountID, staffID, ch.UsernameHash, ch.ExpiresAt)
	return err
}

// Challenge is the subject a challenge stands for.
type Challenge struct {
	Kind         string         `db:"subject_kind"`
	AccountID    sql.NullString `db:"account_id"`
	StaffID      sql.NullString `db:"staff_id"`
	UsernameHash []byte         `db:"username_hash"`
}

// TakeChallengeTry spends one try of an unused, unexpired challenge with
// fewer than maxTries tries (atomically); ErrNotFound when there is none.
func TakeChallengeTry(ctx context.Context, q Q, hash []byte, maxTries int) (Challenge, error) {
	var ch Challenge
	err := getOne(ctx, q, &ch, `UPDATE sign_in_challenges SET tries = tries + 1
		WHERE challenge_hash = $1 AND used_at IS NULL AND expires_at > now() AND tries < $2
		RETURNING subject_kind, account_id, staff_id, username_hash`, hash, maxTries)
	return ch, err
}

// UseChallenge uses a challenge up; it tells whether it was still unused.
func UseChallenge(ctx context.Context, q Q, hash []byte) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE sign_in_challenges SET used_at = now() WHERE challenge_hash = $1 AND used_at IS NULL`,
		hash)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
