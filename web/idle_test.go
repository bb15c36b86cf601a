package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

var (
	idleBanner   = regexp.MustCompile(`id="idle-warning" role="status" hidden data-end="(\d+)" data-ended="(\d+)" data-warn="(\d+)"`)
	pickupBanner = regexp.MustCompile(`id="pickup-warning" role="status" hidden data-deadline="(\d+)" data-warn="(\d+)"`)
)

func unixNear(t *testing.T, s string, want time.Time, slack time.Duration) {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err)
	require.WithinDuration(t, want, time.Unix(n, 0), slack)
}

// Issue 20 (WCAG 2.2.1, C3.3(1)): a signed-in staff page carries the notice
// of the idle end (STAFF_IDLE_TIMEOUT, 15 minutes, less the half minute of
// noting use) shown 2 minutes before it, with a "stay signed in" button; a
// user's page has none. The button's request counts as use (the idle
// clock restarts) and answers the new idle end; the fixed end is not moved;
// once the session has ended the button says so. The reviewer's page of an
// approval carries the notice of the pickup window's end, which cannot be
// extended.
func TestStaffPagesWarnBeforeIdleEndAndStaySignedIn_C3_3_1(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	rev := newAgent(t, s)
	u, pw := staff(t, s, workflows.RoleReviewer)
	rev.signIn(u, pw, pw+"-changed")
	page := rev.get("/console")
	require.Equal(t, http.StatusOK, page.Status)
	m := idleBanner.FindStringSubmatch(page.Body)
	require.NotNil(t, m, "the console carries the idle notice")
	unixNear(t, m[1], time.Now().Add(15*time.Minute-30*time.Second), 5*time.Second)
	unixNear(t, m[2], time.Now().Add(15*time.Minute), 5*time.Second)
	require.Equal(t, "120", m[3])
	require.Contains(t, page.Body, `id="idle-extend"`)
	require.Contains(t, page.Body, "15 分钟", "the notice names the idle time")

	// Nearly idle for the whole time: the button keeps the session.
	var staffID, expiresBefore string
	require.NoError(t, s.DB.Get(&staffID, `SELECT id FROM staff WHERE username = $1`, u))
	require.NoError(t, s.DB.Get(&expiresBefore, `SELECT max(expires_at)::text FROM sessions WHERE staff_id = $1 AND revoked_at IS NULL`, staffID))
	_, err := s.DB.Exec(`UPDATE sessions SET last_seen_at = now() - interval '14 minutes' WHERE staff_id = $1`, staffID)
	require.NoError(t, err)
	r := rev.post("/session/extend", url.Values{"back": {"/console"}}, "Accept", "application/json")
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	var ext struct {
		IdleEnd int64  `json:"idle_end"`
		Warn    int    `json:"warn"`
		Clock   string `json:"clock"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Body), &ext))
	require.WithinDuration(t, time.Now().Add(15*time.Minute-30*time.Second), time.Unix(ext.IdleEnd, 0), 5*time.Second)
	require.Equal(t, 120, ext.Warn)
	require.Regexp(t, `^\d\d:\d\d:\d\d$`, ext.Clock)
	var idleFor float64
	require.NoError(t, s.DB.Get(&idleFor, `SELECT extract(epoch FROM now() - max(last_seen_at)) FROM sessions WHERE staff_id = $1 AND revoked_at IS NULL`, staffID))
	require.Less(t, idleFor, 5.0, "the idle clock restarted")
	var expiresAfter string
	require.NoError(t, s.DB.Get(&expiresAfter, `SELECT max(expires_at)::text FROM sessions WHERE staff_id = $1 AND revoked_at IS NULL`, staffID))
	require.Equal(t, expiresBefore, expiresAfter, "the fixed end is not extended")
	// Without the script: the form posts and comes back to the page.
	r = rev.post("/session/extend", url.Values{"back": {"/console"}})
	require.Equal(t, http.StatusSeeOther, r.Status)
	require.Equal(t, "/console", r.Location)

	// The pickup window of an approval: its end, shown 5 minutes before.
	// A counter application (entered by a reviewer's session), whose
	// initial password the approving reviewer picks up (issue 18).
	counter, _ := s.Staff(workflows.RoleReviewer)
	id := s.Expect(s.Do("POST", "/v1/registrations", testenv.NewPerson().Registration("social_insurance_query"),
		testenv.Bearer(counter)), http.StatusAccepted).Str("id")
	s.WaitForStatus(id, "pending")
	rev.get("/console/applications/" + id)
	approved := rev.post("/console/applications/"+id+"/decision", url.Values{"decision": {"approve"}})
	require.Equal(t, http.StatusOK, approved.Status, approved.Body)
	p := pickupBanner.FindStringSubmatch(approved.Body)
	require.NotNil(t, p, "the approval page carries the pickup notice")
	unixNear(t, p[1], time.Now().Add(workflows.DefaultServiceLevel.PickupWindow), time.Minute)
	require.Equal(t, "300", p[2])
	require.Contains(t, approved.Body, "不能延长")

	// Unused too long: the session has ended, and the button says so.
	_, err = s.DB.Exec(`UPDATE sessions SET last_seen_at = now() - interval '16 minutes' WHERE staff_id = $1`, staffID)
	require.NoError(t, err)
	r = rev.post("/session/extend", url.Values{"back": {"/console"}}, "Accept", "application/json")
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.JSONEq(t, `{"ended":true}`, r.Body)

	// A user's pages have no idle notice (users have no idle timeout).
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	user := s.NewUser(reviewer)
	ua := newAgent(t, s)
	ua.signIn(user.IDNumber, user.Password, "")
	acct := ua.get("/account")
	require.Equal(t, http.StatusOK, acct.Status)
	require.Contains(t, acct.Body, `id="session-warning"`)
	require.NotContains(t, acct.Body, `id="idle-warning"`)
}
