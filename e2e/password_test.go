package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/worker"
	"hrss-backoffice/workflows"
)

// shortPickup keeps the pickup window short so that runs end within a test.
var shortPickup = workflows.ServiceLevel{PickupWindow: 2 * time.Second}

func actions(t *testing.T, r testenv.Response) []string {
	t.Helper()
	var out []string
	items, _ := r.Body["items"].([]any)
	for _, it := range items {
		out = append(out, it.(map[string]any)["action"].(string))
	}
	return out
}

func noticeKinds(t *testing.T, s *testenv.Stack, accountID string) []string {
	t.Helper()
	var kinds []string
	require.NoError(t, s.DB.Select(&kinds, `SELECT kind FROM notices WHERE account_id = $1 ORDER BY created_at, kind`, accountID))
	return kinds
}

// waitForResult waits for a workflow to complete and decodes its result.
func waitForResult(t *testing.T, s *testenv.Stack, wfID string, out any) {
	t.Helper()
	require.NoError(t, s.Temporal.GetWorkflow(testenv.Context(t), wfID, "").Get(testenv.Context(t), out))
}

// captureLogs collects the stack's logs; a failed test shows their errors.
func captureLogs(t *testing.T) *testenv.LogBuffer {
	logs := &testenv.LogBuffer{}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, `"level":"ERROR"`) {
				t.Log(line)
			}
		}
	})
	return logs
}

// assertNoSecretsInLogs fails if any marker appears in the captured logs.
func assertNoSecretsInLogs(t *testing.T, logs *testenv.LogBuffer, markers ...string) {
	t.Helper()
	out := logs.String()
	require.NotEmpty(t, out, "the logs were not captured")
	for _, m := range markers {
		if m != "" && strings.Contains(out, m) {
			t.Errorf("the logs contain a password, hash or personal data (%q…)", m[:min(len(m), 3)])
		}
	}
}

// hashesOf reads the stored password hashes of an account and the staff,
// to search histories and logs for them too.
func hashesOf(t *testing.T, s *testenv.Stack) []string {
	t.Helper()
	var hashes []string
	require.NoError(t, s.DB.Select(&hashes, `SELECT password_hash FROM accounts UNION ALL SELECT password_hash FROM staff`))
	var out []string
	for _, h := range hashes {
		if !strings.HasPrefix(h, "$") {
			continue // no hash (an initial password not yet picked up)
		}
		// The salt and key parts: the variable, secret-bearing bits.
		parts := strings.Split(h, "$")
		out = append(out, parts[len(parts)-2], parts[len(parts)-1])
	}
	return out
}

