package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/eligibility"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
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
	v1.GET("/service-catalogue", s.serviceCatalogue, s.allow(authz.Console))
	v1.POST("/services", s.createService, s.allow(authz.Console))
	v1.PATCH("/services/:code", s.renameService, s.allow(authz.Console))
	v1.POST("/services/:code/changes", s.changeService, s.allow(authz.Console))
}

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

// serviceRow is a service with the interruption in effect, if any.
type serviceRow store.Service

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
	rows, err := store.ActiveServices(c.Request().Context(), s.DB)
	if err != nil {
		return err
	}
	out := []serviceView{}
	for _, r := range rows {
		v, err := serviceRow(r).view()
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	return c.JSON(http.StatusOK, map[string]any{"services": out})
}

func (s *server) getService(c echo.Context) error {
	row, err := store.ServiceByCode(c.Request().Context(), s.DB, c.Param("code"))
	if err != nil {
		return err
	}
	r := serviceRow(row)
	if !r.Active && !may(c, authz.CatalogueRead) {
		return errNotFound()
	}
	v, err := r.view()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// serviceChangeView is a change as staff see it.
type serviceChangeView = store.ServiceChange

// serviceCatalogue lists every service, retired ones too, with its changes
// (staff).
func (s *server) serviceCatalogue(c echo.Context) error {
	if err := authorize(c, authz.CatalogueRead); err != nil {
		return err
	}
	ctx := c.Request().Context()
	rows, err := store.AllServices(ctx, s.DB)
	if err != nil {
		return err
	}
	changes, err := store.RecentServiceChanges(ctx, s.DB)
	if err != nil {
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
		v, err := serviceRow(r).view()
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
	if err := authorize(c, authz.ServiceEdit); err != nil {
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
		created, err := store.CreateService(ctx, tx, store.NewService{Code: req.Code, NameZH: strings.TrimSpace(req.NameZH),
			NameEN: strings.TrimSpace(req.NameEN), MinAge: minAge, MaxAge: maxAge, Rules: rulesJSON})
		if err != nil {
			return err
		}
		if !created {
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
	if err := authorize(c, authz.ServiceEdit); err != nil {
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
		if err := store.RenameService(ctx, tx, code, zh, en); err != nil {
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
	active, err := store.LockService(ctx, tx, code)
	if err != nil {
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
	if err := authorize(c, authz.ServiceEdit); err != nil {
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
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if err := lockActiveService(ctx, tx, code); err != nil {
			return err
		}
		if err := store.FileServiceChange(ctx, tx, store.NewServiceChange{ID: id, ServiceCode: code, Kind: req.Kind, Rules: rulesJSON,
			NoteZH: strings.TrimSpace(req.NoteZH), NoteEN: strings.TrimSpace(req.NoteEN), CreatedBy: caller(c).StaffID}); err != nil {
			if violatesUnique(err, store.OneOpenServiceChange) {
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
			if derr := store.DiscardServiceChange(ctx, s.DB, id); derr != nil {
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
