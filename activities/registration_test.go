package activities_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/passwords"
	"hrss-backoffice/internal/sealed"
	"hrss-backoffice/internal/testdb"
	"hrss-backoffice/internal/validate"
)

var fastHash = passwords.Params{MemoryKiB: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func newActivities(t *testing.T) (*activities.Activities, *sqlx.DB) {
	db, _ := testdb.New(t)
	box, err := sealed.NewBox(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)))
	require.NoError(t, err)
	return &activities.Activities{DB: db, Box: box, Hash: fastHash}, db
}

// idNumber makes a valid resident ID number born on birth (YYYYMMDD).
func idNumber(birth, seq string) string {
	s := "310101" + birth + seq
	return s + string(validate.IDCheckChar(s))
}

func staffID(t *testing.T, db *sqlx.DB) string {
	id := uuid.NewString()
	_, err := db.Exec(`INSERT INTO staff (id, username, name, roles, password_hash) VALUES ($1, $2, 'Reviewer', '{reviewer}', 'x')`,
		id, "rev"+id[:8])
	require.NoError(t, err)
	return id
}

// submit stores an application the way the API's intake does.
func submit(t *testing.T, db *sqlx.DB, idNo, mobile string, services ...string) string {
	id := uuid.NewString()
	if services == nil {
		services = []string{}
	}
	h := sha256.Sum256([]byte("token"))
	birth, fe := validate.ResidentID("id_number", idNo, time.Now())
	require.Nil(t, fe)
	_, err := db.Exec(`INSERT INTO applications (id, status, name, id_number, birth_date, mobile, address, channel, services,
		terms_version, agreed_at, follow_token_hash) VALUES ($1, 'submitted', '王小明', $2, $3, $4, '上海市黄浦区人民大道200号', 'counter', $5, '2026-01', now(), $6)`,
		id, idNo, birth, mobile, pq.Array(services), h[:])
	require.NoError(t, err)
	return id
}

func count(t *testing.T, db *sqlx.DB, q string, args ...any) int {
	var n int
	require.NoError(t, db.Get(&n, q, args...))
	return n
}

// snapshot counts the rows of every table an approval writes.
func snapshot(t *testing.T, db *sqlx.DB) map[string]int {
	out := map[string]int{}
	for _, tbl := range []string{"people", "accounts", "account_services", "agreements", "terms_acceptances",
		"credential_pickups", "application_events", "notices", "audit_log"} {
		out[tbl] = count(t, db, "SELECT count(*) FROM "+tbl)
	}
	return out
}