// C3.3(3): a user reports a compromise; the account is locked at once and
// every session ends; further reports (staff on the caller's behalf, an
// anonymous one) are recorded; the lock lifts only with the in-person reset
// by a reviewer, whose new initial password is picked up once and must be
// changed at next sign-in. No password, hash or personal data reaches a
// history or a log.
func TestCompromiseLocksUntilInPersonReset_C3_3_3(t *testing.T) {
	logs := captureLogs(t)
	s := testenv.Start(t, testenv.Options{ServiceLevel: shortPickup, LogTo: logs})
	reviewer, reviewerID := s.Staff(workflows.RoleReviewer)
	otherReviewer, _ := s.Staff(workflows.RoleReviewer)
	auditor, _ := s.Staff(workflows.RoleAuditor)
	termsEditor, _ := s.Staff(workflows.RoleTermsEditor)
	u := s.NewUser(reviewer)
	second := s.SignIn(u.IDNumber, u.Password)

	// Staff cannot use the user's own report endpoint.
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/me/security-reports", map[string]string{}, testenv.Bearer(auditor)).Status)
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/me/security-reports", map[string]string{}).Status)

	r := s.Expect(s.Do("POST", "/v1/me/security-reports", map[string]string{"description": "我的账户出现了我没有办理的业务"},
		testenv.Bearer(u.Token)), http.StatusAccepted)
	require.Equal(t, "locked", r.Str("status"))
	require.Equal(t, "/v1/me/activity", r.Header.Get("Location"))
	reportID := r.Str("id")

	// Locked at once: both sessions are gone; the right password is told
	// where to go, a wrong one gets the generic answer.
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/me", nil, testenv.Bearer(u.Token)).Status)
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/me", nil, testenv.Bearer(second)).Status)
	locked := s.Do("POST", "/v1/sessions", map[string]string{"username": u.IDNumber, "password": u.Password})
	require.Equal(t, http.StatusForbidden, locked.Status)
	require.Equal(t, "account_locked", locked.ErrorCode())
	wrong := s.Do("POST", "/v1/sessions", map[string]string{"username": u.IDNumber, "password": "Not-The-Password-1"})
	require.Equal(t, http.StatusUnauthorized, wrong.Status)
	require.Equal(t, "sign_in_failed", wrong.ErrorCode())
	var lockedAt *time.Time
	require.NoError(t, s.DB.Get(&lockedAt, `SELECT compromise_locked_at FROM accounts WHERE id = $1`, u.AccountID))
	require.NotNil(t, lockedAt)

	// The caller phones in: a reviewer reports again on the caller's behalf
	// (recorded; still one workflow). Roles without counter duty are refused.
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/accounts/"+u.AccountID+"/security-reports",
		map[string]string{"description": "来电报告"}, testenv.Bearer(termsEditor)).Status)
	again := s.Expect(s.Do("POST", "/v1/accounts/"+u.AccountID+"/security-reports", map[string]string{"description": "来电报告"},
		testenv.Bearer(reviewer)), http.StatusAccepted)
	require.Equal(t, "locked", again.Str("status"))
	require.NotEqual(t, reportID, again.Str("id"))
	require.Equal(t, http.StatusNotFound, s.Do("POST", "/v1/accounts/00000000-0000-4000-8000-000000000000/security-reports",
		map[string]string{"description": "x"}, testenv.Bearer(reviewer)).Status)

	wfID := workflows.CompromiseWorkflowID(u.AccountID)
	q, err := s.Temporal.QueryWorkflow(testenv.Context(t), wfID, "", workflows.QueryStatus)
	require.NoError(t, err)
	var st workflows.CompromiseStatus
	require.NoError(t, q.Get(&st))
	require.Equal(t, workflows.StatusLocked, st.Status)
	require.Equal(t, 2, st.Reports)

	// The in-person reset: wrong roles and an unchecked document are
	// refused and change nothing.
	reset := map[string]any{"identity_document": "resident_id_card", "document_checked": true, "office": "黄浦区社保中心"}
	for _, tok := range []string{auditor, termsEditor} {
		require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/accounts/"+u.AccountID+"/password-reset", reset, testenv.Bearer(tok)).Status)
	}
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/accounts/"+u.AccountID+"/password-reset", reset).Status)
	unchecked := s.Do("POST", "/v1/accounts/"+u.AccountID+"/password-reset",
		map[string]any{"identity_document": "resident_id_card", "document_checked": false}, testenv.Bearer(reviewer))
	require.Equal(t, http.StatusUnprocessableEntity, unchecked.Status)
	require.ElementsMatch(t, []string{"document_checked", "office"}, unchecked.DetailFields())
	var resets int
	require.NoError(t, s.DB.Get(&resets, `SELECT count(*) FROM password_resets`))
	require.Zero(t, resets)

	done := s.Expect(s.Do("POST", "/v1/accounts/"+u.AccountID+"/password-reset", reset, testenv.Bearer(reviewer)), http.StatusCreated)
	require.Equal(t, "issued", done.Str("status"))
	require.Equal(t, true, done.Body["lifted_compromise"])
	require.Equal(t, "黄浦区社保中心", done.Str("office"))
	pickup := done.Header.Get("Location")
	require.Equal(t, "/v1/password-resets/"+done.Str("id")+"/initial-password", pickup)
	// A second reset while the first is done: the lock is gone, the workflow
	// is finishing; a plain reset is possible but not needed here.

	require.Equal(t, http.StatusForbidden, s.Do("POST", pickup, nil, testenv.Bearer(otherReviewer)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", pickup, nil, testenv.Bearer(auditor)).Status)
	pw := s.Expect(s.Do("POST", pickup, nil, testenv.Bearer(reviewer)), http.StatusOK)
	newInitial := pw.Str("initial_password")
	require.Equal(t, u.IDNumber, pw.Str("username"))
	require.Equal(t, http.StatusGone, s.Do("POST", pickup, nil, testenv.Bearer(reviewer)).Status)

	// The old password is gone; the new initial one must be changed first.
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/sessions", map[string]string{"username": u.IDNumber, "password": u.Password}).Status)
	tok := s.SignIn(u.IDNumber, newInitial)
	require.Equal(t, "password_change_required", s.Do("GET", "/v1/me/activity", nil, testenv.Bearer(tok)).ErrorCode())
	final := "After-Reset-Passphrase-77"
	s.ChangePassword(tok, newInitial, final)

	// The user's activity record shows it all, newest first; staff appear
	// as a role.
	act := s.Expect(s.Do("GET", "/v1/me/activity", nil, testenv.Bearer(tok)), http.StatusOK)
	got := actions(t, act)
	require.Equal(t, "password.changed", got[0])
	for _, want := range []string{"sign_in.success", "password.reset_in_person", "account.compromise_lock_lifted",
		"account.compromise_reported_again", "account.locked_for_compromise", "sign_in.locked", "sign_in.failed", "account.opened"} {
		require.Contains(t, got, want)
	}
	require.NotContains(t, string(act.Raw), reviewerID, "the user sees staff as a role")
	// Staff see the reviewer and the office.
	staffView := s.Expect(s.Do("GET", "/v1/accounts/"+u.AccountID+"/activity", nil, testenv.Bearer(auditor)), http.StatusOK)
	require.Contains(t, string(staffView.Raw), reviewerID)
	require.Contains(t, string(staffView.Raw), "黄浦区社保中心")
	require.Contains(t, noticeKinds(t, s, u.AccountID), "compromise_locked")
	require.Contains(t, noticeKinds(t, s, u.AccountID), "password_reset")

	var res workflows.CompromiseResult
	waitForResult(t, s, wfID, &res)
	require.Equal(t, workflows.StatusReset, res.Status)
	var destroyed int
	require.NoError(t, s.DB.Get(&destroyed, `SELECT count(*) FROM credential_pickups WHERE ciphertext IS NOT NULL`))
	require.Zero(t, destroyed)

	markers := append([]string{u.Name, u.IDNumber, u.Mobile, u.Address, u.Initial, u.Password, newInitial, final, u.Token, tok, second},
		hashesOf(t, s)...)
	AssertNoSecretsInHistory(t, s, []string{wfID, workflows.RegistrationWorkflowID(u.ApplicationID)}, markers...)
	assertNoSecretsInLogs(t, logs, markers...)
	// Positive controls: the scans read the right material.
	js, err := protojson.Marshal(history(t, s, wfID))
	require.NoError(t, err)
	require.Contains(t, string(js), u.AccountID)
	require.Contains(t, string(js), "LockForCompromise")
	require.Contains(t, logs.String(), "/v1/me/security-reports")
	SaveHistory(t, s, wfID, "compromise_reset")
}

// C3.3(2): a reviewer resets a forgotten password at the counter after an
// identity check: the staff member and office are recorded, the new
// initial password is picked up once and must be changed at next sign-in,
// and the unpicked copy is destroyed when the window passes.
func TestInPersonResetAtCounter_C3_3_2(t *testing.T) {
	logs := captureLogs(t)
	s := testenv.Start(t, testenv.Options{ServiceLevel: shortPickup, LogTo: logs})
	reviewer, reviewerID := s.Staff(workflows.RoleReviewer)
	investigator, _ := s.Staff(workflows.RoleInvestigator)
	u := s.NewUser(reviewer)

	reset := map[string]any{"identity_document": "passport", "document_checked": true, "office": "静安区服务窗口", "note": "本人遗忘密码"}
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/accounts/"+u.AccountID+"/password-reset", reset, testenv.Bearer(investigator)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/accounts/"+u.AccountID+"/password-reset", reset, testenv.Bearer(s.Admin())).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/accounts/"+u.AccountID+"/password-reset", reset, testenv.Bearer(u.Token)).Status)
	require.Equal(t, http.StatusNotFound, s.Do("POST", "/v1/accounts/00000000-0000-4000-8000-000000000000/password-reset", reset, testenv.Bearer(reviewer)).Status)
	bad := s.Do("POST", "/v1/accounts/"+u.AccountID+"/password-reset", map[string]any{"identity_document": "library_card", "document_checked": true}, testenv.Bearer(reviewer))
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status)

	r := s.Expect(s.Do("POST", "/v1/accounts/"+u.AccountID+"/password-reset", reset, testenv.Bearer(reviewer)), http.StatusCreated)
	require.Equal(t, false, r.Body["lifted_compromise"])
	resetID := r.Str("id")
	// Every session ended with the reset.
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/me", nil, testenv.Bearer(u.Token)).Status)

	// Staff member and office are on record.
	var rec struct {
		StaffID string `db:"staff_id"`
		Office  string `db:"office"`
		Status  string `db:"status"`
	}
	require.NoError(t, s.DB.Get(&rec, `SELECT staff_id, office, status FROM password_resets WHERE id = $1`, resetID))
	require.Equal(t, reviewerID, rec.StaffID)
	require.Equal(t, "静安区服务窗口", rec.Office)
	require.Equal(t, "issued", rec.Status)
	var auditDetail []byte
	require.NoError(t, s.DB.Get(&auditDetail, `SELECT detail FROM audit_log WHERE action = 'password.reset_in_person' AND record_id = $1 AND actor_id = $2`,
		u.AccountID, reviewerID))
	require.Contains(t, string(auditDetail), "静安区服务窗口")

	pw := s.Expect(s.Do("POST", "/v1/password-resets/"+resetID+"/initial-password", nil, testenv.Bearer(reviewer)), http.StatusOK).Str("initial_password")
	tok := s.SignIn(u.IDNumber, pw)
	me := s.Do("GET", "/v1/me", nil, testenv.Bearer(tok))
	require.Equal(t, "password_change_required", me.ErrorCode())
	s.ChangePassword(tok, pw, "Counter-Reset-Then-Changed-5")

	// A second reset whose password nobody picks up: destroyed after the window.
	r2 := s.Expect(s.Do("POST", "/v1/accounts/"+u.AccountID+"/password-reset", reset, testenv.Bearer(reviewer)), http.StatusCreated)
	var res workflows.ResetResult
	waitForResult(t, s, workflows.PasswordResetWorkflowID(r2.Str("id")), &res)
	require.Equal(t, workflows.StatusIssued, res.Status)
	gone := s.Do("POST", "/v1/password-resets/"+r2.Str("id")+"/initial-password", nil, testenv.Bearer(reviewer))
	require.Equal(t, http.StatusGone, gone.Status)
	require.Equal(t, "pickup_expired", gone.ErrorCode())

	wfID := workflows.PasswordResetWorkflowID(resetID)
	waitForResult(t, s, wfID, &res)
	markers := append([]string{u.Name, u.IDNumber, u.Mobile, u.Address, u.Initial, u.Password, pw, "Counter-Reset-Then-Changed-5", u.Token, tok},
		hashesOf(t, s)...)
	AssertNoSecretsInHistory(t, s, []string{wfID, workflows.PasswordResetWorkflowID(r2.Str("id"))}, markers...)
	assertNoSecretsInLogs(t, logs, markers...)
	SaveHistory(t, s, wfID, "password_reset_issued")
}

