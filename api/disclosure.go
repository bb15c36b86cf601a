package api

import (
	"context"
	"database/sql"
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
		var known bool
		if err := s.DB.GetContext(ctx, &known, `SELECT EXISTS (SELECT 1 FROM services WHERE code = $1)`, req.ServiceCode); err != nil {
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
		err := s.DB.GetContext(ctx, &accountID, `SELECT id FROM accounts WHERE id = $1`, req.Subject.AccountID)
		if errors.Is(err, sql.ErrNoRows) {
			fe("subject.account_id", "unknown_user", "未找到该用户", "no such user")
		} else if err != nil {
			return err
		}
	default:
		// The person's latest account.
		err := s.DB.GetContext(ctx, &accountID, `SELECT a.id FROM accounts a JOIN people p ON p.id = a.person_id
			WHERE p.id_number = $1 ORDER BY a.opened_at DESC LIMIT 1`, validate.NormalizeIDNumber(req.Subject.IDNumber))
		if errors.Is(err, sql.ErrNoRows) {
			fe("subject.id_number", "unknown_user", "未找到该用户", "no such user")
		} else if err != nil {
			return err
		}
	}
	// C2.3(3): the department needs the data to deliver a service of the
	// website to this user, so the user must hold that service.
	if req.Basis == workflows.BasisServiceNeed && accountID != "" && req.ServiceCode != "" && len(details) == 0 {
		var held bool
		if err := s.DB.GetContext(ctx, &held, `SELECT EXISTS (SELECT 1 FROM account_services s JOIN services c ON c.code = s.service_code
			WHERE s.account_id = $1 AND s.service_code = $2 AND s.status <> 'closed' AND c.active)`, accountID, req.ServiceCode); err != nil {
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO disclosure_requests (id, account_id, requester, basis, legal_reference, department,
			service_code, purpose, fields, secrecy_order, secrecy_until, entered_by, entered_roles, entered_at, source_ip, request_id, status)
			VALUES ($1, $2, $3, $4, nullif($5, ''), nullif($6, ''), nullif($7, ''), $8, $9, $10, $11, $12, $13, $14, $15, $16, 'received')`,
			id, accountID, strings.TrimSpace(req.Requester), req.Basis, strings.TrimSpace(req.LegalReference), strings.TrimSpace(req.Department),
			req.ServiceCode, strings.TrimSpace(req.Purpose), pq.Array(req.Fields), secrecyRef, secrecyUntil, p.StaffID, pq.Array(p.Roles),
			s.now().UTC(), c.RealIP(), httpRequestID(c)); err != nil {
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
		if _, derr := s.DB.ExecContext(ctx, `DELETE FROM disclosure_requests WHERE id = $1 AND status = 'received'`, id); derr != nil {
			slog.Error("discard disclosure request", "disclosure_id", id, "error", derr)
		}
		return errUnavailable()
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/disclosures/"+id)
	return c.JSON(http.StatusAccepted, map[string]any{"id": id, "status": "received", "basis": req.Basis, "fields": req.Fields})
}

type disclosureView struct {
	ID                string         `db:"id" json:"id"`
	AccountID         string         `db:"account_id" json:"account_id"`
	Requester         string         `db:"requester" json:"requester"`
	Basis             string         `db:"basis" json:"basis"`
	LegalReference    *string        `db:"legal_reference" json:"legal_reference"`
	Department        *string        `db:"department" json:"department"`
	ServiceCode       *string        `db:"service_code" json:"service_code"`
	Purpose           string         `db:"purpose" json:"purpose"`
	Fields            pq.StringArray `db:"fields" json:"fields"`
	SecrecyOrder      *string        `db:"secrecy_order" json:"secrecy_order"`
	SecrecyUntil      *time.Time     `db:"secrecy_until" json:"secrecy_until"`
	EnteredBy         string         `db:"entered_by" json:"entered_by"`
	EnteredRoles      pq.StringArray `db:"entered_roles" json:"entered_roles"`
	EnteredAt         time.Time      `db:"entered_at" json:"entered_at"`
	Status            string         `db:"status" json:"status"`
	Deadline          *time.Time     `db:"deadline" json:"deadline"`
	ConsentDecision   *string        `db:"consent_decision" json:"consent_decision"`
	ConsentAt         *time.Time     `db:"consent_at" json:"consent_at"`
	ApprovedBy        *string        `db:"approved_by" json:"approved_by"`
	ApproverRoles     pq.StringArray `db:"approver_roles" json:"approver_roles"`
	DecidedAt         *time.Time     `db:"decided_at" json:"decided_at"`
	DecisionReason    *string        `db:"decision_reason" json:"decision_reason"`
	ApprovedFields    pq.StringArray `db:"approved_fields" json:"approved_fields"`
	DeliveryExpiresAt *time.Time     `db:"delivery_expires_at" json:"delivery_expires_at"`
	DeliveredAt       *time.Time     `db:"delivered_at" json:"delivered_at"`
	DeliveredTo       *string        `db:"delivered_to" json:"delivered_to"`
	ClosedAt          *time.Time     `db:"closed_at" json:"closed_at"`
}

const disclosureColumns = `id, account_id, requester, basis, legal_reference, department, service_code, purpose, fields,
	secrecy_order, secrecy_until, entered_by, entered_roles, entered_at, status, deadline, consent_decision, consent_at,
	approved_by, approver_roles, decided_at, decision_reason, approved_fields, delivery_expires_at, delivered_at, delivered_to, closed_at`

func (v *disclosureView) normalise() {
	for _, a := range []*pq.StringArray{&v.Fields, &v.EnteredRoles, &v.ApproverRoles, &v.ApprovedFields} {
		if *a == nil {
			*a = pq.StringArray{}
		}
	}
}

func (s *server) loadDisclosure(ctx context.Context, id string) (disclosureView, error) {
	var v disclosureView
	err := getOne(ctx, s.DB, &v, `SELECT `+disclosureColumns+` FROM disclosure_requests WHERE id = $1`, id)
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
	rows := []disclosureView{}
	if err := s.DB.SelectContext(c.Request().Context(), &rows, `SELECT `+disclosureColumns+` FROM disclosure_requests
		WHERE (entered_at, id) > ($1, $2::uuid)
		  AND ($3 = '' OR status = $3) AND ($4 = '' OR basis = $4) AND ($5 = '' OR account_id::text = $5)
		  AND ($7 = '' OR entered_by::text = $7)
		ORDER BY entered_at, id LIMIT $6`, after, afterID, c.QueryParam("status"), c.QueryParam("basis"), c.QueryParam("account_id"), limit,
		enteredBy); err != nil {
		return err
	}
	for i := range rows {
		rows[i].normalise()
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

// exportDisclosure hands the approved fields, and nothing else, once to the
// staff member who entered the request, within the delivery window. This
// single pickup is the API's to write, like an initial password's: the
// data never passes through a workflow.
func (s *server) exportDisclosure(c echo.Context) error {
	p := caller(c)
	ctx := c.Request().Context()
	id := c.Param("id")
	var out map[string]any
	var accountID string
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var r struct {
			AccountID      string         `db:"account_id"`
			EnteredBy      string         `db:"entered_by"`
			Status         string         `db:"status"`
			ApprovedFields pq.StringArray `db:"approved_fields"`
			Expires        *time.Time     `db:"delivery_expires_at"`
			Secret         bool           `db:"secret"`
		}
		err := getOne(ctx, tx, &r, `SELECT account_id, entered_by, status, approved_fields, delivery_expires_at,
			secrecy_until IS NOT NULL AS secret FROM disclosure_requests WHERE id = $1 FOR UPDATE`, id)
		if err != nil {
			return err
		}
		if r.EnteredBy != p.StaffID {
			return errForbidden("only the staff member who entered the request exports it", "仅录入请求的工作人员可以导出")
		}
		switch {
		case r.Status == workflows.DisclosureDelivered:
			return newError(http.StatusGone, "already_delivered", "数据已交付，不能再次导出", "the data was delivered already")
		case r.Status != workflows.DisclosureApproved:
			return newError(http.StatusConflict, "not_approved", "该请求未获批准", "the request is "+r.Status+", not approved")
		case r.Expires == nil || !s.now().Before(*r.Expires):
			return newError(http.StatusGone, "delivery_expired", "交付期限已过", "the delivery window has passed")
		}
		data, err := disclosedData(ctx, tx, r.AccountID, r.ApprovedFields)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if _, err := tx.ExecContext(ctx, `UPDATE disclosure_requests SET status = 'delivered', delivered_at = $2, delivered_to = $3, closed_at = $2
			WHERE id = $1`, id, now, p.StaffID); err != nil {
			return err
		}
		d := map[string]any{"account_id": r.AccountID, "fields": []string(r.ApprovedFields)}
		if err := audit(ctx, tx, c, "disclosure.delivered", "disclosure", id, d); err != nil {
			return err
		}
		if !r.Secret {
			if err := audit(ctx, tx, c, "account.disclosure_delivered", "account", r.AccountID, map[string]any{"disclosure_id": id,
				"fields": []string(r.ApprovedFields)}); err != nil {
				return err
			}
		}
		accountID = r.AccountID
		out = map[string]any{"disclosure_id": id, "account_id": r.AccountID, "fields": []string(r.ApprovedFields), "data": data, "delivered_at": now}
		return nil
	})
	if err != nil {
		return err
	}
	// Let the workflow close at once; its delivery timer covers a lost signal.
	if err := s.Temporal.SignalWorkflow(context.WithoutCancel(ctx), workflows.DisclosureWorkflowID(id), "", workflows.SignalDisclosureDelivered, nil); err != nil {
		slog.Warn("signal disclosure delivered", "disclosure_id", id, "account_id", accountID, "error", err)
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="disclosure-`+id+`.json"`)
	return c.JSON(http.StatusOK, out)
}

// disclosedData reads exactly the approved fields of the account: a field
// not approved is never read into the answer. There is no code path for a
// password or its hash.
func disclosedData(ctx context.Context, tx *sqlx.Tx, accountID string, fields []string) (map[string]any, error) {
	var row struct {
		Name      string         `db:"name"`
		IDNumber  string         `db:"id_number"`
		BirthDate time.Time      `db:"birth_date"`
		Mobile    string         `db:"mobile"`
		Email     sql.NullString `db:"email"`
		Address   string         `db:"address"`
		Status    string         `db:"status"`
		OpenedAt  time.Time      `db:"opened_at"`
	}
	if err := tx.GetContext(ctx, &row, `SELECT p.name, p.id_number, p.birth_date, p.mobile, p.email, p.address, a.status, a.opened_at
		FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.id = $1`, accountID); err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, f := range fields {
		switch f {
		case "name":
			out[f] = row.Name
		case "id_number":
			out[f] = row.IDNumber
		case "birth_date":
			out[f] = row.BirthDate.Format("2006-01-02")
		case "mobile":
			out[f] = row.Mobile
		case "email":
			out[f] = row.Email.String
		case "address":
			out[f] = row.Address
		case "account_status":
			out[f] = row.Status
		case "registered_at":
			out[f] = row.OpenedAt.UTC()
		case "services":
			services := []string{}
			if err := tx.SelectContext(ctx, &services, `SELECT service_code FROM account_services WHERE account_id = $1 AND status = 'open'
				ORDER BY service_code`, accountID); err != nil {
				return nil, err
			}
			out[f] = services
		case "agreement":
			var agr struct {
				TermsVersion   string     `db:"terms_version" json:"terms_version"`
				EffectiveFrom  time.Time  `db:"effective_from" json:"effective_from"`
				EffectiveUntil *time.Time `db:"effective_until" json:"effective_until"`
			}
			if err := tx.GetContext(ctx, &agr, `SELECT terms_version, effective_from, effective_until FROM agreements WHERE account_id = $1`,
				accountID); err != nil {
				return nil, err
			}
			out[f] = agr
		default:
			return nil, fmt.Errorf("no disclosure reader for field %q", f)
		}
	}
	return out, nil
}

// myConsents lists the requests that ask for the user's consent, open and
// answered.
func (s *server) myConsents(c echo.Context) error {
	type consent struct {
		ID         string         `db:"id" json:"id"`
		Requester  string         `db:"requester" json:"requester"`
		Purpose    string         `db:"purpose" json:"purpose"`
		Fields     pq.StringArray `db:"fields" json:"fields"`
		Status     string         `db:"status" json:"status"`
		Deadline   *time.Time     `db:"deadline" json:"deadline"`
		Decision   *string        `db:"consent_decision" json:"decision"`
		AnsweredAt *time.Time     `db:"consent_at" json:"answered_at"`
		EnteredAt  time.Time      `db:"entered_at" json:"requested_at"`
	}
	rows := []consent{}
	if err := s.DB.SelectContext(c.Request().Context(), &rows, `SELECT id, requester, purpose, fields, status, deadline, consent_decision,
		consent_at, entered_at FROM disclosure_requests WHERE account_id = $1 AND basis = 'user_authorised' AND status <> 'received'
		ORDER BY entered_at DESC, id`, caller(c).AccountID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"consents": rows})
}

