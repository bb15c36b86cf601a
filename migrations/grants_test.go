package migrations_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testdb"
)

// C3.3(4) / C2.3 / C1.4, least privilege in the database: the API and the
// worker connect as the application role, which owns nothing. On the audit
// log and the disclosure register it may only INSERT and SELECT; Postgres
// itself refuses it every statement that would change or hide history.
func TestAppRoleMayOnlyInsertAndSelectAuditAndRegister_C3_3_4_C2_3(t *testing.T) {
	owner, dbURL := testdb.New(t)
	app := testdb.App(t, dbURL)
	var ownerRole, appRole string
	require.NoError(t, owner.Get(&ownerRole, `SELECT current_user`))
	require.NoError(t, app.Get(&appRole, `SELECT current_user`))
	if appRole == ownerRole {
		t.Fatalf("DATABASE_URL and MIGRATE_DATABASE_URL use the same role %q: run the tests with `make test`", appRole)
	}

	// What the application needs works.
	_, err := app.Exec(`INSERT INTO audit_log (actor_kind, action, record_kind, record_id) VALUES ('system', 'test.grant', 'account', 'x')`)
	require.NoError(t, err)
	var n int
	require.NoError(t, app.Get(&n, `SELECT count(*) FROM audit_log`))
	require.Positive(t, n)
	require.NoError(t, app.Get(&n, `SELECT count(*) FROM disclosure_register`))
	_, err = app.Exec(`INSERT INTO disclosure_register (disclosure_id, account_id, requester, basis, fields, delivered_at)
		VALUES ($1, $2, 'x', 'law', '{name}', now())`, uuid.NewString(), uuid.NewString())
	var pqErr *pq.Error
	require.True(t, errors.As(err, &pqErr), "%v", err)
	require.Equal(t, "23503", string(pqErr.Code), "the insert is allowed; only the made-up disclosure is refused (%v)", err)

	for _, table := range []string{"audit_log", "disclosure_register"} {
		for _, q := range []string{
			`UPDATE ` + table + ` SET recorded_at = now()`,
			`DELETE FROM ` + table,
			`TRUNCATE ` + table,
			`ALTER TABLE ` + table + ` DISABLE TRIGGER ALL`,
			`ALTER TABLE ` + table + ` DISABLE TRIGGER USER`,
			`ALTER TABLE ` + table + ` ADD COLUMN forged text`,
			`DROP TABLE ` + table,
			`SET session_replication_role = replica`,
		} {
			if table == "audit_log" {
				q = strings.Replace(q, "recorded_at", "at", 1)
			}
			_, err := app.Exec(q)
			require.Error(t, err, q)
			require.True(t, errors.As(err, &pqErr), "%s: %v", q, err)
			require.Equal(t, "42501", string(pqErr.Code), "%s must be refused for lack of privilege: %v", q, err)
		}
	}
	// The trigger names, for the record: the owner could disable them, the
	// application cannot.
	for _, q := range []string{`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete`,
		`DROP TRIGGER disclosure_register_no_update_delete ON disclosure_register`} {
		_, err := app.Exec(q)
		require.True(t, errors.As(err, &pqErr), "%s: %v", q, err)
		require.Equal(t, "42501", string(pqErr.Code), q)
	}
	var count int
	require.NoError(t, owner.Get(&count, `SELECT count(*) FROM audit_log WHERE action = 'test.grant'`))
	require.Equal(t, 1, count, "nothing changed")
}
