package web_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C2.1: the console's reminders page shows the notices to the signed-in
// member's roles with a link to each record, and only theirs.
func TestConsoleRemindersPageLinksToTheRecords_C2_1(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	app, change := uuid.NewString(), uuid.NewString()
	for _, n := range []struct{ key, role, kind string }{
		{"registration/" + app + "/reminder/1", "reviewer", "registration_reminder"},
		{"data_change/" + change + "/escalation/1", "supervisor", "data_change_escalation"},
	} {
		_, err := s.DB.Exec(`INSERT INTO notices (id, operation_key, staff_role, kind, title_zh, title_en, body_zh, body_en)
			VALUES (gen_random_uuid(), $1, $2, $3, '注册申请等待审核已超时', 'waiting too long', '申请编号', 'Application')`, n.key, n.role, n.kind)
		require.NoError(t, err)
	}
	rev := newAgent(t, s)
	u, pw := staff(t, s, workflows.RoleReviewer)
	rev.signIn(u, pw, pw+"-changed")
	require.Contains(t, rev.get("/console").Body, `href="/console/notices"`)
	page := rev.get("/console/notices")
	require.Equal(t, http.StatusOK, page.Status, page.Body)
	require.Contains(t, page.Body, `href="/console/applications/`+app+`"`)
	require.NotContains(t, page.Body, change, "another role's notice")
	require.Equal(t, "/signin?notice=signin_first", newAgent(t, s).get("/console/notices").Location)
}
