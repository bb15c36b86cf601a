package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// The kinds of intake document the API writes before it starts or updates
// the workflow that takes it up (api/intake.go).
const (
	IntakeApplication    = "application"
	IntakeSupplement     = "supplement"
	IntakeCase           = "case"
	IntakeSubmission     = "submission"
	IntakeDataChange     = "data_change"
	IntakeDeregistration = "deregistration"
	IntakeReset          = "password_reset"
)

// UntakenQuery asks for intake documents still untouched that were stored
// before AsOf - OlderThan.
type UntakenQuery struct {
	AsOf      time.Time
	OlderThan time.Duration
	Limit     int
}

// UntakenIntake is an intake document no run has visibly taken up yet:
// IDs only. The workflow fills in WorkflowID (the run that would have
// taken it), UpdateID (for a document handed over by an Update) and
// AltWorkflowID (a second run that may hold it, by Update).
type UntakenIntake struct {
	Kind        string    `db:"kind"`
	ID          string    `db:"id"`
	Sub         string    `db:"sub"`       // case: fraud/violation; deregistration: services/account
	ParentID    string    `db:"parent_id"` // supplement: application; submission: case or sanction; deregistration, reset: account
	SubmittedAt time.Time `db:"submitted_at"`

	WorkflowID    string
	UpdateID      string
	AltWorkflowID string
}

// ListUntakenIntakes lists intake documents in their first state that are
// older than the safe delay (read only).
func (a *Activities) ListUntakenIntakes(ctx context.Context, q UntakenQuery) ([]UntakenIntake, error) {
	if q.Limit <= 0 {
		q.Limit = 200
	}
	before := q.AsOf.Add(-q.OlderThan)
	var out []UntakenIntake
	err := sqlx.SelectContext(ctx, a.DB, &out, `
		SELECT kind, id, sub, parent_id, submitted_at FROM (
			SELECT 'application' AS kind, id::text, '' AS sub, '' AS parent_id, submitted_at FROM applications
				WHERE status = 'submitted' AND submitted_at < $1
			UNION ALL SELECT 'supplement', id::text, '', application_id::text, submitted_at FROM application_supplements
				WHERE applied_at IS NULL AND submitted_at < $1
			UNION ALL SELECT 'case', id::text, kind, '', opened_at FROM cases WHERE state = 'reported' AND opened_at < $1
			UNION ALL SELECT 'submission', s.id::text, coalesce(c.kind, ''), coalesce(s.case_id::text, s.sanction_id::text), s.submitted_at
				FROM case_submissions s LEFT JOIN cases c ON c.id = s.case_id WHERE s.accepted_at IS NULL AND s.submitted_at < $1
			UNION ALL SELECT 'data_change', id::text, '', account_id::text, requested_at FROM data_changes
				WHERE status = 'pending' AND requested_at < $1
			UNION ALL SELECT 'deregistration', id::text, scope, account_id::text, submitted_at FROM deregistration_requests
				WHERE status = 'received' AND submitted_at < $1
			UNION ALL SELECT 'password_reset', id::text, '', account_id::text, requested_at FROM password_resets
				WHERE status = 'requested' AND requested_at < $1
		) d ORDER BY submitted_at, id LIMIT $2`, before, q.Limit)
	return out, err
}

// DiscardUntakenIntakes removes each listed document that no run took:
// its workflow does not exist (or its latest run started before the
// document, an earlier request's), and an Update carrying it is unknown
// to the server. A document a run may hold stays. The delete keeps the
// first-state condition, so a document taken meanwhile stays too; an
// audit entry records each removal once. Returns how many were removed.
func (a *Activities) DiscardUntakenIntakes(ctx context.Context, list []UntakenIntake) (int, error) {
	if a.Temporal == nil {
		return 0, temporal.NewNonRetryableApplicationError("the intake sweep needs a Temporal client", ErrTypeConflict, nil)
	}
	removed := 0
	for _, it := range list {
		held, err := a.runHolds(ctx, it)
		if err != nil {
			return removed, err
		}
		if held {
			continue
		}
		queries, ok := discardQueries[it.Kind]
		if !ok {
			return removed, fmt.Errorf("unknown intake kind %q", it.Kind)
		}
		n := int64(0)
		err = a.inTx(ctx, func(tx *sqlx.Tx) error {
			for _, q := range queries {
				res, err := tx.ExecContext(ctx, q, it.ID)
				if err != nil {
					return err
				}
				n, _ = res.RowsAffected()
			}
			if n == 0 {
				return nil
			}
			return writeAudit(ctx, tx, AuditEntry{OperationKey: "intake-sweep/" + it.Kind + "/" + it.ID, ActorKind: "system",
				ActorID: "intake-sweep", Action: "intake.discarded_untaken", RecordKind: it.Kind, RecordID: it.ID,
				Detail: map[string]any{"submitted_at": it.SubmittedAt}})
		})
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "23503" {
			// Something else refers to it now (a case about the
			// application, say): it is not an orphan to remove.
			slog.Warn("untaken intake is referred to; kept", "kind", it.Kind, "id", it.ID)
			continue
		}
		if err != nil {
			return removed, err
		}
		if n > 0 {
			removed++
		}
	}
	return removed, nil
}

