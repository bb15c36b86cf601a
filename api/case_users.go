package api

import (
	"errors"
	"net/http"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
)

// ---- cases and sanctions (api/cases.go): the user signs in, restricted, and reads ----

const restrictedKey = "restricted"

// requireCaseUser admits a signed-in user, or a suspended or cancelled user
// with a restricted session; staff are refused.
func (s *server) requireCaseUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if p := caller(c); p != nil {
			if !may(c, authz.UserArea) {
				return errForbidden("users only", "仅限用户本人")
			}
			return next(c)
		}
		token := c.Request().Header.Get(restrictedHeader)
		if token == "" {
			return errUnauthenticated()
		}
		accountID, err := store.RestrictedSessionAccount(c.Request().Context(), s.DB, hashToken(token))
		if errors.Is(err, store.ErrNotFound) {
			return errUnauthenticated()
		}
		if err != nil {
			return err
		}
		c.Set(principalKey, &principal{Kind: "user", AccountID: accountID})
		c.Set(restrictedKey, true)
		return next(c)
	}
}

// restrictedSignIn lets a suspended or cancelled user in to read their
// cases and sanctions and to appeal; nothing else. Failures answer like
// the ordinary sign-in and count towards the same throttle.
func (s *server) restrictedSignIn(c echo.Context) error {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Code     string `json:"code"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.Code != "" {
		if fe := codeProblem("code", req.Code); fe != nil {
			return errValidation(*fe)
		}
	}
	ctx := c.Request().Context()
	candidates, err := store.ClosedAccountsByUsername(ctx, s.DB, validate.NormalizeIDNumber(req.Username))
	if err != nil {
		return err
	}
	attempt, err := s.beginPasswordCheck(c, passwordCheck{Username: req.Username, Failure: "failed"})
	if err != nil {
		return err
	}
	defer attempt.release()
	var accountID, status string
	for _, a := range candidates {
		if attempt.verify(req.Password, a.Hash) {
			accountID, status = a.ID, a.Status
			break
		}
	}
	if len(candidates) == 0 {
		attempt.verify(req.Password, "")
	}
	if accountID == "" {
		attempt.failed()
		return newError(http.StatusUnauthorized, "sign_in_failed", signInGenericZ, signInGenericE)
	}
	attempt.chk.AccountID = accountID
	// A user with a second factor gives a code too (issue 15): the password
	// alone answers 200 second_factor_required; a wrong code counts as a
	// failed sign-in. A recovery code works, as at the normal sign-in.
	has, err := s.hasConfirmedFactor(ctx, "user", accountID)
	if err != nil {
		return err
	}
	if has && req.Code == "" {
		if err := attempt.succeeded(""); err != nil { // neither a failure nor a sign-in yet
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"second_factor_required": true})
	}
	if has {
		ok, err := s.checkCode(ctx, c, "user", accountID, req.Code, true)
		if err != nil {
			return err
		}
		if !ok {
			attempt.failed()
			return errSecondFactorFailed()
		}
	}
	if err := attempt.succeeded("success"); err != nil {
		return err
	}
	token, err := newToken()
	if err != nil {
		return err
	}
	expires := s.now().Add(restrictedTTL).UTC()
	err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if err := store.OpenRestrictedSession(ctx, tx, hashToken(token), accountID, expires); err != nil {
			return err
		}
		c.Set(principalKey, &principal{Kind: "user", AccountID: accountID})
		return audit(ctx, tx, c, "account.restricted_sign_in", "account", accountID, map[string]any{"account_status": status})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"token": token, "header": restrictedHeader, "expires_at": expires,
		"account_status": status, "scope": []string{"/v1/me/cases", "/v1/me/sanctions"}})
}

func (s *server) myCases(c echo.Context) error {
	ctx := c.Request().Context()
	rows, err := store.CasesOfAccount(ctx, s.DB, caller(c).AccountID)
	if err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		v := s.caseView(r, false)
		tl, err := s.timeline(ctx, store.CaseTimeline, r.ID, false)
		if err != nil {
			return err
		}
		v["timeline"] = tl
		items = append(items, v)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

func (s *server) mySanctions(c echo.Context) error {
	ctx := c.Request().Context()
	rows, err := store.SanctionsOfAccount(ctx, s.DB, caller(c).AccountID)
	if err != nil {
		return err
	}
	status, err := store.AccountStatus(ctx, s.DB, caller(c).AccountID)
	if err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		v := s.sanctionView(r, false)
		h, err := s.timeline(ctx, store.SanctionTimeline, r.ID, false)
		if err != nil {
			return err
		}
		v["history"] = h
		items = append(items, v)
	}
	return c.JSON(http.StatusOK, map[string]any{"account_status": status, "items": items})
}
