package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/lib/pq"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
	"hrss-backoffice/workflows"
)

// deregistrationRoutes registers deregistration (C3.5, C4).
//
//	POST /v1/me/deregistration                 user
//	GET  /v1/me/deregistration                 user (own requests, newest first)
//	GET  /v1/me/deregistration/{id}            user (own requests)
//	POST /v1/me/deregistration/{id}/withdraw   user (own requests)
func (s *server) deregistrationRoutes(g *echo.Group) {
	g.POST("/me/deregistration", s.requestDeregistration, s.allow(authz.UserArea))
	g.GET("/me/deregistration", s.myDeregistrations, s.allow(authz.UserArea))
	g.GET("/me/deregistration/:id", s.getDeregistration, s.allow(authz.UserArea))
	g.POST("/me/deregistration/:id/withdraw", s.withdrawDeregistration, s.allow(authz.UserArea))
}

func httpRequestID(c echo.Context) string { return c.Response().Header().Get(echo.HeaderXRequestID) }

// deregistrationDocument is the written request as stored (C3.5): the
// user's statement exactly as written, the scope, the time, and how it was
// confirmed. Its JSON encoding is the stored document; the receipt carries
// its SHA-256.
type deregistrationDocument struct {
	Type         string   `json:"type"`
	RequestID    string   `json:"request_id"`
	AccountID    string   `json:"account_id"`
	Scope        string   `json:"scope"`
	Services     []string `json:"services"`
	Statement    string   `json:"statement"`
	SubmittedAt  string   `json:"submitted_at"`
	Confirmation string   `json:"confirmation"`
	// A rejection of revised terms (hrss.terms_rejection/v1) names the
	// version rejected and the rejection.
	TermsVersion string `json:"terms_version,omitempty"`
	RejectionID  string `json:"rejection_id,omitempty"`
}

// newDeregistrationDocument encodes the stored document and its SHA-256.
func newDeregistrationDocument(d deregistrationDocument) (string, string, error) {
	if d.Services == nil {
		d.Services = []string{}
	}
	doc, err := json.Marshal(d)
	if err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(doc)
	return string(doc), hex.EncodeToString(sum[:]), nil
}

// insertDeregistration stores a written request as received, with its
// audit row; its closure process is started after the commit.
func insertDeregistration(ctx context.Context, tx *sqlx.Tx, c echo.Context, d deregistrationDocument, doc, digest string, at time.Time) error {
	if err := store.FileDeregistration(ctx, tx, store.NewDeregistration{ID: d.RequestID, AccountID: d.AccountID, Scope: d.Scope,
		Services: d.Services, Document: doc, ContentSHA256: digest, SubmittedAt: at, SourceIP: c.RealIP(), RequestID: httpRequestID(c)}); err != nil {
		return err
	}
	detail := map[string]any{"request_id": d.RequestID, "scope": d.Scope, "services": d.Services, "content_sha256": digest}
	if d.RejectionID != "" {
		detail["terms_version"], detail["rejection_id"] = d.TermsVersion, d.RejectionID
	}
	return audit(ctx, tx, c, "account.deregistration_requested", "account", d.AccountID, detail)
}

// confirmPassword checks the password that signs a written request. A
// wrong one counts towards the sign-in limits of the caller's username and
// is refused with 429 like a sign-in once a limit is reached (C3.4(8)).
func (s *server) confirmPassword(c echo.Context, p *principal, password string) (*validate.FieldError, error) {
	acct, err := store.PasswordOfAccount(c.Request().Context(), s.DB, p.AccountID)
	if err != nil {
		return nil, err
	}
	chk := passwordCheck{Username: p.Username, AccountID: p.AccountID, ChangedAt: acct.ChangedAt, Failure: "wrong_confirmation"}
	ok, err := s.checkPassword(c, chk, password, acct.Hash, "")
	if err != nil {
		return nil, err
	}
	if !ok {
		return &validate.FieldError{Field: "password", Code: "wrong_password",
			MessageZH: "密码不正确，请输入当前密码以确认申请", MessageEN: "wrong password: confirm the request with your current password"}, nil
	}
	return nil, nil
}

