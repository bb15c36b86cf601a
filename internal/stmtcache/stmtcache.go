// Package stmtcache opens PostgreSQL through lib/pq with each connection
// keeping its own prepared statements.
//
// lib/pq runs a statement with parameters in two round trips: it prepares
// the unnamed statement (Parse, Describe, Sync, and waits), then binds and
// executes it (and waits again), and PostgreSQL parses and plans the text
// every time. A registration runs about forty such statements (issue 21's
// benchmark), so half its round trips to PostgreSQL were the prepares.
// Here a connection prepares a statement's text once, as a named statement,
// and then only binds and executes it: one round trip, no parse. The
// parameters are encoded exactly as before (lib/pq's own typed encoding
// from the statement's description; binary_parameters stays off).
//
// A connection keeps at most maxStatements texts and closes the oldest
// beyond that. A statement that PostgreSQL reports as no longer fitting (a
// migration changed the type of a column it reads or compares: "cached
// plan must not change result type", or a type error of class 42; or the
// statement was deallocated) is dropped, so the next use prepares it
// again; the call that met the error returns it. As lib/pq does, a
// connection refuses a new statement while a query's rows are still open
// on it.
//
// A named statement may be run with a generic plan after five runs, where
// PostgreSQL estimates it no worse than the plans made for each run's
// values (plan_cache_mode auto, its default); lib/pq's unnamed statements
// were always planned per run. plan_cache_mode=force_custom_plan in the
// database URL (lib/pq passes it to the server) keeps planning per run, at
// about 3 ms of PostgreSQL's CPU per registration in cmd/bench.
//
// Named prepared statements do not survive a pooler that hands a
// connection to another client per transaction (PgBouncer's transaction
// mode), where names collide and a statement can run another client's
// SQL: there, add statement_cache=off to the database URL, which this
// package removes before lib/pq reads the URL.
package stmtcache

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net/url"
	"reflect"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// maxStatements bounds a connection's cache: the application has a few
// hundred distinct statement texts.
var maxStatements = 512

// Open returns a pool on dsn (a URL or key=value string, as lib/pq takes),
// for sqlx with PostgreSQL's $n placeholders. Like sql.Open it connects
// only when a connection is first needed.
func Open(dsn string) (*sqlx.DB, error) {
	dsn, on, err := cacheSetting(dsn)
	if err != nil {
		return nil, err
	}
	inner, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	if !on {
		return sqlx.NewDb(sql.OpenDB(inner), "postgres"), nil
	}
	return sqlx.NewDb(sql.OpenDB(connector{inner}), "postgres"), nil
}

// cacheSetting reads and removes statement_cache (on or off) from a URL.
func cacheSetting(dsn string) (string, bool, error) {
	lower := strings.ToLower(dsn)
	if !strings.HasPrefix(lower, "postgres://") && !strings.HasPrefix(lower, "postgresql://") {
		if strings.Contains(dsn, "statement_cache") {
			return "", false, errors.New("statement_cache: set it in a postgres:// URL")
		}
		return dsn, true, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn, true, nil // lib/pq reports the bad URL
	}
	q := u.Query()
	v, set := q["statement_cache"]
	if !set {
		return dsn, true, nil
	}
	if len(v) != 1 || (v[0] != "on" && v[0] != "off") {
		return "", false, errors.New("statement_cache: want on or off")
	}
	q.Del("statement_cache")
	u.RawQuery = q.Encode()
	return u.String(), v[0] == "on", nil
}

type connector struct{ inner *pq.Connector }

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{Conn: cn, stmts: map[string]driver.Stmt{}}, nil
}

func (c connector) Driver() driver.Driver { return c.inner.Driver() }

// conn is one lib/pq connection with its statements. database/sql uses a
// connection from one goroutine at a time, so the map needs no lock.
type conn struct {
	driver.Conn
	stmts map[string]driver.Stmt
	order []string // texts in the order they were prepared
	open  int      // rows not yet closed
}