// C3.3(3) / C3.4(8): someone who cannot sign in reports by ID number and
// mobile number; the answer is the same whatever the ID number; only a
// match locks (after the answer); reports are rate-limited per ID number
// and mobile number.
func TestAnonymousReportAnswersAlikeAndIsRateLimited_C3_3_3(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	stranger := testenv.NewPerson()

	unknown := s.Expect(s.Do("POST", "/v1/security-reports", map[string]string{"id_number": stranger.IDNumber, "mobile": stranger.Mobile}), http.StatusAccepted)
	wrongMobile := s.Expect(s.Do("POST", "/v1/security-reports", map[string]string{"id_number": u.IDNumber, "mobile": stranger.Mobile}), http.StatusAccepted)
	require.Equal(t, unknown.Body, wrongMobile.Body)
	// The wrong mobile number locked nothing.
	require.Equal(t, http.StatusOK, s.Do("GET", "/v1/me", nil, testenv.Bearer(u.Token)).Status)

	match := s.Expect(s.Do("POST", "/v1/security-reports", map[string]string{"id_number": strings.ToLower(u.IDNumber), "mobile": u.Mobile,
		"description": "手机丢失"}), http.StatusAccepted)
	require.Equal(t, unknown.Body, match.Body, "the same answer whatever the ID number")
	testenv.Eventually(t, 20*time.Second, "the account locked after the answer", func() bool {
		return s.Do("GET", "/v1/me", nil, testenv.Bearer(u.Token)).Status == http.StatusUnauthorized
	})

	// Three reports per ID number and mobile number per hour, then 429
	// alike for any number.
	for range 2 {
		s.Expect(s.Do("POST", "/v1/security-reports", map[string]string{"id_number": u.IDNumber, "mobile": u.Mobile}), http.StatusAccepted)
	}
	limited := s.Do("POST", "/v1/security-reports", map[string]string{"id_number": u.IDNumber, "mobile": u.Mobile})
	require.Equal(t, http.StatusTooManyRequests, limited.Status)
	for range 2 {
		s.Expect(s.Do("POST", "/v1/security-reports", map[string]string{"id_number": stranger.IDNumber, "mobile": stranger.Mobile}), http.StatusAccepted)
	}
	limitedStranger := s.Do("POST", "/v1/security-reports", map[string]string{"id_number": stranger.IDNumber, "mobile": stranger.Mobile})
	require.Equal(t, limited.Status, limitedStranger.Status)
	require.Equal(t, limited.ErrorCode(), limitedStranger.ErrorCode())
	invalid := s.Do("POST", "/v1/security-reports", map[string]string{"id_number": "123", "mobile": "1"})
	require.Equal(t, http.StatusUnprocessableEntity, invalid.Status)
	require.ElementsMatch(t, []string{"id_number", "mobile"}, invalid.DetailFields())

	wfID := workflows.CompromiseWorkflowID(u.AccountID)
	AssertNoSecretsInHistory(t, s, []string{wfID}, u.Name, u.IDNumber, u.Mobile, u.Address, u.Password, u.Token, "手机丢失")
	SaveHistory(t, s, wfID, "compromise_locked_anonymous")
}

