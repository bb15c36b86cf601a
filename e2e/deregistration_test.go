package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

func deregStatus(s *testenv.Stack, id string) string {
	var st string
	_ = s.DB.Get(&st, `SELECT status FROM deregistration_requests WHERE id = $1`, id)
	return st
}

func waitDereg(t *testing.T, s *testenv.Stack, id, want string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, "deregistration "+id+" to be "+want, func() bool { return deregStatus(s, id) == want })
}

func workflowResult(t *testing.T, s *testenv.Stack, wfID string, out any) {
	t.Helper()
	require.NoError(t, s.Temporal.GetWorkflow(testenv.Context(t), wfID, "").Get(testenv.Context(t), out))
}

// C3.5 / C4: a user cancels one service in writing, then deregisters the
// account in writing, confirmed with the password. The document is stored
// unchanged with its hash; after the cooling-off period the services close,
// every session ends, sign-in is refused, the agreement ends with its end
// date; data without a legal retention period is de-identified at once and
// the rest erased when its period ends. The person can then register again
// as a new applicant.
func TestDeregistrationEndToEnd_C3_5_C4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	s.SetSetting("deregistration.cooling_off", 2*time.Second)
	for _, c := range []string{"sign_in_records", "registration_record", "decisions", "deregistration_request"} {
		s.SetRetention(c, 3*time.Second)
	}
	u := s.User(testenv.NewPerson(), "social_insurance_query", "employment_registration")
	staffTok, _ := s.Staff(workflows.RoleAdministrator)
	statement := "本人申请注销账户，理由：已迁出本市。标记" + uuid.NewString()[:8]

	// Who may ask, and bad input changes nothing.
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/me/deregistration", map[string]any{"scope": "account",
		"statement": statement, "password": u.Password}).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/me/deregistration", map[string]any{"scope": "account",
		"statement": statement, "password": u.Password}, testenv.Bearer(staffTok)).Status)
	bad := s.Do("POST", "/v1/me/deregistration", map[string]any{"scope": "services", "services": []string{"pension_claim"},
		"statement": " ", "password": "wrong-password-123"}, testenv.Bearer(u.Token))
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, string(bad.Raw))
	require.ElementsMatch(t, []string{"statement", "services.0", "password"}, bad.DetailFields())
	var n int
	require.NoError(t, s.DB.Get(&n, `SELECT count(*) FROM deregistration_requests`))
	require.Zero(t, n)

	// Cancelling a single service closes that service only.
	svc := s.Expect(s.Do("POST", "/v1/me/deregistration", map[string]any{"scope": "services", "services": []string{"employment_registration"},
		"statement": "取消就业登记服务", "password": u.Password}, testenv.Bearer(u.Token)), http.StatusAccepted)
	waitDereg(t, s, svc.Str("id"), "completed")
	me := s.Expect(s.Do("GET", "/v1/me", nil, testenv.Bearer(u.Token)), http.StatusOK)
	byCode := map[string]string{}
	for _, x := range me.Body["services"].([]any) {
		m := x.(map[string]any)
		byCode[m["code"].(string)] = m["status"].(string)
	}
	require.Equal(t, map[string]string{"social_insurance_query": "open", "employment_registration": "closed"}, byCode)
	require.Equal(t, true, me.Body["agreement"].(map[string]any)["in_force"])

	// The written request to deregister: the receipt carries the hash of
	// the stored document.
	other := s.SignIn(u.IDNumber, u.Password) // a second session, to be ended too
	r := s.Expect(s.Do("POST", "/v1/me/deregistration", map[string]any{"scope": "account", "statement": statement,
		"password": u.Password}, testenv.Bearer(u.Token)), http.StatusAccepted)
	id := r.Str("id")
	require.Equal(t, "/v1/me/deregistration/"+id, r.Header.Get("Location"))
	sum := sha256.Sum256([]byte(r.Str("document")))
	require.Equal(t, hex.EncodeToString(sum[:]), r.Str("content_sha256"))
	require.Contains(t, r.Str("document"), statement)
	require.NotContains(t, r.Str("document"), u.Password)
	var stored string
	require.NoError(t, s.DB.Get(&stored, `SELECT document FROM deregistration_requests WHERE id = $1`, id))
	require.Equal(t, r.Str("document"), stored, "stored unchanged")
	dup := s.Do("POST", "/v1/me/deregistration", map[string]any{"scope": "account", "statement": statement, "password": u.Password},
		testenv.Bearer(u.Token))
	require.Equal(t, http.StatusConflict, dup.Status, string(dup.Raw))

	// The agreement ends after the cooling-off period.
	testenv.Eventually(t, 30*time.Second, "the account to be deregistered", func() bool {
		var st string
		_ = s.DB.Get(&st, `SELECT status FROM accounts WHERE id = $1`, u.AccountID)
		return st == "deregistered"
	})
	view := s.Do("GET", "/v1/me/deregistration/"+id, nil, testenv.Bearer(u.Token))
	require.Equal(t, http.StatusUnauthorized, view.Status, "every session ended")
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/me", nil, testenv.Bearer(other)).Status)
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/sessions", map[string]string{"username": u.IDNumber, "password": u.Password}).Status,
		"sign-in refused")
	var agr struct {
		Until  *time.Time `db:"effective_until"`
		Reason *string    `db:"end_reason"`
	}
	require.NoError(t, s.DB.Get(&agr, `SELECT effective_until, end_reason FROM agreements WHERE account_id = $1`, u.AccountID))
	require.NotNil(t, agr.Until)
	require.Equal(t, "deregistered", *agr.Reason)
	var open int
	require.NoError(t, s.DB.Get(&open, `SELECT count(*) FROM account_services WHERE account_id = $1 AND status <> 'closed'`, u.AccountID))
	require.Zero(t, open)

	// Retention: de-identified at once, erased when the period ends.
	wfID := workflows.DeregistrationWorkflowID(u.AccountID)
	var res workflows.DeregistrationResult
	workflowResult(t, s, wfID, &res)
	require.Equal(t, workflows.DeregErased, res.Status)
	var person struct {
		Name     string `db:"name"`
		IDNumber string `db:"id_number"`
		Mobile   string `db:"mobile"`
		Address  string `db:"address"`
	}
	require.NoError(t, s.DB.Get(&person, `SELECT p.name, p.id_number, p.mobile, p.address FROM people p JOIN accounts a ON a.person_id = p.id
		WHERE a.id = $1`, u.AccountID))
	require.Equal(t, "", person.Name)
	require.NotEqual(t, u.IDNumber, person.IDNumber)
	require.Equal(t, "", person.Mobile)
	for _, q := range []string{
		`SELECT count(*) FROM sign_in_attempts WHERE account_id = $1`,
		`SELECT count(*) FROM sessions WHERE account_id = $1`,
		`SELECT count(*) FROM notices WHERE account_id = $1`,
		`SELECT count(*) FROM retention_steps WHERE account_id = $1 AND done_at IS NULL`,
		`SELECT count(*) FROM deregistration_requests WHERE account_id = $1 AND document <> ''`,
	} {
		require.NoError(t, s.DB.Get(&n, q, u.AccountID))
		require.Zero(t, n, q)
	}
	var actions []string
	require.NoError(t, s.DB.Select(&actions, `SELECT action FROM audit_log WHERE record_kind = 'account' AND record_id = $1 ORDER BY id`, u.AccountID))
	for _, want := range []string{"account.services_cancelled", "account.deregistration_requested", "account.deregistration_cooling_off",
		"account.services_closed", "account.sessions_ended", "account.deregistered", "agreement.ended",
		"account.retention_deidentified", "account.retention_erased"} {
		require.Contains(t, actions, want)
	}

	// A deregistered person can register again as a new applicant.
	again := s.User(u.Person, "social_insurance_query")
	require.NotEqual(t, u.AccountID, again.AccountID)

	AssertNoSecretsInHistory(t, s, []string{wfID, workflows.ServiceCancellationWorkflowID(svc.Str("id"))},
		u.Name, u.IDNumber, u.Mobile, u.Address, u.Password, statement, u.Token)
	SaveHistory(t, s, wfID, "deregistration_erased")
	SaveHistory(t, s, workflows.ServiceCancellationWorkflowID(svc.Str("id")), "service_cancellation")
}