// errRowsOpen refuses a statement while a query's rows are being read on
// the connection, as lib/pq does (its own check does not cover the named
// statements).
var errRowsOpen = errors.New("pq: there is already a query being processed on this connection")

// The interfaces lib/pq's connection implements, which database/sql looks
// for on the connection it is given.
var (
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
	_ driver.NamedValueChecker  = (*conn)(nil)
)

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.open > 0 {
		return nil, errRowsOpen
	}
	if len(args) == 0 {
		// Without parameters lib/pq sends a simple query: one round trip.
		return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	}
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := st.(driver.StmtExecContext).ExecContext(ctx, args)
	c.dropIfInvalid(query, err)
	return res, err
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.open > 0 {
		return nil, errRowsOpen
	}
	var r driver.Rows
	var err error
	if len(args) == 0 {
		r, err = c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	} else {
		var st driver.Stmt
		if st, err = c.stmt(ctx, query); err != nil {
			return nil, err
		}
		r, err = st.(driver.StmtQueryContext).QueryContext(ctx, args)
		c.dropIfInvalid(query, err)
	}
	if err != nil {
		return nil, err
	}
	c.open++
	return &rows{Rows: r, c: c}, nil
}

// rows counts itself open on its connection until closed, and passes on
// what lib/pq's rows tell about their columns.
type rows struct {
	driver.Rows
	c      *conn
	closed bool
}

func (r *rows) Close() error {
	if !r.closed {
		r.closed = true
		r.c.open--
	}
	return r.Rows.Close()
}

func (r *rows) ColumnTypeScanType(i int) reflect.Type {
	return r.Rows.(driver.RowsColumnTypeScanType).ColumnTypeScanType(i)
}

func (r *rows) ColumnTypeDatabaseTypeName(i int) string {
	return r.Rows.(driver.RowsColumnTypeDatabaseTypeName).ColumnTypeDatabaseTypeName(i)
}

func (r *rows) ColumnTypeLength(i int) (int64, bool) {
	return r.Rows.(driver.RowsColumnTypeLength).ColumnTypeLength(i)
}

func (r *rows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	return r.Rows.(driver.RowsColumnTypePrecisionScale).ColumnTypePrecisionScale(i)
}

// stmt returns the connection's prepared statement for query, preparing
// it on first use.
func (c *conn) stmt(ctx context.Context, query string) (driver.Stmt, error) {
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if len(c.order) >= maxStatements {
		oldest := c.order[0]
		c.order = c.order[1:]
		if old, ok := c.stmts[oldest]; ok {
			delete(c.stmts, oldest)
			_ = old.Close()
		}
	}
	c.stmts[query] = st
	c.order = append(c.order, query)
	return st, nil
}

// dropIfInvalid forgets a statement that no longer fits the schema: 0A000
// "cached plan must not change result type" after a migration, a type
// error of class 42 (its parameters' types were fixed when it was
// prepared), 26000 when the statement was deallocated. Other errors (a
// unique violation, say) leave the statement as it is.
func (c *conn) dropIfInvalid(query string, err error) {
	var pqErr *pq.Error
	if err == nil || !errors.As(err, &pqErr) {
		return
	}
	if code := string(pqErr.Code); code != "0A000" && code != "26000" && !strings.HasPrefix(code, "42") {
		return
	}
	if st, ok := c.stmts[query]; ok {
		delete(c.stmts, query)
		for i, q := range c.order {
			if q == query {
				c.order = append(c.order[:i], c.order[i+1:]...)
				break
			}
		}
		_ = st.Close() // best effort: the connection may be in a failed transaction
	}
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *conn) Ping(ctx context.Context) error { return c.Conn.(driver.Pinger).Ping(ctx) }

func (c *conn) ResetSession(ctx context.Context) error {
	if c.open != 0 {
		return driver.ErrBadConn // never expected: database/sql closes rows first
	}
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *conn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.Conn.(driver.NamedValueChecker).CheckNamedValue(nv)
}
