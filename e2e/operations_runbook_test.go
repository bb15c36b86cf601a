package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/internal/payloadcodec"
	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// Runbook "A stuck activity" (docs/operations.md), on the real dev server:
// the approval activity fails at every attempt on a bad row; the operators'
// page lists the run as retrying (operators, administrators and auditors
// only); after the row is repaired the next attempt completes and the run
// issues exactly one account and one initial password.
func TestRunbookStuckActivityCompletesAfterRowRepair_C2_1(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	id, _, repair := stuckApproval(t, s)
	wfID := workflows.RegistrationWorkflowID(id)

	operator, _ := s.Staff(workflows.RoleOperator)
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/operations/runs", nil, testenv.Bearer(reviewer)).Status)
	require.Equal(t, http.StatusUnprocessableEntity, s.Do("GET", "/v1/operations/runs?retrying_minutes=-1", nil, testenv.Bearer(operator)).Status)
	var item map[string]any
	testenv.Eventually(t, 30*time.Second, "the operators' page to list the retrying run", func() bool {
		r := s.Expect(s.Do("GET", "/v1/operations/runs?retrying_minutes=0", nil, testenv.Bearer(operator)), http.StatusOK)
		for _, it := range r.Body["items"].([]any) {
			if m := it.(map[string]any); m["workflow_id"] == wfID {
				item = m
				return true
			}
		}
		return false
	})
	require.Equal(t, "retrying", item["reason"])
	require.Equal(t, "ApproveApplication", item["activity"])
	require.Equal(t, workflows.KindRegistration, item["kind"])
	require.Equal(t, workflows.StatusPending, item["status"])
	// What the run is about, from its search attributes and plain memo.
	require.Equal(t, id, item["record_id"])
	require.Equal(t, "C2.1", item["clause"])
	require.Equal(t, "/console/applications/"+id, item["console"])
	require.NotEmpty(t, item["status_since"])
	require.Contains(t, item["workflow_url"], "/namespaces/default/workflows/registration%2F"+id)
	// Not yet retrying for ten minutes: the default threshold leaves it out.
	r := s.Expect(s.Do("GET", "/v1/operations/runs", nil, testenv.Bearer(operator)), http.StatusOK)
	require.NotContains(t, string(r.Raw), wfID)

	repair()
	testenv.Eventually(t, 90*time.Second, "the approval to complete after the repair", func() bool {
		var status string
		_ = s.DB.Get(&status, `SELECT status FROM applications WHERE id = $1`, id)
		return status == "approved"
	})
	var accounts, pickups int
	require.NoError(t, s.DB.Get(&accounts, `SELECT count(*) FROM accounts WHERE application_id = $1`, id))
	require.NoError(t, s.DB.Get(&pickups, `SELECT count(*) FROM credential_pickups WHERE operation_key = $1`, "registration/"+id))
	require.Equal(t, []int{1, 1}, []int{accounts, pickups})
}