// C1.5 / C2.1 / C4: approval makes a formal user: account with username =
// ID number, an initial password sealed for one pickup (its argon2id hash
// is stored when it is picked up), the qualifying services, and the agreement in force with
// its terms version, time and channel. A retry issues nothing twice.
func TestApproveOpensAccountOnceWithSealedInitialPassword_C1_5_C2_1_C4(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	rev := staffID(t, db)
	idNo := idNumber("20000101", "123") // 26 years old: too young for pension_claim (50+)
	app := submit(t, db, idNo, "13800138000", "social_insurance_query", "pension_claim", "no_such_service")
	_, err := acts.AdmitApplication(ctx, app)
	require.NoError(t, err)

	in := activities.ApproveInput{ApplicationID: app, ReviewerID: rev, PickupWindow: 15 * time.Minute}
	res, err := acts.ApproveApplication(ctx, in)
	require.NoError(t, err)
	require.False(t, res.AlreadyRegistered)
	require.Equal(t, []string{"social_insurance_query"}, res.OpenedServices)
	require.Equal(t, []activities.ServiceRefusal{
		{Code: "pension_claim", Reason: "below_minimum_age_50"},
		{Code: "no_such_service", Reason: "service_unavailable"}}, res.RefusedServices)

	var acct struct {
		Username string `db:"username"`
		Hash     string `db:"password_hash"`
		Must     bool   `db:"must_change_password"`
	}
	require.NoError(t, db.Get(&acct, `SELECT username, password_hash, must_change_password FROM accounts WHERE id = $1`, res.AccountID))
	require.Equal(t, idNo, acct.Username)
	require.True(t, acct.Must, "the initial password must be changed at first sign-in (C3.3(2))")

	var ct []byte
	require.NoError(t, db.Get(&ct, `SELECT ciphertext FROM credential_pickups WHERE operation_key = $1 AND issued_to = $2`,
		activities.RegistrationPickupKey(app), rev))
	plain, err := acts.Box.Open(ct, []byte(activities.RegistrationPickupKey(app)))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(plain), 12)
	// The password takes effect at its pickup (which stores its hash):
	// until then no password matches the account.
	require.Equal(t, passwords.AwaitingPickup, acct.Hash)
	ok, _ := passwords.Verify(string(plain), acct.Hash)
	require.False(t, ok, "an initial password not yet picked up matches nothing")

	var agr struct {
		Version string     `db:"terms_version"`
		Channel string     `db:"channel"`
		From    time.Time  `db:"effective_from"`
		Until   *time.Time `db:"effective_until"`
	}
	require.NoError(t, db.Get(&agr, `SELECT terms_version, channel, effective_from, effective_until FROM agreements WHERE account_id = $1`, res.AccountID))
	require.Equal(t, "2026-01", agr.Version)
	require.Equal(t, "counter", agr.Channel)
	require.Nil(t, agr.Until)
	require.Equal(t, "approved", queryString(t, db, `SELECT status FROM applications WHERE id = $1`, app))

	before := snapshot(t, db)
	again, err := acts.ApproveApplication(ctx, in)
	require.NoError(t, err)
	require.Equal(t, res.AccountID, again.AccountID)
	require.Equal(t, res.OpenedServices, again.OpenedServices)
	require.Equal(t, before, snapshot(t, db), "a retried approval writes nothing")
	var ct2 []byte
	require.NoError(t, db.Get(&ct2, `SELECT ciphertext FROM credential_pickups WHERE operation_key = $1`, activities.RegistrationPickupKey(app)))
	require.Equal(t, ct, ct2, "no second password")

	// The unclaimed password is destroyed once; a second run does nothing.
	require.NoError(t, acts.DestroyPickup(ctx, activities.RegistrationPickupKey(app)))
	before = snapshot(t, db)
	require.NoError(t, acts.DestroyPickup(ctx, activities.RegistrationPickupKey(app)))
	require.Equal(t, before, snapshot(t, db))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM credential_pickups WHERE ciphertext IS NULL AND destroyed_at IS NOT NULL`))
}

func queryString(t *testing.T, db *sqlx.DB, q string, args ...any) string {
	var s string
	require.NoError(t, db.Get(&s, q, args...))
	return s
}

// C2.1 / C2.2 / C3.2: the automated checks flag a blocked ID number, a
// mobile number used by another live account, and a person who already
// holds an account; admitting twice changes nothing.
func TestAdmitFlagsBlockedDuplicateAndSharedMobile_C2_2_C3_2(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	rev := staffID(t, db)
	first := submit(t, db, idNumber("19800101", "001"), "13900000001", "social_insurance_query")
	_, err := acts.AdmitApplication(ctx, first)
	require.NoError(t, err)
	_, err = acts.ApproveApplication(ctx, activities.ApproveInput{ApplicationID: first, ReviewerID: rev, PickupWindow: time.Minute})
	require.NoError(t, err)

	blockedID := idNumber("19800101", "002")
	_, err = db.Exec(`INSERT INTO registration_blocks (id_number, reason) VALUES ($1, 'cancelled_false_data')`, blockedID)
	require.NoError(t, err)
	second := submit(t, db, blockedID, "13900000001")
	res, err := acts.AdmitApplication(ctx, second)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{activities.FlagBlocked, activities.FlagMobileInUse}, res.Flags)
	require.False(t, res.AlreadyRegistered)
	before := snapshot(t, db)
	res2, err := acts.AdmitApplication(ctx, second)
	require.NoError(t, err)
	require.Equal(t, res, res2)
	require.Equal(t, before, snapshot(t, db))
	var flags pq.StringArray
	require.NoError(t, db.Get(&flags, `SELECT flags FROM applications WHERE id = $1`, second))
	require.ElementsMatch(t, res.Flags, []string(flags))

	// The same person applying again (the open-application index allows it
	// once the first is closed) is flagged as already registered.
	third := submit(t, db, idNumber("19800101", "001"), "13900000009")
	res3, err := acts.AdmitApplication(ctx, third)
	require.NoError(t, err)
	require.True(t, res3.AlreadyRegistered)
	require.Contains(t, res3.Flags, activities.FlagAlreadyRegistered)
}

// C1.5: one live account per person, even when two applications of the same
// person are approved (the second is closed as already registered).
func TestSecondApprovalForSamePersonIsRefused_C1_5(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	rev := staffID(t, db)
	idNo := idNumber("19900101", "003")
	first := submit(t, db, idNo, "13900000002")
	_, err := acts.AdmitApplication(ctx, first)
	require.NoError(t, err)
	// A second application slipped in before the first was approved.
	_, err = db.Exec(`UPDATE applications SET status = 'pending' WHERE id = $1`, first)
	require.NoError(t, err)
	_, err = acts.ApproveApplication(ctx, activities.ApproveInput{ApplicationID: first, ReviewerID: rev, PickupWindow: time.Minute})
	require.NoError(t, err)
	second := submit(t, db, idNo, "13900000002")
	_, err = db.Exec(`UPDATE applications SET status = 'pending' WHERE id = $1`, second)
	require.NoError(t, err)
	res, err := acts.ApproveApplication(ctx, activities.ApproveInput{ApplicationID: second, ReviewerID: rev, PickupWindow: time.Minute})
	require.NoError(t, err)
	require.True(t, res.AlreadyRegistered)
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM accounts`))
	require.Equal(t, "rejected", queryString(t, db, `SELECT status FROM applications WHERE id = $1`, second))
	// Retrying reports the same and writes nothing.
	before := snapshot(t, db)
	res, err = acts.ApproveApplication(ctx, activities.ApproveInput{ApplicationID: second, ReviewerID: rev, PickupWindow: time.Minute})
	require.NoError(t, err)
	require.True(t, res.AlreadyRegistered)
	require.Equal(t, before, snapshot(t, db))
}