// C3.3(2): the online change: old password required, every policy rule
// with its own error code, every other session ends, the user is told.
func TestOnlineChangePolicyAndSessions_C3_3_2(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	other := s.SignIn(u.IDNumber, u.Password)

	code := func(newPw string) []string {
		r := s.Do("PUT", "/v1/me/password", map[string]string{"old_password": u.Password, "new_password": newPw}, testenv.Bearer(u.Token))
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Raw))
		var body struct {
			Error struct {
				Details []struct{ Field, Code string }
			}
		}
		require.NoError(t, json.Unmarshal(r.Raw, &body))
		var codes []string
		for _, d := range body.Error.Details {
			require.Equal(t, "new_password", d.Field)
			codes = append(codes, d.Code)
		}
		return codes
	}
	require.Equal(t, []string{"password_length"}, code("Sh0rt-pw"))
	require.Equal(t, []string{"password_contains_personal_data"}, code("My-id-"+strings.ToLower(u.IDNumber)))
	require.Equal(t, []string{"password_contains_personal_data"}, code("Call-me-"+u.Mobile))
	require.Equal(t, []string{"password_contains_personal_data"}, code(u.Name+"-Secret-Words"))
	require.Equal(t, []string{"password_common"}, code("qwertyuiop"))
	require.Equal(t, []string{"password_common"}, code("Password2026!"))
	require.Equal(t, []string{"password_common"}, code("1234567890"))
	require.Equal(t, []string{"password_length", "password_common"}, code("abc123"))
	require.Equal(t, []string{"password_unchanged"}, code(u.Password))
	wrongOld := s.Do("PUT", "/v1/me/password", map[string]string{"old_password": "Not-My-Password-1", "new_password": "Fresh-Strong-Words-8"}, testenv.Bearer(u.Token))
	require.Equal(t, http.StatusUnauthorized, wrongOld.Status)
	require.Equal(t, "wrong_password", wrongOld.ErrorCode())
	require.Equal(t, http.StatusOK, s.Do("GET", "/v1/me", nil, testenv.Bearer(other)).Status, "refused changes end nothing")

	s.ChangePassword(u.Token, u.Password, "Fresh-Strong-Words-8")
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/me", nil, testenv.Bearer(other)).Status)
	require.Equal(t, http.StatusOK, s.Do("GET", "/v1/me", nil, testenv.Bearer(u.Token)).Status)
	require.Contains(t, noticeKinds(t, s, u.AccountID), "password_changed")
	act := actions(t, s.Expect(s.Do("GET", "/v1/me/activity", nil, testenv.Bearer(u.Token)), http.StatusOK))
	require.Equal(t, "password.changed", act[0])
	require.Contains(t, act, "sign_in.wrong_old_password")
	AssertNoSecretsInHistory(t, s, []string{workflows.RegistrationWorkflowID(u.ApplicationID)},
		u.Name, u.IDNumber, u.Mobile, u.Initial, u.Password, "Fresh-Strong-Words-8", u.Token, other)
}

