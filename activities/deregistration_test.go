package activities_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/activities"
)

// openAccount approves an application and returns the account ID.
func storeRequest(t *testing.T, db *sqlx.DB, accountID, scope string, services ...string) string {
	id := uuid.NewString()
	doc := `{"statement":"申请"}`
	sum := sha256.Sum256([]byte(doc))
	if services == nil {
		services = []string{}
	}
	_, err := db.Exec(`INSERT INTO deregistration_requests (id, account_id, scope, services, document, content_sha256, submitted_at, status)
		VALUES ($1, $2, $3, $4, $5, $6, now(), 'received')`, id, accountID, scope, pqArray(services), doc, hex.EncodeToString(sum[:]))
	require.NoError(t, err)
	return id
}

// deregSnapshot counts the rows deregistration writes.
func deregSnapshot(t *testing.T, db *sqlx.DB) map[string]int {
	out := snapshot(t, db)
	for _, q := range []string{
		`SELECT count(*) FROM retention_steps`, `SELECT count(*) FROM retention_steps WHERE done_at IS NOT NULL`,
		`SELECT count(*) FROM account_services WHERE status = 'closed'`, `SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL`,
		`SELECT count(*) FROM deregistration_requests WHERE status = 'completed'`,
	} {
		out[q] = count(t, db, q)
	}
	return out
}

// C3.5 / C4: closing the account ends services, sessions, sign-in and the
// agreement in one step and lays down the retention schedule; each
// retention step de-identifies or erases its category once. Each write run
// twice changes nothing the second time.
func TestCloseAccountAndRetentionAreIdempotent_C3_5_C4(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	acct := openAccount(t, acts, db, "", "social_insurance_query")
	_, err := db.Exec(`INSERT INTO sessions (token_hash, subject_kind, account_id, expires_at) VALUES ('\x01', 'user', $1, now() + interval '1 hour')`, acct)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO sign_in_attempts (username_hash, account_id, success, source_ip, outcome) VALUES ('\x02', $1, true, '10.0.0.1', 'success')`, acct)
	require.NoError(t, err)
	req := storeRequest(t, db, acct, "account")
	ref := activities.DeregistrationRef{RequestID: req, AccountID: acct}

	res, err := acts.CloseAccount(ctx, ref)
	require.NoError(t, err)
	require.False(t, res.Superseded)
	require.Len(t, res.Steps, 6)
	before := deregSnapshot(t, db)
	again, err := acts.CloseAccount(ctx, ref)
	require.NoError(t, err)
	require.Equal(t, res, again)
	require.Equal(t, before, deregSnapshot(t, db))

	var acc struct {
		Status string `db:"status"`
		Hash   string `db:"password_hash"`
	}
	require.NoError(t, db.Get(&acc, `SELECT status, password_hash FROM accounts WHERE id = $1`, acct))
	require.Equal(t, "deregistered", acc.Status)
	require.NotContains(t, acc.Hash, "argon2")
	require.Equal(t, 0, count(t, db, `SELECT count(*) FROM sessions WHERE account_id = $1 AND revoked_at IS NULL`, acct))
	require.Equal(t, 0, count(t, db, `SELECT count(*) FROM account_services WHERE account_id = $1 AND status <> 'closed'`, acct))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM agreements WHERE account_id = $1 AND effective_until IS NOT NULL AND end_reason = 'deregistered'`, acct))

	// De-identification is due at once; erasure is refused before its time.
	for _, st := range res.Steps {
		in := activities.RetentionInput{AccountID: acct, Category: st.Category}
		if st.Action == "deidentify" {
			require.NoError(t, acts.ApplyRetention(ctx, in))
			snap := deregSnapshot(t, db)
			require.NoError(t, acts.ApplyRetention(ctx, in))
			require.Equal(t, snap, deregSnapshot(t, db))
		} else {
			require.Error(t, acts.ApplyRetention(ctx, in), "not due before %s", st.DueAt)
		}
	}
	var mobile string
	require.NoError(t, db.Get(&mobile, `SELECT p.mobile FROM people p JOIN accounts a ON a.person_id = p.id WHERE a.id = $1`, acct))
	require.Equal(t, "", mobile)
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM sign_in_attempts WHERE account_id = $1`, acct), "kept for 3 years")

	// Eleven years later every kept category is erased.
	acts.Now = func() time.Time { return time.Now().AddDate(11, 0, 0) }
	for _, st := range res.Steps {
		require.NoError(t, acts.ApplyRetention(ctx, activities.RetentionInput{AccountID: acct, Category: st.Category}))
	}
	require.Equal(t, 0, count(t, db, `SELECT count(*) FROM sign_in_attempts WHERE account_id = $1`, acct))
	require.Equal(t, 0, count(t, db, `SELECT count(*) FROM retention_steps WHERE account_id = $1 AND done_at IS NULL`, acct))
	var person struct {
		Name     string `db:"name"`
		IDNumber string `db:"id_number"`
	}
	require.NoError(t, db.Get(&person, `SELECT p.name, p.id_number FROM people p JOIN accounts a ON a.person_id = p.id WHERE a.id = $1`, acct))
	require.Equal(t, "", person.Name)
	require.Contains(t, person.IDNumber, "erased:")
	require.Equal(t, 6, count(t, db, `SELECT count(*) FROM audit_log WHERE record_id = $1 AND action IN ('account.retention_deidentified', 'account.retention_erased')`, acct))
}

// C2.2: an account cancelled meanwhile supersedes the deregistration.
func TestCloseAccountOfCancelledAccountIsSuperseded(t *testing.T) {
	acts, db := newActivities(t)
	acct := openAccount(t, acts, db, "")
	req := storeRequest(t, db, acct, "account")
	_, err := db.Exec(`UPDATE accounts SET status = 'cancelled' WHERE id = $1`, acct)
	require.NoError(t, err)
	for range 2 {
		res, err := acts.CloseAccount(context.Background(), activities.DeregistrationRef{RequestID: req, AccountID: acct})
		require.NoError(t, err)
		require.True(t, res.Superseded)
	}
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'account.deregistration_superseded'`))
}

