package activities_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/passwords"
)

var accountSeq int

// openAccount takes an application through admission and approval and
// returns the account ID.
// openAccount approves a new application and returns the account; rev is
// the approving reviewer ("" makes one). Services are optional.
func openAccount(t *testing.T, acts *activities.Activities, db *sqlx.DB, rev string, services ...string) string {
	t.Helper()
	if rev == "" {
		rev = staffID(t, db)
	}
	accountSeq++
	app := submit(t, db, idNumber("19900101", fmt.Sprintf("%03d", 100+accountSeq)), fmt.Sprintf("139%08d", accountSeq), services...)
	ctx := context.Background()
	_, err := acts.AdmitApplication(ctx, app)
	require.NoError(t, err)
	res, err := acts.ApproveApplication(ctx, activities.ApproveInput{ApplicationID: app, ReviewerID: rev, PickupWindow: time.Minute})
	require.NoError(t, err)
	return res.AccountID
}

func openSession(t *testing.T, db *sqlx.DB, accountID string) {
	h := sha256.Sum256([]byte(uuid.NewString()))
	_, err := db.Exec(`INSERT INTO sessions (token_hash, subject_kind, account_id, expires_at) VALUES ($1, 'user', $2, now() + interval '1 hour')`, h[:], accountID)
	require.NoError(t, err)
}

func liveSessions(t *testing.T, db *sqlx.DB, accountID string) int {
	return count(t, db, `SELECT count(*) FROM sessions WHERE account_id = $1 AND revoked_at IS NULL`, accountID)
}

func passwordTables(t *testing.T, db *sqlx.DB) map[string]any {
	out := map[string]any{}
	for _, tbl := range []string{"notices", "audit_log", "credential_pickups", "sessions WHERE revoked_at IS NULL"} {
		out[tbl] = count(t, db, "SELECT count(*) FROM "+tbl)
	}
	var state []string
	require.NoError(t, db.Select(&state, `SELECT id || coalesce(compromise_locked_at::text, '-') || password_hash || username
		|| coalesce(password_reminded_at::text, '-') FROM accounts ORDER BY id`))
	out["accounts"] = state
	var resets []string
	require.NoError(t, db.Select(&resets, `SELECT id || status || coalesce(refusal, '-') FROM password_resets ORDER BY id`))
	out["resets"] = resets
	return out
}

