package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/lib/pq"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
	"hrss-backoffice/workflows"
)

// Disclosure requests (C2.3).
//
//	POST /v1/disclosures                staff entering a request: reviewer, supervisor, administrator, investigator
//	GET  /v1/disclosures                the register: auditor, supervisor, administrator
//	GET  /v1/disclosures/{id}           auditor, supervisor, administrator, or the staff member who entered it
//	POST /v1/disclosures/{id}/decision  supervisor or administrator, never the one who entered it
//	POST /v1/disclosures/{id}/export    the staff member who entered it, once, within the delivery window
//	GET  /v1/me/consents                user
//	POST /v1/me/consents/{id}           user (own requests)
//	GET  /v1/me/disclosures             user
func (s *server) disclosureRoutes(g *echo.Group) {
	g.POST("/disclosures", s.enterDisclosure, s.allow(authz.Console))
	g.GET("/disclosures", s.disclosureRegister, s.allow(authz.Console))
	g.GET("/disclosures/:id", s.getDisclosure, s.allow(authz.Console))
	g.POST("/disclosures/:id/decision", s.decideDisclosure, s.allow(authz.Console))
	g.POST("/disclosures/:id/export", s.exportDisclosure, s.allow(authz.Console), s.requireReauth)
	g.GET("/me/consents", s.myConsents, s.allow(authz.UserArea))
	g.POST("/me/consents/:id", s.answerConsent, s.allow(authz.UserArea))
	g.GET("/me/disclosures", s.myDisclosures, s.allow(authz.UserArea))
}

