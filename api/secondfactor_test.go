package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C1.4 / C3.3(1): a staff member without a second factor (here the
// bootstrap administrator) gets a session that may only change the
// password, read GET /v1/me and enrol; confirming the factor makes that
// same session a full one and hands out ten recovery codes once. From then
// on a right password answers a challenge, not a session; the code (6
// digits, SHA-1, 30 s) opens it, a code is accepted once, a recovery code
// works once, and nothing secret is stored in clear.
func TestStaffSecondFactorEnrolmentAndSignIn_C1_4_C3_3_1(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	signIn := func(pw string) testenv.Response {
		return s.Do("POST", "/v1/sessions", map[string]string{"username": testenv.AdminUsername, "password": pw})
	}
	first := s.Expect(signIn(testenv.AdminPassword), http.StatusCreated)
	require.Equal(t, true, first.Body["must_change_password"])
	require.Equal(t, true, first.Body["must_enrol_second_factor"])
	tok := testenv.Bearer(first.Str("token"))
	// The forced password change comes first.
	require.Equal(t, "password_change_required", s.Do("POST", "/v1/me/second-factor", nil, tok).ErrorCode())
	pw := "Strong-Changed-Passphrase-9"
	s.Expect(s.Do("PUT", "/v1/me/password", map[string]string{"old_password": testenv.AdminPassword, "new_password": pw}, tok), http.StatusNoContent)

	// Only enrolment is open now.
	for _, call := range [][2]string{{"GET", "/v1/staff"}, {"GET", "/v1/audit"}, {"GET", "/v1/review/queue"}, {"GET", "/v1/staff/notices"}} {
		r := s.Do(call[0], call[1], nil, tok)
		require.Equal(t, http.StatusForbidden, r.Status, call)
		require.Equal(t, "second_factor_enrolment_required", r.ErrorCode(), call)
	}
	r := s.Do("POST", "/v1/staff", map[string]any{"username": "sneaky.one", "name": "x", "roles": []string{"administrator"}}, tok)
	require.Equal(t, "second_factor_enrolment_required", r.ErrorCode())
	me := s.Expect(s.Do("GET", "/v1/me", nil, tok), http.StatusOK)
	require.Equal(t, true, me.Body["must_enrol_second_factor"])

	enrol := s.Expect(s.Do("POST", "/v1/me/second-factor", nil, tok), http.StatusCreated)
	secret := enrol.Str("secret")
	require.Regexp(t, `^[A-Z2-7]{32}$`, secret)
	uri := enrol.Str("otpauth_uri")
	require.True(t, strings.HasPrefix(uri, "otpauth://totp/"), uri)
	require.Contains(t, uri, "secret="+secret)
	require.Contains(t, uri, "algorithm=SHA1")
	require.Contains(t, uri, "digits=6")
	require.Contains(t, uri, "period=30")
	now := time.Now()
	wrong := s.Do("POST", "/v1/me/second-factor/confirm", map[string]string{"code": testenv.TOTP(secret, now.Add(-2*time.Minute))}, tok)
	require.Equal(t, http.StatusUnauthorized, wrong.Status)
	require.Equal(t, "second_factor_failed", wrong.ErrorCode())
	require.Equal(t, "second_factor_enrolment_required", s.Do("GET", "/v1/staff", nil, tok).ErrorCode())
	code := testenv.TOTP(secret, now)
	confirmed := s.Expect(s.Do("POST", "/v1/me/second-factor/confirm", map[string]string{"code": code}, tok), http.StatusOK)
	raw := confirmed.Body["recovery_codes"].([]any)
	require.Len(t, raw, 10)
	var recovery []string
	for _, c := range raw {
		recovery = append(recovery, c.(string))
	}
	s.RememberSecret(testenv.AdminUsername, secret)
	// The same session is a full one now.
	s.Expect(s.Do("GET", "/v1/staff", nil, tok), http.StatusOK)
	require.Equal(t, "second_factor_already_enrolled", s.Do("POST", "/v1/me/second-factor", nil, tok).ErrorCode())

	// Nothing secret in clear: neither the secret nor a recovery code.
	var stored []byte
	require.NoError(t, s.DB.Get(&stored, `SELECT secret_sealed FROM second_factors WHERE subject_kind = 'staff'`))
	require.NotContains(t, string(stored), secret)
	var dump string
	require.NoError(t, s.DB.Get(&dump, `SELECT coalesce(string_agg(encode(code_hash, 'escape'), ','), '') FROM recovery_codes`))
	for _, rc := range recovery {
		require.NotContains(t, dump, strings.ReplaceAll(rc, "-", ""))
	}

	// The password alone answers a challenge and no token.
	ch := s.Expect(signIn(pw), http.StatusOK)
	require.Equal(t, true, ch.Body["second_factor_required"])
	require.NotEmpty(t, ch.Str("challenge"))
	require.NotEmpty(t, ch.Str("expires_at"))
	require.NotContains(t, ch.Body, "token")
	answer := func(challenge, code string) testenv.Response {
		return s.Do("POST", "/v1/sessions/second-factor", map[string]string{"challenge": challenge, "code": code})
	}
	// The code used at enrolment is not accepted again.
	replay := answer(ch.Str("challenge"), code)
	require.Equal(t, http.StatusUnauthorized, replay.Status)
	require.Equal(t, "second_factor_failed", replay.ErrorCode())
	next := s.Code(testenv.AdminUsername)
	ok := s.Expect(answer(ch.Str("challenge"), next), http.StatusCreated)
	require.NotEmpty(t, ok.Str("token"))
	require.Equal(t, false, ok.Body["must_change_password"])
	require.NotEmpty(t, ok.Str("expires_at"))
	s.Expect(s.Do("GET", "/v1/staff", nil, testenv.Bearer(ok.Str("token"))), http.StatusOK)
	// A used challenge does not open a second session.
	require.Equal(t, "challenge_invalid", answer(ch.Str("challenge"), s.Code(testenv.AdminUsername)).ErrorCode())
	// A replayed code with a fresh challenge is refused.
	ch2 := s.Expect(signIn(pw), http.StatusOK).Str("challenge")
	require.Equal(t, "second_factor_failed", answer(ch2, next).ErrorCode())

	// A recovery code works once in place of a code (as printed, any case).
	s.Expect(answer(ch2, strings.ToLower(recovery[0])), http.StatusCreated)
	ch3 := s.Expect(signIn(pw), http.StatusOK).Str("challenge")
	require.Equal(t, "second_factor_failed", answer(ch3, recovery[0]).ErrorCode())
	s.Expect(answer(ch3, recovery[1]), http.StatusCreated)
	require.Equal(t, 1, count(t, s, `SELECT count(*) FROM audit_log WHERE action = 'second_factor.confirmed'`))
	require.Equal(t, 2, count(t, s, `SELECT count(*) FROM audit_log WHERE action = 'second_factor.recovery_code_used'`))

	// Bad input: field-level errors, nothing spent.
	bad := s.Do("POST", "/v1/sessions/second-factor", map[string]string{"challenge": "x", "code": "12ab"})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
	require.Contains(t, bad.DetailFields(), "code")
}

// C3.4(8) / C1.4: a wrong code counts toward the sign-in limits like a
// wrong password, and one challenge allows five tries only.
func TestSecondFactorWrongCodesAreLimited_C3_4_8_C1_4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	s.Admin()
	pw := "Strong-Changed-Passphrase-9"
	ch := s.Expect(s.Do("POST", "/v1/sessions", map[string]string{"username": testenv.AdminUsername, "password": pw}), http.StatusOK).Str("challenge")
	before := count(t, s, `SELECT count(*) FROM sign_in_attempts WHERE outcome = 'failed'`)
	for i := 0; i < 4; i++ {
		r := s.Do("POST", "/v1/sessions/second-factor", map[string]string{"challenge": ch, "code": "000000"})
		require.Equal(t, "second_factor_failed", r.ErrorCode())
	}
	require.Equal(t, before+4, count(t, s, `SELECT count(*) FROM sign_in_attempts WHERE outcome = 'failed'`))
	// The fifth wrong code reaches the sign-in limit: the right password
	// is throttled now, and the challenge cannot be answered either.
	require.Equal(t, "second_factor_failed", s.Do("POST", "/v1/sessions/second-factor", map[string]string{"challenge": ch, "code": "000001"}).ErrorCode())
	require.Equal(t, http.StatusTooManyRequests, s.Do("POST", "/v1/sessions", map[string]string{"username": testenv.AdminUsername, "password": pw}).Status)
	r := s.Do("POST", "/v1/sessions/second-factor", map[string]string{"challenge": ch, "code": s.Code(testenv.AdminUsername)})
	require.Equal(t, "challenge_invalid", r.ErrorCode(), "five tries used up")
}

