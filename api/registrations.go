package api

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
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
	// Language of the messages to the applicant (zh|en, default zh).
	Language string `json:"language"`
}

// validateRegistration checks every field and returns all problems at once
// (C3.2). It also returns the birth date, the normalised fields, and
// whether the ID number holds a live account already (read with the
// terms version and the services in one round trip; the caller answers it
// after the mobile code is checked).
func (s *server) validateRegistration(ctx context.Context, r *registrationRequest) (time.Time, []validate.FieldError, bool, error) {
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
	r.Language, fe = messageLanguage("language", r.Language)
	add(fe)
	if !r.Agreed {
		details = append(details, validate.FieldError{Field: "agreed", Code: "must_agree",
			MessageZH: "注册须同意用户承诺书", MessageEN: "registering requires agreeing to the terms"})
	}
	r.Services = dedupe(r.Services)
	facts, err := store.ReadRegistrationFacts(ctx, s.DB, r.IDNumber, r.Services)
	if err != nil {
		return birth, nil, false, err
	}
	current := facts.CurrentTerms
	if r.TermsVersion != current {
		details = append(details, validate.FieldError{Field: "terms_version", Code: "not_current",
			MessageZH: "请阅读并同意现行版本（" + current + "）的承诺书", MessageEN: "agree to the current terms version (" + current + ")"})
	}
	if len(r.Services) > 0 {
		for i, code := range r.Services {
			if !contains(facts.KnownServices, code) {
				details = append(details, validate.FieldError{Field: fmt.Sprintf("services.%d", i), Code: "unknown_service",
					MessageZH: "不存在该服务：" + code, MessageEN: "no such service: " + code})
			}
		}
	}
	return birth, details, facts.IDNumberHolding, nil
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
	birth, details, registered, err := s.validateRegistration(ctx, &req)
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
	var codeID string
	if ent.Channel != "counter" && !s.MobileCodes.Off {
		repeated := false
		if keyed {
			if repeated, err = store.ApplicationExists(ctx, s.DB, id); err != nil {
				return err
			}
		}
		if !repeated {
			if codeID, err = s.useMobileCode(ctx, req.Mobile, PurposeRegistration, "", req.MobileCode); err != nil {
				return err
			}
			ent.MobileVerified = true
		}
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
		if repeat, err = store.ApplicationExists(ctx, s.DB, id); err != nil {
			return err
		}
	}
	if !repeat {
		err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
			if err := store.FileApplication(ctx, tx, store.NewApplication{ID: id, Name: req.Name, IDNumber: req.IDNumber, BirthDate: birth,
				Mobile: req.Mobile, Email: req.Email, Address: req.Address, Channel: req.Channel, Services: services,
				TermsVersion: req.TermsVersion, SubmittedAt: s.now(), FollowTokenHash: hashToken(token), EnteredBy: ent.EnteredBy,
				KioskID: ent.KioskID, Office: ent.Office, MobileVerified: ent.MobileVerified, Language: req.Language,
				EventDetail: mustJSON(map[string]any{"channel": req.Channel})}); err != nil {
				return err
			}
			if codeID != "" {
				// The code's delivery record joins the application (and so
				// the account page).
				if err := store.LinkCodeDelivery(ctx, tx, codeID, id); err != nil {
					return err
				}
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
		EnableEagerStart:         s.EagerStart,
	}
	// What an operator asks first, in the run's memo (set at the start, not
	// a workflow command, readable without the codec) and search
	// attributes: codes and IDs only (docs/operations.md).
	startRecord(&opts, workflows.RunRecord{Kind: workflows.KindRegistration, RecordID: id, Clause: "C2.1", Office: ent.Office,
		Console: "/console/applications/" + id}, workflows.StatusPending)
	err = s.settleIntake(ctx, "registration", id, repeat,
		s.startIntake(opts, workflows.RegistrationReview, workflows.RegistrationInput{ApplicationID: id, ServiceLevel: s.ServiceLevel, Channel: req.Channel,
			StartedPending: true, Revision: s.RegistrationRevision}),
		func(ctx context.Context) {
			// No review can run: take the document back so that the
			// person can apply again, and say so.
			s.discardIntake(ctx, id, store.DiscardApplication)
		})
	if err != nil {
		slog.Error("start registration review", "application_id", id, "error", err)
		return intakeError(err)
	}
	status := workflows.StatusPending
	if repeat {
		if status, err = store.ApplicationStatus(ctx, s.DB, id); err != nil {
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
		exists, err := store.ApplicationExists(c.Request().Context(), s.DB, id)
		if exists {
			return staffAccess, err
		}
		return noAccess, err
	}
	token := c.Request().Header.Get("X-Follow-Token")
	if token == "" {
		return noAccess, nil
	}
	stored, err := store.FollowTokenHash(c.Request().Context(), s.DB, id)
	if errors.Is(err, store.ErrNotFound) {
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
	app, err := store.ApplicationByID(ctx, s.DB, id)
	if err != nil {
		return err
	}
	stored, err := store.ApplicationTimeline(ctx, s.DB, id)
	if err != nil {
		return err
	}
	events := make([]timelineEvent, 0, len(stored))
	for _, e := range stored {
		events = append(events, timelineEvent(e))
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
	notices, err := store.ApplicationNotices(ctx, s.DB, id)
	if err != nil {
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
