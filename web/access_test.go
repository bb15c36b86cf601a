package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
)

// Issue 20: the elder-friendly mode is switched on every page and kept in
// a cookie; the switch goes back to a local page only and needs the form's
// CSRF token like every form.
func TestElderModeSwitchKeptInACookie_C1_1(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	a := newAgent(t, s)
	r := a.get("/register")
	require.Contains(t, r.Body, `id="elder-switch"`)
	require.NotContains(t, r.Body, `class="elder"`)

	r = a.post("/elder", url.Values{"elder": {"on"}, "back": {"/register"}})
	require.Equal(t, http.StatusSeeOther, r.Status)
	require.Equal(t, "/register", r.Location)
	require.Contains(t, a.get("/register").Body, `<html lang="zh-CN" class="elder">`)
	require.Contains(t, a.get("/follow").Body, `class="elder"`, "kept from page to page")

	// A redirect elsewhere is refused: the switch goes home instead.
	r = a.post("/elder", url.Values{"elder": {"off"}, "back": {"//evil.example/x"}})
	require.Equal(t, "/", r.Location)
	require.NotContains(t, a.get("/").Body, `class="elder"`)

	// Without the CSRF token: refused, nothing changed.
	r = a.post("/elder", url.Values{"elder": {"on"}, "csrf": {"x"}})
	require.Equal(t, http.StatusForbidden, r.Status)
	require.NotContains(t, a.get("/").Body, `class="elder"`)
}
