package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/api"
	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/worker"
	"hrss-backoffice/workflows"
)

// lostAnswer is the API's Temporal client with one fault: when armed, the
// next start or Update reaches the server and takes effect, but its answer
// is lost and the call returns context.DeadlineExceeded, as when the
// deadline runs out while the server is slow or restarting.
type lostAnswer struct {
	client.Client
	armed atomic.Bool
	lost  atomic.Int64
	// down: every start fails with Unavailable and never reaches the server.
	down atomic.Bool
}

func (l *lostAnswer) fire() bool {
	if l.armed.CompareAndSwap(true, false) {
		l.lost.Add(1)
		return true
	}
	return false
}

func (l *lostAnswer) ExecuteWorkflow(ctx context.Context, o client.StartWorkflowOptions, wf interface{}, args ...interface{}) (client.WorkflowRun, error) {
	if l.down.Load() {
		return nil, serviceerror.NewUnavailable("connection reset")
	}
	run, err := l.Client.ExecuteWorkflow(ctx, o, wf, args...)
	if err == nil && l.fire() {
		return nil, context.DeadlineExceeded
	}
	return run, err
}

func (l *lostAnswer) UpdateWorkflow(ctx context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	if l.armed.Load() {
		// Sent, accepted, then the answer is lost; the worker completes it.
		o.WaitForStage = client.WorkflowUpdateStageAccepted
		h, err := l.Client.UpdateWorkflow(ctx, o)
		if err == nil && l.fire() {
			return nil, context.DeadlineExceeded
		}
		return h, err
	}
	return l.Client.UpdateWorkflow(ctx, o)
}

func (l *lostAnswer) UpdateWithStartWorkflow(ctx context.Context, o client.UpdateWithStartWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	h, err := l.Client.UpdateWithStartWorkflow(ctx, o)
	if err == nil && l.fire() {
		return nil, context.DeadlineExceeded
	}
	return h, err
}