func (s *server) answerConsent(c echo.Context) error {
	var req struct {
		Decision string `json:"decision"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	p := caller(c)
	ctx := c.Request().Context()
	var found bool
	if err := s.DB.GetContext(ctx, &found, `SELECT EXISTS (SELECT 1 FROM disclosure_requests WHERE id = $1 AND account_id = $2
		AND basis = 'user_authorised')`, c.Param("id"), p.AccountID); err != nil {
		return err
	}
	if !found {
		return errNotFound()
	}
	var st workflows.DisclosureStatus
	if err := s.updateWorkflow(ctx, workflows.DisclosureWorkflowID(c.Param("id")), workflows.UpdateConsent,
		workflows.ConsentAnswer{Actor: p.actor(), Decision: req.Decision, HTTPRequestID: httpRequestID(c)}, &st); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": c.Param("id"), "status": st.Status})
}

// myDisclosures shows the user every disclosure of their data: who
// received what, when, on which basis. A law request under a secrecy order
// shows once the order has ended.
func (s *server) myDisclosures(c echo.Context) error {
	type disclosed struct {
		ID             string         `db:"id" json:"id"`
		Requester      string         `db:"requester" json:"requester"`
		Basis          string         `db:"basis" json:"basis"`
		LegalReference *string        `db:"legal_reference" json:"legal_reference"`
		Department     *string        `db:"department" json:"department"`
		ServiceCode    *string        `db:"service_code" json:"service_code"`
		Purpose        string         `db:"purpose" json:"purpose"`
		Fields         pq.StringArray `db:"approved_fields" json:"fields"`
		ApproverRoles  pq.StringArray `db:"approver_roles" json:"approver_roles"`
		ConsentedAt    *time.Time     `db:"consent_at" json:"consented_at"`
		DeliveredAt    time.Time      `db:"delivered_at" json:"delivered_at"`
	}
	rows := []disclosed{}
	if err := s.DB.SelectContext(c.Request().Context(), &rows, `SELECT id, requester, basis, legal_reference, department, service_code,
		purpose, approved_fields, coalesce(approver_roles, '{}') AS approver_roles, consent_at, delivered_at
		FROM disclosure_requests WHERE account_id = $1 AND status = 'delivered' AND (secrecy_until IS NULL OR secrecy_until <= $2)
		ORDER BY delivered_at DESC, id`, caller(c).AccountID, s.now()); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"disclosures": rows})
}
