package api

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"hrss-backoffice/internal/validate"
	"hrss-backoffice/workflows"
)

// An intake document (an application, a supplement, a case, a case
// submission, a data change, a deregistration request, a counter reset) is
// written first; then its workflow is started or sent an Update that names
// it. That call ends one of three ways:
//
//   - accepted: the process has the document;
//   - refused: the workflow or the server said no for certain (a
//     validator's ApplicationError, already started where that means
//     another process, not found, invalid argument, failed precondition):
//     nothing runs, so the document is taken back;
//   - unknown: deadline, cancellation, Unavailable, a lost connection. The
//     call may have reached the server, and the run may already be working
//     on the document: it must stay.
//
// settleIntake finds out what happened to an unknown call by asking again,
// the same way, with the same IDs (the same workflow ID, whose conflict
// policy turns a second start into "already started"; the same Update ID,
// which the server answers with the first Update's outcome), for a bounded
// time. When even that gives no answer, the client gets 503 with
// Retry-After, the document stays, and the process owns the outcome: a
// retry reaches the same run, and the intake sweeper (workflows.
// IntakeSweeper) removes a document no run took after a safe delay.

// intakeCounts are the unknown outcomes met and how they ended, for the
// logs, /metrics-free figures in tests and docs/reliability.md.
var intakeCounts struct {
	Unknown, Accepted, Refused, Unresolved atomic.Int64
}

// IntakeOutcomes reports how many intake calls had an unknown outcome and
// how each was settled (accepted, refused, unresolved), since start.
func IntakeOutcomes() map[string]int64 {
	return map[string]int64{"unknown": intakeCounts.Unknown.Load(), "resolved_accepted": intakeCounts.Accepted.Load(),
		"resolved_refused": intakeCounts.Refused.Load(), "unresolved_503": intakeCounts.Unresolved.Load()}
}

// refusal tells whether err is a definite no: nothing was started or
// applied because of this call.
func refusal(err error) bool {
	var (
		appErr  *temporal.ApplicationError
		started *serviceerror.WorkflowExecutionAlreadyStarted
		nf      *serviceerror.NotFound
		inv     *serviceerror.InvalidArgument
		fp      *serviceerror.FailedPrecondition
		denied  *serviceerror.PermissionDenied
		apiErr  *Error
	)
	return errors.As(err, &appErr) || errors.As(err, &started) || errors.As(err, &nf) || errors.As(err, &inv) ||
		errors.As(err, &fp) || errors.As(err, &denied) || errors.As(err, &apiErr)
}

// errOutcomeUnknown: the process may be running; ask again later.
func errOutcomeUnknown() *Error {
	e := newError(http.StatusServiceUnavailable, "outcome_unknown", "已收到您的提交，但暂时无法确认办理是否已开始；请稍后用同一请求重试或查询进度",
		"your submission is stored but we cannot confirm yet that its process started; repeat the same request shortly or check its status")
	e.RetryAfter = 5
	return e
}

// settleIntake makes call, which hands the document id to its workflow,
// and settles the outcome as described above. call must be idempotent: it
// is repeated with again = true while the outcome is unknown (a start
// answered "already started" then means the run exists). again is true on
// the first call too when the request repeats an earlier one. takeBack
// removes the document; it runs only on a refusal. The returned error is
// the refusal as the workflow gave it (map it with fromWorkflow or a
// handler's own mapping) or errOutcomeUnknown.
func (s *server) settleIntake(ctx context.Context, what, id string, again bool, call func(ctx context.Context, again bool) error,
	takeBack func(ctx context.Context)) error {
	err := call(ctx, again)
	if err == nil {
		return nil
	}
	if refusal(err) {
		takeBack(ctx)
		return err
	}
	intakeCounts.Unknown.Add(1)
	slog.Warn("intake call outcome unknown: asking again", "intake", what, "id", id, "error", err)
	wait := s.IntakeSettleWait
	if wait <= 0 {
		wait = 10 * time.Second
	}
	// The answer matters even when the client has gone: it decides
	// whether the document stays.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), wait)
	defer cancel()
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		select {
		case <-wctx.Done():
			intakeCounts.Unresolved.Add(1)
			slog.Warn("intake outcome still unknown: document kept, the process owns it", "intake", what, "id", id, "error", err)
			return errOutcomeUnknown()
		case <-time.After(delay):
		}
		actx, acancel := context.WithTimeout(wctx, 5*time.Second)
		err = call(actx, true)
		acancel()
		switch {
		case err == nil:
			intakeCounts.Accepted.Add(1)
			slog.Info("intake outcome settled: the process has it", "intake", what, "id", id)
			return nil
		case refusal(err):
			intakeCounts.Refused.Add(1)
			slog.Info("intake outcome settled: refused", "intake", what, "id", id, "error", err)
			takeBack(ctx)
			return err
		}
	}
}

