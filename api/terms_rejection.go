package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
	"hrss-backoffice/workflows"
)

// ---- rejecting a version with a written request (C3.5) ----

func firstErr(e *Error, err error) error {
	if err != nil {
		return err
	}
	return e
}

func requestID(c echo.Context) string { return c.Response().Header().Get(echo.HeaderXRequestID) }

// rejectTerms records a rejection together with the user's written
// request (C3.5): the services to cancel, or deregistration. The request is
// the authenticated, stored document; rejecting again returns it.
func (s *server) rejectTerms(c echo.Context) error {
	var req struct {
		Choice    string   `json:"choice"`
		Services  []string `json:"services"`
		Statement string   `json:"statement"`
		Password  string   `json:"password"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := caller(c)
	version := c.Param("version")
	if e, err := s.decidable(ctx, p.AccountID, version); err != nil || e != nil {
		return firstErr(e, err)
	}
	req.Services = dedupe(req.Services)
	var details []validate.FieldError
	switch req.Choice {
	case "cancel_services":
		if len(req.Services) == 0 {
			details = append(details, fieldError("services", "required", "请选择要取消的服务", "choose the services to cancel"))
		}
		open, err := store.OpenServiceCodes(ctx, s.DB, p.AccountID)
		if err != nil {
			return err
		}
		for i, code := range req.Services {
			if !contains(open, code) {
				details = append(details, fieldError("services."+strconv.Itoa(i), "not_open", "您没有开通该服务："+code, "you have no open service "+code))
			}
		}
	case "deregister":
		if len(req.Services) > 0 {
			details = append(details, fieldError("services", "not_allowed", "注销用户资格时无需选择服务", "deregistration ends every service; list none"))
		}
	}
	if fe := validate.Text("statement", req.Statement, false, 0, 1000); fe != nil {
		details = append(details, *fe)
	}
	// The rejection is the written request that cancels services or
	// deregisters (C3.5): the password signs it, as for any deregistration.
	if fe, err := s.confirmPassword(c, p, req.Password); err != nil {
		return err
	} else if fe != nil {
		details = append(details, *fe)
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	var conflictErr *Error
	var existing bool
	id := uuid.NewString()
	now := s.now().UTC()
	scope := map[string]string{"cancel_services": "services", "deregister": "account"}[req.Choice]
	closure := deregistrationDocument{Type: "hrss.terms_rejection/v1", RequestID: uuid.NewString(), AccountID: p.AccountID,
		Scope: scope, Services: req.Services, Statement: req.Statement, SubmittedAt: now.Format(time.RFC3339Nano),
		Confirmation: "password", TermsVersion: version, RejectionID: id}
	doc, digest, err := newDeregistrationDocument(closure)
	if err != nil {
		return err
	}
	err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		cur, err := s.currentPosition(ctx, tx, p.AccountID, version, true)
		if err != nil {
			return err
		}
		switch {
		case cur != nil && cur.Position == "rejected":
			existing = true
			return nil
		case cur != nil && cur.Position == "accepted":
			conflictErr = newError(http.StatusConflict, "already_accepted", "您已接受该版本；如需取消服务或注销，请另行申请",
				"you accepted this version; cancel services or deregister through their own requests")
			return nil
		case cur != nil:
			conflictErr = newError(http.StatusConflict, "already_deemed_accepted", "您在修订生效后继续使用服务，已视为接受该版本",
				"you kept using the services after the revision took effect, which counts as acceptance")
			return nil
		}
		if err := store.RecordOnlinePosition(ctx, tx, store.OnlinePosition{AccountID: p.AccountID, Version: version, Position: "rejected",
			RequestID: requestID(c), Route: c.Path(), SourceIP: c.RealIP()}); err != nil {
			return err
		}
		services := req.Services
		if services == nil {
			services = []string{}
		}
		if err := insertDeregistration(ctx, tx, c, closure, doc, digest, now); err != nil {
			return err
		}
		if err := store.FileTermsRejection(ctx, tx, store.TermsRejection{ID: id, AccountID: p.AccountID, Version: version, Choice: req.Choice,
			Services: services, Statement: strings.TrimSpace(req.Statement), RequestID: requestID(c), SourceIP: c.RealIP(),
			DeregistrationRequestID: closure.RequestID}); err != nil {
			return err
		}
		key := activities.TermsSource(version) + "/rejection/" + p.AccountID
		what := map[string][2]string{"cancel_services": {"取消服务：" + strings.Join(services, "、"), "cancel services: " + strings.Join(services, ", ")},
			"deregister": {"注销用户资格", "deregister the account"}}[req.Choice]
		if _, err := store.PlaceNotice(ctx, tx, store.Notice{OperationKey: key, AccountID: p.AccountID, Kind: "terms_rejection_received",
			TitleZH: "已收到您对承诺书（版本 " + version + "）的拒绝及书面申请", TitleEN: "We received your rejection of version " + version + " and your written request",
			BodyZH: "申请内容：" + what[0], BodyEN: "Your request: " + what[1]}); err != nil {
			return err
		}
		if _, err := store.PlaceNotice(ctx, tx, store.Notice{OperationKey: key + "/staff", StaffRole: workflows.RoleAdministrator,
			Kind: "terms_rejection_request", TitleZH: "用户拒绝修订后的承诺书并提交了书面申请",
			TitleEN: "A user rejected the revised terms and submitted a written request", BodyZH: "申请编号 " + id, BodyEN: "Request " + id}); err != nil {
			return err
		}
		detail := map[string]any{"terms_version": version, "rejection_id": id, "choice": req.Choice, "services": services}
		if err := audit(ctx, tx, c, "terms.rejected", "account", p.AccountID, detail); err != nil {
			return err
		}
		return audit(ctx, tx, c, "terms.cancellation_requested", "terms_rejection", id, detail)
	})
	if violatesUnique(err, "deregistration_one_open_per_account") {
		return newError(http.StatusConflict, "deregistration_pending", "您已有一份正在办理的注销申请", "a deregistration request of yours is already open")
	}
	if isUniqueViolation(err) {
		return newError(http.StatusConflict, "conflict", "您的另一份提交刚刚已记录，请刷新后查看", "another submission of yours was just recorded; reload to see it")
	}
	if err != nil {
		return err
	}
	if conflictErr != nil {
		return conflictErr
	}
	if !existing {
		err := s.settleIntake(ctx, "terms_rejection", closure.RequestID, false, func(ctx context.Context, again bool) error {
			err := s.startClosure(ctx, scope, closure.RequestID, p.AccountID)
			if again {
				return runsAlready(err)
			}
			return err
		}, func(context.Context) {
			// The process never started: take the whole rejection back, so
			// that the user may send it again.
			s.discardRejection(c, id, closure.RequestID, version)
		})
		if err != nil {
			var started *serviceerror.WorkflowExecutionAlreadyStarted
			if errors.As(err, &started) {
				return newError(http.StatusConflict, "deregistration_pending", "您已有一份正在办理的注销申请", "a deregistration request of yours is already open")
			}
			slog.Error("start closure for a terms rejection", "rejection_id", id, "error", err)
			return intakeError(err)
		}
	}
	deemedCacheFor(s.DB).settle(p.AccountID, version)
	rej, err := s.loadRejection(ctx, p.AccountID, version)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/me/terms/"+version)
	status := http.StatusAccepted
	if existing {
		status = http.StatusOK
	}
	return c.JSON(status, rej)
}

// discardRejection takes back a rejection whose closure process did not
// start: the position, the rejection, its notices and the stored request
// (still 'received', which the document guard allows to delete). The audit
// rows stay, with one that says so.
func (s *server) discardRejection(c echo.Context, rejectionID, requestID, version string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	accountID := caller(c).AccountID
	key := activities.TermsSource(version) + "/rejection/" + accountID
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if err := store.TakeBackTermsRejection(ctx, tx, rejectionID, requestID, accountID, version, key); err != nil {
			return err
		}
		return audit(ctx, tx, c, "terms.rejection_discarded", "account", accountID,
			map[string]any{"terms_version": version, "rejection_id": rejectionID, "request_id": requestID})
	})
	if err != nil {
		slog.Error("discard terms rejection", "rejection_id", rejectionID, "error", err)
	}
}

func (s *server) loadRejection(ctx context.Context, accountID, version string) (map[string]any, error) {
	// The status is that of the closure request the rejection started.
	r, err := store.RejectionOf(ctx, s.DB, accountID, version)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	services := []string(r.Services)
	if services == nil {
		services = []string{}
	}
	return map[string]any{"id": r.ID, "version": version, "choice": r.Choice, "services": services, "statement": r.Statement,
		"status": r.Status, "submitted_at": r.SubmittedAt.UTC(), "deregistration_request_id": nullable(r.RequestID.String, r.RequestID.Valid)}, nil
}
