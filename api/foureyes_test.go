package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C2.3 / C1.4: one administrator cannot approve a disclosure by way of a
// supervisor they created (or whose password, roles or second factor they
// changed) in the last 30 days; a supervisor the requester did not touch
// decides as before.
func TestFourEyesRefusesAMemberTheRequesterChanged_C2_3_C1_4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	admin := s.Admin()
	u := s.User(testenv.NewPerson(), "social_insurance_query")
	supervisor, _ := s.Staff(workflows.RoleSupervisor)
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	enter := func(tok string) string {
		body := map[string]any{"subject": map[string]string{"account_id": u.AccountID}, "requester": "某区公安分局",
			"basis": "law", "legal_reference": "（2026）沪公调字第009号", "purpose": "案件调查", "fields": []string{"name"}}
		id := s.Expect(s.Do("POST", "/v1/disclosures", body, testenv.Bearer(tok)), http.StatusAccepted).Str("id")
		testenv.Eventually(t, 20*time.Second, "the request to await approval", func() bool {
			var st string
			_ = s.DB.Get(&st, `SELECT status FROM disclosure_requests WHERE id = $1`, id)
			return st == "awaiting_approval"
		})
		return id
	}
	byAdmin := enter(admin)
	r := s.Do("POST", "/v1/disclosures/"+byAdmin+"/decision", map[string]any{"decision": "approve"}, testenv.Bearer(supervisor))
	require.Equal(t, http.StatusForbidden, r.Status, string(r.Raw))
	require.Equal(t, "four_eyes", r.ErrorCode())
	var st string
	require.NoError(t, s.DB.Get(&st, `SELECT status FROM disclosure_requests WHERE id = $1`, byAdmin))
	require.Equal(t, "awaiting_approval", st, "nothing changed")

	byReviewer := enter(reviewer)
	s.Expect(s.Do("POST", "/v1/disclosures/"+byReviewer+"/decision", map[string]any{"decision": "approve"}, testenv.Bearer(supervisor)), http.StatusOK)
}
