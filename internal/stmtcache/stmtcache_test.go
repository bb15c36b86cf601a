package stmtcache_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/stmtcache"
	"hrss-backoffice/internal/testdb"
)

// oneConn opens the test database through the cache with a single
// connection, so that every call below uses the same one.
func oneConn(t *testing.T, url string) *sqlx.DB {
	t.Helper()
	db, err := stmtcache.Open(url)
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// prepared counts the connection's named statements for query (lib/pq
// names its statements; the unnamed one is not listed) and how many times
// they ran.
func prepared(t *testing.T, db *sqlx.DB, query string) (statements, runs int) {
	t.Helper()
	require.NoError(t, db.QueryRowx(`SELECT count(*), coalesce(sum(generic_plans + custom_plans), 0)
		FROM pg_prepared_statements WHERE statement = $1`, query).Scan(&statements, &runs))
	return statements, runs
}

// Issue 21: a statement with parameters is prepared once per connection
// and then only executed, inside transactions or not, and a statement
// prepared in a transaction that rolls back stays; results are the same
// as without the cache.
func TestAStatementIsPreparedOncePerConnection(t *testing.T) {
	_, url := testdb.New(t)
	db := oneConn(t, url)
	ctx := context.Background()
	const q = `SELECT $1::int + 1`
	tx, err := db.BeginTxx(ctx, nil)
	require.NoError(t, err)
	var got int
	require.NoError(t, tx.GetContext(ctx, &got, q, 41))
	require.Equal(t, 42, got)
	require.NoError(t, tx.Rollback())
	for i := 0; i < 7; i++ { // past the five runs after which PostgreSQL may choose a generic plan
		require.NoError(t, db.GetContext(ctx, &got, q, i))
		require.Equal(t, i+1, got)
	}
	n, runs := prepared(t, db, q)
	require.Equal(t, 1, n, "one named statement, prepared in the rolled-back transaction")
	require.Equal(t, 8, runs, "run eight times")

	// plan_cache_mode in the URL reaches the session: every run planned
	// with its values, as lib/pq's unnamed statements were.
	custom := oneConn(t, url+"&plan_cache_mode=force_custom_plan")
	for i := 0; i < 8; i++ {
		require.NoError(t, custom.GetContext(ctx, &got, q, i))
	}
	var generic int
	require.NoError(t, custom.Get(&generic, `SELECT generic_plans FROM pg_prepared_statements WHERE statement = $1`, q))
	require.Zero(t, generic)

	// Without the cache lib/pq prepares the unnamed statement every time.
	off, err := stmtcache.Open(url + "&statement_cache=off")
	require.NoError(t, err)
	off.SetMaxOpenConns(1)
	defer off.Close()
	require.NoError(t, off.Get(&got, q, 1))
	require.Equal(t, 2, got)
	n, _ = prepared(t, off, q)
	require.Equal(t, 0, n)
}

// As lib/pq refuses it, a connection refuses a statement while a query's
// rows are still being read; once they are closed it runs.
func TestNoStatementWhileRowsAreOpen(t *testing.T) {
	_, url := testdb.New(t)
	db := oneConn(t, url)
	ctx := context.Background()
	tx, err := db.BeginTxx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT generate_series(1, $1::int)`, 3)
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, `SELECT 1`)
	require.ErrorContains(t, err, "already a query being processed")
	_, err = tx.ExecContext(ctx, `SELECT $1::int`, 1)
	require.ErrorContains(t, err, "already a query being processed")
	n := 0
	for rows.Next() {
		n++
	}
	require.NoError(t, rows.Close())
	require.Equal(t, 3, n)
	_, err = tx.ExecContext(ctx, `SELECT $1::int`, 1)
	require.NoError(t, err)
}

// An error of the statement's own (a unique violation) keeps it; a
// migration that changes a cached SELECT's result type fails that one
// call, as it would fail a statement planned before the change, and the
// next call prepares the statement again and succeeds.
func TestAStatementThatNoLongerFitsIsPreparedAgain(t *testing.T) {
	_, url := testdb.New(t)
	db := oneConn(t, url)
	_, err := db.Exec(`CREATE TABLE t (id int PRIMARY KEY, a text)`)
	require.NoError(t, err)
	const ins = `INSERT INTO t (id, a) VALUES ($1, $2)`
	_, err = db.Exec(ins, 1, "x")
	require.NoError(t, err)
	_, err = db.Exec(ins, 1, "y")
	require.Error(t, err, "a unique violation")

	n, _ := prepared(t, db, ins)
	require.Equal(t, 1, n, "still the one statement")

	// A column's type changes under a statement that compares it: the
	// statement's parameter was typed text when it was prepared.
	const find = `SELECT id FROM t WHERE a = $1`
	var id int
	require.NoError(t, db.Get(&id, find, "x"))
	_, err = db.Exec(`ALTER TABLE t ALTER COLUMN a TYPE int USING 7`)
	require.NoError(t, err)
	require.Error(t, db.Get(&id, find, "7"), "the statement typed before the change")
	require.NoError(t, db.Get(&id, find, "7"), "prepared again")
	require.Equal(t, 1, id)

	const sel = `SELECT * FROM t WHERE id = $1`
	var row struct {
		ID int `db:"id"`
		A  int `db:"a"`
	}
	require.NoError(t, db.Get(&row, sel, 1))
	_, err = db.Exec(`ALTER TABLE t ADD COLUMN b text`)
	require.NoError(t, err)
	var wide struct {
		ID int     `db:"id"`
		A  int     `db:"a"`
		B  *string `db:"b"`
	}
	err = db.Get(&wide, sel, 1)
	require.ErrorContains(t, err, "cached plan must not change result type")
	require.NoError(t, db.Get(&wide, sel, 1), "prepared again")
	require.Equal(t, 7, wide.A)
}

// The cache is bounded: beyond its size the oldest statement is closed.
func TestTheCacheIsBounded(t *testing.T) {
	defer stmtcache.SetMaxStatements(2)()
	_, url := testdb.New(t)
	db := oneConn(t, url)
	qs := []string{`SELECT $1::int`, `SELECT $1::int * 2`, `SELECT $1::int * 3`}
	for _, q := range qs {
		var n int
		require.NoError(t, db.Get(&n, q, 1))
	}
	var n int
	require.NoError(t, db.Get(&n, `SELECT count(*) FROM pg_prepared_statements`))
	require.Equal(t, 2, n, "two statements kept")
	n, _ = prepared(t, db, qs[0])
	require.Equal(t, 0, n, "the oldest was closed")
}

// statement_cache=on|off in a postgres:// URL; anything else is refused
// rather than read as "on".
func TestStatementCacheSetting(t *testing.T) {
	for in, want := range map[string]struct {
		url string
		on  bool
	}{
		"postgres://u:p%40ss@h/db?sslmode=disable":                {"postgres://u:p%40ss@h/db?sslmode=disable", true},
		"postgres://u:p@h/db?sslmode=disable&statement_cache=off": {"postgres://u:p@h/db?sslmode=disable", false},
		"POSTGRESQL://u:p@h/db?statement_cache=on":                {"postgresql://u:p@h/db", true},
		"host=h dbname=db sslmode=disable":                        {"host=h dbname=db sslmode=disable", true},
	} {
		url, on, err := stmtcache.CacheSetting(in)
		require.NoError(t, err, in)
		require.Equal(t, want.url, url, in)
		require.Equal(t, want.on, on, in)
	}
	for _, bad := range []string{"postgres://h/db?statement_cache=OFF", "postgres://h/db?statement_cache=false",
		"postgres://h/db?statement_cache=off&statement_cache=on", "host=h statement_cache=off"} {
		_, _, err := stmtcache.CacheSetting(bad)
		require.Error(t, err, bad)
	}
}
