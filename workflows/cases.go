package workflows

import (
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"
)

// Helpers shared by the fraud, violation and sanction workflows.

// setSearch upserts the run's typed search attributes (kind and state
// codes, never personal data).
func setSearch(ctx workflow.Context, kind, status string) {
	upsertStatus(ctx, kind, status)
}

// startSanction starts the sanction's own run as a child that outlives the
// case (the case closes; the sanction waits for appeal or reinstatement).
// It returns once the child has started.
func startSanction(ctx workflow.Context, in SanctionInput) error {
	rec := RunRecord{Kind: KindSanction, RecordID: in.SanctionID, Clause: in.Clause, Console: "/console/sanctions/" + in.SanctionID}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            SanctionWorkflowID(in.SanctionID),
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: rec.Search(SanctionInForce, workflow.Now(ctx)),
		Memo:                  rec.Memo(),
	})
	var exec workflow.Execution
	return workflow.ExecuteChildWorkflow(cctx, Sanction, in).GetChildWorkflowExecution().Get(ctx, &exec)
}

// signalCaseClosed tells the account's deregistration (if one runs) that a
// case closed, so that it re-checks the open cases at once. Best effort: a
// missing deregistration is the normal case.
func signalCaseClosed(ctx workflow.Context, accountID string) {
	if accountID == "" {
		return
	}
	err := workflow.SignalExternalWorkflow(ctx, DeregistrationWorkflowID(accountID), "", SignalCaseClosed, nil).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Info("no deregistration to tell about the closed case", "error", err)
	}
}

// waitFor waits for cond until the deadline; a zero deadline waits without
// a timer. It reports whether cond holds.
func waitFor(ctx workflow.Context, deadline time.Time, cond func() bool) (bool, error) {
	if deadline.IsZero() {
		return true, workflow.Await(ctx, cond)
	}
	return workflow.AwaitWithTimeout(ctx, max(deadline.Sub(workflow.Now(ctx)), 0), cond)
}

// earliest picks the first of the pending deadlines.
type deadline struct {
	at   time.Time
	what string
}

func earliest(ds ...deadline) deadline {
	var best deadline
	for _, d := range ds {
		if d.at.IsZero() {
			continue
		}
		if best.at.IsZero() || d.at.Before(best.at) {
			best = d
		}
	}
	return best
}

func allIn(values, allowed []string) bool {
	for _, v := range values {
		if !slices.Contains(allowed, v) {
			return false
		}
	}
	return true
}

// CorrectionFields are the registration fields a fraud suspension may
// require corrected.
var CorrectionFields = []string{"name", "id_number", "birth_date", "mobile", "email", "address"}
