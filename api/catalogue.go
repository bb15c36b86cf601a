package api

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/eligibility"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/workflows"
)

// The service catalogue (C1.4, C2.7, C3.4(6)). Anyone reads the services
// on offer with their rules and whether a planned interruption pauses them
// now; terms editors and administrators (the roles the design names for
// service changes) create services and rename them directly, while new
// rules and retirements, which users must be told about, are stored as a
// change and applied by the service-change workflow.
//
// Roles:
//
//	GET /v1/services, GET /v1/services/{code}            anyone (active services)
//	GET /v1/service-catalogue                            terms_editor, administrator, auditor (every service and change)
//	POST /v1/services, PATCH /v1/services/{code}         terms_editor, administrator
//	POST /v1/services/{code}/changes                     terms_editor, administrator
func (s *server) catalogueRoutes(v1 *echo.Group) {
	v1.GET("/services", s.listServices)
	v1.GET("/services/:code", s.getService)
	v1.GET("/service-catalogue", s.serviceCatalogue, s.requireStaff)
	v1.POST("/services", s.createService, s.requireStaff)
	v1.PATCH("/services/:code", s.renameService, s.requireStaff)
	v1.POST("/services/:code/changes", s.changeService, s.requireStaff)
}

// catalogueEditors may change the catalogue.
var catalogueEditors = []string{workflows.RoleTermsEditor, workflows.RoleAdministrator}

var serviceCodeFormat = regexp.MustCompile(`^[a-z][a-z0-9_]{1,40}$`)

// serviceView is the public shape of a service.
type serviceView struct {
	Code         string              `json:"code"`
	NameZH       string              `json:"name_zh"`
	NameEN       string              `json:"name_en"`
	MinAge       *int                `json:"min_age"`
	MaxAge       *int                `json:"max_age"`
	Rules        []eligibility.Rule  `json:"rules"`
	Status       string              `json:"status"` // available | interrupted | retired
	Interruption *interruptionWindow `json:"interruption"`
}

type interruptionWindow struct {
	AnnouncementID string    `json:"announcement_id"`
	StartsAt       time.Time `json:"starts_at"`
	EndsAt         time.Time `json:"ends_at"`
}

type serviceRow struct {
	Code      string         `db:"code"`
	NameZH    string         `db:"name_zh"`
	NameEN    string         `db:"name_en"`
	Rules     []byte         `db:"rules"`
	Active    bool           `db:"active"`
	RetiredAt sql.NullTime   `db:"retired_at"`
	PauseID   sql.NullString `db:"pause_id"`
	PauseFrom sql.NullTime   `db:"pause_from"`
	PauseTo   sql.NullTime   `db:"pause_to"`
}

// serviceSelect reads services with the interruption in effect, if any
// (service_pauses is written by the announcement workflow at the window's
// start and end).
const serviceSelect = `SELECT s.code, s.name_zh, s.name_en, s.rules, s.active, s.retired_at,
	p.announcement_id::text AS pause_id, p.starts_at AS pause_from, p.ends_at AS pause_to
	FROM services s LEFT JOIN LATERAL (SELECT announcement_id, starts_at, ends_at FROM service_pauses
		WHERE service_code = s.code AND status = 'in_effect' ORDER BY ends_at DESC LIMIT 1) p ON true`

func (r serviceRow) view() (serviceView, error) {
	rules, err := eligibility.Decode(r.Rules)
	if err != nil {
		return serviceView{}, err
	}
	minAge, maxAge := eligibility.AgeBounds(rules)
	v := serviceView{Code: r.Code, NameZH: r.NameZH, NameEN: r.NameEN, MinAge: minAge, MaxAge: maxAge, Rules: rules, Status: "available"}
	switch {
	case r.RetiredAt.Valid || !r.Active:
		v.Status = "retired"
	case r.PauseID.Valid:
		v.Status = "interrupted"
		v.Interruption = &interruptionWindow{AnnouncementID: r.PauseID.String, StartsAt: r.PauseFrom.Time, EndsAt: r.PauseTo.Time}
	}
	return v, nil
}

