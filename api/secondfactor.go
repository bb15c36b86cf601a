package api

// The second factor (TOTP, RFC 6238: 6 digits, SHA-1, 30-second steps,
// one step of drift either way). Every staff member needs one unless
// STAFF_SECOND_FACTOR=off; users may turn it on for themselves.
//
//   - POST /v1/sessions, right password, confirmed factor: 200 with a
//     challenge instead of a session; POST /v1/sessions/second-factor with
//     the challenge and a code (or a recovery code) opens the session.
//   - A staff member without a confirmed factor gets a session that may
//     only change the password, read GET /v1/me and enrol
//     (POST /v1/me/second-factor, then …/confirm); the confirmation turns
//     that same session into a full one.
//
// Secrets are sealed with PICKUP_KEY (internal/sealed), bound to their
// subject; a code is accepted once (second_factors.last_step); recovery
// codes and challenges are kept as SHA-256 hashes only. A wrong code counts
// as a failed sign-in of the username (countSecondFactorFailure).

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/lib/pq"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
)

const (
	totpPeriod        = 30
	totpIssuer        = "HRSS back office"
	challengeTTL      = 5 * time.Minute
	challengeTries    = 5
	recoveryCodeCount = 10
	// ReauthWindow is how long a code entered at sign-in, at enrolment or
	// with POST /v1/sessions/reauth counts for the most sensitive actions.
	ReauthWindow = 10 * time.Minute
)

const mustEnrolKey = "must_enrol_second_factor"

var (
	totpCodeFormat     = regexp.MustCompile(`^[0-9]{6}$`)
	recoveryCodeFormat = regexp.MustCompile(`^[A-Z2-7]{16}$`)
)

func (s *server) secondFactorRoutes(v1 *echo.Group) {
	v1.POST("/sessions/second-factor", s.answerSecondFactor)
	v1.POST("/sessions/reauth", s.reauthenticate, s.allow(authz.SignedIn))
	v1.POST("/me/second-factor", s.enrolSecondFactor, s.allow(authz.SignedIn))
	v1.POST("/me/second-factor/confirm", s.confirmSecondFactor, s.allow(authz.SignedIn))
	v1.DELETE("/staff/:id/second-factor", s.resetStaffSecondFactor, s.allow(authz.Console), s.requireReauth)
}

// resetStaffSecondFactor: an administrator removes another member's factor
// (a lost phone and lost recovery codes). Every session of the member ends;
// the next sign-in gets an enrolment-only session. The reset is in the
// audit log and counts as a change of the member for the four-eyes rule
// (api/foureyes.go).
func (s *server) resetStaffSecondFactor(c echo.Context) error {
	p := caller(c)
	if !may(c, authz.StaffSecondFactorReset) {
		return errForbidden("only an administrator may reset a staff member's second factor", "仅管理员可以重置工作人员的动态验证码")
	}
	id := c.Param("id")
	if id == p.StaffID {
		return errForbidden("another administrator must reset your own second factor", "不能重置自己的动态验证码，请由另一位管理员办理")
	}
	ctx := c.Request().Context()
	if _, err := s.staffUsername(ctx, id); err != nil {
		return err
	}
	res, err := s.requestStaffChange(c, "second_factor", id, activities.StaffChangeDetail{})
	if err != nil {
		return err
	}
	if res.Pending {
		return s.pendingAnswer(c, res.ID)
	}
	return c.NoContent(http.StatusNoContent)
}

// subject names the holder of a factor.
func (p *principal) subject() (kind, id string) {
	if p.Kind == "staff" {
		return "staff", p.StaffID
	}
	return "user", p.AccountID
}

func secretAD(kind, id string) []byte { return []byte("totp:" + kind + ":" + id) }

func recoveryHash(kind, id, code string) []byte {
	h := sha256.Sum256([]byte("recovery:" + kind + ":" + id + ":" + code))
	return h[:]
}

// normalizeRecoveryCode accepts the code as printed (groups of four with
// dashes) in any case and with spaces.
func normalizeRecoveryCode(code string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(code))
}

