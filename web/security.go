package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// Cookies. All are HttpOnly and SameSite=Strict (Secure when the request
// came over TLS): none is readable by scripts or sent by other sites.
const (
	sessionCookie = "hrss_session" // the API session token (Bearer)
	csrfCookie    = "hrss_csrf"    // a random secret the form tokens derive from
	langCookie    = "hrss_lang"    // zh | en
	elderCookie   = "hrss_elder"   // 1: the elder-friendly mode is on (web/access.go)
	// sessionEndCookie: when the session ends (Unix seconds), for the
	// warning before it does (web/access.go).
	sessionEndCookie = "hrss_session_end"
	// idleCookie: seconds a staff session surely lasts unused, for the
	// notice before the idle end (web/idle.go).
	idleCookie   = "hrss_idle"
	followCookie = "hrss_follow" // application ID and follow token, after the applicant opened the follow page
	kindCookie   = "hrss_kind"   // user | staff: which menu to show (the API decides what is allowed)
	// restrictedCookie holds a suspended or cancelled user's restricted
	// token (X-Restricted-Token), which opens their cases and sanctions only.
	restrictedCookie = "hrss_restricted"
)

func secure(c echo.Context) bool {
	return c.Request().TLS != nil || c.Request().Header.Get(echo.HeaderXForwardedProto) == "https"
}

// setCookie sets an HttpOnly, SameSite=Strict cookie for the whole site;
// maxAge 0 makes it end with the browser session, -1 deletes it.
func setCookie(c echo.Context, name, value string, maxAge int) {
	ck := &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: secure(c)}
	c.SetCookie(ck)
	// Later reads in the same request see the new value.
	r := c.Request()
	cookies := r.Cookies()
	r.Header.Del("Cookie")
	for _, old := range cookies {
		if old.Name != name {
			r.AddCookie(old)
		}
	}
	if maxAge >= 0 {
		r.AddCookie(&http.Cookie{Name: name, Value: value})
	}
}

func cookieValue(c echo.Context, name string) string {
	ck, err := c.Cookie(name)
	if err != nil {
		return ""
	}
	return ck.Value
}

func sessionToken(c echo.Context) string { return cookieValue(c, sessionCookie) }

func restrictedToken(c echo.Context) string { return cookieValue(c, restrictedCookie) }

func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ensureCSRFCookie gives the browser its CSRF secret on the first page.
func ensureCSRFCookie(c echo.Context) {
	if len(cookieValue(c, csrfCookie)) < 32 {
		setCookie(c, csrfCookie, randomSecret(), 0)
	}
}

// renewCSRF replaces the secret when the person signs in or out, so that a
// token seen before cannot be used across that change.
func renewCSRF(c echo.Context) {
	setCookie(c, csrfCookie, randomSecret(), 0)
}

// csrfToken is the token every form carries: an HMAC keyed by the cookie's
// secret. Another site can neither read the cookie nor the page, so it
// cannot compute the token.
func csrfToken(c echo.Context) string {
	m := hmac.New(sha256.New, []byte(cookieValue(c, csrfCookie)))
	m.Write([]byte("hrss-web-form"))
	return hex.EncodeToString(m.Sum(nil))
}

// checkCSRF refuses a POST without the right token or from another origin.
func checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" {
			return forbiddenForm(c)
		}
		if origin := r.Header.Get(echo.HeaderOrigin); origin != "" && origin != "null" {
			u, err := url.Parse(origin)
			if err != nil || !strings.EqualFold(u.Host, r.Host) {
				return forbiddenForm(c)
			}
		}
		got := c.FormValue("csrf")
		if len(cookieValue(c, csrfCookie)) < 32 || !hmac.Equal([]byte(got), []byte(csrfToken(c))) {
			return forbiddenForm(c)
		}
		return next(c)
	}
}

func forbiddenForm(c echo.Context) error {
	// A fresh secret for the next try; the page says what happened.
	ensureCSRFCookie(c)
	return render(c, http.StatusForbidden, "error.html", view{Title: "error.title",
		Notice: "error.csrf", Back: "/"})
}