// C3.4(8): repeated failures lock sign-in to the account for a while and
// tell the user; an ID number without an account answers exactly alike.
func TestSignInLockWithNoticeAndNoAccountDisclosure_C3_4_8(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	nobody := testenv.NewPerson().IDNumber

	var answers [2][]testenv.Response
	for i, id := range []string{u.IDNumber, nobody} {
		for range 6 {
			answers[i] = append(answers[i], s.Do("POST", "/v1/sessions", map[string]string{"username": id, "password": "Guess-Guess-Guess-1"}))
		}
	}
	for n := range 6 {
		a, b := answers[0][n], answers[1][n]
		require.Equal(t, a.Status, b.Status, "attempt %d", n+1)
		require.Equal(t, a.ErrorCode(), b.ErrorCode())
		require.Equal(t, a.Str("error", "message_en"), b.Str("error", "message_en"))
		require.Equal(t, a.Header.Get("Retry-After"), b.Header.Get("Retry-After"))
	}
	require.Equal(t, http.StatusUnauthorized, answers[0][4].Status)
	require.Equal(t, http.StatusTooManyRequests, answers[0][5].Status)
	// Even the right password waits out the lock.
	require.Equal(t, http.StatusTooManyRequests, s.Do("POST", "/v1/sessions", map[string]string{"username": u.IDNumber, "password": u.Password}).Status)
	// One notice to the user, and the lock on record.
	kinds := noticeKinds(t, s, u.AccountID)
	n := 0
	for _, k := range kinds {
		if k == "sign_in_locked" {
			n++
		}
	}
	require.Equal(t, 1, n)
	act := actions(t, s.Expect(s.Do("GET", "/v1/me/activity?limit=200", nil, testenv.Bearer(u.Token)), http.StatusOK))
	require.Equal(t, "sign_in.throttled", act[0])
	require.Contains(t, act, "account.sign_in_locked")
	require.Contains(t, act, "sign_in.failed")
	AssertNoSecretsInHistory(t, s, []string{workflows.RegistrationWorkflowID(u.ApplicationID)},
		u.Name, u.IDNumber, u.Mobile, u.Initial, u.Password, u.Token)
}

