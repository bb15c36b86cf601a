// Package store holds the SQL of the application: one file per table owner
// (the process or part of the API that writes those tables). Handlers,
// activities and pages call these functions and never write SQL of their
// own, so that a change to a table is a change to one file, and the single
// writer of each table can be read off this package (docs/architecture.md).
//
// Every function takes a Q, which is either the database or a transaction,
// so that a caller composes several of them in one transaction with InTx.
package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hrss-backoffice/internal/dbtx"
)

// Q is what a store function runs on: *sqlx.DB or *sqlx.Tx.
type Q = sqlx.ExtContext

// ErrNotFound is the answer of a function that reads one row when there is
// none. The API answers it with 404 (api/errors.go).
var ErrNotFound = errors.New("store: not found")

// InTx runs fn in a transaction, committing on success and rolling back on
// error.
func InTx(ctx context.Context, db *sqlx.DB, fn func(tx *sqlx.Tx) error) error {
	return dbtx.Run(ctx, db, fn)
}

// getOne reads one row into dst; no row is ErrNotFound.
func getOne(ctx context.Context, q Q, dst any, query string, args ...any) error {
	err := sqlx.GetContext(ctx, q, dst, query, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// IsUniqueViolation tells whether err is a unique violation.
func IsUniqueViolation(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23505"
}

// ViolatesUnique tells whether err is a unique violation of the named
// constraint or index.
func ViolatesUnique(err error, constraint string) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23505" && pqErr.Constraint == constraint
}

// nullString stores "" as NULL.
func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// nullTime stores a zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