// C1.4: the challenge is limited in tries on its own, before the sign-in
// limits apply (a fresh source and window are not needed for this: the
// sixth try of one challenge is refused whatever the code).
func TestSecondFactorChallengeTriesAndDrift_C1_4(t *testing.T) {
	at := time.Now().Truncate(30 * time.Second).Add(15 * time.Second)
	s := testenv.Start(t, testenv.Options{Now: func() time.Time { return at }})
	s.Admin()
	pw := "Strong-Changed-Passphrase-9"
	secret := s.Secret(testenv.AdminUsername)
	challenge := func() string {
		return s.Expect(s.Do("POST", "/v1/sessions", map[string]string{"username": testenv.AdminUsername, "password": pw}), http.StatusOK).Str("challenge")
	}
	answer := func(ch, code string) testenv.Response {
		return s.Do("POST", "/v1/sessions/second-factor", map[string]string{"challenge": ch, "code": code})
	}
	// Two steps away either side: refused; one step ahead: accepted.
	ch := challenge()
	require.Equal(t, "second_factor_failed", answer(ch, testenv.TOTP(secret, at.Add(60*time.Second))).ErrorCode())
	require.Equal(t, "second_factor_failed", answer(ch, testenv.TOTP(secret, at.Add(-60*time.Second))).ErrorCode())
	s.Expect(answer(ch, testenv.TOTP(secret, at.Add(30*time.Second))), http.StatusCreated)
	// Steps up to the one used are spent: the current one is refused now.
	require.Equal(t, "second_factor_failed", answer(challenge(), testenv.TOTP(secret, at)).ErrorCode())
}

