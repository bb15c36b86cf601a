package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testdb"
	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/store"
)

// The take-back functions run when no workflow took an intake document up
// (its start or Update was refused): they remove only what no run has
// touched, so that the caller may file it again and nothing a run owns is
// lost (api/intake.go).
func TestTakeBackRemovesOnlyWhatNoRunTookUp_C3_1_C1_5(t *testing.T) {
	db, _ := testdb.New(t)
	ctx := context.Background()
	require.NoError(t, testenv.SeedUsers(ctx, db, 1, testenv.SeedOptions{Prefix: "T"}))
	var account string
	require.NoError(t, db.Get(&account, `SELECT id FROM accounts LIMIT 1`))
	staff := uuid.NewString()
	_, err := db.Exec(`INSERT INTO staff (id, username, name, roles, password_hash) VALUES ($1, $2, 'Investigator', '{investigator}', 'x')`,
		staff, "inv"+staff[:8])
	require.NoError(t, err)
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		require.NoError(t, db.Get(&n, query, args...))
		return n
	}

	// A case still only reported goes with its events; one a run took up
	// (past 'reported') stays.
	untaken, taken := uuid.NewString(), uuid.NewString()
	for _, id := range []string{untaken, taken} {
		require.NoError(t, store.FileViolationCase(ctx, db, store.ViolationReport{ID: id, AccountID: account, OpenedBy: staff,
			Evidence: []string{"doc:1"}, Rule: "R1", Action: "correct", Instructions: "fix it", CorrectBy: time.Now().Add(24 * time.Hour), Corrections: []string{}}))
		require.NoError(t, store.RecordCaseReported(ctx, db, id, "staff:"+staff, []byte(`{}`)))
	}
	_, err = db.Exec(`UPDATE cases SET state = 'awaiting_correction' WHERE id = $1`, taken)
	require.NoError(t, err)
	for _, id := range []string{untaken, taken} {
		require.NoError(t, store.DiscardCaseReport(ctx, db, id))
	}
	require.Zero(t, count(`SELECT count(*) FROM cases WHERE id = $1`, untaken))
	require.Zero(t, count(`SELECT count(*) FROM case_events WHERE case_id = $1`, untaken))
	require.Equal(t, 1, count(`SELECT count(*) FROM cases WHERE id = $1`, taken))

	// A submission the run accepted stays.
	pending, accepted := uuid.NewString(), uuid.NewString()
	for _, id := range []string{pending, accepted} {
		require.NoError(t, store.FileSubmission(ctx, db, store.Submission{ID: id, Kind: "correction", CaseID: taken, AccountID: account,
			Body: "corrected", Evidence: []string{}}))
	}
	_, err = db.Exec(`UPDATE case_submissions SET accepted_at = now() WHERE id = $1`, accepted)
	require.NoError(t, err)
	for _, id := range []string{pending, accepted} {
		require.NoError(t, store.DiscardCaseSubmission(ctx, db, id))
	}
	require.Zero(t, count(`SELECT count(*) FROM case_submissions WHERE id = $1`, pending))
	require.Equal(t, 1, count(`SELECT count(*) FROM case_submissions WHERE id = $1`, accepted))

	// A published announcement stays.
	draft, published := uuid.NewString(), uuid.NewString()
	now := time.Now()
	for _, id := range []string{draft, published} {
		require.NoError(t, store.StoreAnnouncement(ctx, db, store.NewAnnouncement{ID: id, Kind: "rule_change", TitleZH: "标题",
			TitleEN: "Title", Services: []string{}, StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: staff}))
	}
	_, err = db.Exec(`UPDATE announcements SET published_at = now() WHERE id = $1`, published)
	require.NoError(t, err)
	for _, id := range []string{draft, published} {
		require.NoError(t, store.TakeBackAnnouncement(ctx, db, id))
	}
	require.Zero(t, count(`SELECT count(*) FROM announcements WHERE id = $1`, draft))
	current, err := store.CurrentAnnouncements(ctx, db)
	require.NoError(t, err)
	require.Len(t, current, 1)
	require.Equal(t, published, current[0].ID)
}

// The audit register's filters (GET /v1/audit, /v1/audit/export): exact
// columns, an action prefix, and a time range whose end is exclusive.
func TestAuditFilterSelectsByColumnsPrefixAndTime_C4(t *testing.T) {
	db, _ := testdb.New(t)
	ctx := context.Background()
	record := uuid.NewString()
	for _, a := range []string{"account.looked_up", "account.exported", "terms.accepted"} {
		added, err := store.AppendAudit(ctx, db, store.AuditEntry{ActorKind: "staff", ActorID: "s1", Action: a,
			RecordKind: "account", RecordID: record})
		require.NoError(t, err)
		require.True(t, added)
	}
	count := func(f store.AuditFilter) int {
		t.Helper()
		n, err := store.CountAuditLog(ctx, db, f)
		require.NoError(t, err)
		rows, err := store.SearchAuditLog(ctx, db, f, 0, 100)
		require.NoError(t, err)
		require.Len(t, rows, n)
		return n
	}
	require.Equal(t, 3, count(store.AuditFilter{RecordKind: "account", RecordID: record}))
	require.Equal(t, 2, count(store.AuditFilter{RecordID: record, Action: "account.", ActionPrefix: true}))
	require.Equal(t, 1, count(store.AuditFilter{RecordID: record, Action: "account.exported"}))
	require.Zero(t, count(store.AuditFilter{RecordID: record, Action: "account."}))
	var last time.Time
	require.NoError(t, db.Get(&last, `SELECT max(at) FROM audit_log WHERE record_id = $1`, record))
	require.Equal(t, 3, count(store.AuditFilter{RecordID: record, From: last.Add(-time.Hour), To: last.Add(time.Second)}))
	require.Zero(t, count(store.AuditFilter{RecordID: record, To: last.Add(-time.Hour)}))

	rows, err := store.AuditLogRows(ctx, db, store.AuditFilter{RecordID: record, ActorKind: "staff"}, 2)
	require.NoError(t, err)
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var r store.AuditRecord
		require.NoError(t, rows.StructScan(&r))
		ids = append(ids, r.ID)
	}
	require.NoError(t, rows.Err())
	require.Len(t, ids, 2)
	require.Less(t, ids[0], ids[1])
}
