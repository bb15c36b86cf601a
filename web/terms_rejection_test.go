package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C3.5: a user rejects a revision on the terms page, choosing the service
// to cancel and confirming with the password. A wrong password changes
// nothing; then the service closes and the page links to the receipt of
// the written request.
func TestRejectingTermsOnThePageCancelsTheChosenService_C3_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	v := s.PublishRevision()
	a := newAgent(t, s)
	a.signIn(u.IDNumber, u.Password, "")
	page := a.get("/account/terms")
	require.Contains(t, page.Body, `<label for="f-password-`+v+`"`)

	form := url.Values{"choice": {"cancel_services"}, "services": {"social_insurance_query"}, "statement": {"不同意修订"}, "password": {"wrong-password-1"}}
	bad := a.post("/account/terms/"+v+"/reject", form)
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, bad.Body)
	require.Contains(t, bad.Body, `id="problem"`)
	var n int
	require.NoError(t, s.DB.Get(&n, `SELECT count(*) FROM terms_rejections WHERE account_id = $1`, u.AccountID))
	require.Zero(t, n)

	form.Set("password", u.Password)
	ok := a.post("/account/terms/"+v+"/reject", form)
	require.Equal(t, http.StatusSeeOther, ok.Status, ok.Body)
	require.NotContains(t, ok.Location, u.Password)
	after := a.get(ok.Location)
	require.Contains(t, after.Body, `data-position="rejected"`)
	i := strings.Index(after.Body, `href="/account/deregistration/`)
	require.Positive(t, i, "the page links to the written request")
	receipt := a.get(after.Body[i+6 : i+6+len("/account/deregistration/")+36])
	require.Equal(t, http.StatusOK, receipt.Status, receipt.Body)
	require.Contains(t, receipt.Body, "hrss.terms_rejection/v1")
	testenv.Eventually(t, 30*time.Second, "the service closed", func() bool {
		var st string
		_ = s.DB.Get(&st, `SELECT status FROM account_services WHERE account_id = $1 AND service_code = 'social_insurance_query'`, u.AccountID)
		return st == "closed"
	})
}