// STAFF_SECOND_FACTOR=off: staff sign in with the password alone.
func TestStaffSecondFactorOff_C1_4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{StaffSecondFactorOff: true})
	r := s.Expect(s.Do("POST", "/v1/sessions", map[string]string{"username": testenv.AdminUsername, "password": testenv.AdminPassword}), http.StatusCreated)
	require.Equal(t, false, r.Body["must_enrol_second_factor"])
	tok := r.Str("token")
	s.Expect(s.Do("PUT", "/v1/me/password", map[string]string{"old_password": testenv.AdminPassword, "new_password": "Strong-Changed-Passphrase-9"},
		testenv.Bearer(tok)), http.StatusNoContent)
	s.Expect(s.Do("GET", "/v1/staff", nil, testenv.Bearer(tok)), http.StatusOK)
}

// Re-authentication (C1.4): POST /v1/sessions/reauth takes a fresh code;
// a user without a factor has nothing to re-authenticate with.
func TestReauthenticationTakesAFreshCode_C1_4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	tok, _ := s.Staff(workflows.RoleAuditor)
	var username string
	require.NoError(t, s.DB.Get(&username, `SELECT username FROM staff WHERE 'auditor' = ANY(roles)`))
	require.Equal(t, "second_factor_failed", s.Do("POST", "/v1/sessions/reauth", map[string]string{"code": "000000"}, testenv.Bearer(tok)).ErrorCode())
	r := s.Expect(s.Do("POST", "/v1/sessions/reauth", map[string]string{"code": s.Code(username)}, testenv.Bearer(tok)), http.StatusOK)
	require.NotEmpty(t, r.Str("reauthenticated_until"))
}

