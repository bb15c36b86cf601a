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
//
// The sign-in steps are in secondfactor_signin.go, the enrolment in
// secondfactor_enrol.go; this file has the codes, the gate and the
// re-authentication.

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
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
	return store.HasConfirmedFactor(ctx, s.DB, kind, id)
}

// checkCode accepts a TOTP code not used before, or an unused recovery
// code (used up by this call). Each acceptance is a conditional update, so
// two requests racing with one code cannot both succeed.
func (s *server) checkCode(ctx context.Context, c echo.Context, kind, id, code string, confirmed bool) (bool, error) {
	f, err := store.FactorSecretOf(ctx, s.DB, kind, id, confirmed)
	if errors.Is(err, store.ErrNotFound) {
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
		return store.UseFactorStep(ctx, s.DB, kind, id, step)
	}
	rc := normalizeRecoveryCode(code)
	if !confirmed || !recoveryCodeFormat.MatchString(rc) {
		return false, nil
	}
	var used bool
	err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		ok, err := store.UseRecoveryCode(ctx, tx, kind, id, recoveryHash(kind, id, rc))
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		used = true
		left, err := store.RecoveryCodesLeft(ctx, tx, kind, id)
		if err != nil {
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
	_, err := store.AppendAudit(ctx, tx, store.AuditEntry{ActorKind: actorKind, ActorID: actorID, Action: action,
		RecordKind: recordKind, RecordID: recordID, Detail: detail, SourceIP: c.RealIP(),
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID)})
	return err
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
	g, err := store.StaffSessionFactor(c.Request().Context(), s.DB, p.StaffID, p.TokenHash)
	if err != nil {
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
	at, err := store.ReauthenticateSession(ctx, s.DB, p.TokenHash)
	if err != nil {
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
		recent, err := store.SessionReauthenticatedWithin(c.Request().Context(), s.DB, p.TokenHash, ReauthWindow)
		if err != nil {
			return err
		}
		if !recent {
			return newError(http.StatusForbidden, "reauthentication_required", "请重新输入动态验证码后再执行此操作",
				"enter a second-factor code first (POST /v1/sessions/reauth); it counts for 10 minutes")
		}
		return next(c)
	}
}
