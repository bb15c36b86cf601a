package e2e

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C3.5: a user who rejects a revision and chooses to deregister has sent
// the written, password-signed deregistration request: it is stored as
// such and its process starts the cooling-off period at once, which the
// user may still withdraw. A user whose deregistration is already open
// cannot file a second one through a rejection; nothing of it is stored.
func TestRejectingTermsWithDeregistrationStartsTheCoolingOff_C3_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	u := s.User(testenv.NewPerson(), "social_insurance_query")
	busy := s.User(testenv.NewPerson())
	v := s.PublishRevision()

	open := s.Expect(s.Do("POST", "/v1/me/deregistration", map[string]any{"scope": "account", "statement": "申请注销",
		"password": busy.Password}, testenv.Bearer(busy.Token)), http.StatusAccepted).Str("id")
	waitDereg(t, s, open, "cooling_off")
	dup := s.Do("POST", "/v1/me/terms/"+v+"/reject", map[string]any{"choice": "deregister", "password": busy.Password}, testenv.Bearer(busy.Token))
	require.Equal(t, http.StatusConflict, dup.Status, string(dup.Raw))
	require.Equal(t, "deregistration_pending", dup.ErrorCode())
	require.Zero(t, dbCount(t, s, `SELECT count(*) FROM terms_rejections WHERE account_id = $1`, busy.AccountID))
	require.Zero(t, dbCount(t, s, `SELECT count(*) FROM terms_acceptances WHERE account_id = $1 AND terms_version = $2`, busy.AccountID, v))

	r := s.Expect(s.Do("POST", "/v1/me/terms/"+v+"/reject", map[string]any{"choice": "deregister", "statement": "不接受修订，注销账户",
		"password": u.Password}, testenv.Bearer(u.Token)), http.StatusAccepted)
	id := r.Str("deregistration_request_id")
	require.NotEmpty(t, id)
	waitDereg(t, s, id, "cooling_off")
	view := s.Expect(s.Do("GET", "/v1/me/terms/"+v, nil, testenv.Bearer(u.Token)), http.StatusOK)
	require.Equal(t, "cooling_off", view.Body["rejection"].(map[string]any)["status"], "the rejection shows its request's status")
	require.Equal(t, 1, dbCount(t, s, `SELECT count(*) FROM audit_log WHERE record_kind = 'account' AND record_id = $1
		AND action = 'account.deregistration_requested' AND detail->>'rejection_id' = $2`, u.AccountID, r.Str("id")))
	// Still the user's to withdraw during the cooling-off period.
	s.Expect(s.Do("POST", "/v1/me/deregistration/"+id+"/withdraw", nil, testenv.Bearer(u.Token)), http.StatusOK)
	waitDereg(t, s, id, "withdrawn")
	AssertNoSecretsInHistory(t, s, []string{workflows.DeregistrationWorkflowID(u.AccountID)}, u.Name, u.IDNumber, u.Password, "不接受修订，注销账户")
}