// C3.5: during the cooling-off period the user withdraws the request; the
// account and agreement go on. Only the account holder may withdraw.
func TestDeregistrationWithdrawnDuringCoolingOff_C3_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	u := s.User(testenv.NewPerson(), "social_insurance_query")
	stranger := s.User(testenv.NewPerson())
	r := s.Expect(s.Do("POST", "/v1/me/deregistration", map[string]any{"scope": "account", "statement": "申请注销",
		"password": u.Password}, testenv.Bearer(u.Token)), http.StatusAccepted)
	id := r.Str("id")
	waitDereg(t, s, id, "cooling_off")
	view := s.Expect(s.Do("GET", "/v1/me/deregistration/"+id, nil, testenv.Bearer(u.Token)), http.StatusOK)
	require.NotEmpty(t, view.Str("cooling_off_until"))

	require.Equal(t, http.StatusNotFound, s.Do("POST", "/v1/me/deregistration/"+id+"/withdraw", nil, testenv.Bearer(stranger.Token)).Status)
	require.Equal(t, http.StatusNotFound, s.Do("GET", "/v1/me/deregistration/"+id, nil, testenv.Bearer(stranger.Token)).Status)
	// The list shows the user's own requests only.
	mine := s.Expect(s.Do("GET", "/v1/me/deregistration", nil, testenv.Bearer(u.Token)), http.StatusOK)
	require.Len(t, mine.Body["items"], 1)
	require.Equal(t, id, mine.Body["items"].([]any)[0].(map[string]any)["id"])
	theirs := s.Expect(s.Do("GET", "/v1/me/deregistration", nil, testenv.Bearer(stranger.Token)), http.StatusOK)
	require.Empty(t, theirs.Body["items"])
	w := s.Expect(s.Do("POST", "/v1/me/deregistration/"+id+"/withdraw", nil, testenv.Bearer(u.Token)), http.StatusOK)
	require.Equal(t, workflows.DeregWithdrawn, w.Str("status"))
	require.Equal(t, "withdrawn", deregStatus(s, id))
	require.Equal(t, http.StatusConflict, s.Do("POST", "/v1/me/deregistration/"+id+"/withdraw", nil, testenv.Bearer(u.Token)).Status)

	me := s.Expect(s.Do("GET", "/v1/me", nil, testenv.Bearer(u.Token)), http.StatusOK)
	require.Equal(t, "active", me.Str("account", "status"))
	require.Equal(t, true, me.Body["agreement"].(map[string]any)["in_force"])
	var res workflows.DeregistrationResult
	wfID := workflows.DeregistrationWorkflowID(u.AccountID)
	workflowResult(t, s, wfID, &res)
	require.Equal(t, workflows.DeregWithdrawn, res.Status)
	AssertNoSecretsInHistory(t, s, []string{wfID}, u.Name, u.IDNumber, u.Mobile, u.Address, u.Password, u.Token)
	SaveHistory(t, s, wfID, "deregistration_withdrawn")

	// A new request after a withdrawal starts a new run.
	r2 := s.Expect(s.Do("POST", "/v1/me/deregistration", map[string]any{"scope": "account", "statement": "再次申请注销",
		"password": u.Password}, testenv.Bearer(u.Token)), http.StatusAccepted)
	waitDereg(t, s, r2.Str("id"), "cooling_off")
	s.Expect(s.Do("POST", "/v1/me/deregistration/"+r2.Str("id")+"/withdraw", nil, testenv.Bearer(u.Token)), http.StatusOK)
}