// C3.3(2): the one password-age workflow sweeps every account in pages and
// reminds those whose password is too old, again at the interval, until a
// change; it is one workflow for all accounts, not a timer per account.
func TestPasswordAgeRemindersSweepAllAccounts_C3_3_2(t *testing.T) {
	logs := captureLogs(t)
	s := testenv.Start(t, testenv.Options{LogTo: logs})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	users := []testenv.User{s.NewUser(reviewer), s.NewUser(reviewer), s.NewUser(reviewer)}
	// Two passwords are old, one is fresh.
	for _, u := range users[:2] {
		_, err := s.DB.Exec(`UPDATE accounts SET password_changed_at = now() - interval '200 days' WHERE id = $1`, u.AccountID)
		require.NoError(t, err)
	}
	settings := workflows.PasswordSettings{MaxAge: 180 * 24 * time.Hour, RemindEvery: 3 * time.Second, SweepEvery: time.Second, PageSize: 1}
	require.NoError(t, worker.EnsurePasswordAgeReminder(testenv.Context(t), s.Temporal, s.TaskQueue, settings))
	// Ensuring twice keeps one workflow.
	require.NoError(t, worker.EnsurePasswordAgeReminder(testenv.Context(t), s.Temporal, s.TaskQueue, settings))
	wfID := workflows.PasswordAgeWorkflowID(s.TaskQueue)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Temporal.TerminateWorkflow(ctx, wfID, "", "test over")
	})

	reminders := func(accountID string) int {
		var n int
		require.NoError(t, s.DB.Get(&n, `SELECT count(*) FROM notices WHERE account_id = $1 AND kind = 'password_age'`, accountID))
		return n
	}
	testenv.Eventually(t, 20*time.Second, "a first reminder for both old passwords", func() bool {
		return reminders(users[0].AccountID) >= 1 && reminders(users[1].AccountID) >= 1
	})
	require.Zero(t, reminders(users[2].AccountID), "a fresh password gets no reminder")
	testenv.Eventually(t, 20*time.Second, "a repeated reminder", func() bool { return reminders(users[0].AccountID) >= 2 })

	// A change stops the reminders for that user.
	s.ChangePassword(users[0].Token, users[0].Password, "Changed-After-Reminder-3")
	stopped := reminders(users[0].AccountID)
	before := reminders(users[1].AccountID)
	testenv.Eventually(t, 20*time.Second, "another reminder for the unchanged password", func() bool {
		return reminders(users[1].AccountID) >= before+1
	})
	require.Equal(t, stopped, reminders(users[0].AccountID))

	q, err := s.Temporal.QueryWorkflow(testenv.Context(t), wfID, "", workflows.QueryStatus)
	require.NoError(t, err)
	var st workflows.PasswordAgeStatus
	require.NoError(t, q.Get(&st))
	require.GreaterOrEqual(t, st.Sweeps, 3)
	require.GreaterOrEqual(t, st.TotalReminded, 4)
	var audits int
	require.NoError(t, s.DB.Get(&audits, `SELECT count(*) FROM audit_log WHERE action = 'password.age_reminder' AND record_kind = 'account'`))
	require.GreaterOrEqual(t, audits, 4)
	// One workflow of its kind for the whole deployment.
	resp, err := s.Temporal.ListWorkflow(testenv.Context(t), listRequest(`WorkflowId = "`+wfID+`" AND ExecutionStatus = "Running"`))
	require.NoError(t, err)
	require.LessOrEqual(t, len(resp.Executions), 1)

	var markers []string
	for _, u := range users {
		markers = append(markers, u.Name, u.IDNumber, u.Mobile, u.Password, u.Initial, u.Token)
	}
	markers = append(markers, hashesOf(t, s)...)
	AssertNoSecretsInHistory(t, s, []string{wfID}, markers...)
	assertNoSecretsInLogs(t, logs, markers...)
	SaveHistory(t, s, wfID, "password_age_sweeps")
}

