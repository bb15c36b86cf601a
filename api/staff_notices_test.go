package api_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C2.1: staff read the reminders and escalations sent to their roles, each
// naming the record it is about; nobody reads another role's notices.
func TestStaffReadTheNoticesToTheirRoles_C2_1(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	both, _ := s.Staff(workflows.RoleReviewer, workflows.RoleSupervisor)
	auditor, _ := s.Staff(workflows.RoleAuditor)
	u := s.NewUser(reviewer)
	app, change, kase := uuid.NewString(), uuid.NewString(), uuid.NewString()
	for _, n := range []struct{ key, role, kind string }{
		{"registration/" + app + "/reminder/1", "reviewer", "registration_reminder"},
		{"data_change/" + change + "/escalation/1", "supervisor", "data_change_escalation"},
		{"case/" + kase + "/reminder/1", "investigator", "case_reminder"},
	} {
		_, err := s.DB.Exec(`INSERT INTO notices (id, operation_key, staff_role, kind, title_zh, title_en, body_zh, body_en)
			VALUES (gen_random_uuid(), $1, $2, $3, '标题', 'title', '正文', 'body')`, n.key, n.role, n.kind)
		require.NoError(t, err)
	}
	records := func(tok, query string) map[string]string {
		r := s.Expect(s.Do("GET", "/v1/staff/notices"+query, nil, testenv.Bearer(tok)), http.StatusOK)
		out := map[string]string{}
		for _, n := range r.Body["notices"].([]any) {
			m := n.(map[string]any)
			out[m["kind"].(string)] = m["record_kind"].(string) + "/" + m["record_id"].(string)
		}
		return out
	}
	require.Equal(t, map[string]string{"registration_reminder": "application/" + app}, records(reviewer, ""))
	require.Equal(t, map[string]string{"registration_reminder": "application/" + app, "data_change_escalation": "data_change/" + change},
		records(both, ""))
	require.Equal(t, map[string]string{"data_change_escalation": "data_change/" + change}, records(both, "?role=supervisor"))
	require.Empty(t, records(auditor, ""))
	bad := s.Do("GET", "/v1/staff/notices?role=supervisor", nil, testenv.Bearer(reviewer))
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
	require.Equal(t, []string{"role"}, bad.DetailFields())
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/staff/notices", nil, testenv.Bearer(u.Token)).Status)
}
