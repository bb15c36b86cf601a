package web_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C1.4: an administrator changes a staff member's roles on the member's
// page: a missing reason or no role is shown under its field and changes
// nothing; the change takes effect on the member's next page; deactivation
// ends the member's session; the administrator cannot remove their own
// administrator role; a reviewer cannot open the page.
func TestStaffMemberRolesAndDeactivationOnThePage_C1_4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	u, pw := staff(t, s, workflows.RoleReviewer)
	var memberID, adminID string
	require.NoError(t, s.DB.Get(&memberID, `SELECT id FROM staff WHERE username = $1`, u))
	require.NoError(t, s.DB.Get(&adminID, `SELECT id FROM staff WHERE username = $1`, testenv.AdminUsername))
	member := newAgent(t, s)
	member.signIn(u, pw, pw+"-changed")
	require.Equal(t, http.StatusForbidden, member.get("/console/cases").Status, "no investigator role yet")
	require.Equal(t, http.StatusForbidden, member.get("/console/staff/"+memberID).Status)
	require.Equal(t, http.StatusForbidden, member.post("/console/staff/"+memberID,
		url.Values{"roles": {"administrator"}, "active": {"true"}, "reason": {"自我提升"}}).Status)

	admin := newAgent(t, s)
	s.Admin()
	admin.signIn(testenv.AdminUsername, "Strong-Changed-Passphrase-9", "")
	list := admin.get("/console/staff")
	require.Contains(t, list.Body, `href="/console/staff/`+memberID+`"`)
	page := admin.get("/console/staff/" + memberID)
	require.Equal(t, http.StatusOK, page.Status, page.Body)
	require.Contains(t, page.Body, `value="reviewer" checked`)
	require.Contains(t, page.Body, `<label for="f-reason"`)
	require.Equal(t, http.StatusNotFound, admin.get("/console/staff/00000000-0000-4000-8000-000000000000").Status)

	roles := func() []string {
		var r []string
		require.NoError(t, s.DB.Select(&r, `SELECT unnest(roles) FROM staff WHERE id = $1 ORDER BY 1`, memberID))
		return r
	}
	bad := admin.post("/console/staff/"+memberID, url.Values{"active": {"true"}, "reason": {""}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, bad.Body)
	require.Contains(t, bad.Body, `id="roles-error"`)
	require.Contains(t, bad.Body, `id="reason-error"`)
	require.NotContains(t, bad.Body, `value="reviewer" checked`, "the form shows what was sent, not the old roles")
	require.Equal(t, []string{"reviewer"}, roles())

	ok := admin.post("/console/staff/"+memberID, url.Values{"roles": {"reviewer", "investigator"}, "office": {"西城网点"},
		"active": {"true"}, "reason": {"兼任调查"}})
	require.Equal(t, http.StatusSeeOther, ok.Status, ok.Body)
	require.Equal(t, "/console/staff?notice=staff_updated_sole", ok.Location, "at once, marked: the sole administrator")
	require.Equal(t, []string{"investigator", "reviewer"}, roles())
	require.Equal(t, http.StatusOK, member.get("/console/cases").Status, "the new role on the next page")
	same := admin.post("/console/staff/"+memberID, url.Values{"roles": {"reviewer", "investigator"}, "office": {"西城网点"},
		"active": {"true"}, "reason": {"再次提交"}})
	require.Equal(t, "/console/staff?notice=staff_same", same.Location)

	self := admin.post("/console/staff/"+adminID, url.Values{"roles": {"auditor"}, "active": {"true"}, "reason": {"误操作"}})
	require.Equal(t, http.StatusConflict, self.Status)
	require.Contains(t, self.Body, `id="problem"`)

	// A member who lost the password gets a new, generated first password,
	// shown once on the answer's page.
	noReason := admin.post("/console/staff/"+memberID+"/password", url.Values{"password_reason": {""}})
	require.Contains(t, noReason.Body, `id="password_reason-error"`)
	set := admin.post("/console/staff/"+memberID+"/password", url.Values{"password_reason": {"忘记密码"}})
	require.Equal(t, http.StatusOK, set.Status, set.Body)
	fresh := between(t, set.Body, `<code id="initial-password">`, `</code>`)
	require.GreaterOrEqual(t, len(fresh), 12)
	require.Contains(t, set.Body, `id="sole-administrator"`)
	require.Contains(t, member.get("/console/cases").Location, "/signin", "the member's session ended")
	member.signIn(u, fresh, "Member-Changed-Again-88")
	require.Equal(t, http.StatusOK, member.get("/console/cases").Status)

	off := admin.post("/console/staff/"+memberID, url.Values{"roles": {"reviewer", "investigator"}, "active": {"false"}, "reason": {"离职"}})
	require.Equal(t, http.StatusSeeOther, off.Status, off.Body)
	require.Contains(t, admin.get("/console/staff/"+memberID).Body, `data-active="false"`)
	r := member.get("/console/cases")
	require.Equal(t, http.StatusSeeOther, r.Status, "the member's session has ended")
	require.Contains(t, r.Location, "/signin")
}

// between is the text of body between the first open and the next close.
func between(t *testing.T, body, open, close string) string {
	t.Helper()
	i := strings.Index(body, open)
	require.GreaterOrEqual(t, i, 0, "no %s in the page", open)
	rest := body[i+len(open):]
	j := strings.Index(rest, close)
	require.GreaterOrEqual(t, j, 0)
	return html.UnescapeString(rest[:j])
}