// C3.3(1): a user may turn the same second factor on in "my account"; from
// then on the user's sign-in asks for a code too. Users without one sign in
// with the password alone (every other test).
func TestUserMayTurnOnSecondFactor_C3_3_1(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	me := s.Expect(s.Do("GET", "/v1/me", nil, testenv.Bearer(u.Token)), http.StatusOK)
	require.Equal(t, map[string]any{"enrolled": false}, me.Body["second_factor"])
	codes := s.Enrol(u.Token, u.IDNumber, u.Password)
	require.Len(t, codes, 10)
	me = s.Expect(s.Do("GET", "/v1/me", nil, testenv.Bearer(u.Token)), http.StatusOK)
	require.Equal(t, map[string]any{"enrolled": true}, me.Body["second_factor"])
	ch := s.Expect(s.Do("POST", "/v1/sessions", map[string]string{"username": u.IDNumber, "password": u.Password}), http.StatusOK)
	require.Equal(t, true, ch.Body["second_factor_required"])
	r := s.Expect(s.Do("POST", "/v1/sessions/second-factor", map[string]string{"challenge": ch.Str("challenge"), "code": s.Code(u.IDNumber)}), http.StatusCreated)
	require.Equal(t, "user", r.Str("kind"))
	s.Expect(s.Do("GET", "/v1/me/notices", nil, testenv.Bearer(r.Str("token"))), http.StatusOK)
}

// C1.4 / C2.3: a staff change and the audit export need a code entered
// within the last 10 minutes; POST /v1/sessions/reauth renews it.
func TestSensitiveActionsNeedARecentCode_C1_4_C2_3(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	admin := s.Admin()
	auditor, _ := s.Staff(workflows.RoleAuditor)
	var auditorName string
	require.NoError(t, s.DB.Get(&auditorName, `SELECT username FROM staff WHERE 'auditor' = ANY(roles)`))
	age := func() {
		_, err := s.DB.Exec(`UPDATE sessions SET second_factor_at = now() - interval '11 minutes' WHERE second_factor_at IS NOT NULL`)
		require.NoError(t, err)
	}
	age()
	body := map[string]any{"username": "late.one", "name": "迟到", "roles": []string{"reviewer"}}
	r := s.Do("POST", "/v1/staff", body, testenv.Bearer(admin))
	require.Equal(t, http.StatusForbidden, r.Status)
	require.Equal(t, "reauthentication_required", r.ErrorCode())
	require.Equal(t, "reauthentication_required", s.Do("GET", "/v1/audit/export", nil, testenv.Bearer(auditor)).ErrorCode())
	require.Equal(t, 0, count(t, s, `SELECT count(*) FROM staff WHERE username = 'late.one'`))
	// Reading is not sensitive: it still works.
	s.Expect(s.Do("GET", "/v1/staff", nil, testenv.Bearer(admin)), http.StatusOK)

	s.Expect(s.Do("POST", "/v1/sessions/reauth", map[string]string{"code": s.Code(testenv.AdminUsername)}, testenv.Bearer(admin)), http.StatusOK)
	s.Expect(s.Do("POST", "/v1/staff", body, testenv.Bearer(admin)), http.StatusCreated)
	s.Expect(s.Do("POST", "/v1/sessions/reauth", map[string]string{"code": s.Code(auditorName)}, testenv.Bearer(auditor)), http.StatusOK)
	s.Expect(s.Do("GET", "/v1/audit/export", nil, testenv.Bearer(auditor)), http.StatusOK)
}