// Runbook "Reset to a point" (docs/operations.md), on the real dev server:
// an approved registration review is reset to the workflow task before the
// decision; the new run carries the decision out again (the server
// reapplies the accepted Update) and the idempotent approval finds the
// account it made: no second account, no second initial password, the same
// password hash.
func TestRunbookResetOfRegistrationReviewIssuesNoSecondPassword_C2_1(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	id, _ := s.Register(testenv.NewPerson(), "social_insurance_query")
	s.WaitForStatus(id, "pending")
	s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]any{"decision": "approve"}, testenv.Bearer(reviewer)), http.StatusOK)
	var hash string
	var sealedPw []byte
	require.NoError(t, s.DB.Get(&hash, `SELECT password_hash FROM accounts WHERE application_id = $1`, id))
	require.NoError(t, s.DB.Get(&sealedPw, `SELECT ciphertext FROM credential_pickups WHERE operation_key = $1`, "registration/"+id))

	ctx := testenv.Context(t)
	wfID := workflows.RegistrationWorkflowID(id)
	desc, err := s.Temporal.DescribeWorkflowExecution(ctx, wfID, "")
	require.NoError(t, err)
	oldRun := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	// The memo answers an operator's first questions (decoded like the
	// payloads): codes and IDs only.
	var memo map[string]string
	require.NoError(t, payloadcodec.DataConverter(s.Codec).FromPayload(desc.GetWorkflowExecutionInfo().GetMemo().GetFields()["record"], &memo))
	require.Equal(t, map[string]string{"kind": "registration", "record_id": id, "clause": "C2.1",
		"console": "/console/applications/" + id}, memo)
	// The reset point: the last workflow task completed before the decision
	// was accepted (what `temporal workflow reset --event-id` is given).
	var point int64
	it := s.Temporal.GetWorkflowHistory(ctx, wfID, oldRun, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			point = ev.GetEventId()
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED {
			break
		}
	}
	require.NotZero(t, point)
	resp, err := s.Temporal.ResetWorkflowExecution(ctx, &workflowservice.ResetWorkflowExecutionRequest{
		Namespace: "default", WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: wfID, RunId: oldRun},
		Reason: "runbook test: reset to before the decision", WorkflowTaskFinishEventId: point, RequestId: uuid.NewString()})
	require.NoError(t, err)
	newRun := resp.GetRunId()
	require.NotEqual(t, oldRun, newRun)

	// The new run approves again, idempotently.
	testenv.Eventually(t, 60*time.Second, "the reset run to carry the decision out again", func() bool {
		d, err := s.Temporal.DescribeWorkflowExecution(ctx, wfID, newRun)
		if err != nil {
			return false
		}
		st := d.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()[workflows.SearchStatus.GetName()]
		return st != nil && string(st.GetData()) == `"`+workflows.StatusApproved+`"`
	})
	var accounts, pickups int
	var after string
	require.NoError(t, s.DB.Get(&accounts, `SELECT count(*) FROM accounts WHERE application_id = $1`, id))
	require.NoError(t, s.DB.Get(&pickups, `SELECT count(*) FROM credential_pickups WHERE operation_key = $1`, "registration/"+id))
	require.NoError(t, s.DB.Get(&after, `SELECT password_hash FROM accounts WHERE application_id = $1`, id))
	require.Equal(t, []int{1, 1}, []int{accounts, pickups})
	var sealedAfter []byte
	require.NoError(t, s.DB.Get(&sealedAfter, `SELECT ciphertext FROM credential_pickups WHERE operation_key = $1`, "registration/"+id))
	require.Equal(t, hash, after)
	require.Equal(t, sealedPw, sealedAfter, "no second initial password")
}

// stuckApproval sets up the runbook's "stuck activity" (docs/operations.md):
// an earlier user's person record had its ID number corrected but the
// account's username (the old ID number) was left behind; a new applicant
// with that old ID number is approved, and ApproveApplication fails on
// accounts_live_username at every attempt. It returns the application ID,
// the applicant and a repair that fixes the bad row.
func stuckApproval(t *testing.T, s *testenv.Stack) (id string, p testenv.Person, repair func()) {
	t.Helper()
	reviewer, reviewerID := s.Staff(workflows.RoleReviewer)
	earlier := s.NewUser(reviewer)
	corrected := testenv.NewPerson().IDNumber
	_, err := s.DB.Exec(`UPDATE people SET id_number = $1 WHERE id = (SELECT person_id FROM accounts WHERE id = $2)`,
		corrected, earlier.AccountID)
	require.NoError(t, err)

	p = testenv.NewPerson()
	p.IDNumber = earlier.IDNumber
	id, _ = s.Register(p, "social_insurance_query")
	s.WaitForStatus(id, "pending")
	// The reviewer approves; the decide Update is accepted and its approval
	// activity starts failing (the API would wait for the outcome, so the
	// test sends the same Update and waits for its acceptance only).
	_, err = s.Temporal.UpdateWorkflow(testenv.Context(t), client.UpdateWorkflowOptions{
		WorkflowID: workflows.RegistrationWorkflowID(id), UpdateName: workflows.UpdateDecide,
		Args: []any{workflows.DecisionRequest{Actor: workflows.Actor{Kind: "staff", ID: reviewerID,
			Roles: []string{workflows.RoleReviewer}}, Decision: workflows.DecisionApprove}},
		WaitForStage: client.WorkflowUpdateStageAccepted})
	require.NoError(t, err)
	testenv.Eventually(t, 30*time.Second, "the approval activity to fail and retry", func() bool {
		d, err := s.Temporal.DescribeWorkflowExecution(testenv.Context(t), workflows.RegistrationWorkflowID(id), "")
		if err != nil {
			return false
		}
		for _, a := range d.PendingActivities {
			if a.GetActivityType().GetName() == "ApproveApplication" && a.GetAttempt() >= 2 {
				return true
			}
		}
		return false
	})
	repair = func() {
		_, err := s.DB.Exec(`UPDATE accounts a SET username = p.id_number FROM people p WHERE p.id = a.person_id AND a.id = $1`,
			earlier.AccountID)
		require.NoError(t, err)
	}
	return id, p, repair
}
