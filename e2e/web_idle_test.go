package e2e

import (
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// Issue 20 (WCAG 2.2.1 Timing Adjustable, C3.3(1)): with a short idle
// timeout (30 s: a 25 s window, the notice 8 s before its end), a signed-in
// reviewer's console warns before the idle end; "stay signed in" restarts
// the idle clock without leaving the page; the session is still there after
// the old idle end; left alone, the notice says the session has ended and
// the console asks to sign in again. axe-core: no violation with the notice
// shown.
func TestWebStaffIsWarnedBeforeIdleEndAndStaysSignedIn_C3_3_1(t *testing.T) {
	b := testenv.NewBrowser(t)
	s := testenv.Start(t, testenv.Options{StaffIdleTimeout: 30 * time.Second})
	reviewer, first := staffAccount(t, s, workflows.RoleReviewer)
	w := b.Window()
	quickSignIn(w, s.URL, reviewer, first)
	w.Do(chromedp.Navigate(s.URL+"/console"), chromedp.WaitVisible(chromedp.ID("console-menu")))
	at := func(attr string) time.Time {
		n, err := strconv.ParseInt(w.Attr("#idle-warning", attr), 10, 64)
		require.NoError(t, err)
		return time.Unix(n, 0)
	}
	end := func() time.Time { return at("data-end") }
	oldEnd, oldEnded := end(), at("data-ended")
	require.Equal(t, "8", w.Attr("#idle-warning", "data-warn"))

	// The notice comes before the idle end, and is accessible.
	w.Do(chromedp.WaitVisible(chromedp.ID("idle-warning")))
	require.True(t, time.Now().Before(oldEnd), "the notice came before the idle end")
	require.Contains(t, w.Text("#idle-ending"), "无操作")
	require.Equal(t, "status", w.Attr("#idle-warning", "role"))
	require.Zero(t, w.Audit(), "axe-core on the console with the idle notice")
	keepScreenshot(t, w.Shot("idle-warning"), "console-idle-warning.png")

	// Stay signed in: the page stays (no reload), the notice goes, the end moves.
	w.Do(chromedp.Evaluate[chromedp.Void](`window.__stayed = true`))
	w.Do(chromedp.Click(chromedp.ID("idle-extend")), chromedp.WaitNotVisible(chromedp.ID("idle-warning")))
	require.True(t, testenv.Run(w, chromedp.Evaluate[bool](`window.__stayed === true`)), "the page was not reloaded")
	require.True(t, end().After(oldEnd))
	require.Contains(t, testenv.Run(w, chromedp.Text(chromedp.ID("idle-extended"))), "已延长")

	// The notice comes again before the new end, after the old idle end
	// (the latest: data-ended) has passed; the session is still there.
	w.Do(chromedp.WaitVisible(chromedp.ID("idle-warning")))
	require.True(t, time.Now().After(oldEnded), "past the old idle end")
	w.Do(chromedp.Navigate(s.URL+"/console"), chromedp.WaitVisible(chromedp.ID("console-menu")))

	// Left alone: the notice says the session has ended, and it has (the
	// API's own check, read from the sessions table; under load the page's
	// clock and the database's may differ by a moment, not by a grain).
	w.Do(chromedp.WaitVisible(chromedp.ID("idle-ended")))
	said := time.Now()
	testenv.Eventually(t, 10*time.Second, "the API to hold the session idle", func() bool {
		var idle bool
		_ = s.DB.Get(&idle, `SELECT coalesce(bool_and(s.last_seen_at <= now() - interval '30 seconds'), false)
			FROM sessions s JOIN staff st ON st.id = s.staff_id WHERE st.username = $1 AND s.revoked_at IS NULL`, reviewer)
		return idle
	})
	require.Less(t, time.Since(said), 5*time.Second, "the notice said ended at most a grain early")
	w.Do(chromedp.Navigate(s.URL + "/console"))
	require.Equal(t, "/signin", waitLeave(w, "/console"))
}
