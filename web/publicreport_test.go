package web_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C3.3(3): someone who cannot sign in reports a stolen account on the
// public page: a bad ID number is named under its field; a matching report
// locks the account and answers exactly like one that matches nothing.
// Staff report for a caller from the account's console page.
func TestCompromiseReportedOnThePublicPageAndForACaller_C3_3_3(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	other := s.NewUser(reviewer)
	locked := func(accountID string) bool {
		var at *string
		require.NoError(t, s.DB.Get(&at, `SELECT compromise_locked_at::text FROM accounts WHERE id = $1`, accountID))
		return at != nil
	}

	anon := newAgent(t, s)
	require.Contains(t, anon.get("/signin").Body, `href="/security-report"`)
	anon.get("/security-report")
	bad := anon.post("/security-report", url.Values{"id_number": {"123"}, "mobile": {u.Mobile}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, bad.Body)
	require.Contains(t, bad.Body, `id="id_number-error"`)
	nobody := anon.post("/security-report", url.Values{"id_number": {testenv.NewPerson().IDNumber}, "mobile": {"13800000000"}})
	require.Equal(t, http.StatusAccepted, nobody.Status, nobody.Body)
	hit := anon.post("/security-report", url.Values{"id_number": {u.IDNumber}, "mobile": {u.Mobile}, "description": {"无法登录，手机收到陌生验证码"}})
	require.Equal(t, http.StatusAccepted, hit.Status, hit.Body)
	// Each page's forms carry a random idempotency key of their own; apart
	// from it the two answers are the same.
	sameButKey := func(body string) string { return idemField.ReplaceAllString(body, `name="idem" value=""`) }
	require.Equal(t, sameButKey(nobody.Body), sameButKey(hit.Body), "the answer does not tell whether an account matched")
	testenv.Eventually(t, 30*time.Second, "the account locked", func() bool { return locked(u.AccountID) })

	rev := newAgent(t, s)
	ru, rpw := staff(t, s, workflows.RoleReviewer)
	rev.signIn(ru, rpw, rpw+"-changed")
	page := rev.get("/console/accounts/" + other.AccountID)
	require.Contains(t, page.Body, `action="/console/accounts/`+other.AccountID+`/security-report"`)
	empty := rev.post("/console/accounts/"+other.AccountID+"/security-report", url.Values{"description": {""}})
	require.Equal(t, http.StatusUnprocessableEntity, empty.Status, empty.Body)
	require.Contains(t, empty.Body, `id="description-error"`)
	require.False(t, locked(other.AccountID))
	ok := rev.post("/console/accounts/"+other.AccountID+"/security-report", url.Values{"description": {"用户来电称账户被盗"}})
	require.Equal(t, http.StatusSeeOther, ok.Status, ok.Body)
	testenv.Eventually(t, 30*time.Second, "the caller's account locked", func() bool { return locked(other.AccountID) })

	aud := newAgent(t, s)
	au, apw := staff(t, s, workflows.RoleAuditor)
	aud.signIn(au, apw, apw+"-changed")
	require.NotContains(t, aud.get("/console/accounts/"+other.AccountID).Body, `/security-report"`, "auditors do not report")
}
