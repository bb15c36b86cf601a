// Package testdb gives each test a throwaway PostgreSQL database with the
// migrations applied, created from DATABASE_URL (`make test` starts a
// private cluster and sets it). Without DATABASE_URL the test is skipped,
// unless HRSS_INTEGRATION=1 says the services must be there.
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

// New creates a fresh database, migrates it, and drops it when the test
// ends. It returns the connection and the database's URL.
func New(t testing.TB) (*sqlx.DB, string) {
	t.Helper()
	RequireServices(t, "DATABASE_URL")
	base := os.Getenv("DATABASE_URL")
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
	db, err := sqlx.Open("postgres", u.String())
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
	return db, u.String()
}
