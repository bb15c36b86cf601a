package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"hrss-backoffice/internal/payloadcodec"
	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// findRun lists the runs matching a visibility query (what an operator
// saves in the web UI) until exactly one is there.
func findRun(t *testing.T, s *testenv.Stack, query string) *workflowpb.WorkflowExecutionInfo {
	t.Helper()
	var found *workflowpb.WorkflowExecutionInfo
	testenv.Eventually(t, 30*time.Second, "a run for "+query, func() bool {
		resp, err := s.Temporal.ListWorkflow(testenv.Context(t), &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default",
			Query: fmt.Sprintf("TaskQueue = %q AND %s", s.TaskQueue, query)})
		if err != nil || len(resp.Executions) != 1 {
			return false
		}
		found = resp.Executions[0]
		return true
	})
	return found
}

// plainRecord reads a run's memo the way an operator without the codec
// does: the raw payload, plain JSON.
func plainRecord(t *testing.T, memo *commonpb.Memo) workflows.RunRecord {
	t.Helper()
	p := memo.GetFields()[workflows.MemoRecord]
	require.NotNil(t, p, "the run has a record memo")
	require.Equal(t, "json/plain", string(p.GetMetadata()[converter.MetadataEncoding]), "the memo is not encrypted")
	require.Equal(t, "1", string(p.GetMetadata()[payloadcodec.MetadataClear]))
	var rec workflows.RunRecord
	require.NoError(t, json.Unmarshal(p.GetData(), &rec))
	return rec
}

func searchText(info *workflowpb.WorkflowExecutionInfo, name string) string {
	var v string
	_ = json.Unmarshal(info.GetSearchAttributes().GetIndexedFields()[name].GetData(), &v)
	return v
}

// An operator finds a registration review by its record ID and a counter
// reset by its office and record ID (search attributes, no codec), and
// reads in each memo, in clear, what the run is about: kind, record ID,
// clause, office, console link; HrssSince moves with the status. The
// run's input in the same history stays encrypted, and neither memo
// carries any of the person's data.
func TestOperatorFindsRunsByRecordAndOfficeAndReadsPlainMemo_C2_1_C3_3_2(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	require.NotNil(t, s.Codec, "the stack encrypts payloads")
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	p := testenv.NewPerson()
	id, _ := s.Register(p, "social_insurance_query")
	s.WaitForStatus(id, "pending")

	run := findRun(t, s, fmt.Sprintf("HrssRecordId = %q", id))
	require.Equal(t, workflows.RegistrationWorkflowID(id), run.GetExecution().GetWorkflowId())
	require.Equal(t, workflows.KindRegistration, searchText(run, "HrssKind"))
	require.Equal(t, workflows.StatusPending, searchText(run, "HrssStatus"))
	since := searchText(run, "HrssSince")
	require.NotEmpty(t, since)
	rec := plainRecord(t, run.GetMemo())
	require.Equal(t, workflows.RunRecord{Kind: workflows.KindRegistration, RecordID: id, Clause: "C2.1",
		Console: "/console/applications/" + id}, rec)

	// In the history (raw, as stored): the start's memo is plain, its
	// input is encrypted.
	it := s.Temporal.GetWorkflowHistory(testenv.Context(t), workflows.RegistrationWorkflowID(id), "", false,
		enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	ev, err := it.Next()
	require.NoError(t, err)
	started := ev.GetWorkflowExecutionStartedEventAttributes()
	require.NotNil(t, started)
	require.Equal(t, rec, plainRecord(t, started.GetMemo()))
	require.NotEmpty(t, started.GetInput().GetPayloads())
	for _, in := range started.GetInput().GetPayloads() {
		require.Equal(t, payloadcodec.Encoding, string(in.GetMetadata()[converter.MetadataEncoding]), "the input stays encrypted")
		require.NotContains(t, string(in.GetData()), id)
	}

	// The decision moves the status and the time it was entered.
	s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]any{"decision": "approve"}, testenv.Bearer(reviewer)), http.StatusOK)
	run = findRun(t, s, fmt.Sprintf("HrssRecordId = %q AND HrssStatus = %q", id, workflows.StatusApproved))
	after := searchText(run, "HrssSince")
	require.Greater(t, after, since, "HrssSince is the time of the new status")
	// A saved query by time: approved in the last hour.
	findRun(t, s, fmt.Sprintf("HrssRecordId = %q AND HrssSince > %q", id, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)))

	// A counter reset: found by office and record ID.
	u := s.NewUser(reviewer)
	office := "黄浦区社保中心"
	done := s.Expect(s.Do("POST", "/v1/accounts/"+u.AccountID+"/password-reset",
		map[string]any{"identity_document": "resident_id_card", "document_checked": true, "office": office}, testenv.Bearer(reviewer)),
		http.StatusCreated)
	resetID := done.Str("id")
	reset := findRun(t, s, fmt.Sprintf("HrssKind = %q AND HrssOffice = %q AND HrssRecordId = %q", workflows.KindPasswordReset, office, resetID))
	require.Equal(t, workflows.PasswordResetWorkflowID(resetID), reset.GetExecution().GetWorkflowId())
	require.Equal(t, workflows.RunRecord{Kind: workflows.KindPasswordReset, RecordID: resetID, Clause: "C3.3(2)", Office: office,
		Console: "/console/accounts/" + u.AccountID}, plainRecord(t, reset.GetMemo()))

	// Codes and IDs only.
	for _, info := range []*workflowpb.WorkflowExecutionInfo{run, reset} {
		raw := string(info.GetMemo().GetFields()[workflows.MemoRecord].GetData())
		for _, m := range []string{p.Name, p.IDNumber, p.Mobile, p.Address, u.IDNumber} {
			require.False(t, m != "" && strings.Contains(raw, m), "the memo holds no personal data")
		}
	}
}
