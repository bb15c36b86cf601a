package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
)

var idemField = regexp.MustCompile(`name="idem" value="([A-Za-z0-9_-]+)"`)

// C2.1, C1.5: a registration form sent twice (a double click, or sent again
// after a "try again" page) is one request: the second sending reaches the
// same application and shows the same answer, never a second process or an
// "already open" refusal. A new form (a new page) is a new request.
func TestFormSentTwiceIsOneRegistration_C2_1_C1_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	a := newAgent(t, s)
	page := a.get("/register")
	m := idemField.FindStringSubmatch(page.Body)
	require.NotNil(t, m, "the form carries an idempotency key")
	key := m[1]
	require.NotEqual(t, key, idemField.FindStringSubmatch(a.get("/register").Body)[1], "each page has a key of its own")

	p := testenv.NewPerson()
	form := func(k string) url.Values {
		return url.Values{"name": {p.Name}, "id_number": {p.IDNumber}, "mobile": {p.Mobile}, "address": {p.Address},
			"channel": {"online"}, "terms_version": {"2026-01"}, "agreed": {"yes"}, "idem": {k}}
	}
	// A refused form comes back with the key it was sent with.
	bad := form(key)
	bad.Del("agreed")
	r := a.post("/register", bad)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, r.Body)
	require.Contains(t, r.Body, `name="idem" value="`+key+`"`)

	first := a.post("/register", form(key))
	require.Equal(t, http.StatusAccepted, first.Status, first.Body)
	again := a.post("/register", form(key))
	require.Equal(t, http.StatusAccepted, again.Status, again.Body)
	var n int
	require.NoError(t, s.DB.Get(&n, `SELECT count(*) FROM applications WHERE id_number = $1`, p.IDNumber))
	require.Equal(t, 1, n)

	// The same person on a new page is a new request: refused, the first
	// application is open.
	other := a.post("/register", form(idemField.FindStringSubmatch(a.get("/register").Body)[1]))
	require.Equal(t, http.StatusConflict, other.Status, other.Body)
}