func (s *server) listServices(c echo.Context) error {
	var rows []serviceRow
	if err := s.DB.SelectContext(c.Request().Context(), &rows, serviceSelect+` WHERE s.active ORDER BY s.code`); err != nil {
		return err
	}
	out := []serviceView{}
	for _, r := range rows {
		v, err := r.view()
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	return c.JSON(http.StatusOK, map[string]any{"services": out})
}

func (s *server) getService(c echo.Context) error {
	var r serviceRow
	err := s.DB.GetContext(c.Request().Context(), &r, serviceSelect+` WHERE s.code = $1`, c.Param("code"))
	if err == sql.ErrNoRows {
		return errNotFound()
	}
	if err != nil {
		return err
	}
	p := caller(c)
	if !r.Active && (p == nil || !p.hasRole(append(catalogueEditors, workflows.RoleAuditor)...)) {
		return errNotFound()
	}
	v, err := r.view()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// serviceChangeView is a change as staff see it.
type serviceChangeView struct {
	ID             string          `db:"id" json:"id"`
	ServiceCode    string          `db:"service_code" json:"service_code"`
	Kind           string          `db:"kind" json:"kind"`
	Rules          json.RawMessage `db:"rules" json:"rules"`
	NoteZH         string          `db:"note_zh" json:"note_zh"`
	NoteEN         string          `db:"note_en" json:"note_en"`
	CreatedBy      string          `db:"created_by" json:"created_by"`
	CreatedAt      time.Time       `db:"created_at" json:"created_at"`
	AppliedAt      *time.Time      `db:"applied_at" json:"applied_at"`
	UsersTargeted  int64           `db:"users_targeted" json:"users_targeted"`
	NoticesWritten int64           `db:"notices_written" json:"notices_written"`
	MessagesQueued int64           `db:"messages_queued" json:"messages_queued"`
	ServicesClosed int64           `db:"services_closed" json:"services_closed"`
	Status         string          `db:"status" json:"status"`
	CompletedAt    *time.Time      `db:"completed_at" json:"completed_at"`
	WorkflowID     string          `db:"-" json:"workflow_id"`
}

// serviceCatalogue lists every service, retired ones too, with its changes
// (staff).
func (s *server) serviceCatalogue(c echo.Context) error {
	if err := requireRole(c, append(catalogueEditors, workflows.RoleAuditor)...); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var rows []serviceRow
	if err := s.DB.SelectContext(ctx, &rows, serviceSelect+` ORDER BY s.active DESC, s.code`); err != nil {
		return err
	}
	changes := []serviceChangeView{}
	if err := s.DB.SelectContext(ctx, &changes, `SELECT id, service_code, kind, coalesce(rules, 'null'::jsonb) AS rules, note_zh, note_en, created_by, created_at,
		applied_at, users_targeted, notices_written, messages_queued, services_closed, status, completed_at
		FROM service_changes ORDER BY created_at DESC, id LIMIT 200`); err != nil {
		return err
	}
	byCode := map[string][]serviceChangeView{}
	for _, ch := range changes {
		ch.WorkflowID = workflows.ServiceChangeWorkflowID(ch.ID)
		byCode[ch.ServiceCode] = append(byCode[ch.ServiceCode], ch)
	}
	type item struct {
		serviceView
		Changes []serviceChangeView `json:"changes"`
	}
	out := []item{}
	for _, r := range rows {
		v, err := r.view()
		if err != nil {
			return err
		}
		chs := byCode[r.Code]
		if chs == nil {
			chs = []serviceChangeView{}
		}
		out = append(out, item{serviceView: v, Changes: chs})
	}
	return c.JSON(http.StatusOK, map[string]any{"services": out})
}

func serviceNames(nameZH, nameEN string, required bool) []validate.FieldError {
	var details []validate.FieldError
	for _, f := range []struct{ name, v string }{{"name_zh", nameZH}, {"name_en", nameEN}} {
		if fe := validate.Text(f.name, f.v, required, 2, 100); fe != nil {
			details = append(details, *fe)
		}
	}
	return details
}

func (s *server) createService(c echo.Context) error {
	if err := requireRole(c, catalogueEditors...); err != nil {
		return err
	}
	var req struct {
		Code   string          `json:"code"`
		NameZH string          `json:"name_zh"`
		NameEN string          `json:"name_en"`
		Rules  json.RawMessage `json:"rules"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	details := serviceNames(req.NameZH, req.NameEN, true)
	if !serviceCodeFormat.MatchString(req.Code) {
		details = append(details, fieldError("code", "invalid", "代码为 2 至 41 位小写字母、数字或下划线，以字母开头",
			"2 to 41 lower-case letters, digits or underscores, starting with a letter"))
	}
	rules, ruleErrs := eligibility.Parse("rules", req.Rules)
	details = append(details, ruleErrs...)
	if len(details) > 0 {
		return errValidation(details...)
	}
	ctx := c.Request().Context()
	rulesJSON, err := json.Marshal(rules)
	if err != nil {
		return err
	}
	minAge, maxAge := eligibility.AgeBounds(rules)
	err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO services (code, name_zh, name_en, min_age, max_age, rules)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO NOTHING`,
			req.Code, strings.TrimSpace(req.NameZH), strings.TrimSpace(req.NameEN), minAge, maxAge, rulesJSON)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return newError(http.StatusConflict, "service_exists", "该服务代码已存在", "a service with this code exists")
		}
		return audit(ctx, tx, c, "service.created", "service", req.Code, map[string]any{"rules": json.RawMessage(rulesJSON)})
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/services/"+req.Code)
	return c.JSON(http.StatusCreated, serviceView{Code: req.Code, NameZH: strings.TrimSpace(req.NameZH), NameEN: strings.TrimSpace(req.NameEN),
		MinAge: minAge, MaxAge: maxAge, Rules: rules, Status: "available"})
}

// renameService changes a service's names: no user loses or gains anything,
// so it takes effect at once without a campaign.
func (s *server) renameService(c echo.Context) error {
	if err := requireRole(c, catalogueEditors...); err != nil {
		return err
	}
	var req struct {
		NameZH *string `json:"name_zh"`
		NameEN *string `json:"name_en"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	var details []validate.FieldError
	if req.NameZH == nil && req.NameEN == nil {
		details = append(details, fieldError("name_zh", "required", "请填写新的名称", "give name_zh, name_en or both"))
	}
	zh, en := "", ""
	if req.NameZH != nil {
		zh = strings.TrimSpace(*req.NameZH)
		if fe := validate.Text("name_zh", zh, true, 2, 100); fe != nil {
			details = append(details, *fe)
		}
	}
	if req.NameEN != nil {
		en = strings.TrimSpace(*req.NameEN)
		if fe := validate.Text("name_en", en, true, 2, 100); fe != nil {
			details = append(details, *fe)
		}
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	ctx := c.Request().Context()
	code := c.Param("code")
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if err := lockActiveService(ctx, tx, code); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE services SET name_zh = coalesce(nullif($2, ''), name_zh),
			name_en = coalesce(nullif($3, ''), name_en), updated_at = now() WHERE code = $1`, code, zh, en); err != nil {
			return err
		}
		return audit(ctx, tx, c, "service.renamed", "service", code, map[string]any{"name_zh": zh, "name_en": en})
	})
	if err != nil {
		return err
	}
	return s.getService(c)
}

