package web

import (
	"net/http"

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