func totpAt(secret string, step int64) (string, error) {
	return totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0).UTC(),
		totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// matchStep returns the time step (now's, the one before or the one after)
// whose code is code and which is later than after; 0 if none.
func matchStep(secret, code string, now time.Time, after int64) int64 {
	cur := now.Unix() / totpPeriod
	for _, st := range []int64{cur - 1, cur, cur + 1} {
		if st <= after {
			continue
		}
		want, err := totpAt(secret, st)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return st
		}
	}
	return 0
}

func (s *server) staffFactorRequired() bool { return !s.StaffSecondFactorOff }

// factorApplies: whether a confirmed factor of this subject is asked for.
func (s *server) factorApplies(kind string) bool { return kind != "staff" || s.staffFactorRequired() }

func (s *server) hasConfirmedFactor(ctx context.Context, kind, id string) (bool, error) {
	var has bool
	err := s.DB.GetContext(ctx, &has, `SELECT EXISTS (SELECT 1 FROM second_factors
		WHERE subject_kind = $1 AND subject_id = $2 AND confirmed_at IS NOT NULL)`, kind, id)
	return has, err
}

// checkCode accepts a TOTP code not used before, or an unused recovery
// code (used up by this call). Each acceptance is a conditional update, so
// two requests racing with one code cannot both succeed.
func (s *server) checkCode(ctx context.Context, c echo.Context, kind, id, code string, confirmed bool) (bool, error) {
	var f struct {
		Sealed   []byte `db:"secret_sealed"`
		LastStep int64  `db:"last_step"`
	}
	cond := "confirmed_at IS NOT NULL"
	if !confirmed {
		cond = "confirmed_at IS NULL"
	}
	err := s.DB.GetContext(ctx, &f, `SELECT secret_sealed, last_step FROM second_factors
		WHERE subject_kind = $1 AND subject_id = $2 AND `+cond, kind, id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	code = strings.TrimSpace(code)
	if totpCodeFormat.MatchString(code) {
		secret, err := s.Box.Open(f.Sealed, secretAD(kind, id))
		if err != nil {
			return false, err
		}
		step := matchStep(string(secret), code, s.now(), f.LastStep)
		if step == 0 {
			return false, nil
		}
		res, err := s.DB.ExecContext(ctx, `UPDATE second_factors SET last_step = $3
			WHERE subject_kind = $1 AND subject_id = $2 AND last_step < $3`, kind, id, step)
		if err != nil {
			return false, err
		}
		n, _ := res.RowsAffected()
		return n == 1, nil
	}
	rc := normalizeRecoveryCode(code)
	if !confirmed || !recoveryCodeFormat.MatchString(rc) {
		return false, nil
	}
	var used bool
	err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = now()
			WHERE subject_kind = $1 AND subject_id = $2 AND code_hash = $3 AND used_at IS NULL`, kind, id, recoveryHash(kind, id, rc))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil
		}
		used = true
		var left int
		if err := tx.GetContext(ctx, &left, `SELECT count(*) FROM recovery_codes
			WHERE subject_kind = $1 AND subject_id = $2 AND used_at IS NULL`, kind, id); err != nil {
			return err
		}
		return auditAs(ctx, tx, c, kind, id, "second_factor.recovery_code_used", kind, id, map[string]any{"recovery_codes_left": left})
	})
	return used, err
}

// auditAs writes an audit record for a subject who is not yet the caller
// (the step between password and code).
func auditAs(ctx context.Context, tx *sqlx.Tx, c echo.Context, actorKind, actorID, action, recordKind, recordID string, detail any) error {
	if caller(c) != nil {
		return audit(ctx, tx, c, action, recordKind, recordID, detail)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (actor_kind, actor_id, action, record_kind, record_id, detail, source_ip, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, actorKind, actorID, action, recordKind, recordID, mustJSON(detail),
		c.RealIP(), c.Response().Header().Get(echo.HeaderXRequestID))
	return err
}

// ---- Sign-in -------------------------------------------------------------

// afterPassword continues a sign-in whose password was right: a subject
// with a confirmed factor gets a challenge, everyone else a session.
func (s *server) afterPassword(c echo.Context, kind, id string, uh []byte, must bool, roles []string) error {
	ctx := c.Request().Context()
	if s.factorApplies(kind) {
		has, err := s.hasConfirmedFactor(ctx, kind, id)
		if err != nil {
			return err
		}
		if has {
			return s.issueChallenge(c, kind, id, uh)
		}
	}
	return s.startSession(c, kind, id, must, roles, false)
}

func (s *server) issueChallenge(c echo.Context, kind, id string, uh []byte) error {
	challenge, err := newToken()
	if err != nil {
		return err
	}
	var accountID, staffID any = id, nil
	if kind == "staff" {
		accountID, staffID = nil, id
	}
	expires := s.now().Add(challengeTTL).UTC()
	if _, err := s.DB.ExecContext(c.Request().Context(), `INSERT INTO sign_in_challenges
		(challenge_hash, subject_kind, account_id, staff_id, username_hash, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		hashToken(challenge), kind, accountID, staffID, uh, expires); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"second_factor_required": true, "challenge": challenge, "expires_at": expires})
}