// lockActiveService locks a service that is still offered: 404 for an
// unknown one, 409 for a retired one.
func lockActiveService(ctx context.Context, tx *sqlx.Tx, code string) error {
	var active bool
	if err := tx.GetContext(ctx, &active, `SELECT active FROM services WHERE code = $1 FOR UPDATE`, code); err != nil {
		if err == sql.ErrNoRows {
			return errNotFound()
		}
		return err
	}
	if !active {
		return newError(http.StatusConflict, "service_retired", "该服务已停止提供", "the service is retired")
	}
	return nil
}

// changeService stores new rules or a retirement and starts the workflow
// that applies it and tells the users holding the service (C2.7).
func (s *server) changeService(c echo.Context) error {
	if err := requireRole(c, catalogueEditors...); err != nil {
		return err
	}
	var req struct {
		Kind   string          `json:"kind"`
		Rules  json.RawMessage `json:"rules"`
		NoteZH string          `json:"note_zh"`
		NoteEN string          `json:"note_en"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	var details []validate.FieldError
	var rulesJSON []byte
	switch req.Kind {
	case "rules":
		if len(req.Rules) == 0 || string(req.Rules) == "null" {
			details = append(details, fieldError("rules", "required", "请填写新的办理条件", "give the new rules"))
			break
		}
		rules, errs := eligibility.Parse("rules", req.Rules)
		details = append(details, errs...)
		if len(errs) == 0 {
			b, err := json.Marshal(rules)
			if err != nil {
				return err
			}
			rulesJSON = b
		}
	case "retire":
		if len(req.Rules) > 0 && string(req.Rules) != "null" {
			details = append(details, fieldError("rules", "not_allowed", "停止提供服务时不填写规则", "a retirement carries no rules"))
		}
	default:
		details = append(details, fieldError("kind", "unknown", "变更类型应为 rules 或 retire", "kind is rules or retire"))
	}
	for _, f := range []struct{ name, v string }{{"note_zh", req.NoteZH}, {"note_en", req.NoteEN}} {
		if fe := validate.Text(f.name, f.v, false, 0, 1000); fe != nil {
			details = append(details, *fe)
		}
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	ctx := c.Request().Context()
	code := c.Param("code")
	id := uuid.NewString()
	var rulesArg any
	if rulesJSON != nil {
		rulesArg = rulesJSON
	}
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if err := lockActiveService(ctx, tx, code); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO service_changes (id, service_code, kind, rules, note_zh, note_en, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, code, req.Kind, rulesArg, strings.TrimSpace(req.NoteZH),
			strings.TrimSpace(req.NoteEN), caller(c).StaffID); err != nil {
			if violatesUnique(err, "service_changes_one_open") {
				return newError(http.StatusConflict, "change_in_progress", "该服务的上一次变更尚未完成", "a change of this service is still in progress")
			}
			return err
		}
		return audit(ctx, tx, c, "service.change_requested", "service", code, map[string]any{"change_id": id, "kind": req.Kind})
	})
	if err != nil {
		return err
	}
	wfID := workflows.ServiceChangeWorkflowID(id)
	if err := s.startFanout(ctx, wfID, workflows.RunRecord{Kind: workflows.KindServiceChange, RecordID: id, Clause: "C2.7",
		Console: "/console/services"}, workflows.ServiceChange,
		workflows.ServiceChangeInput{ChangeID: id, RequestedBy: caller(c).StaffID, Settings: s.campaignSettings()}, func(ctx context.Context) {
			if _, derr := s.DB.ExecContext(ctx, `DELETE FROM service_changes WHERE id = $1 AND applied_at IS NULL`, id); derr != nil {
				slog.Error("discard service change", "change_id", id, "error", derr)
			}
		}); err != nil {
		slog.Error("start service change", "change_id", id, "error", err)
		return intakeError(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/service-catalogue#"+id)
	return c.JSON(http.StatusAccepted, map[string]any{"id": id, "service_code": code, "kind": req.Kind, "status": "running",
		"workflow_id": wfID, "workflow_url": s.workflowURL(wfID)})
}
