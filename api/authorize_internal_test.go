package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/authz"
)

// authorize answers as the removed helpers did: 401 "unauthenticated"
// without a session, 403 "forbidden" for another kind of caller (staff
// only / for users only) and for a staff member without a role of the
// action (C1.4).
func TestAuthorizeAnswers_C1_4(t *testing.T) {
	e := echo.New()
	ctx := func(p *principal) echo.Context {
		c := e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
		if p != nil {
			c.Set(principalKey, p)
		}
		return c
	}
	user := &principal{Kind: "user", AccountID: "a"}
	reviewer := &principal{Kind: "staff", StaffID: "s", Roles: []string{authz.RoleReviewer}}
	investigator := &principal{Kind: "staff", StaffID: "i", Roles: []string{authz.RoleInvestigator}}
	cases := []struct {
		p      *principal
		a      authz.Action
		status int
		en     string
	}{
		{nil, authz.Public, 0, ""},
		{nil, authz.SignedIn, http.StatusUnauthorized, "sign in first"},
		{nil, authz.FraudCaseOpen, http.StatusUnauthorized, "sign in first"},
		{user, authz.Console, http.StatusForbidden, "staff only"},
		{reviewer, authz.UserArea, http.StatusForbidden, "for users only"},
		{reviewer, authz.FraudCaseOpen, http.StatusForbidden, "only [investigator] may do this"},
		{reviewer, authz.KioskManage, http.StatusForbidden, "only an administrator manages kiosks"},
		{investigator, authz.FraudCaseOpen, 0, ""},
		{user, authz.UserArea, 0, ""},
		{reviewer, "no.such.action", http.StatusForbidden, "nobody may do this"},
	}
	for _, tc := range cases {
		err := authorize(ctx(tc.p), tc.a)
		if tc.status == 0 {
			if err != nil {
				t.Errorf("%v on %s: %v, want allowed", tc.p, tc.a, err)
			}
			continue
		}
		ae, ok := err.(*Error)
		if !ok || ae.Status != tc.status || ae.MessageEN != tc.en {
			t.Errorf("%v on %s: %v, want %d %q", tc.p, tc.a, err, tc.status, tc.en)
		}
		if tc.status == http.StatusUnauthorized && ae.Code != "unauthenticated" || tc.status == http.StatusForbidden && ae.Code != "forbidden" {
			t.Errorf("%v on %s: code %q", tc.p, tc.a, ae.Code)
		}
	}
	if may(ctx(nil), authz.TermsDraftRead) || !may(ctx(&principal{Kind: "staff", Roles: []string{authz.RoleTermsEditor}}), authz.TermsDraftRead) {
		t.Error("may: drafts are for terms editors")
	}
}
