// Package web serves the pages of the back office: the applicant and user
// pages under / and the staff console under /console. It is a thin,
// server-rendered layer over the HTTP API: every page reads and writes
// through the /v1 endpoints, called in-process through the same Echo
// instance (same validation, authentication, roles, audit and errors as any
// other client). The browser holds the API session token only in an
// HttpOnly, SameSite=Strict cookie; JavaScript never sees it.
//
// Each process adds its pages in its own file (web/<process>.go, with its
// templates in templates/<process>/ and its texts in a messages map) and
// registers them with one line in Mount.
package web

import (
	"embed"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

//go:embed templates assets
var files embed.FS

// app holds the Echo instance that the pages call the API through.
type app struct {
	e *echo.Echo
}

// Mount adds the pages and their assets to the API's Echo instance.
func Mount(e *echo.Echo) {
	a := &app{e: e}
	e.GET("/assets/*", a.asset)
	a.get("/", a.home)
	a.post("/lang", a.switchLanguage)
	a.post("/elder", a.switchElder)

	// Each process registers its pages here, from its own file.
	a.accountPages()
	a.registrationPages()
	a.reviewPages()
	a.staffPages()
	a.myAccountPages()
	a.exportPages()
	a.casePages()
	a.accountConsolePages()
	a.termsConsolePages()
	a.cataloguePages()
	a.auditPages()
	a.disclosurePages()
	a.caseOpenPages()
	a.dataChangePages()
	a.staffNoticePages()
	a.myDetailsPages()
	a.publicReportPages()
	a.operationsPages()
	a.idlePages()
}

// get and post register a page with the page middleware (security headers,
// CSRF cookie and check, language). Routes are registered one by one, not
// as a group, so that the API's own 404 and 405 answers stay as they are.
func (a *app) get(path string, h echo.HandlerFunc) {
	a.e.GET(path, h, pageMiddleware)
}

func (a *app) post(path string, h echo.HandlerFunc) {
	a.e.POST(path, h, pageMiddleware, checkCSRF)
}

// contentSecurityPolicy allows nothing but this origin's own styles,
// scripts and images, and no framing.
// connect-src: the "stay signed in" button's request (web/idle.go).
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func pageMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		ensureCSRFCookie(c)
		return next(c)
	}
}

func (a *app) asset(c echo.Context) error {
	name := strings.TrimPrefix(c.Param("*"), "/")
	if strings.Contains(name, "..") || name == "" {
		return echo.ErrNotFound
	}
	b, err := files.ReadFile("assets/" + name)
	if err != nil {
		return echo.ErrNotFound
	}
	ctype := "application/octet-stream"
	switch {
	case strings.HasSuffix(name, ".css"):
		ctype = "text/css; charset=utf-8"
	case strings.HasSuffix(name, ".js"):
		ctype = "text/javascript; charset=utf-8"
	case strings.HasSuffix(name, ".svg"):
		ctype = "image/svg+xml"
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	c.Response().Header().Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, ctype, b)
}

func (a *app) home(c echo.Context) error {
	if c.Request().URL.Path != "/" {
		return echo.ErrNotFound
	}
	return render(c, http.StatusOK, "home.html", view{Title: "home.title"})
}

// switchLanguage stores the choice and goes back to the page it came from
// (a local path only).
func (a *app) switchLanguage(c echo.Context) error {
	lang := c.FormValue("lang")
	if lang != "en" {
		lang = "zh"
	}
	setCookie(c, langCookie, lang, 365*24*3600)
	return c.Redirect(http.StatusSeeOther, localPath(c.FormValue("back")))
}

// localPath keeps a redirect target on this site.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\?#") {
		return "/"
	}
	// No control characters: a browser drops a tab or a newline from a
	// Location, so "/\t/evil.example" would lead to //evil.example.
	if strings.ContainsFunc(p, isControl) {
		return "/"
	}
	return p
}

// isControl reports an ASCII control character.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
