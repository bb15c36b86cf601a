// Package testdb gives each test a throwaway PostgreSQL database with the
// migrations applied, created as the owner role of MIGRATE_DATABASE_URL
// (DATABASE_URL when unset); `make test` starts a private cluster and sets
// both. The application role of DATABASE_URL gets its grants on each test
// database (migrations.GrantApp), and App opens the database as that role,
// as the API and the worker use it. Without DATABASE_URL the test is
// skipped, unless HRSS_INTEGRATION=1 says the services must be there.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the Postgres driver

	"hrss-backoffice/internal/stmtcache"
	"hrss-backoffice/migrations"
)

// RequireServices skips or fails a test that needs a service named by env.
func RequireServices(t testing.TB, envs ...string) {
	t.Helper()
	for _, e := range envs {
		if os.Getenv(e) == "" {
			if os.Getenv("HRSS_INTEGRATION") == "1" {
				t.Fatalf("%s is not set but HRSS_INTEGRATION=1: run the tests with `make test`", e)
			}
			t.Skipf("%s is not set: run the tests with `make test`", e)
		}
	}
}

// New creates a fresh database, migrates it as the owner, grants the
// application role, and drops it when the test ends. It returns the
// owner's connection and the database's URL (the owner's).
func New(t testing.TB) (*sqlx.DB, string) {
	t.Helper()
	RequireServices(t, "DATABASE_URL")
	base := os.Getenv("MIGRATE_DATABASE_URL")
	if base == "" {
		base = os.Getenv("DATABASE_URL")
	}
	admin, err := sqlx.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "hrss_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	db, err := stmtcache.Open(u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = db.Close()
		_, _ = admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	if err := migrations.Up(context.Background(), db.DB); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if role := appRole(t); role != "" && role != u.User.Username() {
		if err := migrations.GrantApp(context.Background(), db.DB, role); err != nil {
			t.Fatal(err)
		}
	}
	return db, u.String()
}

// appRole is the user of DATABASE_URL.
func appRole(t testing.TB) string {
	u, err := url.Parse(os.Getenv("DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	return u.User.Username()
}

// AppURL is the URL of a test database (from New) for the application
// role of DATABASE_URL.
func AppURL(t testing.TB, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	app, err := url.Parse(os.Getenv("DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	u.User = app.User
	return u.String()
}

// App opens a test database (from New) as the application role.
func App(t testing.TB, dbURL string) *sqlx.DB {
	t.Helper()
	db, err := stmtcache.Open(AppURL(t, dbURL))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