// discardQueries delete a document by $1 = id, only in its first state;
// the last query's row count says whether it was removed.
var discardQueries = map[string][]string{
	IntakeApplication: {`DELETE FROM application_events WHERE application_id = $1 AND event_key = 'submitted'
		AND EXISTS (SELECT 1 FROM applications WHERE id = $1 AND status = 'submitted')`,
		`DELETE FROM applications WHERE id = $1 AND status = 'submitted'`},
	IntakeSupplement: {`DELETE FROM application_supplements WHERE id = $1 AND applied_at IS NULL`},
	IntakeCase: {`DELETE FROM case_events WHERE case_id = $1 AND EXISTS (SELECT 1 FROM cases WHERE id = $1 AND state = 'reported')`,
		`DELETE FROM cases WHERE id = $1 AND state = 'reported'`},
	IntakeSubmission:     {`DELETE FROM case_submissions WHERE id = $1 AND accepted_at IS NULL`},
	IntakeDataChange:     {`DELETE FROM data_changes WHERE id = $1 AND status = 'pending'`},
	IntakeDeregistration: {`DELETE FROM deregistration_requests WHERE id = $1 AND status = 'received'`},
	IntakeReset:          {`DELETE FROM password_resets WHERE id = $1 AND status = 'requested'`},
}

// runHolds tells whether a run holds (or may hold) the document.
func (a *Activities) runHolds(ctx context.Context, it UntakenIntake) (bool, error) {
	if it.UpdateID == "" || it.AltWorkflowID != "" {
		// Only an account's deregistration run has an ID shared by
		// successive requests.
		shared := it.Kind == IntakeDeregistration && it.Sub == "account"
		held, err := a.runStartedFor(ctx, it.WorkflowID, it.SubmittedAt, shared)
		if err != nil || held {
			return held, err
		}
		if it.UpdateID == "" {
			return false, nil
		}
	}
	wfID := it.WorkflowID
	if it.AltWorkflowID != "" {
		wfID = it.AltWorkflowID
	}
	return a.updateKnown(ctx, wfID, it.UpdateID)
}

// runStartedFor: the workflow exists; for a shared ID, with a run started
// no earlier than the document (a closed run from before is an earlier
// request's).
func (a *Activities) runStartedFor(ctx context.Context, wfID string, submitted time.Time, shared bool) (bool, error) {
	d, err := a.Temporal.DescribeWorkflowExecution(ctx, wfID, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	info := d.GetWorkflowExecutionInfo()
	if shared && info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && info.GetStartTime().AsTime().Before(submitted) {
		return false, nil
	}
	return true, nil
}

// updateKnown: the server knows the Update (completed, or still in
// progress: the poll runs out of time); an unknown Update never reached
// the run, or was rejected.
func (a *Activities) updateKnown(ctx context.Context, wfID, updateID string) (bool, error) {
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := a.Temporal.GetWorkflowUpdateHandle(client.GetWorkflowUpdateHandleOptions{WorkflowID: wfID, UpdateID: updateID}).Get(pctx, nil)
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		return false, nil
	case err == nil:
		return true, nil
	case pctx.Err() != nil && ctx.Err() == nil:
		return true, nil // in progress
	default:
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) {
			return true, nil // it ran and failed: not ours to remove
		}
		return false, err
	}
}
