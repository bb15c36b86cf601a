package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// Staff sessions also end after STAFF_IDLE_TIMEOUT without use (C3.3(1):
// counter tablets are shared). Unlike the fixed end, the idle end may be
// pushed back: any request does it. So signed-in staff pages carry a hidden
// notice of the idle end (layout.html) that app.js shows idleWarning before
// it, with a "stay signed in" button that posts to /session/extend: an
// authenticated call that the API counts as use, answered with the new
// idle end (JSON for the script; a redirect back without it). The fixed
// end (hrss_session_end) is not moved by it (docs/web.md).

// idleWarningMax is how long before the idle end the notice shows (less
// under a short idle timeout: a third of it).
const idleWarningMax = 2 * time.Minute

func init() {
	addMessages(map[string][2]string{
		"idle.ending": {"为保护您的账户，工作台在 %d 分钟无操作后自动退出。如不继续操作，本次登录将于 ",
			"To protect your account, the console signs you out after %d minutes without use. Unless you go on, this sign-in ends at "},
		"idle.ending_after": {" 结束，未提交的内容不会保存。", ", and anything not submitted is lost."},
		"idle.extend":       {"继续保持登录", "Stay signed in"},
		"idle.extended":     {"已延长，仍保持登录。", "Extended: you are still signed in."},
		"pickup.ending": {"领取时限即将于 %s 结束，且不能延长：请现在领取初始密码。逾期未领取的，只能由申请人持身份证件到经办服务机构重置密码。",
			"The pickup window ends at %s and cannot be extended: pick up the initial password now. After that, only an in-person reset at a service office with an identity document issues a new one."},
		"idle.ended": {"因长时间无操作，本次登录已结束，未提交的内容未保存。", "This sign-in has ended after a time without use; anything not submitted was not saved."},
	})
}

// pickupWarningMax is how long before a pickup window's end its notice
// shows (less for a short window: half of what is left).
const pickupWarningMax = 5 * time.Minute

// deadline reads a fixed end given as a time or as JSON's RFC 3339 text
// (zero when it is neither or has passed).
func deadline(v any) time.Time {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case string:
		t, _ = time.Parse(time.RFC3339Nano, x)
	}
	if t.Before(time.Now()) {
		return time.Time{}
	}
	return t
}

// deadlineWarn: seconds before the end that its notice shows.
func deadlineWarn(v any) int {
	t := deadline(v)
	if t.IsZero() {
		return 0
	}
	return int(min(pickupWarningMax, time.Until(t)/2).Seconds())
}

func (a *app) idlePages() {
	a.post("/session/extend", a.extendSession)
}

// setIdleWindow keeps the seconds a staff session lasts unused (the API's
// idle_timeout_seconds), for the pages' notice; zero clears it.
func setIdleWindow(c echo.Context, seconds int) {
	if seconds <= 0 {
		if cookieValue(c, idleCookie) != "" {
			setCookie(c, idleCookie, "", -1)
		}
		return
	}
	setCookie(c, idleCookie, strconv.Itoa(seconds), 0)
}

// idleTimeout reads it back: zero when absent or implausible (the cookie
// is the client's and only times a notice; the API decides when a session
// ends).
func idleTimeout(c echo.Context) time.Duration {
	n, err := strconv.Atoi(cookieValue(c, idleCookie))
	if err != nil || n < 6 || n > 24*3600 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// IdleGrain is how often the API notes a staff session's use (api/auth.go,
// idleGrain): the idle end comes between the timeout less this and the
// timeout after the last request.
func IdleGrain(timeout time.Duration) time.Duration { return min(30*time.Second, timeout/6) }

// idleNotice counts from now (this request is a use): the earliest idle
// end, which the notice warns before (warn ahead), and the latest, after
// which the session has surely ended. Zero when there is none to give (not
// staff, or the fixed end comes first).
func idleNotice(c echo.Context, sessionEnd time.Time) (end, ended time.Time, warn time.Duration) {
	timeout := idleTimeout(c)
	if timeout == 0 {
		return time.Time{}, time.Time{}, 0
	}
	now := time.Now()
	w := timeout - IdleGrain(timeout)
	end, ended = now.Add(w), now.Add(timeout)
	if !sessionEnd.IsZero() && !end.Before(sessionEnd) {
		return time.Time{}, time.Time{}, 0
	}
	return end, ended, min(idleWarningMax, w/3)
}

// extendSession: an authenticated call (GET /v1/me), which the API counts
// as use of the session, then the new idle end.
func (a *app) extendSession(c echo.Context) error {
	json := strings.Contains(c.Request().Header.Get(echo.HeaderAccept), echo.MIMEApplicationJSON)
	e := a.call(c, asSignedIn, http.MethodGet, "/v1/me", nil, nil)
	if e != nil && json {
		return c.JSON(e.Status, map[string]any{"ended": e.Status == http.StatusUnauthorized})
	}
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		return fail(c, e)
	}
	if json {
		end, ended, warn := idleNotice(c, sessionEnd(c))
		if end.IsZero() {
			return c.JSON(http.StatusOK, map[string]any{})
		}
		return c.JSON(http.StatusOK, map[string]any{"idle_end": end.Unix(), "ended_at": ended.Unix(),
			"warn": int(warn.Seconds()), "clock": end.In(shanghai).Format("15:04:05")})
	}
	return c.Redirect(http.StatusSeeOther, localPath(c.FormValue("back")))
}
