package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// agent is a browser without JavaScript: a cookie jar, no automatic
// redirects, and the CSRF token of the last page it read.
type agent struct {
	t    *testing.T
	s    *testenv.Stack
	base string
	c    *http.Client
	csrf string
}

func newAgent(t *testing.T, s *testenv.Stack) *agent {
	jar, _ := cookiejar.New(nil)
	return &agent{t: t, s: s, base: s.URL, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

type answer struct {
	Status   int
	Header   http.Header
	Body     string
	Location string
}

func (a *agent) read(resp *http.Response, err error) answer {
	a.t.Helper()
	require.NoError(a.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindStringSubmatch(string(b)); m != nil {
		a.csrf = m[1]
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		for _, p := range unlabelledFields(string(b)) {
			a.t.Errorf("%s: %s", resp.Request.URL.Path, p)
		}
	}
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: string(b), Location: resp.Header.Get("Location")}
}

func (a *agent) get(path string) answer {
	a.t.Helper()
	return a.read(a.c.Get(a.base + path))
}

// post submits a form with the page's CSRF token; extra headers are pairs.
func (a *agent) post(path string, form url.Values, headers ...string) answer {
	a.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("csrf") {
		form.Set("csrf", a.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, a.base+path, strings.NewReader(form.Encode()))
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return a.read(a.c.Do(req))
}

// signIn signs in through the page and answers a forced password change;
// a staff member answers the code prompt, or enrols the second factor
// through its pages when the console asks for it.
func (a *agent) signIn(username, password, newPassword string) {
	a.t.Helper()
	a.get("/signin")
	r := a.post("/signin", url.Values{"username": {username}, "password": {password}})
	require.Equal(a.t, http.StatusSeeOther, r.Status, r.Body)
	if r.Location == "/signin/code" {
		a.get("/signin/code")
		r = a.post("/signin/code", url.Values{"code": {a.s.Code(username)}})
		require.Equal(a.t, http.StatusSeeOther, r.Status, r.Body)
	}
	if r.Location == "/password" && newPassword != "" {
		a.get("/password")
		r = a.post("/password", url.Values{"old_password": {password}, "new_password": {newPassword}, "new_password2": {newPassword}})
		require.Equal(a.t, http.StatusSeeOther, r.Status, r.Body)
		if strings.HasPrefix(r.Location, "/console") {
			r = a.get(r.Location)
		}
	}
	if r.Location == "/second-factor" {
		a.enrol(username)
	}
}

var totpSecret = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)

// enrol sets up the second factor through the pages, with the secret the
// page shows in text, and returns the recovery codes page.
func (a *agent) enrol(username string) answer {
	a.t.Helper()
	a.get("/second-factor")
	page := a.post("/second-factor", nil)
	require.Equal(a.t, http.StatusOK, page.Status, page.Body)
	m := totpSecret.FindStringSubmatch(page.Body)
	require.NotNil(a.t, m, "the enrolment page shows the secret")
	a.s.RememberSecret(username, m[1])
	done := a.post("/second-factor/confirm", url.Values{"code": {a.s.Code(username)}})
	require.Equal(a.t, http.StatusOK, done.Status, done.Body)
	require.Contains(a.t, done.Body, `id="recovery-codes"`)
	return done
}

func staff(t *testing.T, s *testenv.Stack, roles ...string) (username, password string) {
	t.Helper()
	username = "pg." + strings.ToLower(strings.ReplaceAll(t.Name(), "_", ""))[:6] + "." + strings.Join(roles, "")[:3]
	_, password = s.NewStaff(username, roles...)
	return username, password
}

// C2.3: pages send a Content-Security-Policy and are not cached; every
// cookie is HttpOnly and SameSite=Strict; the API's own answers stay JSON.
func TestPagesSendCSPAndLockedCookies_C2_3(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	a := newAgent(t, s)
	for _, path := range []string{"/register", "/signin", "/follow", "/"} {
		r := a.get(path)
		require.Equal(t, http.StatusOK, r.Status, path)
		require.Equal(t, "text/html; charset=UTF-8", r.Header.Get("Content-Type"), path)
		csp := r.Header.Get("Content-Security-Policy")
		require.Contains(t, csp, "default-src 'none'", path)
		require.Contains(t, csp, "script-src 'self'", path)
		require.Contains(t, csp, "frame-ancestors 'none'", path)
		require.Equal(t, "no-store", r.Header.Get("Cache-Control"), path)
		require.Equal(t, "DENY", r.Header.Get("X-Frame-Options"), path)
		if path != "/" {
			require.Contains(t, r.Body, `<label for="f-`, "fields have labels")
		}
	}
	resp, err := http.Get(s.URL + "/")
	require.NoError(t, err)
	resp.Body.Close()
	require.NotEmpty(t, resp.Cookies())
	for _, ck := range resp.Cookies() {
		require.True(t, ck.HttpOnly, ck.Name)
		require.Equal(t, http.SameSiteStrictMode, ck.SameSite, ck.Name)
	}

	css := a.get("/assets/app.css")
	require.Equal(t, http.StatusOK, css.Status)
	require.Equal(t, "text/css; charset=utf-8", css.Header.Get("Content-Type"))
	require.Equal(t, http.StatusNotFound, a.get("/assets/../web.go").Status)

	// The API's errors are untouched by the pages.
	for _, path := range []string{"/nope", "/v1/nope"} {
		r := a.get(path)
		require.Equal(t, http.StatusNotFound, r.Status, path)
		require.Contains(t, r.Body, `"code":"not_found"`, path)
	}
}

// C2.3 / C3.4(8): a form without its CSRF token, with another browser's
// token, or posted from another site is refused before anything happens.
func TestFormsWithoutTokenOrFromAnotherSiteAreRefused_C2_3(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	username, password := staff(t, s, workflows.RoleReviewer)
	a := newAgent(t, s)
	a.get("/signin")
	form := func() url.Values { return url.Values{"username": {username}, "password": {password}} }

	noToken := form()
	noToken.Set("csrf", "")
	require.Equal(t, http.StatusForbidden, a.post("/signin", noToken).Status)

	other := newAgent(t, s)
	other.get("/signin")
	foreign := form()
	foreign.Set("csrf", other.csrf)
	require.Equal(t, http.StatusForbidden, a.post("/signin", foreign).Status, "a token of another browser")

	require.Equal(t, http.StatusForbidden, a.post("/signin", form(), "Origin", "https://evil.example").Status)
	require.Equal(t, http.StatusForbidden, a.post("/signin", form(), "Sec-Fetch-Site", "cross-site").Status)

	var attempts int
	require.NoError(t, s.DB.Get(&attempts, `SELECT count(*) FROM sign_in_attempts a JOIN staff s ON s.id = a.staff_id
		WHERE s.username = $1`, username))
	require.Zero(t, attempts, "refused forms reach no endpoint")

	ok := a.post("/signin", form(), "Origin", s.URL)
	require.Equal(t, http.StatusSeeOther, ok.Status, ok.Body)
	require.Equal(t, "/password", ok.Location)
}

// C1.4: the pages follow the API's roles. A user is sent to "my account",
// a non-reviewer sees no queue and cannot decide, an administrator manages
// staff and a reviewer cannot; without a session the console asks to sign
// in.
func TestConsolePagesFollowTheAPIRoles_C1_4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	p := testenv.NewPerson()
	id, _ := s.Register(p)
	s.WaitForStatus(id, "pending")

	anon := newAgent(t, s)
	r := anon.get("/console")
	require.Equal(t, http.StatusSeeOther, r.Status)
	require.Equal(t, "/signin?notice=signin_first", r.Location)
	require.Equal(t, "/signin?notice=signin_first", anon.get("/account").Location)

	inv := newAgent(t, s)
	u, pw := staff(t, s, workflows.RoleInvestigator)
	inv.signIn(u, pw, pw+"-changed")
	r = inv.get("/console")
	require.Equal(t, http.StatusOK, r.Status)
	require.NotContains(t, r.Body, `id="queue"`)
	require.NotContains(t, r.Body, p.Name)
	r = inv.post("/console/applications/"+id+"/decision", url.Values{"decision": {"approve"}})
	require.Contains(t, []int{http.StatusForbidden, http.StatusNotFound}, r.Status, r.Body)
	require.Equal(t, http.StatusForbidden, inv.get("/console/staff").Status)
	var status string
	require.NoError(t, s.DB.Get(&status, `SELECT status FROM applications WHERE id = $1`, id))
	require.Equal(t, "pending", status)

	rev := newAgent(t, s)
	u, pw = staff(t, s, workflows.RoleReviewer)
	rev.signIn(u, pw, pw+"-changed")
	r = rev.get("/console")
	require.Contains(t, r.Body, `data-id="`+id+`"`)
	require.Equal(t, http.StatusForbidden, rev.get("/console/staff").Status)

	admin := newAgent(t, s)
	s.Admin() // changes the bootstrap password
	admin.signIn(testenv.AdminUsername, "Strong-Changed-Passphrase-9", "")
	r = admin.get("/console/staff")
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	bad := admin.post("/console/staff", url.Values{"username": {"X"}, "name": {""}, "roles": {"reviewer"}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
	require.Contains(t, bad.Body, `id="username-error"`)
	created := admin.post("/console/staff", url.Values{"username": {"wang.counter"}, "name": {"王窗口"},
		"roles": {"reviewer", "supervisor"}})
	require.Equal(t, http.StatusOK, created.Status, created.Body)
	require.Contains(t, created.Body, `id="initial-password"`, "the generated first password, shown once")
	require.Contains(t, admin.get("/console/staff").Body, "wang.counter")
	r = rev.get("/account")
	require.Equal(t, "/console", r.Location, "staff have no user account page")
}
