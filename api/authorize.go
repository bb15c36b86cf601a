package api

import (
	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/authz"
)

// The API's one way to check who may do what: the policy table of
// internal/authz, read through allow (route middleware), authorize (in a
// handler, where the check must follow a lookup or another check) and may
// (a decision that is not a refusal, such as showing drafts). Object rules
// (own record, filer, four eyes) are checked on the record where it is
// loaded.

// allow admits the callers the policy allows a: 401 without a session,
// 403 for another kind of caller or a staff member without a role of a.
func (s *server) allow(a authz.Action) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := authorize(c, a); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// authorize answers nil if the caller may do a, else the refusal.
func authorize(c echo.Context, a authz.Action) error {
	p := caller(c)
	if may(c, a) {
		return nil
	}
	if p == nil {
		return errUnauthenticated()
	}
	if !authz.AdmitsKind(p.Kind, a) {
		switch {
		case authz.AdmitsKind(authz.Staff, a):
			return errForbidden("staff only", "仅限工作人员")
		case authz.AdmitsKind(authz.User, a):
			return errForbidden("for users only", "仅限个人用户")
		}
	}
	en, zh := authz.Denial(a)
	return errForbidden(en, zh)
}

// may reports whether the caller (anonymous without a session) may do a.
func may(c echo.Context, a authz.Action) bool {
	p := caller(c)
	if p == nil {
		return authz.Allows(nil, authz.Anonymous, a)
	}
	return authz.Allows(p.Roles, p.Kind, a)
}
