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
// beyond that. A statement that PostgreSQL reports as no longer valid (a
// migration changed the result type of a cached SELECT, or the statement
// was deallocated) is dropped, so the next use prepares it again; the call
// that met the error returns it, as it would have without the cache.
//
// Named prepared statements do not survive a pooler that hands a
// connection to another client per transaction (PgBouncer's transaction
// mode): there, add statement_cache=off to the database URL, which this
// package removes before lib/pq reads the URL.
package stmtcache

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net/url"
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
	dsn, on := cacheSetting(dsn)
	inner, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	if !on {
		return sqlx.NewDb(sql.OpenDB(inner), "postgres"), nil
	}
	return sqlx.NewDb(sql.OpenDB(connector{inner}), "postgres"), nil
}

// cacheSetting reads and removes statement_cache=off from a URL.
func cacheSetting(dsn string) (string, bool) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn, true
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn, true // lib/pq reports the bad URL
	}
	q := u.Query()
	v, set := q["statement_cache"]
	if !set {
		return dsn, true
	}
	q.Del("statement_cache")
	u.RawQuery = q.Encode()
	return u.String(), len(v) == 0 || v[len(v)-1] != "off"
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
}

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
	if len(args) == 0 {
		return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	}
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.(driver.StmtQueryContext).QueryContext(ctx, args)
	c.dropIfInvalid(query, err)
	return rows, err
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

// dropIfInvalid forgets a statement PostgreSQL no longer runs: 0A000
// "cached plan must not change result type" after a migration, 26000 when
// the statement was deallocated. Other errors (a unique violation, say)
// leave the statement as it is.
func (c *conn) dropIfInvalid(query string, err error) {
	var pqErr *pq.Error
	if err == nil || !errors.As(err, &pqErr) || (pqErr.Code != "0A000" && pqErr.Code != "26000") {
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
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *conn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.Conn.(driver.NamedValueChecker).CheckNamedValue(nv)
}