// startSession opens a session; factorNow marks it as having entered a
// second-factor code now.
func (s *server) startSession(c echo.Context, kind, id string, must bool, roles []string, factorNow bool) error {
	ctx := c.Request().Context()
	token, err := newToken()
	if err != nil {
		return err
	}
	var accountID, staffID any = id, nil
	if kind == "staff" {
		accountID, staffID = nil, id
	}
	expires := s.now().Add(s.SessionTTL).UTC()
	if _, err := s.DB.ExecContext(ctx, `INSERT INTO sessions (token_hash, subject_kind, account_id, staff_id, expires_at, source_ip, second_factor_at)
		VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7 THEN now() END)`, hashToken(token), kind, accountID, staffID, expires, c.RealIP(), factorNow); err != nil {
		return err
	}
	if roles == nil {
		roles = []string{}
	}
	mustEnrol := false
	if kind == "staff" && s.staffFactorRequired() && !factorNow {
		has, err := s.hasConfirmedFactor(ctx, kind, id)
		if err != nil {
			return err
		}
		mustEnrol = !has
	}
	out := map[string]any{"token": token, "must_change_password": must,
		"must_enrol_second_factor": mustEnrol, "expires_at": expires, "kind": kind, "roles": roles}
	if kind == "staff" {
		out["idle_timeout_seconds"] = int(s.StaffIdleTimeout / time.Second)
	}
	return c.JSON(http.StatusCreated, out)
}

func errSecondFactorFailed() *Error {
	return newError(http.StatusUnauthorized, "second_factor_failed", "动态验证码不正确", "the code is wrong")
}

func errChallengeInvalid() *Error {
	return newError(http.StatusUnauthorized, "challenge_invalid", "验证已过期或无效，请重新登录",
		"the challenge is unknown, used up or expired; sign in again")
}

// beginCodeCheck counts a second-factor code as an attempt of the
// username before it is checked, through the sign-in limiter
// (api/signinlimit.go): a wrong code counts toward the same limits as a
// wrong password, and a limit reached refuses the code unchecked.
func (s *server) beginCodeCheck(c echo.Context, uh []byte, kind, id string) (*passwordAttempt, error) {
	chk := passwordCheck{UsernameHash: uh, Failure: "failed"}
	if kind == "staff" {
		chk.StaffID = id
	} else {
		chk.AccountID = id
	}
	return s.beginPasswordCheck(c, chk)
}