// C3.5 / C2.2 / C2.5: an open fraud or violation case holds the
// deregistration back; the cooling-off period starts when the case closes
// (the case workflow signals; a daily re-check covers a lost signal).
func TestDeregistrationBlockedByOpenCase_C3_5_C2_2(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	s.SetSetting("deregistration.cooling_off", time.Second)
	u := s.User(testenv.NewPerson(), "social_insurance_query")
	caseID := uuid.NewString()
	_, err := s.DB.Exec(`INSERT INTO cases (id, kind, account_id, state) VALUES ($1, 'fraud', $2, 'verifying')`, caseID, u.AccountID)
	require.NoError(t, err)

	r := s.Expect(s.Do("POST", "/v1/me/deregistration", map[string]any{"scope": "account", "statement": "申请注销",
		"password": u.Password}, testenv.Bearer(u.Token)), http.StatusAccepted)
	id := r.Str("id")
	waitDereg(t, s, id, "blocked")
	wfID := workflows.DeregistrationWorkflowID(u.AccountID)
	// The row says blocked when the activity commits; the run takes note in
	// its next task. Wait for that, so that the signal below finds it
	// waiting for the case (a busy machine widens the gap).
	var st workflows.DeregistrationStatus
	testenv.Eventually(t, 30*time.Second, "the run waiting for the case", func() bool {
		v, err := s.Temporal.QueryWorkflow(testenv.Context(t), wfID, "", workflows.QueryStatus)
		return err == nil && v.Get(&st) == nil && st.BlockedByCase
	})
	require.True(t, st.BlockedByCase)
	require.True(t, st.CoolingOffUntil.IsZero(), "no cooling-off period while the case is open")
	me := s.Expect(s.Do("GET", "/v1/me", nil, testenv.Bearer(u.Token)), http.StatusOK)
	require.Equal(t, "active", me.Str("account", "status"))

	// The case closes and its workflow signals.
	_, err = s.DB.Exec(`UPDATE cases SET closed_at = now(), state = 'cleared' WHERE id = $1`, caseID)
	require.NoError(t, err)
	require.NoError(t, s.Temporal.SignalWorkflow(testenv.Context(t), wfID, "", workflows.SignalCaseClosed, caseID))
	waitDereg(t, s, id, "completed")
	var coolingFrom, closedAt time.Time
	require.NoError(t, s.DB.Get(&coolingFrom, `SELECT cooling_off_until FROM deregistration_requests WHERE id = $1`, id))
	require.NoError(t, s.DB.Get(&closedAt, `SELECT closed_at FROM cases WHERE id = $1`, caseID))
	require.True(t, coolingFrom.After(closedAt), "the cooling-off period started after the case closed")
	AssertNoSecretsInHistory(t, s, []string{wfID}, u.Name, u.IDNumber, u.Mobile, u.Address, u.Password, u.Token)
	SaveHistory(t, s, wfID, "deregistration_blocked_then_closed")
}