// runsAlready maps "already started" to success: the run for this
// document's workflow ID exists.
func runsAlready(err error) error {
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil
	}
	return err
}

// startIntake starts the document's own workflow (an ID per document, so
// "already started" means this document's run exists).
func (s *server) startIntake(opts client.StartWorkflowOptions, wf any, args ...any) func(ctx context.Context, again bool) error {
	return func(ctx context.Context, _ bool) error {
		_, err := s.Temporal.ExecuteWorkflow(ctx, opts, wf, args...)
		return runsAlready(err)
	}
}

// updateIntake sends the Update that hands the document to a running
// workflow, with the document's ID as the Update ID so that asking again
// returns the first Update's outcome, and waits for its result.
func (s *server) updateIntake(workflowID, name, updateID string, arg, out any) func(ctx context.Context, again bool) error {
	return func(ctx context.Context, _ bool) error {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		h, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: workflowID, UpdateName: name, UpdateID: updateID, Args: []any{arg},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(ctx, out)
		}
		return err
	}
}

// idempotencyKeyPattern: what a client may send as Idempotency-Key.
var idempotencyKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// intakeNamespace derives document IDs from idempotency keys.
var intakeNamespace = uuid.MustParse("6f1b7c1e-2d0a-4a53-9a43-3f5f1d7e0b21")

// intakeID is the new document's ID. Without an Idempotency-Key it is
// random. With one, it is derived from the key, the operation, the caller
// and the request's content, so that the same request repeated finds the
// same document (repeat = true when it exists) and reaches the same run;
// a different request under the same key is a different document.
func (s *server) intakeID(c echo.Context, op string, request any) (id string, keyed bool, err error) {
	key := c.Request().Header.Get("Idempotency-Key")
	if key == "" {
		return uuid.NewString(), false, nil
	}
	if !idempotencyKeyPattern.MatchString(key) {
		return "", false, errValidation(validate.FieldError{Field: "Idempotency-Key", Code: "invalid",
			MessageZH: "幂等键须为 16 至 64 位字母、数字、- 或 _", MessageEN: "Idempotency-Key is 16 to 64 letters, digits, - or _"})
	}
	who := "anonymous"
	if p := caller(c); p != nil {
		who = p.Kind + ":" + p.AccountID + ":" + p.StaffID
	}
	body, err := json.Marshal(request)
	if err != nil {
		return "", false, err
	}
	sum := sha256.Sum256(append([]byte(op+"\x00"+who+"\x00"+c.Param("id")+"\x00"+key+"\x00"), body...))
	return uuid.NewSHA1(intakeNamespace, sum[:]).String(), true, nil
}

// retryAfter sets the Retry-After header of an error that carries one.
func retryAfter(c echo.Context, e *Error) {
	if e.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
}

// intakeError answers a start that did not take: the unknown outcome as
// it is, anything else as "unavailable, try again" (the document was taken
// back).
func intakeError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return errUnavailable()
}

// startRecord gives a run's start options its memo (the RunRecord, plain)
// and its search attributes (kind, status, since, record ID, office), what
// an operator reads first (docs/operations.md).
func startRecord(opts *client.StartWorkflowOptions, rec workflows.RunRecord, status string) {
	opts.TypedSearchAttributes, opts.Memo = rec.Search(status, time.Now()), rec.Memo()
}