// C3.5: cancelling services closes those only, once.
func TestCancelServicesClosesOnlyThoseOnce_C3_5(t *testing.T) {
	acts, db := newActivities(t)
	acct := openAccount(t, acts, db, "", "social_insurance_query", "employment_registration")
	req := storeRequest(t, db, acct, "services", "employment_registration")
	ref := activities.DeregistrationRef{RequestID: req, AccountID: acct}
	closed, err := acts.CancelServices(context.Background(), ref)
	require.NoError(t, err)
	require.Equal(t, []string{"employment_registration"}, closed)
	snap := deregSnapshot(t, db)
	_, err = acts.CancelServices(context.Background(), ref)
	require.NoError(t, err)
	require.Equal(t, snap, deregSnapshot(t, db))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM account_services WHERE account_id = $1 AND status = 'open'`, acct))
	require.Equal(t, "active", func() string {
		var s string
		require.NoError(t, db.Get(&s, `SELECT status FROM accounts WHERE id = $1`, acct))
		return s
	}())
}

// C3.5: the written request is stored unchanged: the database refuses a
// change of its document, hash or time.
func TestDeregistrationDocumentIsStoredUnchanged_C3_5(t *testing.T) {
	acts, db := newActivities(t)
	acct := openAccount(t, acts, db, "")
	req := storeRequest(t, db, acct, "account")
	_, err := db.Exec(`UPDATE deregistration_requests SET status = 'cooling_off' WHERE id = $1`, req)
	require.NoError(t, err, "its status may move on")
	for _, q := range []string{
		`UPDATE deregistration_requests SET document = '{"statement":"改过"}' WHERE id = $1`,
		`UPDATE deregistration_requests SET content_sha256 = repeat('0', 64) WHERE id = $1`,
		`UPDATE deregistration_requests SET submitted_at = now() - interval '1 day' WHERE id = $1`,
		`DELETE FROM deregistration_requests WHERE id = $1`,
	} {
		_, err := db.Exec(q, req)
		require.Error(t, err, q)
	}
}

// The audit register is append-only, enforced by the database.
func TestAuditLogRefusesUpdateDeleteTruncate_C3_3_4(t *testing.T) {
	_, db := newActivities(t)
	_, err := db.Exec(`INSERT INTO audit_log (actor_kind, action, record_kind, record_id) VALUES ('system', 'test', 'account', 'x')`)
	require.NoError(t, err)
	for _, q := range []string{`UPDATE audit_log SET action = 'changed'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		_, err := db.Exec(q)
		require.ErrorContains(t, err, "append-only", q)
	}
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'test'`))
}

// C2.3: consent and decisions are recorded once; the database refuses a
// password field, a decision by the one who entered the request, and
// approved fields beyond the request; a delivered disclosure is final.
func TestDisclosureStepsAreIdempotentAndGuarded_C2_3(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	acct := openAccount(t, acts, db, "")
	clerk, approver := staffID(t, db), staffID(t, db)
	insert := func(basis string, fields string) (string, error) {
		id := uuid.NewString()
		_, err := db.Exec(`INSERT INTO disclosure_requests (id, account_id, requester, basis, legal_reference, purpose, fields, entered_by, status)
			VALUES ($1, $2, '某部门', $3, CASE WHEN $3 = 'law' THEN '文书1号' END, '核验', $4, $5, 'received')`, id, acct, basis, fields, clerk)
		return id, err
	}
	_, err := insert("law", "{name,password_hash}")
	require.Error(t, err, "a password hash is never disclosable")

	law, err := insert("law", "{name,mobile}")
	require.NoError(t, err)
	plan, err := acts.AdmitDisclosure(ctx, law)
	require.NoError(t, err)
	require.Equal(t, "awaiting_approval", plan.Status)
	again, err := acts.AdmitDisclosure(ctx, law)
	require.NoError(t, err)
	require.Equal(t, plan.Deadline, again.Deadline)

	_, err = acts.DecideDisclosure(ctx, activities.DisclosureDecisionInput{RequestID: law, Decision: "approve", ApproverID: clerk})
	require.Error(t, err, "four eyes")
	_, err = acts.DecideDisclosure(ctx, activities.DisclosureDecisionInput{RequestID: law, Decision: "approve", ApproverID: approver, Fields: []string{"address"}})
	require.Error(t, err, "not requested")
	_, err = db.Exec(`UPDATE disclosure_requests SET approved_by = entered_by WHERE id = $1`, law)
	require.Error(t, err, "the database enforces four eyes too")
	in := activities.DisclosureDecisionInput{RequestID: law, Decision: "approve", ApproverID: approver, ApproverRoles: []string{"supervisor"}, Fields: []string{"name"}}
	out, err := acts.DecideDisclosure(ctx, in)
	require.NoError(t, err)
	require.Equal(t, []string{"name"}, out.ApprovedFields)
	snap := snapshot(t, db)
	out2, err := acts.DecideDisclosure(ctx, in)
	require.NoError(t, err)
	require.Equal(t, out.Status, out2.Status)
	require.Equal(t, snap, snapshot(t, db))

	_, err = db.Exec(`UPDATE disclosure_requests SET status = 'delivered', delivered_at = now() WHERE id = $1`, law)
	require.NoError(t, err)
	st, err := acts.ExpireDisclosure(ctx, activities.ExpireDisclosureInput{RequestID: law, Stage: "delivery"})
	require.NoError(t, err)
	require.Equal(t, "delivered", st)
	_, err = db.Exec(`UPDATE disclosure_requests SET approved_fields = fields WHERE id = $1`, law)
	require.Error(t, err, "a delivered disclosure is final")

	consent, err := insert("user_authorised", "{name}")
	require.NoError(t, err)
	_, err = acts.AdmitDisclosure(ctx, consent)
	require.NoError(t, err)
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM notices WHERE account_id = $1 AND kind = 'consent_requested'`, acct))
	ci := activities.ConsentInput{RequestID: consent, Decision: "no_answer"}
	o, err := acts.RecordConsent(ctx, ci)
	require.NoError(t, err)
	require.Equal(t, "refused", o.Status)
	snap = snapshot(t, db)
	_, err = acts.RecordConsent(ctx, ci)
	require.NoError(t, err)
	require.Equal(t, snap, snapshot(t, db))
	_, err = acts.RecordConsent(ctx, activities.ConsentInput{RequestID: consent, Decision: "accepted"})
	require.Error(t, err, "a late answer changes nothing")
}

func pqArray(s []string) any { return pq.Array(s) }
