package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C3.5: a user signs in on the site after a revision took effect, reads the
// account page and the terms page (the site calls GET /v1/me at sign-in
// and on every page), and rejects the revision there: signing in and
// reading are not use of the services, so the rejection is taken and no
// deemed acceptance is on record.
func TestRejectingARevisionInForceAfterSigningInOnTheSite_C3_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	v := s.PublishRevisionInForce(u.AccountID)
	a := newAgent(t, s)
	a.signIn(u.IDNumber, u.Password, "")
	require.Equal(t, http.StatusOK, a.get("/account").Status)
	page := a.get("/account/terms")
	require.Equal(t, http.StatusOK, page.Status)
	require.Contains(t, page.Body, `<label for="f-password-`+v+`"`, "the revision may still be rejected")

	ok := a.post("/account/terms/"+v+"/reject", url.Values{"choice": {"cancel_services"}, "services": {"social_insurance_query"},
		"statement": {"不同意已生效的修订"}, "password": {u.Password}})
	require.Equal(t, http.StatusSeeOther, ok.Status, ok.Body)
	require.Contains(t, a.get(ok.Location).Body, `data-position="rejected"`)
	var positions []string
	require.NoError(t, s.DB.Select(&positions, `SELECT position FROM terms_acceptances WHERE account_id = $1 AND terms_version = $2`, u.AccountID, v))
	require.Equal(t, []string{"rejected"}, positions)
}
