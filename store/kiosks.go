package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"
)

// Kiosks (kiosks): registered, rotated and revoked by administrators
// through the API (api/kiosks.go). Only a credential's hash is stored.

// Kiosk is a registered kiosk.
type Kiosk struct {
	ID        string       `db:"id" json:"id"`
	Name      string       `db:"name" json:"name"`
	Office    string       `db:"office" json:"office"`
	CreatedAt time.Time    `db:"created_at" json:"created_at"`
	RotatedAt time.Time    `db:"rotated_at" json:"rotated_at"`
	RevokedAt sql.NullTime `db:"revoked_at" json:"-"`
}

const kioskColumns = `id, name, office, created_at, rotated_at, revoked_at`

// Kiosks lists every kiosk, oldest first.
func Kiosks(ctx context.Context, q Q) ([]Kiosk, error) {
	var rows []Kiosk
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+kioskColumns+`
		FROM kiosks ORDER BY created_at, id`)
	return rows, err
}

// RegisterKiosk stores a new kiosk with the hash of its credential.
func RegisterKiosk(ctx context.Context, q Q, id, name, office string, credentialHash []byte, createdBy string) (Kiosk, error) {
	var k Kiosk
	err := getOne(ctx, q, &k, `INSERT INTO kiosks (id, name, office, credential_hash, created_by)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+kioskColumns,
		id, name, office, credentialHash, createdBy)
	return k, err
}

// LockKiosk locks a kiosk for a change.
func LockKiosk(ctx context.Context, q Q, id string) (Kiosk, error) {
	var k Kiosk
	err := getOne(ctx, q, &k, `SELECT `+kioskColumns+` FROM kiosks
		WHERE id = $1 FOR UPDATE`, id)
	return k, err
}

// RotateKioskCredential replaces a kiosk's credential (the old one ends at
// once).
func RotateKioskCredential(ctx context.Context, q Q, id string, credentialHash []byte) (Kiosk, error) {
	var k Kiosk
	err := getOne(ctx, q, &k, `UPDATE kiosks SET credential_hash = $2, rotated_at = now() WHERE id = $1
			RETURNING `+kioskColumns, id, credentialHash)
	return k, err
}

// RevokeKiosk ends a kiosk.
func RevokeKiosk(ctx context.Context, q Q, id, revokedBy string) (Kiosk, error) {
	var k Kiosk
	err := getOne(ctx, q, &k, `UPDATE kiosks SET revoked_at = now(), revoked_by = $2 WHERE id = $1
			RETURNING `+kioskColumns, id, revokedBy)
	return k, err
}

// KioskEntry is the kiosk a credential belongs to.
type KioskEntry struct {
	ID     string `db:"id"`
	Office string `db:"office"`
}

// KioskByCredential finds the kiosk in use with this credential hash
// (ErrNotFound: unknown or revoked).
func KioskByCredential(ctx context.Context, q Q, credentialHash []byte) (KioskEntry, error) {
	var k KioskEntry
	err := getOne(ctx, q, &k, `SELECT id, office FROM kiosks WHERE credential_hash = $1 AND revoked_at IS NULL`, credentialHash)
	return k, err
}
