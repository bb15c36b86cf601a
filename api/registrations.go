package api

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
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
	"hrss-backoffice/internal/eligibility"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/workflows"
)

type registrationRequest struct {
	Name         string   `json:"name"`
	IDNumber     string   `json:"id_number"`
	Mobile       string   `json:"mobile"`
	Email        string   `json:"email"`
	Address      string   `json:"address"`
	Channel      string   `json:"channel"`
	Services     []string `json:"services"`
	TermsVersion string   `json:"terms_version"`
	Agreed       bool     `json:"agreed"`
	// MobileCode proves the mobile number (online and kiosk applications).
	MobileCode string `json:"mobile_code"`
}

// currentTermsVersion is the newest published version already in effect.
func (s *server) currentTermsVersion(ctx context.Context) (string, error) {
	var v string
	err := s.DB.GetContext(ctx, &v, `SELECT version FROM terms_versions
		WHERE published_at IS NOT NULL AND effective_at <= now() ORDER BY effective_at DESC, version DESC LIMIT 1`)
	return v, err
}

// validateRegistration checks every field and returns all problems at once
// (C3.2). It also returns the birth date and the normalised fields.
func (s *server) validateRegistration(ctx context.Context, r *registrationRequest) (time.Time, []validate.FieldError, error) {
	var details []validate.FieldError
	add := func(fe *validate.FieldError) {
		if fe != nil {
			details = append(details, *fe)
		}
	}
	r.Name, r.Mobile, r.Email, r.Address = strings.TrimSpace(r.Name), strings.TrimSpace(r.Mobile), strings.TrimSpace(r.Email), strings.TrimSpace(r.Address)
	r.IDNumber = validate.NormalizeIDNumber(r.IDNumber)
	add(validate.PersonName("name", r.Name))
	birth, fe := validate.ResidentID("id_number", r.IDNumber, s.now())
	add(fe)
	add(validate.Mobile("mobile", r.Mobile))
	add(validate.Email("email", r.Email))
	add(validate.Text("address", r.Address, true, 5, 200))
	if !r.Agreed {
		details = append(details, validate.FieldError{Field: "agreed", Code: "must_agree",
			MessageZH: "注册须同意用户承诺书", MessageEN: "registering requires agreeing to the terms"})
	}
	current, err := s.currentTermsVersion(ctx)
	if err != nil {
		return birth, nil, err
	}
	if r.TermsVersion != current {
		details = append(details, validate.FieldError{Field: "terms_version", Code: "not_current",
			MessageZH: "请阅读并同意现行版本（" + current + "）的承诺书", MessageEN: "agree to the current terms version (" + current + ")"})
	}
	r.Services = dedupe(r.Services)
	if len(r.Services) > 0 {
		var known []string
		if err := s.DB.SelectContext(ctx, &known, `SELECT code FROM services WHERE active AND code = ANY($1)`, pq.Array(r.Services)); err != nil {
			return birth, nil, err
		}
		for i, code := range r.Services {
			if !contains(known, code) {
				details = append(details, validate.FieldError{Field: fmt.Sprintf("services.%d", i), Code: "unknown_service",
					MessageZH: "不存在该服务：" + code, MessageEN: "no such service: " + code})
			}
		}
	}
	return birth, details, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// submitRegistration stores the application document and starts its
// review. The workflow gets the application ID only.
func (s *server) submitRegistration(c echo.Context) error {
	var req registrationRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	birth, details, err := s.validateRegistration(ctx, &req)
	if err != nil {
		return err
	}
	// The channel is a fact of who submits, not a claim (issue 18).
	ent, err := s.registrationEntry(c, req.Channel)
	var fieldErr *Error
	if errors.As(err, &fieldErr) && fieldErr.Code == "validation_failed" {
		details = append(details, fieldErr.Details...)
	} else if err != nil {
		return err
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	req.Channel = ent.Channel
	id, keyed, err := s.intakeID(c, "registration", req)
	if err != nil {
		return err
	}
	// Online and kiosk applicants prove the mobile number with a code (a
	// repeat of a stored request used its code already).
	if ent.Channel != "counter" && !s.MobileCodes.Off {
		repeated := false
		if keyed {
			if err := s.DB.GetContext(ctx, &repeated, `SELECT EXISTS (SELECT 1 FROM applications WHERE id = $1)`, id); err != nil {
				return err
			}
		}
		if !repeated {
			if err := s.checkMobileCode(ctx, req.Mobile, PurposeRegistration, "", req.MobileCode); err != nil {
				return err
			}
			ent.MobileVerified = true
		}
	}
	var registered bool
	if err := s.DB.GetContext(ctx, &registered, `SELECT EXISTS (SELECT 1 FROM accounts a JOIN people p ON p.id = a.person_id
		WHERE p.id_number = $1 AND a.status IN ('active', 'suspended'))`, req.IDNumber); err != nil {
		return err
	}
	if registered {
		return newError(http.StatusConflict, "already_registered", "该身份证号已注册为用户，请直接登录", "this ID number already has an account; sign in instead")
	}

	// Without a key the follow token is random. With one, the same request
	// repeated must get the same answer (the first may have arrived after
	// all), so the token is derived from the document ID with the server's
	// key: nothing to keep in clear, and nothing a client can compute.
	var token string
	if keyed {
		token = base64.RawURLEncoding.EncodeToString(s.Box.Derive("follow-token", []byte(id)))
	} else if token, err = newToken(); err != nil {
		return err
	}
	services := req.Services
	if services == nil {
		services = []string{}
	}
	repeat := false
	if keyed {
		if err := s.DB.GetContext(ctx, &repeat, `SELECT EXISTS (SELECT 1 FROM applications WHERE id = $1)`, id); err != nil {
			return err
		}
	}
	if !repeat {
		err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO applications (id, status, name, id_number, birth_date, mobile, email, address,
			channel, services, terms_version, agreed_at, follow_token_hash, submitted_at, entered_by, kiosk_id, office, mobile_verified_at)
			VALUES ($1, 'submitted', $2, $3, $4, $5, nullif($6, ''), $7, $8, $9, $10, $11, $12, $11,
				nullif($13, '')::uuid, nullif($14, '')::uuid, nullif($15, ''), CASE WHEN $16 THEN now() END)`,
				id, req.Name, req.IDNumber, birth, req.Mobile, req.Email, req.Address, req.Channel, pq.Array(services),
				req.TermsVersion, s.now(), hashToken(token), ent.EnteredBy, ent.KioskID, ent.Office, ent.MobileVerified); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO application_events (application_id, event_key, kind, actor, detail)
			VALUES ($1, 'submitted', 'submitted', 'applicant', $2)`, id, mustJSON(map[string]any{"channel": req.Channel})); err != nil {
				return err
			}
			auditDetail := map[string]any{"channel": req.Channel, "terms_version": req.TermsVersion}
			if ent.EnteredBy != "" {
				auditDetail["entered_by"] = ent.EnteredBy
			}
			if ent.KioskID != "" {
				auditDetail["kiosk_id"], auditDetail["office"] = ent.KioskID, ent.Office
			}
			return audit(ctx, tx, c, "application.submitted", "application", id, auditDetail)
		})
		if isUniqueViolation(err) {
			return newError(http.StatusConflict, "application_open", "该身份证号已有一份正在审核的申请", "an application for this ID number is already open")
		}
		if err != nil {
			return err
		}
	}

	opts := client.StartWorkflowOptions{
		ID:                       workflows.RegistrationWorkflowID(id),
		TaskQueue:                s.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
	}
	// What an operator asks first, in the run's memo (set at the start, not
	// a workflow command, readable without the codec) and search
	// attributes: codes and IDs only (docs/operations.md).
	startRecord(&opts, workflows.RunRecord{Kind: workflows.KindRegistration, RecordID: id, Clause: "C2.1", Office: ent.Office,
		Console: "/console/applications/" + id}, workflows.StatusPending)
	err = s.settleIntake(ctx, "registration", id, repeat,
		s.startIntake(opts, workflows.RegistrationReview, workflows.RegistrationInput{ApplicationID: id, ServiceLevel: s.ServiceLevel, Channel: req.Channel}),
		func(ctx context.Context) {
			// No review can run: take the document back so that the
			// person can apply again, and say so.
			s.discardIntake(ctx, id, `DELETE FROM application_events WHERE application_id = $1`,
				`DELETE FROM applications WHERE id = $1 AND status = 'submitted'`)
		})
	if err != nil {
		slog.Error("start registration review", "application_id", id, "error", err)
		return intakeError(err)
	}
	status := workflows.StatusPending
	if repeat {
		if err := s.DB.GetContext(ctx, &status, `SELECT status FROM applications WHERE id = $1`, id); err != nil {
			return err
		}
		if status == "submitted" {
			status = workflows.StatusPending
		}
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/registrations/"+id)
	return c.JSON(http.StatusAccepted, map[string]any{"id": id, "status": status, "follow_token": token})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// access says how the caller may see an application.
type access int

const (
	noAccess access = iota
	applicantAccess
	staffAccess
)

// accessTo checks the follow token (constant time) or a staff session with
// a review role.
func (s *server) accessTo(c echo.Context, id string) (access, error) {
	if may(c, authz.RegistrationStaffAccess) {
		var exists bool
		err := s.DB.GetContext(c.Request().Context(), &exists, `SELECT EXISTS (SELECT 1 FROM applications WHERE id = $1)`, id)
		if exists {
			return staffAccess, err
		}
		return noAccess, err
	}
	token := c.Request().Header.Get("X-Follow-Token")
	if token == "" {
		return noAccess, nil
	}
	var stored []byte
	err := s.DB.GetContext(c.Request().Context(), &stored, `SELECT follow_token_hash FROM applications WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return noAccess, nil
	}
	if err != nil {
		return noAccess, err
	}
	if subtle.ConstantTimeCompare(stored, hashToken(token)) == 1 {
		return applicantAccess, nil
	}
	return noAccess, nil
}

type applicationRow struct {
	ID             string         `db:"id"`
	Status         string         `db:"status"`
	Name           string         `db:"name"`
	IDNumber       string         `db:"id_number"`
	Mobile         string         `db:"mobile"`
	Email          sql.NullString `db:"email"`
	Address        string         `db:"address"`
	Channel        string         `db:"channel"`
	Services       pq.StringArray `db:"services"`
	TermsVersion   string         `db:"terms_version"`
	Flags          pq.StringArray `db:"flags"`
	InfoRequested  sql.NullString `db:"info_requested"`
	Decision       sql.NullString `db:"decision"`
	DecisionReason sql.NullString `db:"decision_reason"`
	SubmittedAt    time.Time      `db:"submitted_at"`
	QueuedAt       sql.NullTime   `db:"queued_at"`
	ClosedAt       sql.NullTime   `db:"closed_at"`
	EnteredBy      sql.NullString `db:"entered_by"`
	KioskID        sql.NullString `db:"kiosk_id"`
	Office         sql.NullString `db:"office"`
}

// MaskIDNumber keeps the region's first digits and the last two.
func MaskIDNumber(s string) string {
	if len(s) != 18 {
		return "******"
	}
	return s[:3] + strings.Repeat("*", 13) + s[16:]
}

func nullable[T any](v T, ok bool) *T {
	if !ok {
		return nil
	}
	return &v
}

func (s *server) getRegistration(c echo.Context) error {
	id := c.Param("id")
	acc, err := s.accessTo(c, id)
	if err != nil {
		return err
	}
	if acc == noAccess {
		return errNotFound()
	}
	ctx := c.Request().Context()
	var app applicationRow
	if err := s.DB.GetContext(ctx, &app, `SELECT id, status, name, id_number, mobile, email, address, channel, services,
		terms_version, flags, info_requested, decision, decision_reason, submitted_at, queued_at, closed_at,
		entered_by, kiosk_id, office FROM applications WHERE id = $1`, id); err != nil {
		return err
	}
	events := []timelineEvent{}
	if err := s.DB.SelectContext(ctx, &events, `SELECT kind, at, actor, detail FROM application_events
		WHERE application_id = $1 ORDER BY at, event_key`, id); err != nil {
		return err
	}
	applicant := map[string]any{"name": app.Name, "mobile": app.Mobile, "email": app.Email.String, "address": app.Address,
		"id_number": app.IDNumber}
	out := map[string]any{
		"id": app.ID, "status": app.Status, "channel": app.Channel, "services": []string(app.Services),
		"terms_version": app.TermsVersion, "submitted_at": app.SubmittedAt,
		"queued_at": nullable(app.QueuedAt.Time, app.QueuedAt.Valid), "closed_at": nullable(app.ClosedAt.Time, app.ClosedAt.Valid),
		"info_requested":  nullable(app.InfoRequested.String, app.InfoRequested.Valid),
		"decision":        nullable(app.Decision.String, app.Decision.Valid),
		"decision_reason": nullable(app.DecisionReason.String, app.DecisionReason.Valid),
		"applicant":       applicant,
	}
	if acc == staffAccess {
		out["flags"] = append([]string{}, app.Flags...)
		out["workflow_url"] = s.workflowURL(workflows.RegistrationWorkflowID(id))
		// Who entered it: the reviewer at a counter, or the kiosk and its office.
		out["entered_by"] = nullable(app.EnteredBy.String, app.EnteredBy.Valid)
		out["kiosk_id"] = nullable(app.KioskID.String, app.KioskID.Valid)
		out["office"] = nullable(app.Office.String, app.Office.Valid)
	} else {
		// The applicant sees their own data, the ID number masked, staff as
		// a role rather than an identity, and the timeline's details reduced
		// to the listed keys: the automated checks' flags are staff-only.
		applicant["id_number"] = MaskIDNumber(app.IDNumber)
		for i := range events {
			events[i] = userEvent(events[i])
		}
	}
	out["timeline"] = events
	// Notices to the applicant (request for information, rejection, expiry).
	type notice struct {
		Kind    string    `db:"kind" json:"kind"`
		TitleZH string    `db:"title_zh" json:"title_zh"`
		TitleEN string    `db:"title_en" json:"title_en"`
		BodyZH  string    `db:"body_zh" json:"body_zh"`
		BodyEN  string    `db:"body_en" json:"body_en"`
		At      time.Time `db:"created_at" json:"at"`
	}
	notices := []notice{}
	if err := s.DB.SelectContext(ctx, &notices, `SELECT kind, title_zh, title_en, body_zh, body_en, created_at
		FROM notices WHERE application_id = $1 ORDER BY created_at, id`, id); err != nil {
		return err
	}
	out["notices"] = notices
	return c.JSON(http.StatusOK, out)
}

func (s *server) workflowURL(workflowID string) string {
	ns := s.Namespace
	if ns == "" {
		ns = "default"
	}
	return strings.TrimRight(s.UIURL, "/") + "/namespaces/" + url.PathEscape(ns) + "/workflows/" + url.PathEscape(workflowID)
}

// update sends an Update to an application's workflow and waits for its
// outcome. A rejection by the validator changes nothing.
func (s *server) update(ctx context.Context, id, name string, arg any) (workflows.DecisionResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	h, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.RegistrationWorkflowID(id), UpdateName: name, Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res workflows.DecisionResult
	if err == nil {
		err = h.Get(ctx, &res)
	}
	if err != nil {
		return res, fromWorkflow(err)
	}
	return res, nil
}

func (s *server) decide(c echo.Context) error {
	id := c.Param("id")
	acc, err := s.accessTo(c, id)
	if err != nil {
		return err
	}
	if acc != staffAccess {
		if may(c, authz.Console) {
			return errNotFound()
		}
		return errForbidden("only a reviewer or supervisor may decide", "仅审核人员或主管可以作出审核决定")
	}
	var req struct {
		Decision       string   `json:"decision"`
		Reason         string   `json:"reason"`
		Qualifications []string `json:"qualifications"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	req.Reason = strings.TrimSpace(req.Reason)
	req.Qualifications = dedupe(req.Qualifications)
	var qualErrs []validate.FieldError
	for i, q := range req.Qualifications {
		if !contains(eligibility.Qualifications, q) {
			qualErrs = append(qualErrs, validate.FieldError{Field: "qualifications." + strconv.Itoa(i), Code: "unknown",
				MessageZH: "未知的资格项", MessageEN: "unknown qualification; one of " + strings.Join(eligibility.Qualifications, ", ")})
		}
	}
	if len(req.Qualifications) > 0 && req.Decision != workflows.DecisionApprove {
		qualErrs = append(qualErrs, validate.FieldError{Field: "qualifications", Code: "not_allowed",
			MessageZH: "仅批准时确认资格", MessageEN: "qualifications are confirmed only when approving"})
	}
	if len(qualErrs) > 0 {
		return errValidation(qualErrs...)
	}
	if (req.Decision == workflows.DecisionReject || req.Decision == workflows.DecisionRequestInfo) && req.Reason == "" {
		return errValidation(validate.FieldError{Field: "reason", Code: "required",
			MessageZH: "驳回或要求补充资料时须说明理由", MessageEN: "a reason is required to reject or to request information"})
	}
	res, err := s.update(c.Request().Context(), id, workflows.UpdateDecide,
		workflows.DecisionRequest{Actor: caller(c).actor(), Decision: req.Decision, Reason: req.Reason,
			Qualifications: req.Qualifications})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// contactChanges validates the contact fields a caller wants to change (nil
// leaves a field as it is) and returns the trimmed values by field name.
func contactChanges(mobile, email, address *string) (map[string]string, []validate.FieldError) {
	changes := map[string]string{}
	var details []validate.FieldError
	check := func(field string, v *string, fn func(string) *validate.FieldError) {
		if v == nil {
			return
		}
		if fe := fn(*v); fe != nil {
			details = append(details, *fe)
		}
		changes[field] = strings.TrimSpace(*v)
	}
	check("mobile", mobile, func(v string) *validate.FieldError { return validate.Mobile("mobile", v) })
	check("email", email, func(v string) *validate.FieldError { return validate.Email("email", v) })
	check("address", address, func(v string) *validate.FieldError { return validate.Text("address", v, true, 5, 200) })
	return changes, details
}

// applicantOnly checks the follow token: only the applicant may act here.
func (s *server) applicantOnly(c echo.Context) (string, error) {
	id := c.Param("id")
	acc, err := s.accessTo(c, id)
	if err != nil {
		return "", err
	}
	if acc != applicantAccess {
		return "", errNotFound()
	}
	return id, nil
}

func (s *server) supplement(c echo.Context) error {
	id, err := s.applicantOnly(c)
	if err != nil {
		return err
	}
	var req struct {
		Name    *string `json:"name"`
		Mobile  *string `json:"mobile"`
		Email   *string `json:"email"`
		Address *string `json:"address"`
		Note    string  `json:"note"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	var details []validate.FieldError
	add := func(fe *validate.FieldError) {
		if fe != nil {
			details = append(details, *fe)
		}
	}
	changes, problems := contactChanges(req.Mobile, req.Email, req.Address)
	details = append(details, problems...)
	if req.Name != nil {
		add(validate.PersonName("name", *req.Name))
		changes["name"] = strings.TrimSpace(*req.Name)
	}
	add(validate.Text("note", req.Note, false, 0, 1000))
	if len(changes) == 0 && strings.TrimSpace(req.Note) == "" {
		details = append(details, validate.FieldError{Field: "body", Code: "empty_supplement",
			MessageZH: "请至少补充一项资料或说明", MessageEN: "supplement at least one field or a note"})
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	ctx := c.Request().Context()
	supID, keyed, err := s.intakeID(c, "supplement", req)
	if err != nil {
		return err
	}
	repeat := false
	if keyed {
		if err := s.DB.GetContext(ctx, &repeat, `SELECT EXISTS (SELECT 1 FROM application_supplements WHERE id = $1 AND application_id = $2)`,
			supID, id); err != nil {
			return err
		}
	}
	if !repeat {
		var status string
		if err := s.DB.GetContext(ctx, &status, `SELECT status FROM applications WHERE id = $1`, id); err != nil {
			return err
		}
		if status != workflows.StatusInfoRequested {
			return newError(http.StatusConflict, "conflict", "该申请当前无需补充资料", "the application is "+status+", not waiting for information")
		}
		if _, err := s.DB.ExecContext(ctx, `INSERT INTO application_supplements (id, application_id, changes, note) VALUES ($1, $2, $3, $4)`,
			supID, id, mustJSON(changes), strings.TrimSpace(req.Note)); err != nil {
			return err
		}
	}
	var res workflows.DecisionResult
	err = s.settleIntake(ctx, "supplement", supID, repeat,
		s.updateIntake(workflows.RegistrationWorkflowID(id), workflows.UpdateSupplement, supID, workflows.SupplementRequest{SupplementID: supID}, &res),
		func(ctx context.Context) {
			// Refused: the stored supplement was never applied; remove it.
			s.discardIntake(ctx, supID, `DELETE FROM application_supplements WHERE id = $1 AND applied_at IS NULL`)
		})
	if err != nil {
		return fromWorkflow(err)
	}
	return c.JSON(http.StatusOK, res)
}

func (s *server) withdraw(c echo.Context) error {
	id, err := s.applicantOnly(c)
	if err != nil {
		return err
	}
	res, err := s.update(c.Request().Context(), id, workflows.UpdateWithdraw, workflows.WithdrawRequest{Actor: workflows.Actor{Kind: "applicant"}})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// pickUpInitialPassword hands the plain text out exactly once: of a
// counter registration to the reviewer who approved, within the pickup
// window (C2.1); of an online or kiosk one to the applicant, with the
// follow token and a code sent to the verified mobile (applicantPickUp).
func (s *server) pickUpInitialPassword(c echo.Context) error {
	p := caller(c)
	if p == nil && c.Request().Header.Get("X-Follow-Token") != "" {
		return s.applicantPickUp(c)
	}
	if p == nil {
		return errUnauthenticated()
	}
	if !may(c, authz.Console) {
		return errForbidden("staff only", "仅限工作人员")
	}
	id := c.Param("id")
	if !may(c, authz.InitialPasswordPickup) {
		return errForbidden("only the reviewer who approved may pick up the initial password", "仅作出批准决定的审核人员可以领取初始密码")
	}
	out, err := s.pickUpCredential(c, activities.RegistrationPickupKey(id), "account.initial_password_picked_up",
		map[string]any{"application_id": id})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// Queue cursor: base64 of "queued_at|id".
func encodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(t.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeCursor(s string) (time.Time, string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", false
	}
	ts, id, ok := strings.Cut(string(b), "|")
	t, err := time.Parse(time.RFC3339Nano, ts)
	if !ok || err != nil || uuid.Validate(id) != nil {
		return time.Time{}, "", false
	}
	return t, id, true
}

// reviewQueue lists pending applications oldest first, with their waiting
// time and service-level state (C2.1).
func (s *server) reviewQueue(c echo.Context) error {
	if !may(c, authz.ReviewQueue) {
		return errForbidden("only reviewers and supervisors see the review queue", "仅审核人员和主管可以查看审核队列")
	}
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		fmt.Sscanf(v, "%d", &limit)
	}
	after := time.Time{}
	afterID := "00000000-0000-0000-0000-000000000000"
	if v := c.QueryParam("after"); v != "" {
		var ok bool
		if after, afterID, ok = decodeCursor(v); !ok {
			return errValidation(validate.FieldError{Field: "after", Code: "invalid_cursor", MessageZH: "分页游标无效", MessageEN: "invalid cursor"})
		}
	}
	var rows []struct {
		ID          string         `db:"id"`
		Name        string         `db:"name"`
		IDNumber    string         `db:"id_number"`
		Channel     string         `db:"channel"`
		Services    pq.StringArray `db:"services"`
		Flags       pq.StringArray `db:"flags"`
		SubmittedAt time.Time      `db:"submitted_at"`
		QueuedAt    time.Time      `db:"queued_at"`
	}
	if err := s.DB.SelectContext(c.Request().Context(), &rows, `SELECT id, name, id_number, channel, services, flags, submitted_at, queued_at
		FROM applications WHERE status = 'pending' AND (queued_at, id) > ($1, $2::uuid)
		ORDER BY queued_at, id LIMIT $3`, after, afterID, limit); err != nil {
		return err
	}
	now := s.now()
	items := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		waiting := now.Sub(r.QueuedAt)
		level := "on_time"
		switch {
		case waiting >= s.ServiceLevel.EscalateAfter:
			level = "escalated"
		case waiting >= s.ServiceLevel.RemindAfter:
			level = "reminded"
		}
		items = append(items, map[string]any{"id": r.ID, "name": r.Name, "id_number_masked": MaskIDNumber(r.IDNumber),
			"channel": r.Channel, "services": []string(r.Services), "flags": append([]string{}, r.Flags...),
			"submitted_at": r.SubmittedAt, "queued_at": r.QueuedAt, "waiting_seconds": int64(max(waiting, 0).Seconds()),
			"service_level": level})
	}
	out := map[string]any{"items": items}
	if len(rows) == limit {
		last := rows[len(rows)-1]
		out["next_cursor"] = encodeCursor(last.QueuedAt, last.ID)
	}
	return c.JSON(http.StatusOK, out)
}