// C3.2 / C3.3(4): contact data change at once; a name or ID number change
// is a request a reviewer decides, the old values kept; the activity record
// shows every step, newest first, in pages; staff read the same.
func TestDataChangesAndActivityRecord_C3_2_C3_3_4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, reviewerID := s.Staff(workflows.RoleReviewer)
	termsEditor, _ := s.Staff(workflows.RoleTermsEditor)
	auditor, _ := s.Staff(workflows.RoleAuditor)
	u := s.NewUser(reviewer)
	other := s.NewUser(reviewer)
	bearer := testenv.Bearer(u.Token)

	// Contact data: at once, old values kept.
	bad := s.Do("PATCH", "/v1/me", map[string]string{"mobile": "123", "name": "新名字"}, bearer)
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
	require.ElementsMatch(t, []string{"mobile", "name"}, bad.DetailFields())
	require.Equal(t, http.StatusForbidden, s.Do("PATCH", "/v1/me", map[string]string{"address": "上海市徐汇区漕溪北路88号"}, testenv.Bearer(reviewer)).Status)
	newMobile := "13700001111"
	ch := s.Expect(s.Do("PATCH", "/v1/me", map[string]string{"mobile": newMobile, "address": "上海市徐汇区漕溪北路88号"}, bearer), http.StatusOK)
	require.ElementsMatch(t, []any{"mobile", "address"}, ch.Body["changed"])
	me := s.Expect(s.Do("GET", "/v1/me", nil, bearer), http.StatusOK)
	require.Equal(t, newMobile, me.Str("account", "mobile"))
	var old []byte
	require.NoError(t, s.DB.Get(&old, `SELECT old_values FROM data_changes WHERE account_id = $1 AND kind = 'contact'`, u.AccountID))
	require.Contains(t, string(old), u.Mobile)

	// Name change: a request, decided by a reviewer.
	newName := "王新名"
	req := s.Expect(s.Do("POST", "/v1/me/data-changes", map[string]string{"name": newName, "note": "已办理更名"}, bearer), http.StatusAccepted)
	changeID := req.Str("id")
	require.Equal(t, "/v1/data-changes/"+changeID, req.Header.Get("Location"))
	require.Equal(t, http.StatusConflict, s.Do("POST", "/v1/me/data-changes", map[string]string{"name": "王另名"}, bearer).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/me/data-changes", map[string]string{"name": "王另名"}, testenv.Bearer(reviewer)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/accounts/"+u.AccountID+"/security-reports",
		map[string]string{"description": "x"}, bearer).Status, "users cannot file staff reports")
	require.Equal(t, http.StatusNotFound, s.Do("GET", "/v1/data-changes/"+changeID, nil, testenv.Bearer(other.Token)).Status)
	require.Equal(t, http.StatusOK, s.Do("GET", "/v1/data-changes/"+changeID, nil, bearer).Status)
	queue := s.Expect(s.Do("GET", "/v1/review/data-changes", nil, testenv.Bearer(reviewer)), http.StatusOK)
	require.Len(t, queue.Body["items"], 1)
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/review/data-changes", nil, testenv.Bearer(termsEditor)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/data-changes/"+changeID+"/decision", map[string]string{"decision": "approve"}, testenv.Bearer(auditor)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/data-changes/"+changeID+"/decision", map[string]string{"decision": "approve"}, bearer).Status)
	require.Equal(t, http.StatusUnprocessableEntity, s.Do("POST", "/v1/data-changes/"+changeID+"/decision", map[string]string{"decision": "reject"}, testenv.Bearer(reviewer)).Status)
	dec := s.Expect(s.Do("POST", "/v1/data-changes/"+changeID+"/decision", map[string]string{"decision": "approve"}, testenv.Bearer(reviewer)), http.StatusOK)
	require.Equal(t, "approved", dec.Str("status"))
	require.Equal(t, http.StatusConflict, s.Do("POST", "/v1/data-changes/"+changeID+"/decision", map[string]string{"decision": "reject", "reason": "重复"}, testenv.Bearer(reviewer)).Status)
	me = s.Expect(s.Do("GET", "/v1/me", nil, bearer), http.StatusOK)
	require.Equal(t, newName, me.Str("account", "name"))
	view := s.Expect(s.Do("GET", "/v1/data-changes/"+changeID, nil, bearer), http.StatusOK)
	require.Equal(t, u.Name, view.Body["old_values"].(map[string]any)["name"])

	// ID number change, rejected with a reason the user reads.
	newID := testenv.NewPerson().IDNumber
	req2 := s.Expect(s.Do("POST", "/v1/me/data-changes", map[string]string{"id_number": newID}, bearer), http.StatusAccepted)
	s.Expect(s.Do("POST", "/v1/data-changes/"+req2.Str("id")+"/decision", map[string]string{"decision": "reject", "reason": "证件不符"}, testenv.Bearer(reviewer)), http.StatusOK)
	view = s.Expect(s.Do("GET", "/v1/data-changes/"+req2.Str("id"), nil, bearer), http.StatusOK)
	require.Equal(t, "rejected", view.Str("status"))
	require.Equal(t, "证件不符", view.Str("reason"))

	// The activity record, newest first, in pages of 3, ends with the
	// registration itself.
	var all []string
	cursor := ""
	for page := 0; page < 20; page++ {
		path := "/v1/me/activity?limit=3"
		if cursor != "" {
			path += "&after=" + cursor
		}
		r := s.Expect(s.Do("GET", path, nil, bearer), http.StatusOK)
		all = append(all, actions(t, r)...)
		if cursor = r.Str("next_cursor"); cursor == "" {
			break
		}
	}
	require.Equal(t, "registration_data.change_rejected", all[0])
	require.Equal(t, "application.submitted", all[len(all)-1])
	for _, want := range []string{"registration_data.change_requested", "registration_data.change_approved",
		"registration_data.contact_changed", "application.approved", "password.changed", "sign_in.success"} {
		require.Contains(t, all, want)
	}
	require.Equal(t, http.StatusUnprocessableEntity, s.Do("GET", "/v1/me/activity?after=garbage", nil, bearer).Status)
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/me/activity", nil, testenv.Bearer(reviewer)).Status)

	// Staff read the same record; a terms editor or a user may not.
	staff := s.Expect(s.Do("GET", "/v1/accounts/"+u.AccountID+"/activity?limit=200", nil, testenv.Bearer(auditor)), http.StatusOK)
	staffActions := actions(t, staff)
	require.Equal(t, all, staffActions[:len(all)], "staff see the same entries")
	require.Contains(t, string(staff.Raw), reviewerID)
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/accounts/"+u.AccountID+"/activity", nil, testenv.Bearer(termsEditor)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/accounts/"+u.AccountID+"/activity", nil, testenv.Bearer(other.Token)).Status)
	require.Equal(t, http.StatusNotFound, s.Do("GET", "/v1/accounts/00000000-0000-4000-8000-000000000000/activity", nil, testenv.Bearer(auditor)).Status)

	wfID := workflows.DataChangeWorkflowID(changeID)
	var res workflows.DataChangeResult
	waitForResult(t, s, wfID, &res)
	require.Equal(t, "approved", res.Status)
	AssertNoSecretsInHistory(t, s, []string{wfID, workflows.DataChangeWorkflowID(req2.Str("id"))},
		u.Name, newName, u.IDNumber, newID, u.Mobile, newMobile, u.Address, "漕溪北路", u.Password, u.Token)
	SaveHistory(t, s, wfID, "data_change_approved")
}
