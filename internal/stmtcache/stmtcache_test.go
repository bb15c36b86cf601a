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
// names its statements; the unnamed one is not listed).
func prepared(t *testing.T, db *sqlx.DB, query string) int {
	t.Helper()
	var n int
	require.NoError(t, db.Get(&n, `SELECT count(*) FROM pg_prepared_statements WHERE statement = $1`, query))
	return n
}

// Issue 21: a statement with parameters is prepared once per connection
// and then only executed, inside transactions or not; results are the
// same as without the cache.
func TestAStatementIsPreparedOncePerConnection(t *testing.T) {
	_, url := testdb.New(t)
	db := oneConn(t, url)
	ctx := context.Background()
	const q = `SELECT $1::int + 1`
	for i := 0; i < 3; i++ {
		var got int
		require.NoError(t, db.GetContext(ctx, &got, q, i))
		require.Equal(t, i+1, got)
	}
	tx, err := db.BeginTxx(ctx, nil)
	require.NoError(t, err)
	var got int
	require.NoError(t, tx.GetContext(ctx, &got, q, 41))
	require.Equal(t, 42, got)
	require.NoError(t, tx.Rollback())
	require.Equal(t, 1, prepared(t, db, q), "one named statement, kept after a rollback")

	// Without the cache lib/pq prepares the unnamed statement every time.
	off, err := stmtcache.Open(url + "&statement_cache=off")
	require.NoError(t, err)
	off.SetMaxOpenConns(1)
	defer off.Close()
	require.NoError(t, off.Get(&got, q, 1))
	require.Equal(t, 2, got)
	require.Equal(t, 0, prepared(t, off, q))
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
	require.Equal(t, 1, prepared(t, db, ins), "still the one statement")

	const sel = `SELECT * FROM t WHERE id = $1`
	var row struct {
		ID int    `db:"id"`
		A  string `db:"a"`
	}
	require.NoError(t, db.Get(&row, sel, 1))
	_, err = db.Exec(`ALTER TABLE t ADD COLUMN b text`)
	require.NoError(t, err)
	var wide struct {
		ID int     `db:"id"`
		A  string  `db:"a"`
		B  *string `db:"b"`
	}
	err = db.Get(&wide, sel, 1)
	require.ErrorContains(t, err, "cached plan must not change result type")
	require.NoError(t, db.Get(&wide, sel, 1), "prepared again")
	require.Equal(t, "x", wide.A)
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
	require.Equal(t, 0, prepared(t, db, qs[0]), "the oldest was closed")
}

func TestStatementCacheSetting(t *testing.T) {
	for in, want := range map[string]struct {
		url string
		on  bool
	}{
		"postgres://u:p@h/db?sslmode=disable":                     {"postgres://u:p@h/db?sslmode=disable", true},
		"postgres://u:p@h/db?sslmode=disable&statement_cache=off": {"postgres://u:p@h/db?sslmode=disable", false},
		"postgresql://u:p@h/db?statement_cache=on":                {"postgresql://u:p@h/db", true},
		"host=h dbname=db sslmode=disable":                        {"host=h dbname=db sslmode=disable", true},
	} {
		url, on := stmtcache.CacheSetting(in)
		require.Equal(t, want.url, url, in)
		require.Equal(t, want.on, on, in)
	}
}
