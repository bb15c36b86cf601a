package migrations_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testdb"
	"hrss-backoffice/migrations"
)

// C3.5 / C4: audit rows written before the audit log named fields only
// carried old and new values of registration data. Migration 00019, run by
// the owner, removes those values from exactly those rows, leaves every
// other row as it was, records the run in the log, and the log is
// append-only again afterwards.
func TestRedactionMigrationRemovesOldValuesAndIsAudited_C3_5_C4(t *testing.T) {
	owner, _ := testdb.New(t)
	ctx := context.Background()
	require.NoError(t, migrations.DownTo(ctx, owner.DB, 16))
	_, err := owner.Exec(`INSERT INTO audit_log (actor_kind, actor_id, action, record_kind, record_id, detail) VALUES
		('user', 'a1', 'registration_data.contact_changed', 'account', 'a1',
		 '{"change_id": "c1", "fields": ["mobile"], "old_values": {"mobile": "13900000001"}, "new_values": {"mobile": "13900000002"}}'),
		('staff', 's1', 'registration_data.change_approved', 'account', 'a1',
		 '{"change_id": "c2", "fields": ["name"], "reason": "核验 张三", "old_values": {"name": "张三"}, "new_values": {"name": "张四"}}'),
		('staff', 's1', 'application.rejected', 'application', 'p1', '{"reason": "材料不全"}')`)
	require.NoError(t, err)
	require.NoError(t, migrations.Up(ctx, owner.DB))

	var details []string
	require.NoError(t, owner.Select(&details, `SELECT detail::text FROM audit_log WHERE action LIKE 'registration_data.%' ORDER BY id`))
	require.Len(t, details, 2)
	for _, d := range details {
		for _, v := range []string{"13900000001", "13900000002", "张三", "张四", "old_values", "new_values"} {
			require.NotContains(t, d, v)
		}
	}
	require.JSONEq(t, `{"change_id": "c1", "fields": ["mobile"]}`, details[0])
	require.JSONEq(t, `{"change_id": "c2", "fields": ["name"], "reason_given": true}`, details[1])
	var other string
	require.NoError(t, owner.Get(&other, `SELECT detail->>'reason' FROM audit_log WHERE action = 'application.rejected'`))
	require.Equal(t, "材料不全", other, "other rows are untouched")

	var run struct {
		ActorID string `db:"actor_id"`
		Rows    int    `db:"rows"`
	}
	require.NoError(t, owner.Get(&run, `SELECT actor_id, (detail->>'rows')::int AS rows FROM audit_log WHERE action = 'audit.redacted' ORDER BY id DESC LIMIT 1`))
	require.Equal(t, "migration:00019", run.ActorID)
	require.Equal(t, 2, run.Rows)

	_, err = owner.Exec(`UPDATE audit_log SET detail = '{}'`)
	require.ErrorContains(t, err, "append-only", "the trigger is on again")
}
