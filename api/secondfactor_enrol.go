package api

// Enrolment of a second factor: a new secret, then its first code, which
// hands out the recovery codes (api/secondfactor.go).

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"net/http"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
)

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
		if err := store.StartFactorEnrolment(ctx, tx, kind, id, sealedSecret); err != nil {
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
	pending, err := store.HasPendingFactor(ctx, s.DB, kind, id)
	if err != nil {
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
	err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		confirmed, err := store.ConfirmFactor(ctx, tx, kind, id)
		if err != nil {
			return err
		}
		if !confirmed {
			return errors.New("second factor: confirmed concurrently")
		}
		if err := store.DropRecoveryCodes(ctx, tx, kind, id); err != nil {
			return err
		}
		for i := range codes {
			b := make([]byte, 10)
			if _, err := rand.Read(b); err != nil {
				return err
			}
			raw := base32.StdEncoding.EncodeToString(b) // 16 characters
			codes[i] = raw[0:4] + "-" + raw[4:8] + "-" + raw[8:12] + "-" + raw[12:16]
			if err := store.AddRecoveryCode(ctx, tx, kind, id, recoveryHash(kind, id, raw)); err != nil {
				return err
			}
		}
		if err := store.MarkSessionSecondFactor(ctx, tx, p.TokenHash); err != nil {
			return err
		}
		// Other sessions of the subject were opened without the factor.
		if err := store.EndOtherSessions(ctx, tx, kind, id, p.TokenHash); err != nil {
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