// C3.3(3): a report locks the account and ends every session once; a
// plain reset of a locked account is refused; the compromise reset issues
// a sealed password, lifts the lock and ends sessions; each write run twice
// changes nothing the second time.
func TestLockAndResetAreIdempotent_C3_3_3(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	rev := staffID(t, db)
	acct := openAccount(t, acts, db, rev)
	openSession(t, db, acct)
	openSession(t, db, acct)

	report := uuid.NewString()
	_, err := db.Exec(`INSERT INTO security_reports (id, account_id, channel) VALUES ($1, $2, 'online')`, report, acct)
	require.NoError(t, err)
	lock, err := acts.LockForCompromise(ctx, activities.LockInput{AccountID: acct, ReportID: report})
	require.NoError(t, err)
	require.False(t, lock.LockedAt.IsZero())
	require.Zero(t, liveSessions(t, db, acct))
	before := passwordTables(t, db)
	again, err := acts.LockForCompromise(ctx, activities.LockInput{AccountID: acct, ReportID: report})
	require.NoError(t, err)
	require.Equal(t, lock.LockedAt.UTC(), again.LockedAt.UTC())
	require.Equal(t, before, passwordTables(t, db), "a retried lock writes nothing")

	// A report of another account is refused for good.
	other := openAccount(t, acts, db, rev)
	_, err = acts.LockForCompromise(ctx, activities.LockInput{AccountID: other, ReportID: report})
	require.ErrorContains(t, err, "another account")

	reset := func() string {
		id := uuid.NewString()
		_, err := db.Exec(`INSERT INTO password_resets (id, account_id, staff_id, office, identity_document) VALUES ($1, $2, $3, '黄浦区', 'resident_id_card')`, id, acct, rev)
		require.NoError(t, err)
		return id
	}
	plain := reset()
	out, err := acts.ResetPassword(ctx, activities.ResetInput{ResetID: plain, PickupWindow: time.Minute})
	require.NoError(t, err)
	require.Equal(t, "refused", out.Status)
	require.Equal(t, activities.RefusalCompromiseLocked, out.Refusal)

	openSession(t, db, acct) // cannot happen while locked, but the reset ends it anyway
	lifting := reset()
	in := activities.ResetInput{ResetID: lifting, LiftCompromise: true, PickupWindow: time.Minute}
	out, err = acts.ResetPassword(ctx, in)
	require.NoError(t, err)
	require.Equal(t, "issued", out.Status)
	require.Zero(t, liveSessions(t, db, acct))
	var a struct {
		Hash     string     `db:"password_hash"`
		Must     bool       `db:"must_change_password"`
		LockedAt *time.Time `db:"compromise_locked_at"`
	}
	require.NoError(t, db.Get(&a, `SELECT password_hash, must_change_password, compromise_locked_at FROM accounts WHERE id = $1`, acct))
	require.True(t, a.Must, "changed at next sign-in")
	require.Nil(t, a.LockedAt, "the reset lifts the lock")
	var ct []byte
	require.NoError(t, db.Get(&ct, `SELECT ciphertext FROM credential_pickups WHERE operation_key = $1 AND issued_to = $2`,
		activities.PasswordResetPickupKey(lifting), rev))
	pw, err := acts.Box.Open(ct, []byte(activities.PasswordResetPickupKey(lifting)))
	require.NoError(t, err)
	ok, err := passwords.Verify(string(pw), a.Hash)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'account.compromise_lock_lifted' AND record_id = $1`, acct))

	before = passwordTables(t, db)
	out2, err := acts.ResetPassword(ctx, in)
	require.NoError(t, err)
	require.Equal(t, out.PickupExpiresAt.UTC(), out2.PickupExpiresAt.UTC())
	require.Equal(t, before, passwordTables(t, db), "a retried reset issues nothing twice")

	// Reminders while locked: once per number.
	require.NoError(t, acts.RemindCompromised(ctx, activities.CompromiseReminder{AccountID: acct, ReportID: report, N: 1}))
	before = passwordTables(t, db)
	require.NoError(t, acts.RemindCompromised(ctx, activities.CompromiseReminder{AccountID: acct, ReportID: report, N: 1}))
	require.Equal(t, before, passwordTables(t, db))
}

// C3.3(2): the sweep reminds old passwords with set-based SQL, page by
// page; a repeated page writes nothing; a change stops the reminders; the
// reminder repeats after the interval.
func TestRemindOldPasswordsInPages_C3_3_2(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	rev := staffID(t, db)
	var accts []string
	for range 3 {
		accts = append(accts, openAccount(t, acts, db, rev))
	}
	fresh := openAccount(t, acts, db, rev)
	_, err := db.Exec(`UPDATE accounts SET password_changed_at = now() - interval '200 days' WHERE id <> $1`, fresh)
	require.NoError(t, err)
	now := time.Now().UTC()
	page := activities.SweepPage{SweepID: "s1", AsOf: now, MaxAge: 180 * 24 * time.Hour, RemindEvery: 30 * 24 * time.Hour, Limit: 2}

	first, err := acts.RemindOldPasswords(ctx, page)
	require.NoError(t, err)
	require.Equal(t, 2, first.Reminded)
	require.False(t, first.Done)
	page.After = first.Last
	second, err := acts.RemindOldPasswords(ctx, page)
	require.NoError(t, err)
	require.Equal(t, 1, second.Reminded)
	require.True(t, second.Done)
	reminders := `SELECT count(*) FROM notices WHERE kind = 'password_age'`
	require.Equal(t, 3, count(t, db, reminders))
	require.Zero(t, count(t, db, `SELECT count(*) FROM notices WHERE kind = 'password_age' AND account_id = $1`, fresh))
	require.Equal(t, 3, count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'password.age_reminder' AND record_kind = 'account'`))

	// The same sweep again: everyone is reminded already.
	before := passwordTables(t, db)
	page.After = ""
	page.Limit = 10
	again, err := acts.RemindOldPasswords(ctx, page)
	require.NoError(t, err)
	require.Zero(t, again.Reminded)
	require.Equal(t, before, passwordTables(t, db))

	// One user changes the password; 31 days later the others are reminded
	// again, the changed one not.
	_, err = db.Exec(`UPDATE accounts SET password_changed_at = now() WHERE id = $1`, accts[0])
	require.NoError(t, err)
	later := activities.SweepPage{SweepID: "s2", AsOf: now.Add(31 * 24 * time.Hour), MaxAge: 180 * 24 * time.Hour,
		RemindEvery: 30 * 24 * time.Hour, Limit: 10}
	res, err := acts.RemindOldPasswords(ctx, later)
	require.NoError(t, err)
	require.Equal(t, 2, res.Reminded)
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM notices WHERE kind = 'password_age' AND account_id = $1`, accts[0]))
	require.Equal(t, 2, count(t, db, `SELECT count(*) FROM notices WHERE kind = 'password_age' AND account_id = $1`, accts[1]))
}

// C3.2: an approved name and ID number change updates the person and the
// username, keeps the old values, and a retry changes nothing; a different
// decision afterwards is a conflict; an ID number of another person is
// refused.
func TestDecideDataChangeKeepsOldValues_C3_2(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	rev := staffID(t, db)
	acct := openAccount(t, acts, db, rev)
	other := openAccount(t, acts, db, rev)
	var oldID, otherID string
	require.NoError(t, db.Get(&oldID, `SELECT username FROM accounts WHERE id = $1`, acct))
	require.NoError(t, db.Get(&otherID, `SELECT username FROM accounts WHERE id = $1`, other))
	newID := idNumber("19900202", "555")

	change := func(values map[string]string) string {
		id := uuid.NewString()
		b, _ := json.Marshal(values)
		_, err := db.Exec(`INSERT INTO data_changes (id, account_id, kind, status, old_values, new_values) VALUES ($1, $2, 'identity', 'pending', '{}', $3)`, id, acct, b)
		require.NoError(t, err)
		return id
	}
	taken := change(map[string]string{"id_number": otherID})
	_, err := acts.DecideDataChange(ctx, activities.DataChangeDecisionInput{ChangeID: taken, Decision: "approve", StaffID: rev})
	require.ErrorContains(t, err, "another person")
	_, err = acts.DecideDataChange(ctx, activities.DataChangeDecisionInput{ChangeID: taken, Decision: "reject", StaffID: rev, Reason: "证件不符"})
	require.NoError(t, err)

	id := change(map[string]string{"name": "李更名", "id_number": newID})
	in := activities.DataChangeDecisionInput{ChangeID: id, Decision: "approve", StaffID: rev}
	status, err := acts.DecideDataChange(ctx, in)
	require.NoError(t, err)
	require.Equal(t, "approved", status)
	var p struct {
		Name     string    `db:"name"`
		IDNumber string    `db:"id_number"`
		Birth    time.Time `db:"birth_date"`
		Username string    `db:"username"`
	}
	require.NoError(t, db.Get(&p, `SELECT p.name, p.id_number, p.birth_date, a.username FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.id = $1`, acct))
	require.Equal(t, "李更名", p.Name)
	require.Equal(t, newID, p.IDNumber)
	require.Equal(t, newID, p.Username)
	require.Equal(t, "1990-02-02", p.Birth.Format("2006-01-02"))
	var old []byte
	require.NoError(t, db.Get(&old, `SELECT old_values FROM data_changes WHERE id = $1`, id))
	require.JSONEq(t, `{"name":"王小明","id_number":"`+oldID+`"}`, string(old))

	before := passwordTables(t, db)
	status, err = acts.DecideDataChange(ctx, in)
	require.NoError(t, err)
	require.Equal(t, "approved", status)
	require.Equal(t, before, passwordTables(t, db))
	_, err = acts.DecideDataChange(ctx, activities.DataChangeDecisionInput{ChangeID: id, Decision: "reject", StaffID: rev, Reason: "x"})
	require.ErrorContains(t, err, "approved")
}