// TestUnknownOutcomeKeepsTheIntake: for each of the seven intakes, the
// call that hands the document to its workflow takes effect but answers
// "deadline exceeded". The API finds out that the process has the document
// (asking again with the same workflow or Update ID): the answer is the
// normal success, the document stays, and the run carries on with it. The
// same request repeated with its Idempotency-Key reaches the same document
// and run.
func TestUnknownOutcomeKeepsTheIntake(t *testing.T) {
	var fake *lostAnswer
	s := testenv.Start(t, testenv.Options{WrapTemporal: func(c client.Client) client.Client {
		fake = &lostAnswer{Client: c}
		return fake
	}})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	inv, _ := s.Staff(workflows.RoleInvestigator)
	ctx := testenv.Context(t)
	running := func(wfID string) {
		t.Helper()
		d, err := s.Temporal.DescribeWorkflowExecution(ctx, wfID, "")
		require.NoError(t, err, wfID)
		require.NotEqual(t, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, d.WorkflowExecutionInfo.Status)
	}
	lostBefore := func() int64 { return fake.lost.Load() }
	lose := func() { fake.armed.Store(true) }
	key := func() testenv.Header { return testenv.Header{Name: "Idempotency-Key", Value: "k-" + uuid.NewString()} }
	before := api.IntakeOutcomes()

	t.Run("C3_1_C1_5_registration", func(t *testing.T) {
		n := lostBefore()
		lose()
		k := key()
		p := testenv.NewPerson()
		r := s.Expect(s.Do("POST", "/v1/registrations", p.Registration("social_insurance_query"), k), http.StatusAccepted)
		require.Equal(t, n+1, lostBefore(), "the answer of the start was lost")
		id := r.Str("id")
		require.Equal(t, "/v1/registrations/"+id, r.Header.Get("Location"))
		s.WaitForStatus(id, "pending") // the run took the document
		running(workflows.RegistrationWorkflowID(id))
		// The same request again: the same application and run, and the
		// same answer: the same follow token, so the first one (whose answer
		// may have arrived after all) keeps working.
		again := s.Expect(s.Do("POST", "/v1/registrations", p.Registration("social_insurance_query"), k), http.StatusAccepted)
		require.Equal(t, id, again.Str("id"))
		require.Equal(t, r.Str("follow_token"), again.Str("follow_token"))
		require.Equal(t, 1, count(t, s, `SELECT count(*) FROM applications WHERE id_number = $1`, p.IDNumber))
		s.Expect(s.Do("GET", "/v1/registrations/"+id, nil, testenv.Follow(r.Str("follow_token"))), http.StatusOK)
		// The same body under another key is another request: refused as a
		// second open application, and it tells nothing of the first token.
		other := s.Do("POST", "/v1/registrations", p.Registration("social_insurance_query"), key())
		require.Equal(t, http.StatusConflict, other.Status)
		require.Empty(t, other.Str("follow_token"))
	})

	t.Run("C3_1_supplement", func(t *testing.T) {
		p := testenv.NewPerson()
		id, follow := s.Register(p, "social_insurance_query")
		s.WaitForStatus(id, "pending")
		s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "request_info", "reason": "请补充地址"},
			testenv.Bearer(reviewer)), http.StatusOK)
		s.WaitForStatus(id, "info_requested")
		lose()
		k := key()
		body := map[string]any{"address": "上海市黄浦区补充路1号", "note": "补充地址"}
		s.Expect(s.Do("POST", "/v1/registrations/"+id+"/supplement", body, testenv.Follow(follow), k), http.StatusOK)
		require.Zero(t, count(t, s, `SELECT count(*) FROM application_supplements WHERE application_id = $1 AND applied_at IS NULL`, id))
		require.Equal(t, 1, count(t, s, `SELECT count(*) FROM application_supplements WHERE application_id = $1`, id))
		s.WaitForStatus(id, "pending")
		// Repeated: the first Update's outcome, no second supplement.
		s.Expect(s.Do("POST", "/v1/registrations/"+id+"/supplement", body, testenv.Follow(follow), k), http.StatusOK)
		require.Equal(t, 1, count(t, s, `SELECT count(*) FROM application_supplements WHERE application_id = $1`, id))
	})

	u := s.NewUser(reviewer, "social_insurance_query", "employment_registration")
	var caseID string
	t.Run("C2_2_fraud_case_intake", func(t *testing.T) {
		lose()
		k := key()
		body := map[string]any{"account_id": u.AccountID, "suspected_fields": []string{"address"},
			"evidence": []string{"doc:lost-answer-1"}, "summary": "答复丢失测试"}
		r := s.Expect(s.Do("POST", "/v1/cases/fraud", body, testenv.Bearer(inv), k), http.StatusAccepted)
		caseID = r.Str("id")
		require.Equal(t, "/v1/cases/"+caseID, r.Header.Get("Location"))
		s.WaitForCaseState(caseID, workflows.CaseAwaitingAnswer)
		running(workflows.FraudWorkflowID(caseID))
		again := s.Expect(s.Do("POST", "/v1/cases/fraud", body, testenv.Bearer(inv), k), http.StatusAccepted)
		require.Equal(t, caseID, again.Str("id"))
		require.Equal(t, 1, count(t, s, `SELECT count(*) FROM cases WHERE account_id = $1`, u.AccountID))
	})

	t.Run("C2_2_case_submission", func(t *testing.T) {
		require.NotEmpty(t, caseID)
		lose()
		k := key()
		body := map[string]any{"text": "地址已更新，证明附后"}
		a := s.Expect(s.Do("POST", "/v1/me/cases/"+caseID+"/answer", body, testenv.Bearer(u.Token), k), http.StatusOK)
		require.Equal(t, "awaiting_decision", a.Str("state"))
		require.Equal(t, 1, count(t, s, `SELECT count(*) FROM case_submissions WHERE case_id = $1 AND accepted_at IS NOT NULL`, caseID))
		again := s.Expect(s.Do("POST", "/v1/me/cases/"+caseID+"/answer", body, testenv.Bearer(u.Token), k), http.StatusOK)
		require.Equal(t, "awaiting_decision", again.Str("state"))
		require.Equal(t, 1, count(t, s, `SELECT count(*) FROM case_submissions WHERE case_id = $1`, caseID))
		s.Expect(s.Do("POST", "/v1/cases/"+caseID+"/decision", map[string]any{"decision": "cleared"}, testenv.Bearer(inv)), http.StatusOK)
	})

	u2 := s.NewUser(reviewer, "social_insurance_query")
	t.Run("C3_2_data_change", func(t *testing.T) {
		lose()
		k := key()
		body := map[string]any{"name": "改名丢答"}
		r := s.Expect(s.Do("POST", "/v1/me/data-changes", body, testenv.Bearer(u2.Token), k), http.StatusAccepted)
		id := r.Str("id")
		require.Equal(t, "/v1/data-changes/"+id, r.Header.Get("Location"))
		running(workflows.DataChangeWorkflowID(id))
		again := s.Expect(s.Do("POST", "/v1/me/data-changes", body, testenv.Bearer(u2.Token), k), http.StatusAccepted)
		require.Equal(t, id, again.Str("id"))
		s.Expect(s.Do("POST", "/v1/data-changes/"+id+"/decision", map[string]string{"decision": "approve"}, testenv.Bearer(reviewer)), http.StatusOK)
		require.Equal(t, 1, count(t, s, `SELECT count(*) FROM data_changes WHERE account_id = $1 AND status = 'approved'`, u2.AccountID))
	})

	t.Run("C3_3_counter_reset", func(t *testing.T) {
		lose()
		k := key()
		body := map[string]any{"identity_document": "resident_id_card", "document_checked": true, "office": "丢答测试网点"}
		r := s.Expect(s.Do("POST", "/v1/accounts/"+u2.AccountID+"/password-reset", body, testenv.Bearer(reviewer), k), http.StatusCreated)
		require.Equal(t, "issued", r.Str("status"))
		id := r.Str("id")
		running(workflows.PasswordResetWorkflowID(id))
		again := s.Expect(s.Do("POST", "/v1/accounts/"+u2.AccountID+"/password-reset", body, testenv.Bearer(reviewer), k), http.StatusCreated)
		require.Equal(t, id, again.Str("id"))
		require.Equal(t, 1, count(t, s, `SELECT count(*) FROM password_resets WHERE account_id = $1`, u2.AccountID))
		s.Expect(s.Do("POST", "/v1/password-resets/"+id+"/initial-password", nil, testenv.Bearer(reviewer)), http.StatusOK)
	})

	t.Run("C3_5_deregistration", func(t *testing.T) {
		lose()
		k := key()
		body := map[string]any{"scope": "services", "services": []string{"employment_registration"}, "statement": "取消就业登记（丢答测试）",
			"password": u.Password}
		r := s.Expect(s.Do("POST", "/v1/me/deregistration", body, testenv.Bearer(u.Token), k), http.StatusAccepted)
		id := r.Str("id")
		require.Equal(t, "/v1/me/deregistration/"+id, r.Header.Get("Location"))
		testenv.Eventually(t, 30*time.Second, "the cancellation to complete", func() bool {
			var st string
			_ = s.DB.Get(&st, `SELECT status FROM deregistration_requests WHERE id = $1`, id)
			return st == "completed"
		})
		again := s.Expect(s.Do("POST", "/v1/me/deregistration", body, testenv.Bearer(u.Token), k), http.StatusAccepted)
		require.Equal(t, id, again.Str("id"))
		require.Equal(t, r.Str("content_sha256"), again.Str("content_sha256"))
		require.Equal(t, 1, count(t, s, `SELECT count(*) FROM deregistration_requests WHERE account_id = $1`, u.AccountID))
	})

	t.Run("C3_5_terms_rejection", func(t *testing.T) {
		v := s.PublishRevision()
		u3 := s.NewUser(reviewer, "social_insurance_query")
		lose()
		r := s.Expect(s.Do("POST", "/v1/me/terms/"+v+"/reject", map[string]any{"choice": "cancel_services",
			"services": []string{"social_insurance_query"}, "password": u3.Password}, testenv.Bearer(u3.Token)), http.StatusAccepted)
		id := r.Str("deregistration_request_id")
		require.NotEmpty(t, id)
		testenv.Eventually(t, 30*time.Second, "the cancellation to complete", func() bool {
			var st string
			_ = s.DB.Get(&st, `SELECT status FROM deregistration_requests WHERE id = $1`, id)
			return st == "completed"
		})
		require.Equal(t, 1, count(t, s, `SELECT count(*) FROM terms_rejections WHERE account_id = $1`, u3.AccountID))
	})

	after := api.IntakeOutcomes()
	require.GreaterOrEqual(t, after["unknown"]-before["unknown"], int64(8), "every lost answer was met as an unknown outcome")
	require.GreaterOrEqual(t, after["resolved_accepted"]-before["resolved_accepted"], int64(8), "and settled as accepted")
	var failed int
	resp, err := s.Temporal.ListWorkflow(ctx, listFailed(s.TaskQueue))
	require.NoError(t, err)
	failed = len(resp.Executions)
	require.Zero(t, failed, "no run failed for want of its document")
}