func (s *server) answerSecondFactor(c echo.Context) error {
	var req struct {
		Challenge string `json:"challenge"`
		Code      string `json:"code"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	var details []validate.FieldError
	if req.Challenge == "" || len(req.Challenge) > 100 {
		details = append(details, validate.FieldError{Field: "challenge", Code: "required",
			MessageZH: "缺少登录验证标识", MessageEN: "the challenge from POST /v1/sessions is required"})
	}
	if fe := codeProblem("code", req.Code); fe != nil {
		details = append(details, *fe)
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	ctx := c.Request().Context()
	// Take one try first (atomic), then look at the code.
	var ch struct {
		Kind      string         `db:"subject_kind"`
		AccountID sql.NullString `db:"account_id"`
		StaffID   sql.NullString `db:"staff_id"`
		UH        []byte         `db:"username_hash"`
	}
	err := s.DB.GetContext(ctx, &ch, `UPDATE sign_in_challenges SET tries = tries + 1
		WHERE challenge_hash = $1 AND used_at IS NULL AND expires_at > now() AND tries < $2
		RETURNING subject_kind, account_id, staff_id, username_hash`, hashToken(req.Challenge), challengeTries)
	if errors.Is(err, sql.ErrNoRows) {
		return errChallengeInvalid()
	}
	if err != nil {
		return err
	}
	id := ch.AccountID.String
	if ch.Kind == "staff" {
		id = ch.StaffID.String
	}
	attempt, err := s.beginCodeCheck(c, ch.UH, ch.Kind, id)
	if err != nil {
		return err
	}
	defer attempt.release()
	ok, err := s.checkCode(ctx, c, ch.Kind, id, req.Code, true)
	if err != nil {
		return err
	}
	if !ok {
		attempt.failed()
		return errSecondFactorFailed()
	}
	if err := attempt.succeeded(""); err != nil {
		return err
	}
	res, err := s.DB.ExecContext(ctx, `UPDATE sign_in_challenges SET used_at = now() WHERE challenge_hash = $1 AND used_at IS NULL`,
		hashToken(req.Challenge))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errChallengeInvalid()
	}
	var subj struct {
		Must  bool           `db:"must_change_password"`
		Roles pq.StringArray `db:"roles"`
	}
	q := `SELECT must_change_password, '{}'::text[] AS roles FROM accounts WHERE id = $1 AND status = 'active' AND compromise_locked_at IS NULL`
	if ch.Kind == "staff" {
		q = `SELECT must_change_password, roles FROM staff WHERE id = $1 AND active`
	}
	if err := s.DB.GetContext(ctx, &subj, q, id); errors.Is(err, sql.ErrNoRows) {
		return errChallengeInvalid()
	} else if err != nil {
		return err
	}
	return s.startSession(c, ch.Kind, id, subj.Must, subj.Roles, true)
}

func codeProblem(field, code string) *validate.FieldError {
	code = strings.TrimSpace(code)
	if totpCodeFormat.MatchString(code) || recoveryCodeFormat.MatchString(normalizeRecoveryCode(code)) {
		return nil
	}
	return &validate.FieldError{Field: field, Code: "code_format",
		MessageZH: "请输入6位动态验证码或一个恢复码", MessageEN: "enter the 6-digit code or a recovery code"}
}

// ---- The gate for sessions that must enrol ----------------------------------

// enrolmentAllowed lists what a staff session without a confirmed factor
// may do.
var enrolmentAllowed = map[string]bool{
	"PUT /v1/me/password":               true,
	"GET /v1/me":                        true,
	"POST /v1/me/second-factor":         true,
	"POST /v1/me/second-factor/confirm": true,
	"DELETE /v1/sessions/current":       true,
}

// secondFactorGate runs for every authenticated staff call (api/auth.go):
// without a confirmed factor only enrolment is open; a session opened
// before the factor was confirmed elsewhere (or while it was off) must sign
// in again.
func (s *server) secondFactorGate(c echo.Context, p *principal) error {
	if p.Kind != "staff" || !s.staffFactorRequired() {
		return nil
	}
	var g struct {
		Has      bool         `db:"has"`
		FactorAt sql.NullTime `db:"second_factor_at"`
	}
	if err := s.DB.GetContext(c.Request().Context(), &g, `SELECT
		EXISTS (SELECT 1 FROM second_factors WHERE subject_kind = 'staff' AND subject_id = $1 AND confirmed_at IS NOT NULL) AS has,
		(SELECT second_factor_at FROM sessions WHERE token_hash = $2) AS second_factor_at`, p.StaffID, p.TokenHash); err != nil {
		return err
	}
	switch {
	case g.Has && g.FactorAt.Valid:
		return nil
	case g.Has:
		return errUnauthenticated()
	}
	c.Set(mustEnrolKey, true)
	if enrolmentAllowed[c.Request().Method+" "+c.Path()] {
		return nil
	}
	return newError(http.StatusForbidden, "second_factor_enrolment_required",
		"请先设置动态验证码（第二重身份验证）", "set up your second factor first (POST /v1/me/second-factor)")
}

// ---- Enrolment ----------------------------------------------------------------

// enrolSecondFactor starts (or starts again) an enrolment: a new secret,
// not confirmed yet. A confirmed factor is not replaced here.
func (s *server) enrolSecondFactor(c echo.Context) error {
	p := caller(c)
	ctx := c.Request().Context()
	kind, id := p.subject()
	if p.Kind == "user" {
		// A user turns the factor on with the password entered again: a
		// stolen session must not be able to lock the owner out with a
		// factor of its own. A wrong password counts toward the limits.
		var req struct {
			Password string `json:"password"`
		}
		if c.Request().ContentLength != 0 {
			if err := bind(c, &req); err != nil {
				return err
			}
		}
		if req.Password == "" {
			return errValidation(validate.FieldError{Field: "password", Code: "required",
				MessageZH: "请输入当前密码以开启动态验证码", MessageEN: "enter your current password to turn the second factor on"})
		}
		fe, err := s.confirmPassword(c, p, req.Password)
		if err != nil {
			return err
		}
		if fe != nil {
			return errValidation(*fe)
		}
	}
	has, err := s.hasConfirmedFactor(ctx, kind, id)
	if err != nil {
		return err
	}
	if has {
		return newError(http.StatusConflict, "second_factor_already_enrolled", "动态验证码已设置",
			"a second factor is already set up; an administrator can reset it")
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: p.Username, Period: totpPeriod,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, SecretSize: 20})
	if err != nil {
		return err
	}
	sealedSecret, err := s.Box.Seal([]byte(key.Secret()), secretAD(kind, id))
	if err != nil {
		return err
	}
	err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO second_factors (subject_kind, subject_id, secret_sealed) VALUES ($1, $2, $3)
			ON CONFLICT (subject_kind, subject_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed, last_step = 0, created_at = now()
			WHERE second_factors.confirmed_at IS NULL`, kind, id, sealedSecret); err != nil {
			return err
		}
		return audit(ctx, tx, c, "second_factor.enrolment_started", kind, id, nil)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"secret": key.Secret(), "otpauth_uri": key.URL()})
}

