package e2e

import (
	"net/http"
	"testing"

	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C1.4 / C3.3(1) (issue 15, dual control): while one administrator is
// active (the bootstrap) a staff change takes effect at once, marked "sole
// administrator", and the generated first password comes back once. With
// two, every change is a request that a second administrator decides: not
// the requester, not a member the requester created or changed in the last
// 30 days (nor one whose creation the requester approved); the approving
// administrator receives the first password once; refused requests change
// nothing. No password, hash or name enters the workflow's history.
func TestStaffChangesNeedASecondAdministrator_C1_4_C3_3_1(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	admin := s.Admin()
	var adminID string
	require.NoError(t, s.DB.Get(&adminID, `SELECT id FROM staff WHERE username = $1`, testenv.AdminUsername))

	// Bootstrap: at once, marked, the password generated and shown once.
	first := s.Expect(s.AsAdmin(admin, "POST", "/v1/staff", map[string]any{"username": "second.admin", "name": "第二管理员",
		"roles": []string{workflows.RoleAdministrator}}), http.StatusCreated)
	require.Equal(t, true, first.Body["sole_administrator"])
	pw2 := first.Str("initial_password")
	require.GreaterOrEqual(t, len(pw2), 12)
	admin2ID := first.Str("id")
	var sole bool
	require.NoError(t, s.DB.Get(&sole, `SELECT (detail->>'sole_administrator')::boolean FROM audit_log
		WHERE action = 'staff.created' AND record_id = $1 AND actor_id = $2`, admin2ID, adminID))
	require.True(t, sole, "the audit log marks a sole administrator's change")
	var sealed int
	require.NoError(t, s.DB.Get(&sealed, `SELECT count(*) FROM staff_credential_pickups WHERE ciphertext IS NOT NULL`))
	require.Zero(t, sealed, "shown once: the sealed copy is gone")
	admin2 := s.SignIn("second.admin", pw2)
	s.ChangePassword(admin2, pw2, "Second-Admin-Changed-9")

	// Two administrators: a request (202, Location), nothing changed yet.
	req := s.Expect(s.AsAdmin(admin, "POST", "/v1/staff", map[string]any{"username": "rev.hand", "name": "审核员",
		"roles": []string{workflows.RoleReviewer}}), http.StatusAccepted)
	reqID := req.Str("staff_change", "id")
	require.Equal(t, "/v1/staff-changes/"+reqID, req.Header.Get("Location"))
	require.Equal(t, "pending", req.Str("staff_change", "status"))
	var n int
	require.NoError(t, s.DB.Get(&n, `SELECT count(*) FROM staff WHERE username = 'rev.hand'`))
	require.Zero(t, n)
	list := s.Expect(s.Do("GET", "/v1/staff-changes?status=pending", nil, testenv.Bearer(admin2)), http.StatusOK)
	require.Len(t, list.Body["staff_changes"], 1)

	// Four eyes: not the requester; not a member the requester created.
	own := s.AsAdmin(admin, "POST", "/v1/staff-changes/"+reqID+"/approve", nil)
	require.Equal(t, http.StatusForbidden, own.Status)
	require.Equal(t, "four_eyes", own.ErrorCode())
	picked := s.AsAdmin(admin2, "POST", "/v1/staff-changes/"+reqID+"/approve", nil)
	require.Equal(t, http.StatusForbidden, picked.Status)
	require.Equal(t, "four_eyes", picked.ErrorCode())
	// The refusal of a request changes nothing.
	refused := s.Expect(s.AsAdmin(admin2, "POST", "/v1/staff-changes/"+reqID+"/refuse", map[string]string{"reason": "不需要"}), http.StatusOK)
	require.Equal(t, "refused", refused.Str("staff_change", "status"))
	require.NoError(t, s.DB.Get(&n, `SELECT count(*) FROM staff WHERE username = 'rev.hand'`))
	require.Zero(t, n)
	require.Equal(t, http.StatusConflict, s.AsAdmin(admin2, "POST", "/v1/staff-changes/"+reqID+"/refuse", nil).Status, "decided once")

	// The other way round: the second administrator asks, the first approves
	// and gets the first password once.
	req = s.Expect(s.AsAdmin(admin2, "POST", "/v1/staff", map[string]any{"username": "rev.two", "name": "审核员乙",
		"roles": []string{workflows.RoleReviewer}}), http.StatusAccepted)
	reqID = req.Str("staff_change", "id")
	revID := req.Str("staff_change", "target_id")
	require.Equal(t, "four_eyes", s.AsAdmin(admin2, "POST", "/v1/staff-changes/"+reqID+"/approve", nil).ErrorCode())
	ok := s.Expect(s.AsAdmin(admin, "POST", "/v1/staff-changes/"+reqID+"/approve", nil), http.StatusOK)
	revPW := ok.Str("initial_password")
	require.GreaterOrEqual(t, len(revPW), 12)
	require.Equal(t, "applied", ok.Str("staff_change", "status"))
	var detail struct {
		Actor      string `db:"actor_id"`
		ApprovedBy string `db:"approved_by"`
	}
	require.NoError(t, s.DB.Get(&detail, `SELECT actor_id, detail->>'approved_by' AS approved_by FROM audit_log
		WHERE action = 'staff.created' AND record_id = $1`, revID))
	require.Equal(t, admin2ID, detail.Actor)
	require.Equal(t, adminID, detail.ApprovedBy)
	rev := s.SignIn("rev.two", revPW)
	require.Equal(t, "password_change_required", s.Do("GET", "/v1/review/queue", nil, testenv.Bearer(rev)).ErrorCode())
	s.ChangePassword(rev, revPW, "Rev-Two-Changed-Pass-9")

	// Roles, password and second factor: requests too, effective on approval.
	patch := s.Expect(s.AsAdmin(admin2, "PATCH", "/v1/staff/"+revID, map[string]any{"roles": []string{"reviewer", "supervisor"},
		"reason": "兼任主管"}), http.StatusAccepted)
	var roles pq.StringArray
	require.NoError(t, s.DB.Get(&roles, `SELECT roles FROM staff WHERE id = $1`, revID))
	require.Equal(t, pq.StringArray{"reviewer"}, roles)
	s.Expect(s.AsAdmin(admin, "POST", "/v1/staff-changes/"+patch.Str("staff_change", "id")+"/approve", nil), http.StatusOK)
	require.NoError(t, s.DB.Get(&roles, `SELECT roles FROM staff WHERE id = $1`, revID))
	require.Equal(t, pq.StringArray{"reviewer", "supervisor"}, roles)

	pwReq := s.Expect(s.AsAdmin(admin2, "PUT", "/v1/staff/"+revID+"/password", map[string]any{"reason": "忘记密码"}), http.StatusAccepted)
	require.Equal(t, http.StatusOK, s.Do("GET", "/v1/me", nil, testenv.Bearer(rev)).Status, "nothing changes before approval")
	reset := s.Expect(s.AsAdmin(admin, "POST", "/v1/staff-changes/"+pwReq.Str("staff_change", "id")+"/approve", nil), http.StatusOK)
	newPW := reset.Str("initial_password")
	require.NotEmpty(t, newPW)
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/me", nil, testenv.Bearer(rev)).Status, "sessions ended")

	sf := s.Expect(s.AsAdmin(admin2, "DELETE", "/v1/staff/"+revID+"/second-factor", nil), http.StatusAccepted)
	s.Expect(s.AsAdmin(admin, "POST", "/v1/staff-changes/"+sf.Str("staff_change", "id")+"/approve", nil), http.StatusOK)
	require.NoError(t, s.DB.Get(&n, `SELECT count(*) FROM second_factors WHERE subject_id = $1`, revID))
	require.Zero(t, n)

	// No password, hash or name in the workflows' histories.
	var hash string
	require.NoError(t, s.DB.Get(&hash, `SELECT password_hash FROM staff WHERE id = $1`, revID))
	AssertNoSecretsInHistory(t, s, []string{workflows.StaffChangeWorkflowID(reqID), workflows.StaffChangeWorkflowID(pwReq.Str("staff_change", "id")),
		workflows.StaffChangeWorkflowID(first.Str("staff_change_id"))}, revPW, newPW, pw2, hash, "rev.two", "审核员乙", "second.admin")
	SaveHistory(t, s, workflows.StaffChangeWorkflowID(reqID), "staff_change_approved")
	SaveHistory(t, s, workflows.StaffChangeWorkflowID(first.Str("staff_change_id")), "staff_change_sole_administrator")
}