// A malformed Idempotency-Key is a field error and stores nothing.
func TestIdempotencyKeyIsValidated_C3_2(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	for _, bad := range []string{"short", "has space in the key 123", "ключ-ключ-ключ-ключ", strings.Repeat("a", 65)} {
		r := s.Do("POST", "/v1/registrations", testenv.NewPerson().Registration(), testenv.Header{Name: "Idempotency-Key", Value: bad})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%q: %s", bad, r.Raw)
		require.Contains(t, r.DetailFields(), "Idempotency-Key")
	}
	require.Zero(t, count(t, s, `SELECT count(*) FROM applications`))
}

func listFailed(taskQueue string) *workflowservice.ListWorkflowExecutionsRequest {
	return &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default",
		Query: fmt.Sprintf(`TaskQueue = %q AND ExecutionStatus = "Failed"`, taskQueue)}
}

// C3.1/C1.5: a registration whose start never reached Temporal (the
// outcome stayed unknown: 503 outcome_unknown, the document kept) is
// removed by the intake sweeper once it is older than the safe delay; an
// application whose review runs is never touched.
func TestIntakeSweeperRemovesOnlyUntakenDocuments_C3_1_C1_5(t *testing.T) {
	var fake *lostAnswer
	s := testenv.Start(t, testenv.Options{IntakeSettleWait: 300 * time.Millisecond, WrapTemporal: func(c client.Client) client.Client {
		fake = &lostAnswer{Client: c}
		return fake
	}})
	running, _ := s.Register(testenv.NewPerson(), "social_insurance_query")
	fake.down.Store(true)
	r := s.Do("POST", "/v1/registrations", testenv.NewPerson().Registration("social_insurance_query"))
	fake.down.Store(false)
	require.Equal(t, http.StatusServiceUnavailable, r.Status, string(r.Raw))
	require.Equal(t, "outcome_unknown", r.ErrorCode())
	require.Equal(t, "5", r.Header.Get("Retry-After"))
	var orphan string
	require.NoError(t, s.DB.Get(&orphan, `SELECT id FROM applications WHERE status = 'submitted' AND id <> $1`, running))

	require.NoError(t, worker.EnsureIntakeSweeper(testenv.Context(t), s.Temporal, s.TaskQueue,
		workflows.IntakeSweepSettings{Every: time.Hour, After: time.Millisecond}))
	testenv.Eventually(t, 30*time.Second, "the sweeper to remove the untaken application", func() bool {
		return count(t, s, `SELECT count(*) FROM applications WHERE id = $1`, orphan) == 0
	})
	require.Equal(t, 1, count(t, s, `SELECT count(*) FROM audit_log WHERE action = 'intake.discarded_untaken' AND record_id = $1`, orphan))
	require.Equal(t, 1, count(t, s, `SELECT count(*) FROM applications WHERE id = $1`, running), "a running review keeps its document")
	_ = s.Temporal.TerminateWorkflow(testenv.Context(t), workflows.IntakeSweepWorkflowID(s.TaskQueue), "", "test over")
}