// confirmSecondFactor checks the first code of a new factor, confirms it,
// hands out the recovery codes once and marks the session as having
// entered a code now (which makes an enrolling staff session a full one).
func (s *server) confirmSecondFactor(c echo.Context) error {
	var req struct {
		Code string `json:"code"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	if !totpCodeFormat.MatchString(strings.TrimSpace(req.Code)) {
		return errValidation(validate.FieldError{Field: "code", Code: "code_format",
			MessageZH: "请输入6位动态验证码", MessageEN: "enter the 6-digit code"})
	}
	p := caller(c)
	ctx := c.Request().Context()
	kind, id := p.subject()
	var pending bool
	if err := s.DB.GetContext(ctx, &pending, `SELECT EXISTS (SELECT 1 FROM second_factors
		WHERE subject_kind = $1 AND subject_id = $2 AND confirmed_at IS NULL)`, kind, id); err != nil {
		return err
	}
	if !pending {
		return newError(http.StatusConflict, "no_enrolment", "没有待确认的动态验证码设置，请先开始设置",
			"no enrolment is waiting for confirmation; start with POST /v1/me/second-factor")
	}
	if err := s.callerCode(c, req.Code, false); err != nil {
		return err
	}
	codes := make([]string, recoveryCodeCount)
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE second_factors SET confirmed_at = now()
			WHERE subject_kind = $1 AND subject_id = $2 AND confirmed_at IS NULL`, kind, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errors.New("second factor: confirmed concurrently")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE subject_kind = $1 AND subject_id = $2`, kind, id); err != nil {
			return err
		}
		for i := range codes {
			b := make([]byte, 10)
			if _, err := rand.Read(b); err != nil {
				return err
			}
			raw := base32.StdEncoding.EncodeToString(b) // 16 characters
			codes[i] = raw[0:4] + "-" + raw[4:8] + "-" + raw[8:12] + "-" + raw[12:16]
			if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (subject_kind, subject_id, code_hash) VALUES ($1, $2, $3)`,
				kind, id, recoveryHash(kind, id, raw)); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET second_factor_at = now() WHERE token_hash = $1`, p.TokenHash); err != nil {
			return err
		}
		// Other sessions of the subject were opened without the factor.
		col := "account_id"
		if kind == "staff" {
			col = "staff_id"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = now()
			WHERE `+col+` = $1 AND token_hash <> $2 AND revoked_at IS NULL`, id, p.TokenHash); err != nil {
			return err
		}
		return audit(ctx, tx, c, "second_factor.confirmed", kind, id, map[string]any{"recovery_codes": recoveryCodeCount})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"recovery_codes": codes})
}

