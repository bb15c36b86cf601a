package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
	"hrss-backoffice/workflows"
)

// ---- cases and sanctions (api/cases.go): staff decide ----

// caseWorkflowID finds an open-or-closed case's run, or 404.
func (s *server) caseWorkflowID(ctx context.Context, id string) (kind, wfID string, err error) {
	if kind, err = store.CaseKind(ctx, s.DB, id); err != nil {
		return "", "", err
	}
	if kind == workflows.KindFraud {
		return kind, workflows.FraudWorkflowID(id), nil
	}
	return kind, workflows.ViolationWorkflowID(id), nil
}

// updateRun sends an Update and waits for its outcome; a validator's
// refusal changes nothing.
func (s *server) updateRun(ctx context.Context, wfID, name string, arg, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	h, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: wfID, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, out)
	}
	if err != nil {
		return fromWorkflow(err)
	}
	return nil
}

func (s *server) decideCase(c echo.Context) error {
	if err := authorize(c, authz.CaseDecide); err != nil {
		return err
	}
	var req struct {
		Decision    string   `json:"decision"`
		ReasonCode  string   `json:"reason_code"`
		Corrections []string `json:"corrections"`
		Evidence    []string `json:"evidence"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	var details []validate.FieldError
	if req.Decision != workflows.FraudCleared {
		if req.ReasonCode == "" {
			details = append(details, fieldError("reason_code", "required", "暂停或注销须说明理由代码", "a suspension or cancellation needs a reason code"))
		}
		if len(req.Evidence) == 0 {
			details = append(details, fieldError("evidence", "required", "暂停或注销须列明证据", "a suspension or cancellation names its evidence"))
		}
		if req.Decision == workflows.FraudSuspend && len(req.Corrections) == 0 {
			details = append(details, fieldError("corrections", "required", "暂停须列明需改正的资料", "a suspension names the corrections required"))
		}
	}
	details = append(details, checkRefs("evidence", req.Evidence)...)
	if len(details) > 0 {
		return errValidation(details...)
	}
	ctx := c.Request().Context()
	kind, wfID, err := s.caseWorkflowID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if kind != workflows.KindFraud {
		return newError(http.StatusConflict, "conflict", "违规案件无需此决定", "a violation case is decided when it is opened; review its correction instead")
	}
	var res workflows.CaseResult
	if err := s.updateRun(ctx, wfID, workflows.UpdateCaseDecide, workflows.FraudDecision{Actor: caller(c).actor(), Decision: req.Decision,
		ReasonCode: req.ReasonCode, Corrections: dedupe(req.Corrections), Evidence: dedupe(req.Evidence)}, &res); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func (s *server) reviewCaseCorrection(c echo.Context) error {
	if err := authorize(c, authz.CaseCorrectionReview); err != nil {
		return err
	}
	var req struct {
		Result string `json:"result"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	kind, wfID, err := s.caseWorkflowID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if kind != workflows.KindViolation {
		return newError(http.StatusConflict, "conflict", "该案件不涉及改正", "only a violation case has corrections to review")
	}
	var res workflows.CaseResult
	if err := s.updateRun(ctx, wfID, workflows.UpdateReviewCorrection, workflows.CorrectionReview{Actor: caller(c).actor(), Result: req.Result}, &res); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// sanctionRun checks the sanction exists (else 404) and names its run.
func (s *server) sanctionRun(ctx context.Context, id string, accountID string) (string, error) {
	exists, err := store.SanctionExists(ctx, s.DB, id, accountID)
	if err != nil {
		return "", err
	}
	if !exists {
		return "", errNotFound()
	}
	return workflows.SanctionWorkflowID(id), nil
}

// sanctionAction is a staff decision on a sanction, sent as an Update to its
// run: the roles allowed, the body, and how to build the Update's argument.
func sanctionAction[B any](s *server, c echo.Context, update string, a authz.Action, build func(workflows.Actor, B) any) error {
	if err := authorize(c, a); err != nil {
		return err
	}
	var req B
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	wfID, err := s.sanctionRun(ctx, c.Param("id"), "")
	if err != nil {
		return err
	}
	var res workflows.SanctionResult
	if err := s.updateRun(ctx, wfID, update, build(caller(c).actor(), req), &res); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func (s *server) liftSanction(c echo.Context) error {
	type body struct {
		ReasonCode string `json:"reason_code"`
	}
	return sanctionAction(s, c, workflows.UpdateSanctionLift, authz.SanctionLift,
		func(a workflows.Actor, b body) any { return workflows.LiftRequest{Actor: a, ReasonCode: b.ReasonCode} })
}

func (s *server) reviewSanctionCorrection(c echo.Context) error {
	type body struct {
		Result string `json:"result"`
	}
	return sanctionAction(s, c, workflows.UpdateReviewCorrection, authz.SanctionCorrectionReview,
		func(a workflows.Actor, b body) any { return workflows.CorrectionReview{Actor: a, Result: b.Result} })
}

func (s *server) decideAppeal(c echo.Context) error {
	type body struct {
		Decision   string `json:"decision"`
		ReasonCode string `json:"reason_code"`
	}
	// Four eyes (issue 15): the investigator who opened the case does not
	// decide its appeal; the sanction workflow's validator refuses it too.
	opener, err := store.SanctionCaseOpener(c.Request().Context(), s.DB, c.Param("id"))
	if err != nil {
		return err
	}
	if p := caller(c); p != nil && opener.Valid && opener.String == p.StaffID {
		return newError(http.StatusForbidden, "four_eyes", "开立案件的调查员不得决定该案处分的申诉，请由另一位工作人员决定",
			"the investigator who opened the case may not decide the appeal against its sanction; another staff member must")
	}
	return sanctionAction(s, c, workflows.UpdateSanctionAppealDec, authz.SanctionAppealDecide,
		func(a workflows.Actor, b body) any {
			return workflows.AppealDecision{Actor: a, Decision: b.Decision, ReasonCode: b.ReasonCode}
		})
}
