// Package dbtx runs a function in a Postgres transaction.
package dbtx

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// Run runs fn in a transaction, committing on success and rolling back on
// error.
func Run(ctx context.Context, db *sqlx.DB, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