// callerCode checks a code of the signed-in caller (of the confirmed
// factor, or of the one being enrolled), within the sign-in limits.
func (s *server) callerCode(c echo.Context, code string, confirmed bool) error {
	p := caller(c)
	ctx := c.Request().Context()
	kind, id := p.subject()
	attempt, err := s.beginCodeCheck(c, usernameHash(p.Username), kind, id)
	if err != nil {
		return err
	}
	defer attempt.release()
	ok, err := s.checkCode(ctx, c, kind, id, code, confirmed)
	if err != nil {
		return err
	}
	if !ok {
		attempt.failed()
		return errSecondFactorFailed()
	}
	return attempt.succeeded("")
}

// ---- Re-authentication ----------------------------------------------------

// reauthenticate takes a fresh code (not a recovery code) and marks the
// session: for ReauthWindow the most sensitive actions are open to it.
func (s *server) reauthenticate(c echo.Context) error {
	var req struct {
		Code string `json:"code"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	// Only a current code from the app: a recovery code is for getting in
	// when the device is lost, not for confirming a sensitive action.
	if !totpCodeFormat.MatchString(strings.TrimSpace(req.Code)) {
		return errValidation(validate.FieldError{Field: "code", Code: "totp_required",
			MessageZH: "请输入验证器应用中当前的6位动态验证码（恢复码不能用于再次验证）",
			MessageEN: "enter the current 6-digit code from the app; a recovery code does not re-authenticate"})
	}
	p := caller(c)
	ctx := c.Request().Context()
	kind, id := p.subject()
	has, err := s.hasConfirmedFactor(ctx, kind, id)
	if err != nil {
		return err
	}
	if !has {
		return newError(http.StatusConflict, "no_second_factor", "您尚未设置动态验证码", "you have no second factor to re-authenticate with")
	}
	if err := s.callerCode(c, req.Code, true); err != nil {
		return err
	}
	var at time.Time
	if err := s.DB.GetContext(ctx, &at, `UPDATE sessions SET second_factor_at = now() WHERE token_hash = $1 RETURNING second_factor_at`,
		p.TokenHash); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"reauthenticated_until": at.Add(ReauthWindow).UTC()})
}

// requireReauth is the route middleware of the most sensitive actions
// (disclosure export, staff changes, audit export): it refuses unless the
// session entered a second-factor code within ReauthWindow (403
// reauthentication_required; POST /v1/sessions/reauth). With the staff
// factor off, staff are not asked. Times are the database's.
func (s *server) requireReauth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := caller(c)
		if p == nil {
			return errUnauthenticated()
		}
		if p.Kind == "staff" && !s.staffFactorRequired() {
			return next(c)
		}
		var recent bool
		if err := s.DB.GetContext(c.Request().Context(), &recent, `SELECT coalesce(second_factor_at > now() - $2::interval, false)
			FROM sessions WHERE token_hash = $1`, p.TokenHash, ReauthWindow.String()); err != nil {
			return err
		}
		if !recent {
			return newError(http.StatusForbidden, "reauthentication_required", "请重新输入动态验证码后再执行此操作",
				"enter a second-factor code first (POST /v1/sessions/reauth); it counts for 10 minutes")
		}
		return next(c)
	}
}
