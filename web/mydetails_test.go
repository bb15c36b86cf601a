package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C3.2: on "my registration data" the user changes the contact data at
// once (a bad mobile number is named under its field and changes nothing)
// and asks for a name change, which waits for a reviewer; the page lists
// both changes. No personal data in any address.
func TestMyRegistrationDataContactAndNameChange_C3_2(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	a := newAgent(t, s)
	a.signIn(u.IDNumber, u.Password, "")
	require.Contains(t, a.get("/account").Body, `href="/account/details"`)
	page := a.get("/account/details")
	require.Equal(t, http.StatusOK, page.Status, page.Body)
	require.Contains(t, page.Body, `value="`+u.Mobile+`"`)
	for _, f := range []string{"mobile", "email", "address", "name", "id_number", "note"} {
		require.Contains(t, page.Body, `<label for="f-`+f+`"`, f)
	}

	bad := a.post("/account/details/contact", url.Values{"mobile": {"12345"}, "email": {""}, "address": {u.Address}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, bad.Body)
	require.Contains(t, bad.Body, `id="mobile-error"`)
	var mobile string
	require.NoError(t, s.DB.Get(&mobile, `SELECT p.mobile FROM people p JOIN accounts a ON a.person_id = p.id WHERE a.id = $1`, u.AccountID))
	require.Equal(t, u.Mobile, mobile, "a refused form changes nothing")

	ok := a.post("/account/details/contact", url.Values{"mobile": {"13900001111"}, "email": {"me@example.org"}, "address": {u.Address}})
	require.Equal(t, http.StatusSeeOther, ok.Status, ok.Body)
	require.Equal(t, "/account/details?notice=contact_updated", ok.Location)
	require.NoError(t, s.DB.Get(&mobile, `SELECT p.mobile FROM people p JOIN accounts a ON a.person_id = p.id WHERE a.id = $1`, u.AccountID))
	require.Equal(t, "13900001111", mobile)
	same := a.post("/account/details/contact", url.Values{"mobile": {"13900001111"}, "email": {"me@example.org"}, "address": {u.Address}})
	require.Equal(t, "/account/details?notice=contact_same", same.Location)

	none := a.post("/account/details/identity", url.Values{"name": {""}, "id_number": {""}})
	require.Equal(t, http.StatusUnprocessableEntity, none.Status)
	require.Contains(t, none.Body, `id="body-error"`)
	require.Contains(t, none.Body, `value="13900001111"`, "the contact form keeps the registered values")
	asked := a.post("/account/details/identity", url.Values{"name": {"王新名"}, "note": {"已办理更名"}})
	require.Equal(t, http.StatusSeeOther, asked.Status, asked.Body)
	require.NotContains(t, asked.Location, "王新名")
	after := a.get(asked.Location)
	require.Contains(t, after.Body, `data-status="pending"`)
	require.Contains(t, after.Body, `data-status="applied"`)
	var pending int
	require.NoError(t, s.DB.Get(&pending, `SELECT count(*) FROM data_changes WHERE account_id = $1 AND kind = 'identity' AND status = 'pending'`, u.AccountID))
	require.Equal(t, 1, pending)
}
