package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/worker"
	"hrss-backoffice/workflows"
)

// C3.2: a change request stored by the API whose review never started (as
// after a start whose outcome stayed unknown) is removed by the intake
// sweeper after the safe delay, with an audit entry; a change whose review
// runs stays. The sweeper's history is committed for replay.
func TestIntakeSweeperRemovesAnUntakenDataChange_C3_2(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	other := s.NewUser(reviewer)
	taken := s.Expect(s.Do("POST", "/v1/me/data-changes", map[string]string{"name": "有流程者"}, bearer(u.Token)), http.StatusAccepted).Str("id")
	orphan := uuid.NewString()
	_, err := s.DB.Exec(`INSERT INTO data_changes (id, account_id, kind, status, old_values, new_values, note)
		VALUES ($1, $2, 'identity', 'pending', '{}', '{"name": "无流程者"}', '')`, orphan, other.AccountID)
	require.NoError(t, err)

	require.NoError(t, worker.EnsureIntakeSweeper(testenv.Context(t), s.Temporal, s.TaskQueue,
		workflows.IntakeSweepSettings{Every: time.Hour, After: time.Millisecond}))
	testenv.Eventually(t, 30*time.Second, "the sweeper to remove the untaken change", func() bool {
		var n int
		_ = s.DB.Get(&n, `SELECT count(*) FROM data_changes WHERE id = $1`, orphan)
		return n == 0
	})
	var audits, kept int
	require.NoError(t, s.DB.Get(&audits, `SELECT count(*) FROM audit_log WHERE action = 'intake.discarded_untaken' AND record_id = $1`, orphan))
	require.Equal(t, 1, audits)
	require.NoError(t, s.DB.Get(&kept, `SELECT count(*) FROM data_changes WHERE id = $1 AND status = 'pending'`, taken))
	require.Equal(t, 1, kept, "a change whose review runs stays")
	// The sweep is over once it waits for its next turn.
	wfID := workflows.IntakeSweepWorkflowID(s.TaskQueue)
	testenv.Eventually(t, 30*time.Second, "the first sweep to end", func() bool {
		v, err := s.Temporal.QueryWorkflow(testenv.Context(t), wfID, "", workflows.QueryStatus)
		var st workflows.IntakeSweepStatus
		return err == nil && v.Get(&st) == nil && st.Sweeps == 1
	})
	SaveHistory(t, s, wfID, "intake_sweep_removed")
	_ = s.Temporal.TerminateWorkflow(testenv.Context(t), wfID, "", "test over")
}
