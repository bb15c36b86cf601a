package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// intakeCounts: the account intakes the fault test drove to their end.
type intakeCounts struct {
	dataChanges, fraudCases, answers, cancellations atomic.Int64
}

func (c *intakeCounts) report() map[string]int64 {
	return map[string]int64{"data_changes": c.dataChanges.Load(), "fraud_cases": c.fraudCases.Load(),
		"case_answers": c.answers.Load(), "service_cancellations": c.cancellations.Load()}
}

type caller func(method, path string, body any, want int, hs ...testenv.Header) testenv.Response

// driveAccountIntakes takes one signed-in user through one more intake,
// by turns: a change of name (C3.2) a reviewer approves; a fraud case
// (C2.2) the user answers and the investigator clears; a cancellation of
// the user's service (C3.5). Each intake carries an Idempotency-Key.
func driveAccountIntakes(t *testing.T, db *sqlx.DB, i int, call caller, tok, password, accountID, reviewer, investigator string,
	key func() testenv.Header, n *intakeCounts) {
	waitFor := func(what, query, id, want string) bool {
		ok := true
		testenv.Eventually(t, 3*time.Minute, what+" "+id+" to be "+want, func() bool {
			var st string
			_ = db.Get(&st, query, id)
			return st == want
		})
		return ok
	}
	switch i % 3 {
	case 0:
		id := call("POST", "/v1/me/data-changes", map[string]string{"name": "故障改名者"}, http.StatusAccepted, testenv.Bearer(tok), key()).Str("id")
		if id == "" {
			return
		}
		call("POST", "/v1/data-changes/"+id+"/decision", map[string]string{"decision": "approve"}, http.StatusOK, testenv.Bearer(reviewer))
		waitFor("data change", `SELECT status FROM data_changes WHERE id = $1`, id, "approved")
		n.dataChanges.Add(1)
	case 1:
		id := call("POST", "/v1/cases/fraud", map[string]any{"account_id": accountID, "suspected_fields": []string{"address"},
			"evidence": []string{fmt.Sprintf("doc:fault-%d", i)}, "summary": "故障测试核查"}, http.StatusAccepted, testenv.Bearer(investigator), key()).Str("id")
		if id == "" {
			return
		}
		n.fraudCases.Add(1)
		waitFor("case", `SELECT state FROM cases WHERE id = $1`, id, workflows.CaseAwaitingAnswer)
		call("POST", "/v1/me/cases/"+id+"/answer", map[string]string{"text": "地址无误"}, http.StatusOK, testenv.Bearer(tok), key())
		n.answers.Add(1)
		waitFor("case", `SELECT state FROM cases WHERE id = $1`, id, workflows.CaseAwaitingDecision)
		call("POST", "/v1/cases/"+id+"/decision", map[string]string{"decision": workflows.CaseCleared}, http.StatusOK, testenv.Bearer(investigator))
		waitFor("case", `SELECT state FROM cases WHERE id = $1`, id, workflows.CaseCleared)
	case 2:
		id := call("POST", "/v1/me/deregistration", map[string]any{"scope": "services", "services": []string{"social_insurance_query"},
			"statement": "故障测试：取消服务", "password": password}, http.StatusAccepted, testenv.Bearer(tok), key()).Str("id")
		if id == "" {
			return
		}
		waitFor("cancellation", `SELECT status FROM deregistration_requests WHERE id = $1`, id, "completed")
		n.cancellations.Add(1)
	}
}

// describeBadRun names a run that failed, timed out or was terminated:
// its type, ID and run ID, and its failure as the client decodes it.
func describeBadRun(c client.Client, ex *workflow.WorkflowExecutionInfo) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, run := ex.GetExecution().GetWorkflowId(), ex.GetExecution().GetRunId()
	err := c.GetWorkflow(ctx, id, run).Get(ctx, nil)
	return fmt.Sprintf("%s %s (run %s) %s: %v", ex.GetType().GetName(), id, run, ex.GetStatus(), err)
}

func outcomeDelta(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range after {
		out[k] = v - before[k]
	}
	return out
}
