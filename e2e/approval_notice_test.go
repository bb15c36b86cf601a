package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/worker"
	"hrss-backoffice/workflows"
)

// requireApprovalSMS waits for the approval notice of an online or kiosk
// application in the stack's SMS box and checks it: the follow page's link
// without any token, the pickup deadline, no follow token. It returns the
// text.
func requireApprovalSMS(t *testing.T, s *testenv.Stack, mobile, followToken string) string {
	t.Helper()
	text := smsContaining(t, s, mobile, "注册申请已批准")
	require.Contains(t, text, "http://localhost:8080/follow", "the link to the follow page")
	require.NotContains(t, text, "/follow?", "no token or anything else in the link")
	require.NotContains(t, text, followToken)
	require.Regexp(t, `\d{4}-\d{2}-\d{2} \d{2}:\d{2}前`, text, "the pickup deadline")
	return text
}

// C1.5 (issue 18): an approval notice whose first send failed is sent by
// the worker's outbox relay when its next attempt is due, and no secret
// enters the relay's history (counts only). The history is committed for
// replay.
func TestOutboxRelaySendsAFailedApprovalNotice_C1_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	p := testenv.NewPerson()
	id, follow := s.Register(p)
	s.WaitForStatus(id, "pending")
	s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "approve"}, testenv.Bearer(reviewer)), http.StatusOK)
	requireApprovalSMS(t, s, p.Mobile, follow)
	// As after a provider outage: the message waits for its next attempt.
	src := activities.ApplicantNoticeSource(id)
	_, err := s.DB.Exec(`UPDATE notification_outbox SET status = 'failed', last_error = 'provider unavailable', next_attempt_at = now()
		WHERE source = $1 AND channel = 'sms'`, src)
	require.NoError(t, err)
	before := len(s.SMS.To(p.Mobile))

	wfID := workflows.OutboxRelayWorkflowID(s.TaskQueue)
	require.NoError(t, worker.EnsureOutboxRelay(testenv.Context(t), s.Temporal, s.TaskQueue, workflows.OutboxRelaySettings{Every: time.Hour}))
	testenv.Eventually(t, 30*time.Second, "the relay to send the notice", func() bool {
		var status string
		_ = s.DB.Get(&status, `SELECT status FROM notification_outbox WHERE source = $1 AND channel = 'sms'`, src)
		return status == "sent"
	})
	require.Len(t, s.SMS.To(p.Mobile), before+1, "sent once more")
	testenv.Eventually(t, 30*time.Second, "the first pass to end", func() bool {
		v, err := s.Temporal.QueryWorkflow(testenv.Context(t), wfID, "", workflows.QueryStatus)
		var st workflows.OutboxRelayInput
		return err == nil && v.Get(&st) == nil && st.Passes == 1
	})
	AssertNoSecretsInHistory(t, s, []string{wfID}, p.Mobile, p.IDNumber, follow)
	SaveHistory(t, s, wfID, "outbox_relay_sent")
	_ = s.Temporal.TerminateWorkflow(testenv.Context(t), wfID, "", "test over")
}
