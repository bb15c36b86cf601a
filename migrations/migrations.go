// Package migrations holds the versioned schema, embedded in the binary and
// applied with goose (`hrss migrate`).
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"strings"

	"github.com/pressly/goose/v3"
)

//go:embed *.sql
var files embed.FS

// Up applies every migration not yet applied. It is safe to run again.
func Up(ctx context.Context, db *sql.DB) error {
	provider, err := goose.NewProvider(goose.DialectPostgres, db, files)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// appendOnly are the tables on which the application's role may only
// INSERT and SELECT: the audit log and the disclosure register.
var appendOnly = []string{"audit_log", "disclosure_register"}

// GrantApp gives the application's database role (the user of
// DATABASE_URL, used by the API and the worker) what it needs and no more,
// on every table and sequence of the schema as the migrations left it: it
// reads and writes the working tables, may only INSERT and SELECT on the
// append-only ones, and owns nothing, so it can neither ALTER, TRUNCATE nor
// DROP a table nor disable a trigger. `hrss migrate` runs it as the owner
// after the migrations; it is safe to run again.
func GrantApp(ctx context.Context, db *sql.DB, role string) error {
	q := pqQuote(role)
	stmts := []string{
		`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ` + q,
		`GRANT USAGE ON SCHEMA public TO ` + q,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ` + q,
		`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ` + q,
		`REVOKE ALL ON goose_db_version FROM ` + q,
	}
	for _, t := range appendOnly {
		stmts = append(stmts, `REVOKE ALL ON `+t+` FROM `+q, `GRANT SELECT, INSERT ON `+t+` TO `+q)
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("grant %s: %w", role, err)
		}
	}
	return nil
}

// pqQuote quotes an identifier for Postgres.
func pqQuote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// DownTo rolls the schema back to version (for tests of a migration that
// rewrites data: roll back, write rows as the older code did, go up).
func DownTo(ctx context.Context, db *sql.DB, version int64) error {
	provider, err := goose.NewProvider(goose.DialectPostgres, db, files)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := provider.DownTo(ctx, version); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}
