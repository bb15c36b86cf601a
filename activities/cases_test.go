package activities_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"hrss-backoffice/activities"
)

// account opens an approved account with two services; it returns the
// account and its ID number.
func account(t *testing.T, acts *activities.Activities, db *sqlx.DB, seq string) (string, string) {
	ctx := context.Background()
	idNo := idNumber("19900101", seq)
	app := submit(t, db, idNo, "1380013"+seq+"0", "social_insurance_query", "employment_registration")
	_, err := acts.AdmitApplication(ctx, app)
	require.NoError(t, err)
	res, err := acts.ApproveApplication(ctx, activities.ApproveInput{ApplicationID: app, ReviewerID: staffID(t, db), PickupWindow: time.Minute})
	require.NoError(t, err)
	return res.AccountID, idNo
}

func openCase(t *testing.T, db *sqlx.DB, kind, accountID, applicationID string) string {
	id := uuid.NewString()
	var acct, app any
	if accountID != "" {
		acct = accountID
	}
	if applicationID != "" {
		app = applicationID
	}
	_, err := db.Exec(`INSERT INTO cases (id, kind, account_id, application_id, state) VALUES ($1, $2, $3, $4, 'reported')`, id, kind, acct, app)
	require.NoError(t, err)
	return id
}

func session(t *testing.T, db *sqlx.DB, accountID string) []byte {
	h := sha256.Sum256([]byte(uuid.NewString()))
	_, err := db.Exec(`INSERT INTO sessions (token_hash, subject_kind, account_id, expires_at) VALUES ($1, 'user', $2, now() + interval '1 hour')`, h[:], accountID)
	require.NoError(t, err)
	return h[:]
}

func caseSnapshot(t *testing.T, db *sqlx.DB) map[string]any {
	out := map[string]any{}
	for _, tbl := range []string{"sanctions", "sanction_events", "case_events", "notices", "audit_log", "registration_blocks"} {
		out[tbl] = count(t, db, "SELECT count(*) FROM "+tbl)
	}
	var states []string
	require.NoError(t, db.Select(&states, `SELECT status || ':' || coalesce(closed_at::text, '') FROM accounts ORDER BY id`))
	out["accounts"] = states
	var svc []string
	require.NoError(t, db.Select(&svc, `SELECT status || ':' || sanction_hold FROM account_services ORDER BY account_id, service_code`))
	out["services"] = svc
	var cases []string
	require.NoError(t, db.Select(&cases, `SELECT state || ':' || coalesce(closed_at::text, '') FROM cases ORDER BY id`))
	out["cases"] = cases
	return out
}

func statusOf(t *testing.T, db *sqlx.DB, accountID string) string {
	return queryString(t, db, `SELECT status FROM accounts WHERE id = $1`, accountID)
}

func services(t *testing.T, db *sqlx.DB, accountID string) []string {
	var out []string
	require.NoError(t, db.Select(&out, `SELECT status FROM account_services WHERE account_id = $1 ORDER BY service_code`, accountID))
	return out
}

