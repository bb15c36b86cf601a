package store

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// Applications: the registration workflow owns them. Reads the API needs
// are here.

// ApplicationStatus reads an application's status, or ErrNotFound.
func ApplicationStatus(ctx context.Context, q Q, id string) (string, error) {
	var status string
	err := getOne(ctx, q, &status, `SELECT status FROM applications WHERE id = $1`, id)
	return status, err
}

// ApplicationFollowTokenHash reads the hash of an application's follow
// token. A missing application is sql.ErrNoRows.
func ApplicationFollowTokenHash(ctx context.Context, q Q, id string) ([]byte, error) {
	var stored []byte
	err := sqlx.GetContext(ctx, q, &stored, `SELECT follow_token_hash FROM applications WHERE id = $1`, id)
	return stored, err
}