// C3.2: a request for information and the supplement that answers it are
// each applied once; the application returns to the queue.
func TestRequestInfoAndSupplementAreIdempotent_C3_2(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	rev := staffID(t, db)
	app := submit(t, db, idNumber("19850505", "004"), "13900000003")
	_, err := acts.AdmitApplication(ctx, app)
	require.NoError(t, err)
	ri := activities.RequestInfoInput{ApplicationID: app, ReviewerID: rev, What: "proof of address", Round: 1}
	require.NoError(t, acts.RequestInfo(ctx, ri))
	before := snapshot(t, db)
	require.NoError(t, acts.RequestInfo(ctx, ri))
	require.Equal(t, before, snapshot(t, db))
	require.Equal(t, "info_requested", queryString(t, db, `SELECT status FROM applications WHERE id = $1`, app))

	sup := uuid.NewString()
	changes, _ := json.Marshal(map[string]string{"address": "上海市徐汇区漕溪北路1号", "email": "w@example.cn"})
	_, err = db.Exec(`INSERT INTO application_supplements (id, application_id, changes) VALUES ($1, $2, $3)`, sup, app, changes)
	require.NoError(t, err)
	in := activities.SupplementInput{ApplicationID: app, SupplementID: sup}
	require.NoError(t, acts.ApplySupplement(ctx, in))
	before = snapshot(t, db)
	require.NoError(t, acts.ApplySupplement(ctx, in))
	require.Equal(t, before, snapshot(t, db))
	var row struct {
		Status  string  `db:"status"`
		Address string  `db:"address"`
		Email   *string `db:"email"`
		Mobile  string  `db:"mobile"`
	}
	require.NoError(t, db.Get(&row, `SELECT status, address, email, mobile FROM applications WHERE id = $1`, app))
	require.Equal(t, "pending", row.Status)
	require.Equal(t, "上海市徐汇区漕溪北路1号", row.Address)
	require.Equal(t, "w@example.cn", *row.Email)
	require.Equal(t, "13900000003", row.Mobile, "untouched fields stay")
}

// Closing (reject, expire, withdraw) happens once, with a notice to the
// applicant; closing as another status afterwards is a Conflict.
func TestCloseApplicationOnceWithNotice(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	app := submit(t, db, idNumber("19850505", "005"), "13900000004")
	_, err := acts.AdmitApplication(ctx, app)
	require.NoError(t, err)
	in := activities.CloseInput{ApplicationID: app, Status: "expired", Reason: "no_action_within_service_level", ActorKind: "system"}
	require.NoError(t, acts.CloseApplication(ctx, in))
	before := snapshot(t, db)
	require.NoError(t, acts.CloseApplication(ctx, in))
	require.Equal(t, before, snapshot(t, db))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM notices WHERE application_id = $1 AND kind = 'application_expired'`, app))
	err = acts.CloseApplication(ctx, activities.CloseInput{ApplicationID: app, Status: "withdrawn", ActorKind: "applicant"})
	require.ErrorContains(t, err, "already expired")
}

// C2.1: reminders and escalations notify the right staff role once per
// round.
func TestServiceLevelNoticesGoToReviewersThenSupervisors_C2_1(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	app := submit(t, db, idNumber("19850505", "006"), "13900000005")
	for _, kind := range []string{"reminder", "reminder", "escalation"} {
		require.NoError(t, acts.RecordServiceLevel(ctx, activities.ServiceLevelEvent{ApplicationID: app, Kind: kind, Round: 1}))
	}
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM notices WHERE staff_role = 'reviewer'`))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM notices WHERE staff_role = 'supervisor'`))
	require.Error(t, acts.RecordServiceLevel(ctx, activities.ServiceLevelEvent{ApplicationID: app, Kind: "bogus", Round: 1}))
}

// The audit log is append-only: the database refuses updates and deletes.
func TestAuditLogRefusesUpdateAndDelete(t *testing.T) {
	acts, db := newActivities(t)
	app := submit(t, db, idNumber("19850505", "007"), "13900000006")
	_, err := acts.AdmitApplication(context.Background(), app)
	require.NoError(t, err)
	require.Positive(t, count(t, db, `SELECT count(*) FROM audit_log`))
	_, err = db.Exec(`UPDATE audit_log SET action = 'x'`)
	require.ErrorContains(t, err, "append-only")
	_, err = db.Exec(`DELETE FROM audit_log`)
	require.ErrorContains(t, err, "append-only")
	_, err = db.Exec(`TRUNCATE audit_log`)
	require.ErrorContains(t, err, "append-only")
}
