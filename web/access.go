package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// Pages for everyone (GB/T 37668-2019, the 2020 elder-friendly website
// guidelines): an elder-friendly mode (长者模式) that any page switches on
// and off, kept in a cookie like the language. The mode is the class
// "elder" on <html>; app.css does the rest (larger text, stronger
// contrast, larger targets, one column, tables as lists).

func init() {
	addMessages(map[string][2]string{
		"nav.elder_on":  {"长者模式", "Elder-friendly mode"},
		"nav.elder_off": {"退出长者模式", "Leave elder-friendly mode"},
		"session.ending": {"为保护您的账户，本次登录将于 %s 自动结束，届时未提交的内容不会保存。登录时长固定，不能延长：请在此之前提交正在填写的内容，之后重新登录即可继续。",
			"To protect your account, this sign-in ends by itself at %s, and anything not submitted by then is lost. Its length is fixed and cannot be extended: submit what you are filling in before then, and sign in again to go on."},
		"session.signin_again": {"重新登录", "Sign in again"},
	})
}

func elderMode(c echo.Context) bool { return cookieValue(c, elderCookie) == "1" }

// switchElder stores the choice and goes back to the page it came from
// (a local path only), like the language switch.
func (a *app) switchElder(c echo.Context) error {
	if c.FormValue("elder") == "on" {
		setCookie(c, elderCookie, "1", 365*24*3600)
	} else {
		setCookie(c, elderCookie, "", -1)
	}
	return c.Redirect(http.StatusSeeOther, localPath(c.FormValue("back")))
}

// Sessions end at a fixed time (SESSION_TTL, 8 hours by default) that
// nothing extends: a warning (layout.html, shown by app.js) says when,
// sessionWarning before the end, so that no one loses a form to it.
const sessionWarning = 10 * time.Minute

// setSessionEnd keeps the session's end (Unix seconds) for the pages'
// warning, in a session cookie like the token's (closing the browser ends both).
func setSessionEnd(c echo.Context, end time.Time) {
	setCookie(c, sessionEndCookie, strconv.FormatInt(end.Unix(), 10), 0)
}

// sessionEnd is the end of the signed-in session, zero when unknown or
// implausible (the cookie is the client's: only a time within the next
// day is used, and only to show a warning).
func sessionEnd(c echo.Context) time.Time {
	n, err := strconv.ParseInt(cookieValue(c, sessionEndCookie), 10, 64)
	if err != nil {
		return time.Time{}
	}
	end := time.Unix(n, 0)
	if now := time.Now(); end.Before(now.Add(-time.Hour)) || end.After(now.Add(24*time.Hour)) {
		return time.Time{}
	}
	return end
}