// C1.4: an administrator resets a member's lost second factor: the
// member's sessions end and the next sign-in must enrol again; nobody
// resets their own, and the reset is audited.
func TestAdministratorResetsAMembersSecondFactor_C1_4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	admin := s.Admin()
	var adminID string
	require.NoError(t, s.DB.Get(&adminID, `SELECT id FROM staff WHERE username = $1`, testenv.AdminUsername))
	memberID, first := s.NewStaff("lost.phone", "reviewer")
	member := s.SignIn("lost.phone", first)
	s.ChangePassword(member, first, "Lost-Phone-Second-2") // enrols
	s.Expect(s.Do("GET", "/v1/review/queue", nil, testenv.Bearer(member)), http.StatusOK)

	require.Equal(t, http.StatusForbidden, s.Do("DELETE", "/v1/staff/"+adminID+"/second-factor", nil, testenv.Bearer(admin)).Status, "not one's own")
	require.Equal(t, http.StatusForbidden, s.Do("DELETE", "/v1/staff/"+adminID+"/second-factor", nil, testenv.Bearer(member)).Status, "administrators only")
	s.Expect(s.Do("DELETE", "/v1/staff/"+memberID+"/second-factor", nil, testenv.Bearer(admin)), http.StatusNoContent)
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/me", nil, testenv.Bearer(member)).Status, "the member's sessions ended")
	again := s.Expect(s.Do("POST", "/v1/sessions", map[string]string{"username": "lost.phone", "password": "Lost-Phone-Second-2"}), http.StatusCreated)
	require.Equal(t, true, again.Body["must_enrol_second_factor"])
	require.Equal(t, "second_factor_enrolment_required", s.Do("GET", "/v1/review/queue", nil, testenv.Bearer(again.Str("token"))).ErrorCode())
	require.Equal(t, 1, count(t, s, `SELECT count(*) FROM audit_log WHERE action = 'staff.second_factor_reset' AND record_id = '`+memberID+`'`))
}

// C3.3(2): a second factor set up on a user's account (by the owner who
// then lost the phone, or by someone holding a stolen session) does not
// outlive the in-person reset at the counter: the owner signs in with the
// new initial password alone, and may set a factor up again.
func TestCounterResetRemovesAUsersSecondFactor_C3_3_2(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	require.Len(t, s.Enrol(u.Token, u.IDNumber, u.Password), 10)
	require.Equal(t, 1, count(t, s, `SELECT count(*) FROM second_factors WHERE subject_kind = 'user' AND subject_id = '`+u.AccountID+`'`))

	reset := map[string]any{"identity_document": "resident_id_card", "document_checked": true, "office": "静安区服务窗口"}
	resetID := s.Expect(s.Do("POST", "/v1/accounts/"+u.AccountID+"/password-reset", reset, testenv.Bearer(reviewer)), http.StatusCreated).Str("id")
	pw := s.Expect(s.Do("POST", "/v1/password-resets/"+resetID+"/initial-password", nil, testenv.Bearer(reviewer)), http.StatusOK).Str("initial_password")
	require.Equal(t, 0, count(t, s, `SELECT count(*) FROM second_factors WHERE subject_kind = 'user' AND subject_id = '`+u.AccountID+`'`))
	require.Equal(t, 0, count(t, s, `SELECT count(*) FROM recovery_codes WHERE subject_kind = 'user' AND subject_id = '`+u.AccountID+`'`))
	r := s.Expect(s.Do("POST", "/v1/sessions", map[string]string{"username": u.IDNumber, "password": pw}), http.StatusCreated)
	require.NotEmpty(t, r.Str("token"))
	require.Nil(t, r.Body["second_factor_required"])
}

