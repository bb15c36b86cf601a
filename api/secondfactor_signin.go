package api

// Sign-in with a second factor: a right password opens a session or, with a
// confirmed factor, a challenge that a code answers (api/secondfactor.go).

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
)

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
	expires := s.now().Add(challengeTTL).UTC()
	if err := store.PlaceChallenge(c.Request().Context(), s.DB, store.NewChallenge{Hash: hashToken(challenge), Kind: kind,
		SubjectID: id, UsernameHash: uh, ExpiresAt: expires}); err != nil {
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
	expires := s.now().Add(s.SessionTTL).UTC()
	if err := store.OpenSession(ctx, s.DB, store.NewSession{TokenHash: hashToken(token), Kind: kind, SubjectID: id,
		ExpiresAt: expires, SourceIP: c.RealIP(), FactorNow: factorNow}); err != nil {
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
	ch, err := store.TakeChallengeTry(ctx, s.DB, hashToken(req.Challenge), challengeTries)
	if errors.Is(err, store.ErrNotFound) {
		return errChallengeInvalid()
	}
	if err != nil {
		return err
	}
	id := ch.AccountID.String
	if ch.Kind == "staff" {
		id = ch.StaffID.String
	}
	attempt, err := s.beginCodeCheck(c, ch.UsernameHash, ch.Kind, id)
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
	unused, err := store.UseChallenge(ctx, s.DB, hashToken(req.Challenge))
	if err != nil {
		return err
	}
	if !unused {
		return errChallengeInvalid()
	}
	subject := store.AccountSessionSubject
	if ch.Kind == "staff" {
		subject = store.StaffSessionSubject
	}
	subj, err := subject(ctx, s.DB, id)
	if errors.Is(err, store.ErrNotFound) {
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