// requestDeregistration stores the written request and starts its
// process: cancelling single services, or deregistering the account.
func (s *server) requestDeregistration(c echo.Context) error {
	var req struct {
		Scope     string   `json:"scope"`
		Services  []string `json:"services"`
		Statement string   `json:"statement"`
		Password  string   `json:"password"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	p := caller(c)
	ctx := c.Request().Context()
	req.Services = dedupe(req.Services)
	// The password confirms; it is no part of what the request is.
	id, keyed, err := s.intakeID(c, "deregistration", struct {
		Scope     string   `json:"scope"`
		Services  []string `json:"services"`
		Statement string   `json:"statement"`
	}{req.Scope, req.Services, req.Statement})
	if err != nil {
		return err
	}
	services := req.Services
	if services == nil {
		services = []string{}
	}
	var row deregistrationRow
	repeat := false
	if keyed {
		stored, err := store.DeregistrationOf(ctx, s.DB, id, p.AccountID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		row, repeat = deregistrationRow(stored), err == nil
	}
	var details []validate.FieldError
	if fe := validate.Text("statement", req.Statement, true, 1, 4000); fe != nil {
		details = append(details, *fe)
	}
	switch {
	case repeat:
		// The same request again: its services were checked the first
		// time (and may be closed by now, by this very request).
	case req.Scope == "services":
		if len(req.Services) == 0 {
			details = append(details, validate.FieldError{Field: "services", Code: "required",
				MessageZH: "请列出要取消的服务", MessageEN: "name the services to cancel"})
		}
		open, err := store.UnclosedServiceCodes(ctx, s.DB, p.AccountID)
		if err != nil {
			return err
		}
		for i, code := range req.Services {
			if !contains(open, code) {
				details = append(details, validate.FieldError{Field: fmt.Sprintf("services.%d", i), Code: "not_open",
					MessageZH: "您未开通该服务：" + code, MessageEN: "this service is not open on your account: " + code})
			}
		}
	case req.Scope == "account":
		if len(req.Services) > 0 {
			details = append(details, validate.FieldError{Field: "services", Code: "not_allowed",
				MessageZH: "注销账户时不需列出服务", MessageEN: "deregistering the account closes every service; list none"})
		}
	}
	if fe, err := s.confirmPassword(c, p, req.Password); err != nil {
		return err
	} else if fe != nil {
		details = append(details, *fe)
	}
	if len(details) > 0 {
		return errValidation(details...)
	}

	if !repeat {
		row.SubmittedAt = s.now().UTC()
		d := deregistrationDocument{Type: "hrss.deregistration_request/v1", RequestID: id, AccountID: p.AccountID,
			Scope: req.Scope, Services: req.Services, Statement: req.Statement, SubmittedAt: row.SubmittedAt.Format(time.RFC3339Nano),
			Confirmation: "password"}
		row.Document, row.ContentSHA256, err = newDeregistrationDocument(d)
		if err != nil {
			return err
		}
		err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
			return insertDeregistration(ctx, tx, c, d, row.Document, row.ContentSHA256, row.SubmittedAt)
		})
		if isUniqueViolation(err) {
			return newError(http.StatusConflict, "deregistration_pending", "您已有一份正在办理的注销申请", "a deregistration request of yours is already open")
		}
		if err != nil {
			return err
		}
		row.Status = "received"
	}

	err = s.settleIntake(ctx, "deregistration", id, repeat, func(ctx context.Context, again bool) error {
		err := s.startClosure(ctx, req.Scope, id, p.AccountID)
		if again {
			// Asked again: the run that exists is this request's (another
			// open request cannot be stored beside it).
			return runsAlready(err)
		}
		return err
	}, func(ctx context.Context) {
		// The process never started: take the document back and say so.
		s.discardIntake(ctx, id, store.DiscardDeregistration)
	})
	if err != nil {
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &started) {
			return newError(http.StatusConflict, "deregistration_pending", "您已有一份正在办理的注销申请", "a deregistration request of yours is already open")
		}
		slog.Error("start deregistration", "request_id", id, "error", err)
		return intakeError(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/me/deregistration/"+id)
	return c.JSON(http.StatusAccepted, map[string]any{"id": id, "scope": req.Scope, "services": services, "status": row.Status,
		"received_at": row.SubmittedAt, "content_sha256": row.ContentSHA256, "document": row.Document})
}

func (s *server) startClosure(ctx context.Context, scope, requestID, accountID string) error {
	if scope == "services" {
		opts := client.StartWorkflowOptions{
			ID: workflows.ServiceCancellationWorkflowID(requestID), TaskQueue: s.TaskQueue,
			WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		}
		startRecord(&opts, workflows.RunRecord{Kind: workflows.KindServiceCancellation, RecordID: requestID, Clause: "C3.5",
			Console: "/console/accounts/" + accountID}, "received")
		_, err := s.Temporal.ExecuteWorkflow(ctx, opts, workflows.ServiceCancellation, workflows.ServiceCancellationInput{RequestID: requestID, AccountID: accountID})
		return err
	}
	opts := client.StartWorkflowOptions{
		ID: workflows.DeregistrationWorkflowID(accountID), TaskQueue: s.TaskQueue,
		// A withdrawn request's run has ended; a new request starts anew.
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
	}
	startRecord(&opts, workflows.RunRecord{Kind: workflows.KindDeregistration, RecordID: requestID, Clause: "C3.5",
		Console: "/console/accounts/" + accountID}, "received")
	_, err := s.Temporal.ExecuteWorkflow(ctx, opts, workflows.Deregistration, workflows.DeregistrationInput{RequestID: requestID, AccountID: accountID})
	return err
}

type deregistrationRow = store.Deregistration

func (s *server) ownDeregistration(c echo.Context) (deregistrationRow, error) {
	return store.DeregistrationOf(c.Request().Context(), s.DB, c.Param("id"), caller(c).AccountID)
}

// getDeregistration shows the user's own request: the stored document,
// its hash and where it stands.
func (s *server) getDeregistration(c echo.Context) error {
	row, err := s.ownDeregistration(c)
	if err != nil {
		return err
	}
	if row.Services == nil {
		row.Services = pq.StringArray{}
	}
	return c.JSON(http.StatusOK, row)
}

// myDeregistrations lists the user's own requests, newest first, so that a
// receipt can be found again after the page that showed it.
func (s *server) myDeregistrations(c echo.Context) error {
	rows, err := store.DeregistrationsOf(c.Request().Context(), s.DB, caller(c).AccountID)
	if err != nil {
		return err
	}
	for i := range rows {
		if rows[i].Services == nil {
			rows[i].Services = pq.StringArray{}
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": rows})
}

// withdrawDeregistration withdraws an account deregistration during its
// cooling-off period (or while a case holds it back).
func (s *server) withdrawDeregistration(c echo.Context) error {
	row, err := s.ownDeregistration(c)
	if err != nil {
		return err
	}
	if row.Scope != "account" {
		return newError(http.StatusConflict, "conflict", "取消服务的申请已办结，无法撤回", "a cancellation of services is carried out at once and cannot be withdrawn")
	}
	if row.Status != "received" && row.Status != "cooling_off" && row.Status != "blocked" {
		return newError(http.StatusConflict, "conflict", "该注销申请已办结，无法撤回", "the deregistration request is "+row.Status)
	}
	p := caller(c)
	var st workflows.DeregistrationStatus
	if err := s.updateWorkflow(c.Request().Context(), workflows.DeregistrationWorkflowID(p.AccountID), workflows.UpdateWithdrawDeregistration,
		workflows.DeregistrationWithdrawal{Actor: p.actor(), HTTPRequestID: httpRequestID(c)}, &st); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": row.ID, "status": st.Status})
}

// updateWorkflow sends an Update and waits for its outcome; a validator's
// refusal changes nothing.
func (s *server) updateWorkflow(ctx context.Context, workflowID, name string, arg, result any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	h, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, result)
	}
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return newError(http.StatusConflict, "closed", "该事项已办结", "the process has ended")
		}
		return fromWorkflow(err)
	}
	return nil
}