// C1.4 (issue 15 review): re-authentication for the most sensitive actions
// takes only a current code from the app; a recovery code (for getting in
// when the device is lost) is refused there and stays unused.
func TestReauthenticationRefusesARecoveryCode_C1_4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	s.Admin()
	id, first := s.NewStaff("recovery.holder", workflows.RoleAuditor)
	r := s.Expect(s.Do("POST", "/v1/sessions", map[string]string{"username": "recovery.holder", "password": first}), http.StatusCreated)
	tok := r.Str("token")
	s.Expect(s.Do("PUT", "/v1/me/password", map[string]string{"old_password": first, "new_password": "Recovery-Holder-Pass-9"},
		testenv.Bearer(tok)), http.StatusNoContent)
	codes := s.Enrol(tok, "recovery.holder")
	bad := s.Do("POST", "/v1/sessions/reauth", map[string]string{"code": codes[0]}, testenv.Bearer(tok))
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, string(bad.Raw))
	require.Equal(t, []string{"code"}, bad.DetailFields())
	require.Equal(t, 0, count(t, s, `SELECT count(*) FROM recovery_codes WHERE subject_id = '`+id+`' AND used_at IS NOT NULL`),
		"the recovery code stays unused")
	s.Expect(s.Do("POST", "/v1/sessions/reauth", map[string]string{"code": s.Code("recovery.holder")}, testenv.Bearer(tok)), http.StatusOK)
}

// C3.3(1) (issue 15 review): a user turning a second factor on in "my
// account" enters the password again, so that a stolen session cannot
// lock the owner out with a factor of its own; a wrong one counts toward
// the sign-in limits.
func TestUserTurningOnASecondFactorReentersThePassword_C3_3_1(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	none := s.Do("POST", "/v1/me/second-factor", nil, testenv.Bearer(u.Token))
	require.Equal(t, http.StatusUnprocessableEntity, none.Status, string(none.Raw))
	require.Equal(t, []string{"password"}, none.DetailFields())
	wrong := s.Do("POST", "/v1/me/second-factor", map[string]string{"password": "Not-The-Password-1"}, testenv.Bearer(u.Token))
	require.Equal(t, http.StatusUnprocessableEntity, wrong.Status, string(wrong.Raw))
	require.Equal(t, []string{"password"}, wrong.DetailFields())
	require.Equal(t, 0, count(t, s, `SELECT count(*) FROM second_factors WHERE subject_id = '`+u.AccountID+`'`))
	s.Expect(s.Do("POST", "/v1/me/second-factor", map[string]string{"password": u.Password}, testenv.Bearer(u.Token)), http.StatusCreated)
}

// C3.3(1) (issue 15 review): the restricted sign-in of a suspended user
// asks for the second factor when the user has one: the password alone
// answers 200 second_factor_required and no session; a wrong code is
// refused and counted; a current code (or a recovery code) opens it.
func TestRestrictedSignInAsksForTheSecondFactor_C3_3_1(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	codes := s.Enrol(u.Token, u.IDNumber, u.Password)
	_, err := s.DB.Exec(`UPDATE accounts SET status = 'suspended' WHERE id = $1`, u.AccountID)
	require.NoError(t, err)
	creds := map[string]string{"username": u.IDNumber, "password": u.Password}
	first := s.Expect(s.Do("POST", "/v1/sessions/restricted", creds), http.StatusOK)
	require.Equal(t, true, first.Body["second_factor_required"])
	require.Empty(t, first.Str("token"))
	wrong := s.Do("POST", "/v1/sessions/restricted", map[string]string{"username": u.IDNumber, "password": u.Password, "code": "000000"})
	require.Equal(t, http.StatusUnauthorized, wrong.Status, string(wrong.Raw))
	require.Equal(t, 1, count(t, s, `SELECT count(*) FROM sign_in_attempts WHERE NOT success`), "the wrong code counts")
	ok := s.Expect(s.Do("POST", "/v1/sessions/restricted", map[string]string{"username": u.IDNumber, "password": u.Password,
		"code": s.Code(u.IDNumber)}), http.StatusCreated)
	require.NotEmpty(t, ok.Str("token"))
	s.Expect(s.Do("POST", "/v1/sessions/restricted", map[string]string{"username": u.IDNumber, "password": u.Password,
		"code": codes[1]}), http.StatusCreated)
}
