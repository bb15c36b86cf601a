package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testdb"
	"hrss-backoffice/store"
)

// C1.4 (issue 15): a request whose workflow was refused is marked failed
// (not_started) once; a request decided meanwhile keeps its outcome. The
// API's tests do not reach this path (a start the server refuses).
func TestFailUnstartedStaffChangeLeavesDecidedRequests_C1_4(t *testing.T) {
	owner, url := testdb.New(t)
	db := testdb.App(t, url)
	ctx := context.Background()
	admin := uuid.NewString()
	_, err := owner.Exec(`INSERT INTO staff (id, username, name, roles, password_hash) VALUES ($1, 'adm.one', 'Admin', '{administrator}', 'x')`, admin)
	require.NoError(t, err)
	add := func() string {
		id := uuid.NewString()
		require.NoError(t, store.AddStaffChange(ctx, db, store.NewStaffChange{ID: id, Kind: "password", TargetID: admin, RequestedBy: admin,
			Detail: []byte(`{"reason":"lost"}`), ExpiresAt: time.Now().Add(time.Hour), RequesterRoles: []string{"administrator"},
			SourceIP: "192.0.2.1", RequestID: "req-1"}))
		return id
	}
	pending, applied := add(), add()
	_, err = owner.Exec(`UPDATE staff_change_requests SET status = 'applied' WHERE id = $1`, applied)
	require.NoError(t, err)

	for range 2 {
		require.NoError(t, store.FailUnstartedStaffChange(ctx, db, pending))
		require.NoError(t, store.FailUnstartedStaffChange(ctx, db, applied))
	}
	got, err := store.StaffChangeByID(ctx, db, pending)
	require.NoError(t, err)
	require.Equal(t, "failed", got.Status)
	require.Equal(t, "not_started", got.Code)
	require.Equal(t, "adm.one", got.TargetUsername)
	require.JSONEq(t, `{"reason":"lost"}`, string(got.Detail))
	got, err = store.StaffChangeByID(ctx, db, applied)
	require.NoError(t, err)
	require.Equal(t, "applied", got.Status)
	require.Empty(t, got.Code)

	_, err = store.StaffChangeByID(ctx, db, uuid.NewString())
	require.ErrorIs(t, err, store.ErrNotFound)
}

// C3.4(8): the anonymous counter counts per bucket, address and window in
// one upsert, and the housekeeping deletes only windows older than 25
// hours.
func TestAnonymousHitsCountPerWindowAndExpire_C3_4_8(t *testing.T) {
	_, url := testdb.New(t)
	db := testdb.App(t, url)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Hour)
	old := now.Add(-26 * time.Hour)
	for i := 1; i <= 3; i++ {
		n, err := store.CountAnonymousHit(ctx, db, "report", "192.0.2.1", now)
		require.NoError(t, err)
		require.Equal(t, i, n)
	}
	n, err := store.CountAnonymousHit(ctx, db, "sign_in", "192.0.2.1", now)
	require.NoError(t, err)
	require.Equal(t, 1, n, "another bucket counts apart")
	_, err = store.CountAnonymousHit(ctx, db, "report", "192.0.2.1", old)
	require.NoError(t, err)

	require.NoError(t, store.DeletePastAnonymousHits(ctx, db))
	var left int
	require.NoError(t, db.Get(&left, `SELECT count(*) FROM anonymous_hits`))
	require.Equal(t, 2, left, "the current windows stay")
	n, err = store.CountAnonymousHit(ctx, db, "report", "192.0.2.1", now)
	require.NoError(t, err)
	require.Equal(t, 4, n)
}