// C2.2 / C2.5: a suspension ends every session and pauses the services; a
// cancellation for false data on top closes them, ends the agreement (C4)
// and blocks the ID number. Overturning the cancellation leaves the
// suspension in force; lifting that reopens exactly the held services.
// Each write run twice changes nothing the second time.
func TestSanctionsCombineAndUndoIndependently_C2_2_C2_5_C4(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	acct, idNo := account(t, acts, db, "101")
	s1 := session(t, db, acct)
	violation := openCase(t, db, "violation", acct, "")
	fraud := openCase(t, db, "fraud", acct, "")
	supervisor := staffID(t, db)

	twice := func(name string, fn func() error) {
		require.NoError(t, fn(), name)
		before := caseSnapshot(t, db)
		require.NoError(t, fn(), name+" (retry)")
		require.Equal(t, before, caseSnapshot(t, db), name+": a retry changes nothing")
	}

	susp := activities.ImposeInput{SanctionID: uuid.NewString(), CaseID: violation, AccountID: acct, Kind: "suspension",
		ReasonCode: "C3.4(8)", Clause: "C2.5", ImposedKind: "staff", ImposedBy: staffID(t, db), AppealUntil: time.Now().Add(15 * 24 * time.Hour)}
	twice("impose suspension", func() error { return acts.ImposeSanction(ctx, susp) })
	require.Equal(t, "suspended", statusOf(t, db, acct))
	require.Equal(t, []string{"paused", "paused"}, services(t, db, acct))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM sessions WHERE token_hash = $1 AND revoked_at IS NOT NULL`, s1), "sessions end at once")
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM notices WHERE account_id = $1 AND kind = 'sanction_imposed' AND body_zh LIKE '%申诉%'`, acct),
		"the user is told the reason and how to appeal")
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM audit_log WHERE record_kind = 'account' AND record_id = $1 AND action = 'sanction.suspension_imposed'`, acct))

	cancel := activities.ImposeInput{SanctionID: uuid.NewString(), CaseID: fraud, AccountID: acct, Kind: "cancellation",
		ReasonCode: "false_identity", Clause: "C2.2", Evidence: []string{"doc:1"}, FalseData: true, ImposedKind: "staff",
		ImposedBy: staffID(t, db), AppealUntil: time.Now().Add(15 * 24 * time.Hour)}
	twice("impose cancellation", func() error { return acts.ImposeSanction(ctx, cancel) })
	require.Equal(t, "cancelled", statusOf(t, db, acct))
	require.Equal(t, []string{"closed", "closed"}, services(t, db, acct))
	require.Equal(t, "cancelled", queryString(t, db, `SELECT end_reason FROM agreements WHERE account_id = $1`, acct))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM registration_blocks WHERE id_number = $1`, idNo))

	twice("overturn cancellation", func() error {
		return acts.EndSanction(ctx, activities.EndSanctionInput{SanctionID: cancel.SanctionID, State: "overturned", Via: "appeal",
			ByID: supervisor, ReasonCode: "new_evidence"})
	})
	require.Equal(t, "suspended", statusOf(t, db, acct), "the suspension still holds")
	require.Equal(t, []string{"paused", "paused"}, services(t, db, acct))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM agreements WHERE account_id = $1 AND effective_until IS NULL`, acct), "the agreement is back")
	require.Equal(t, 0, count(t, db, `SELECT count(*) FROM registration_blocks WHERE id_number = $1`, idNo))

	twice("lift suspension", func() error {
		return acts.EndSanction(ctx, activities.EndSanctionInput{SanctionID: susp.SanctionID, State: "lifted", Via: "lift",
			ByID: supervisor, ReasonCode: "supervisor_review"})
	})
	require.Equal(t, "active", statusOf(t, db, acct))
	require.Equal(t, []string{"open", "open"}, services(t, db, acct))
	require.Error(t, acts.EndSanction(ctx, activities.EndSanctionInput{SanctionID: susp.SanctionID, State: "overturned", Via: "appeal", ByID: supervisor}),
		"an ended sanction cannot be ended otherwise")
}

// C2.2: a fraud case against a pending application refuses its approval
// (a final Conflict, the application stays pending) until the case
// closes; an ID number cancelled for false data is refused too.
func TestApprovalRefusedWhileFraudCaseOpenOrIDNumberBlocked_C2_2(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	rev := staffID(t, db)
	app := submit(t, db, idNumber("19900202", "202"), "13900139000")
	_, err := acts.AdmitApplication(ctx, app)
	require.NoError(t, err)
	c := openCase(t, db, "fraud", "", app)
	in := activities.ApproveInput{ApplicationID: app, ReviewerID: rev, PickupWindow: time.Minute}
	_, err = acts.ApproveApplication(ctx, in)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, activities.ErrTypeConflict, appErr.Type())
	require.Equal(t, "pending", queryString(t, db, `SELECT status FROM applications WHERE id = $1`, app))
	require.Equal(t, 0, count(t, db, `SELECT count(*) FROM accounts`))

	// A violation case does not block; a closed fraud case does not either.
	_, err = db.Exec(`UPDATE cases SET closed_at = now(), state = 'cleared' WHERE id = $1`, c)
	require.NoError(t, err)
	res, err := acts.ApproveApplication(ctx, in)
	require.NoError(t, err)
	require.NotEmpty(t, res.AccountID)

	blockedID := idNumber("19900303", "303")
	_, err = db.Exec(`INSERT INTO registration_blocks (id_number, reason) VALUES ($1, 'false_data:test')`, blockedID)
	require.NoError(t, err)
	app2 := submit(t, db, blockedID, "13700137000")
	_, err = acts.AdmitApplication(ctx, app2)
	require.NoError(t, err)
	_, err = acts.ApproveApplication(ctx, activities.ApproveInput{ApplicationID: app2, ReviewerID: rev, PickupWindow: time.Minute})
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, activities.ErrTypeConflict, appErr.Type())
}

// C2.2 / C2.5: the case activities run twice change nothing the second
// time: cross-checks, the notice, deadline steps, the answer, the closing.
// An application cancelled for false data blocks its ID number.
func TestCaseActivitiesAreIdempotent_C2_2_C2_5(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	acct, _ := account(t, acts, db, "404")
	c := openCase(t, db, "fraud", acct, "")
	twice := func(name string, fn func() error) {
		require.NoError(t, fn(), name)
		before := caseSnapshot(t, db)
		require.NoError(t, fn(), name+" (retry)")
		require.Equal(t, before, caseSnapshot(t, db), name+": a retry changes nothing")
	}
	twice("cross-check", func() error { _, err := acts.CrossCheckCase(ctx, c); return err })
	twice("notify", func() error {
		return acts.NotifyCaseOpened(ctx, activities.CaseOpenedInput{CaseID: c, State: "awaiting_answer", Deadline: time.Now().Add(time.Hour), Kind: "fraud"})
	})
	require.Equal(t, "awaiting_answer", queryString(t, db, `SELECT state FROM cases WHERE id = $1`, c))
	twice("escalation", func() error {
		return acts.CaseStep(ctx, activities.CaseStepInput{CaseID: c, Kind: "escalation", Round: 1})
	})
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM notices WHERE staff_role = 'supervisor'`))
	sub := uuid.NewString()
	_, err := db.Exec(`INSERT INTO case_submissions (id, kind, case_id, account_id, body) VALUES ($1, 'answer', $2, $3, '说明')`, sub, c, acct)
	require.NoError(t, err)
	twice("answer", func() error {
		return acts.AcceptCaseSubmission(ctx, activities.CaseSubmissionInput{CaseID: c, SubmissionID: sub, Kind: "answer", State: "awaiting_decision", ActorKind: "user"})
	})
	twice("close", func() error {
		return acts.CloseCase(ctx, activities.CloseCaseInput{CaseID: c, State: "cleared", Outcome: "cleared", DecidedKind: "staff",
			DecidedBy: staffID(t, db), Clause: "C2.2"})
	})
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM cases WHERE id = $1 AND closed_at IS NOT NULL`, c))
	require.Error(t, acts.CloseCase(ctx, activities.CloseCaseInput{CaseID: c, State: "cancelled", Outcome: "cancel", DecidedKind: "staff", Clause: "C2.2"}))

	idNo := idNumber("19900505", "505")
	app := submit(t, db, idNo, "13600136000")
	ac := openCase(t, db, "fraud", "", app)
	twice("cancel application", func() error {
		return acts.CloseCase(ctx, activities.CloseCaseInput{CaseID: ac, State: "cancelled", Outcome: "cancel", DecidedKind: "staff",
			DecidedBy: staffID(t, db), ReasonCode: "false_identity", Clause: "C2.2"})
	})
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM registration_blocks WHERE id_number = $1`, idNo))
}