func (s *server) enterDisclosure(c echo.Context) error {
	if err := authorize(c, authz.DisclosureEnter); err != nil {
		return err
	}
	var req struct {
		Subject struct {
			AccountID string `json:"account_id"`
			IDNumber  string `json:"id_number"`
		} `json:"subject"`
		Requester      string `json:"requester"`
		Basis          string `json:"basis"`
		LegalReference string `json:"legal_reference"`
		SecrecyOrder   *struct {
			Reference string    `json:"reference"`
			Until     time.Time `json:"until"`
		} `json:"secrecy_order"`
		Department  string   `json:"department"`
		ServiceCode string   `json:"service_code"`
		Purpose     string   `json:"purpose"`
		Fields      []string `json:"fields"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var details []validate.FieldError
	add := func(fe *validate.FieldError) {
		if fe != nil {
			details = append(details, *fe)
		}
	}
	fe := func(field, code, zh, en string) {
		details = append(details, validate.FieldError{Field: field, Code: code, MessageZH: zh, MessageEN: en})
	}
	add(validate.Text("requester", req.Requester, true, 2, 200))
	add(validate.Text("purpose", req.Purpose, true, 2, 1000))
	for i, f := range req.Fields {
		switch {
		case strings.Contains(strings.ToLower(f), "password"):
			fe(fmt.Sprintf("fields.%d", i), "never_disclosable", "密码及其散列值在任何情况下都不得披露", "a password or its hash is never disclosed")
		case !contains(activities.DisclosableFields, f):
			fe(fmt.Sprintf("fields.%d", i), "unknown_field", "不存在该字段："+f, "no such field: "+f)
		}
	}
	req.Fields = dedupe(req.Fields)
	if req.Basis == workflows.BasisLaw {
		add(validate.Text("legal_reference", req.LegalReference, true, 2, 300))
	} else if strings.TrimSpace(req.LegalReference) != "" {
		fe("legal_reference", "not_allowed", "仅依法律程序的请求需注明法律文书", "only a law request carries a legal reference")
	}
	if req.SecrecyOrder != nil {
		if req.Basis != workflows.BasisLaw {
			fe("secrecy_order", "not_allowed", "仅依法律程序的请求可附保密令", "only a law request may carry a secrecy order")
		}
		add(validate.Text("secrecy_order.reference", req.SecrecyOrder.Reference, true, 2, 300))
		if !req.SecrecyOrder.Until.After(s.now()) {
			fe("secrecy_order.until", "not_in_future", "保密期限应晚于当前时间", "the secrecy order must end in the future")
		}
	}
	if req.Basis == workflows.BasisServiceNeed {
		add(validate.Text("department", req.Department, true, 2, 200))
		known, err := store.ServiceExists(ctx, s.DB, req.ServiceCode)
		if err != nil {
			return err
		}
		if !known {
			fe("service_code", "unknown_service", "不存在该服务", "no such service")
		}
	} else if req.Department != "" || req.ServiceCode != "" {
		fe("department", "not_allowed", "仅因服务需要的请求需注明部门和服务", "only a service_need request names a department and a service")
	}
	var accountID string
	switch {
	case (req.Subject.AccountID == "") == (req.Subject.IDNumber == ""):
		fe("subject", "one_of", "请提供账户编号或身份证号之一", "give either the account ID or the ID number")
	case req.Subject.AccountID != "":
		if uuid.Validate(req.Subject.AccountID) != nil {
			fe("subject.account_id", "unknown_user", "未找到该用户", "no such user")
			break
		}
		var err error
		accountID, err = store.AccountIDByID(ctx, s.DB, req.Subject.AccountID)
		if errors.Is(err, store.ErrNotFound) {
			fe("subject.account_id", "unknown_user", "未找到该用户", "no such user")
		} else if err != nil {
			return err
		}
	default:
		// The person's latest account.
		var err error
		accountID, err = store.LatestAccountOf(ctx, s.DB, validate.NormalizeIDNumber(req.Subject.IDNumber))
		if errors.Is(err, store.ErrNotFound) {
			fe("subject.id_number", "unknown_user", "未找到该用户", "no such user")
		} else if err != nil {
			return err
		}
	}
	// C2.3(3): the department needs the data to deliver a service of the
	// website to this user, so the user must hold that service.
	if req.Basis == workflows.BasisServiceNeed && accountID != "" && req.ServiceCode != "" && len(details) == 0 {
		held, err := store.HoldsActiveService(ctx, s.DB, accountID, req.ServiceCode)
		if err != nil {
			return err
		}
		if !held {
			fe("service_code", "service_not_held", "该用户未开通此服务，部门无需为此使用其数据", "the user does not hold this service, so no department needs their data for it")
		}
	}
	if len(details) > 0 {
		return errValidation(details...)
	}

	p := caller(c)
	id := uuid.NewString()
	var secrecyRef, secrecyUntil any
	if req.SecrecyOrder != nil {
		secrecyRef, secrecyUntil = strings.TrimSpace(req.SecrecyOrder.Reference), req.SecrecyOrder.Until.UTC()
	}
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if err := store.EnterDisclosure(ctx, tx, store.NewDisclosure{ID: id, AccountID: accountID, Requester: strings.TrimSpace(req.Requester),
			Basis: req.Basis, LegalReference: strings.TrimSpace(req.LegalReference), Department: strings.TrimSpace(req.Department),
			ServiceCode: req.ServiceCode, Purpose: strings.TrimSpace(req.Purpose), Fields: req.Fields, SecrecyOrder: secrecyRef,
			SecrecyUntil: secrecyUntil, EnteredBy: p.StaffID, EnteredRoles: p.Roles, EnteredAt: s.now().UTC(), SourceIP: c.RealIP(),
			RequestID: httpRequestID(c)}); err != nil {
			return err
		}
		d := map[string]any{"account_id": accountID, "basis": req.Basis, "fields": req.Fields, "secret": req.SecrecyOrder != nil}
		if err := audit(ctx, tx, c, "disclosure.entered", "disclosure", id, d); err != nil {
			return err
		}
		if req.SecrecyOrder != nil {
			return nil // see activities.disclosureAudit
		}
		return audit(ctx, tx, c, "account.disclosure_requested", "account", accountID, map[string]any{"disclosure_id": id, "basis": req.Basis})
	})
	if err != nil {
		return err
	}
	opts := client.StartWorkflowOptions{
		ID: workflows.DisclosureWorkflowID(id), TaskQueue: s.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
	}
	startRecord(&opts, workflows.RunRecord{Kind: workflows.KindDisclosure, RecordID: id, Clause: "C2.3",
		Console: "/console/disclosures/" + id}, "received")
	_, err = s.Temporal.ExecuteWorkflow(ctx, opts, workflows.DisclosureRequest, workflows.DisclosureInput{RequestID: id})
	if err != nil {
		slog.Error("start disclosure request", "disclosure_id", id, "error", err)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if derr := store.DiscardDisclosureRequest(ctx, s.DB, id); derr != nil {
			slog.Error("discard disclosure request", "disclosure_id", id, "error", derr)
		}
		return errUnavailable()
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/disclosures/"+id)
	return c.JSON(http.StatusAccepted, map[string]any{"id": id, "status": "received", "basis": req.Basis, "fields": req.Fields})
}

type disclosureView store.Disclosure

func (v *disclosureView) normalise() {
	for _, a := range []*pq.StringArray{&v.Fields, &v.EnteredRoles, &v.ApproverRoles, &v.ApprovedFields} {
		if *a == nil {
			*a = pq.StringArray{}
		}
	}
}

func (s *server) loadDisclosure(ctx context.Context, id string) (disclosureView, error) {
	row, err := store.DisclosureByID(ctx, s.DB, id)
	v := disclosureView(row)
	v.normalise()
	return v, err
}

// disclosureRegister lists requests, newest last, with filters: who, what,
// when, basis and approvers of every disclosure. With mine=true it lists
// only the requests the caller entered, which every role that may enter
// one may read (the filer alone exports, so must be able to find them).
func (s *server) disclosureRegister(c echo.Context) error {
	enteredBy := ""
	if c.QueryParam("mine") == "true" {
		if err := authorize(c, authz.DisclosureReadOwn); err != nil {
			return err
		}
		enteredBy = caller(c).StaffID
	} else if err := authorize(c, authz.DisclosureRegister); err != nil {
		return err
	}
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		fmt.Sscanf(v, "%d", &limit)
	}
	after, afterID := time.Time{}, "00000000-0000-0000-0000-000000000000"
	if v := c.QueryParam("after"); v != "" {
		var ok bool
		if after, afterID, ok = decodeCursor(v); !ok {
			return errValidation(validate.FieldError{Field: "after", Code: "invalid_cursor", MessageZH: "分页游标无效", MessageEN: "invalid cursor"})
		}
	}
	stored, err := store.DisclosureRegister(c.Request().Context(), s.DB, store.DisclosureFilter{After: after, AfterID: afterID,
		Status: c.QueryParam("status"), Basis: c.QueryParam("basis"), AccountID: c.QueryParam("account_id"), EnteredBy: enteredBy, Limit: limit})
	if err != nil {
		return err
	}
	rows := make([]disclosureView, 0, len(stored))
	for _, r := range stored {
		v := disclosureView(r)
		v.normalise()
		rows = append(rows, v)
	}
	out := map[string]any{"items": rows}
	if len(rows) == limit {
		last := rows[len(rows)-1]
		out["next_cursor"] = encodeCursor(last.EnteredAt, last.ID)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *server) getDisclosure(c echo.Context) error {
	p := caller(c)
	v, err := s.loadDisclosure(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if !may(c, authz.DisclosureRegister) && v.EnteredBy != p.StaffID {
		if may(c, authz.DisclosureEnter) {
			return errNotFound()
		}
		return errForbidden("only the register's readers or the staff member who entered the request", "您无权查看该披露请求")
	}
	return c.JSON(http.StatusOK, map[string]any{"disclosure": v, "workflow_url": s.workflowURL(workflows.DisclosureWorkflowID(v.ID))})
}

// decideDisclosure: a second staff member approves (the fields named, or
// all requested) or refuses a law or service_need request.
func (s *server) decideDisclosure(c echo.Context) error {
	if err := authorize(c, authz.DisclosureDecide); err != nil {
		return err
	}
	var req struct {
		Decision string   `json:"decision"`
		Fields   []string `json:"fields"`
		Reason   string   `json:"reason"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	v, err := s.loadDisclosure(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	p := caller(c)
	if v.EnteredBy == p.StaffID {
		return newError(http.StatusForbidden, "four_eyes", "录入请求的工作人员不得审批该请求", "the staff member who entered the request may not approve it")
	}
	if err := s.refuseHandPickedApprover(ctx, v.EnteredBy, p.StaffID); err != nil { // api/foureyes.go
		return err
	}
	var details []validate.FieldError
	for i, f := range req.Fields {
		if !contains(v.Fields, f) {
			details = append(details, validate.FieldError{Field: fmt.Sprintf("fields.%d", i), Code: "not_requested",
				MessageZH: "该字段不在请求范围内", MessageEN: "this field was not requested: " + f})
		}
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if req.Decision == "refuse" && req.Reason == "" {
		details = append(details, validate.FieldError{Field: "reason", Code: "required", MessageZH: "拒绝时须说明理由", MessageEN: "a reason is required to refuse"})
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	if v.Basis == workflows.BasisUserAuthorised {
		return newError(http.StatusConflict, "conflict", "经用户授权的请求由用户本人决定", "a user_authorised request is decided by the user")
	}
	var st workflows.DisclosureStatus
	if err := s.updateWorkflow(ctx, workflows.DisclosureWorkflowID(v.ID), workflows.UpdateDecideDisclosure, workflows.DisclosureDecision{
		Actor: p.actor(), Decision: req.Decision, Fields: dedupe(req.Fields), Reason: req.Reason, HTTPRequestID: httpRequestID(c)}, &st); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}
