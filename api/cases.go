package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
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

// Fraud verification (C2.2), violations (C2.5, C3.4) and sanctions.
//
// Roles: investigators open cases; investigators and supervisors decide
// them and review corrections; supervisors lift suspensions; an appeal is
// decided by a supervisor or investigator other than the one who imposed
// the sanction; auditors read. Users read their own cases and sanctions,
// answer, report corrections and appeal, also while suspended or cancelled
// through a restricted session (POST /v1/sessions/restricted) that opens
// nothing else.

func (s *server) caseRoutes(v1 *echo.Group) {
	v1.POST("/cases/fraud", s.openFraudCase, s.allow(authz.Console))
	v1.POST("/cases/violation", s.openViolationCase, s.allow(authz.Console))
	v1.GET("/cases", s.listCases, s.allow(authz.Console))
	v1.GET("/cases/:id", s.getCase, s.allow(authz.Console))
	v1.POST("/cases/:id/decision", s.decideCase, s.allow(authz.Console))
	v1.POST("/cases/:id/correction-review", s.reviewCaseCorrection, s.allow(authz.Console))
	v1.GET("/sanctions/:id", s.getSanction, s.allow(authz.Console))
	v1.POST("/sanctions/:id/lift", s.liftSanction, s.allow(authz.Console))
	v1.POST("/sanctions/:id/correction-review", s.reviewSanctionCorrection, s.allow(authz.Console))
	v1.POST("/sanctions/:id/appeal-decision", s.decideAppeal, s.allow(authz.Console))

	v1.POST("/sessions/restricted", s.restrictedSignIn)
	v1.GET("/me/cases", s.myCases, s.requireCaseUser)
	v1.POST("/me/cases/:id/answer", s.answerCase)
	v1.POST("/me/cases/:id/correction", s.reportCaseCorrection, s.requireCaseUser)
	v1.GET("/me/sanctions", s.mySanctions, s.requireCaseUser)
	v1.POST("/me/sanctions/:id/appeal", s.appealSanction, s.requireCaseUser)
	v1.POST("/me/sanctions/:id/correction", s.reportSanctionCorrection, s.requireCaseUser)
}

// caseServiceLevel is Deps.CaseServiceLevel (CASE_REMIND_AFTER and
// CASE_ESCALATE_AFTER) with the defaults (3 and 7 days) filled in.
func (s *server) caseServiceLevel() workflows.CaseServiceLevel {
	return s.CaseServiceLevel.WithDefaults()
}

const (
	defaultAnswerTime = 7 * 24 * time.Hour
	maxCaseDeadline   = 90 * 24 * time.Hour
	restrictedTTL     = time.Hour
	restrictedHeader  = "X-Restricted-Token"
)

var evidenceRef = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9:_./#-]{0,99}$`)

func checkRefs(field string, refs []string) []validate.FieldError {
	var out []validate.FieldError
	for i, r := range refs {
		if !evidenceRef.MatchString(r) {
			out = append(out, validate.FieldError{Field: fmt.Sprintf("%s.%d", field, i), Code: "evidence_reference",
				MessageZH: "证据须以编号引用（字母、数字及 : _ . / # -）", MessageEN: "evidence is referenced by an ID (letters, digits, : _ . / # -)"})
		}
	}
	return out
}

// checkDeadline: a deadline in the future and within 90 days.
func (s *server) checkDeadline(field string, t time.Time) *validate.FieldError {
	now := s.now()
	if !t.After(now) || t.After(now.Add(maxCaseDeadline)) {
		fe := fieldError(field, "deadline_range", "期限须在将来且不超过90天", "the deadline must be in the future and within 90 days")
		return &fe
	}
	return nil
}

// ---- staff: open cases ----

type fraudReport struct {
	AccountID       string     `json:"account_id"`
	ApplicationID   string     `json:"application_id"`
	SuspectedFields []string   `json:"suspected_fields"`
	Evidence        []string   `json:"evidence"`
	Summary         string     `json:"summary"`
	Source          string     `json:"source"`
	CheckCode       string     `json:"check_code"`
	AnswerBy        *time.Time `json:"answer_by"`
}

// openFraudCase stores the report and starts the verification (C2.2).
func (s *server) openFraudCase(c echo.Context) error {
	if err := authorize(c, authz.FraudCaseOpen); err != nil {
		return err
	}
	var req fraudReport
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var details []validate.FieldError
	if (req.AccountID == "") == (req.ApplicationID == "") {
		details = append(details, fieldError("account_id", "one_target", "须且只能指定账户或申请之一", "name exactly one of account_id and application_id"))
	}
	details = append(details, checkRefs("evidence", req.Evidence)...)
	if fe := validate.Text("summary", req.Summary, false, 0, 1000); fe != nil {
		details = append(details, *fe)
	}
	if req.Source == "" {
		req.Source = "staff"
	}
	if req.Source == "automated_check" && req.CheckCode == "" {
		details = append(details, fieldError("check_code", "required", "自动核查发起的案件须注明核查代码", "a case from an automated check names the check"))
	}
	answerBy := s.now().Add(defaultAnswerTime)
	if req.AnswerBy != nil {
		answerBy = *req.AnswerBy
		if fe := s.checkDeadline("answer_by", answerBy); fe != nil {
			details = append(details, *fe)
		}
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	// The target must exist and be open to a case.
	if req.AccountID != "" {
		status, err := store.AccountStatus(ctx, s.DB, req.AccountID)
		if errors.Is(err, store.ErrNotFound) {
			return errValidation(fieldError("account_id", "not_found", "账户不存在", "no such account"))
		} else if err != nil {
			return err
		}
		if status != "active" && status != "suspended" {
			return newError(http.StatusConflict, "account_closed", "该账户已注销", "the account is "+status)
		}
	} else {
		status, err := store.ApplicationStatus(ctx, s.DB, req.ApplicationID)
		if errors.Is(err, store.ErrNotFound) {
			return errValidation(fieldError("application_id", "not_found", "申请不存在", "no such application"))
		} else if err != nil {
			return err
		}
		if status != "submitted" && status != "pending" && status != "info_requested" {
			return newError(http.StatusConflict, "application_closed", "该申请已办结", "the application is "+status+": only a pending application can be verified")
		}
	}
	id, keyed, err := s.intakeID(c, "case.fraud", req)
	if err != nil {
		return err
	}
	repeat, err := s.caseExists(ctx, keyed, id)
	if err != nil {
		return err
	}
	p := caller(c)
	err = s.unlessRepeat(repeat, func() error {
		return inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
			if err := store.FileFraudCase(ctx, tx, store.FraudReport{ID: id, AccountID: req.AccountID, ApplicationID: req.ApplicationID,
				Source: req.Source, CheckCode: req.CheckCode, OpenedBy: p.StaffID, SuspectedFields: dedupe(req.SuspectedFields),
				Evidence: dedupe(req.Evidence), Summary: strings.TrimSpace(req.Summary), AnswerDueAt: answerBy}); err != nil {
				return err
			}
			return s.recordIntake(ctx, tx, c, id, "fraud", req.AccountID, req.ApplicationID, map[string]any{"source": req.Source,
				"suspected_fields": dedupe(req.SuspectedFields), "evidence": dedupe(req.Evidence)})
		})
	})
	if err != nil {
		return err
	}
	in := workflows.FraudInput{CaseID: id, AccountID: req.AccountID, ApplicationID: req.ApplicationID, OpenedBy: p.StaffID,
		AnswerDueAt: answerBy.UTC(), ServiceLevel: s.caseServiceLevel()}
	if err := s.startCase(ctx, id, repeat, workflows.FraudWorkflowID(id), workflows.KindFraud, workflows.FraudVerification, in); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/cases/"+id)
	return c.JSON(http.StatusAccepted, map[string]any{"id": id, "kind": "fraud", "state": workflows.CaseReported})
}

type violationReport struct {
	AccountID    string     `json:"account_id"`
	Rule         string     `json:"rule"`
	Evidence     []string   `json:"evidence"`
	Action       string     `json:"action"`
	CorrectBy    *time.Time `json:"correct_by"`
	Instructions string     `json:"instructions"`
	Corrections  []string   `json:"corrections"`
	Summary      string     `json:"summary"`
}

// openViolationCase stores the report and starts the case (C2.5).
func (s *server) openViolationCase(c echo.Context) error {
	if err := authorize(c, authz.ViolationCaseOpen); err != nil {
		return err
	}
	var req violationReport
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	details := checkRefs("evidence", req.Evidence)
	if fe := validate.Text("summary", req.Summary, false, 0, 1000); fe != nil {
		details = append(details, *fe)
	}
	req.Instructions = strings.TrimSpace(req.Instructions)
	var correctBy time.Time
	if req.Action == workflows.ViolationCorrect {
		if req.CorrectBy == nil {
			details = append(details, fieldError("correct_by", "required", "责令改正须规定期限", "an order to correct needs a deadline"))
		} else if fe := s.checkDeadline("correct_by", *req.CorrectBy); fe != nil {
			details = append(details, *fe)
		} else {
			correctBy = req.CorrectBy.UTC()
		}
		if fe := validate.Text("instructions", req.Instructions, true, 2, 1000); fe != nil {
			details = append(details, *fe)
		}
	}
	for i, code := range req.Corrections {
		if !evidenceRef.MatchString(code) {
			details = append(details, fieldError(fmt.Sprintf("corrections.%d", i), "code", "请以代码填写解除条件", "a lifting condition is a code"))
		}
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	status, err := store.AccountStatus(ctx, s.DB, req.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return errValidation(fieldError("account_id", "not_found", "账户不存在", "no such account"))
	} else if err != nil {
		return err
	}
	if status != "active" && status != "suspended" {
		return newError(http.StatusConflict, "account_closed", "该账户已注销", "the account is "+status)
	}
	id, keyed, err := s.intakeID(c, "case.violation", req)
	if err != nil {
		return err
	}
	repeat, err := s.caseExists(ctx, keyed, id)
	if err != nil {
		return err
	}
	p := caller(c)
	err = s.unlessRepeat(repeat, func() error {
		return inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
			if err := store.FileViolationCase(ctx, tx, store.ViolationReport{ID: id, AccountID: req.AccountID, OpenedBy: p.StaffID,
				Evidence: dedupe(req.Evidence), Summary: strings.TrimSpace(req.Summary), Rule: req.Rule, Action: req.Action,
				Instructions: req.Instructions, Corrections: dedupe(req.Corrections), CorrectBy: correctBy}); err != nil {
				return err
			}
			return s.recordIntake(ctx, tx, c, id, "violation", req.AccountID, "", map[string]any{"rule": req.Rule, "action": req.Action,
				"evidence": dedupe(req.Evidence)})
		})
	})
	if err != nil {
		return err
	}
	in := workflows.ViolationInput{CaseID: id, AccountID: req.AccountID, Rule: req.Rule, Action: req.Action, CorrectBy: correctBy,
		Corrections: dedupe(req.Corrections), OpenedBy: p.StaffID, ServiceLevel: s.caseServiceLevel()}
	if err := s.startCase(ctx, id, repeat, workflows.ViolationWorkflowID(id), workflows.KindViolation, workflows.ViolationCase, in); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/cases/"+id)
	return c.JSON(http.StatusAccepted, map[string]any{"id": id, "kind": "violation", "state": workflows.CaseReported})
}

// recordIntake writes the case's first event and the audit entries on the
// case and on the account or application it concerns.
func (s *server) recordIntake(ctx context.Context, tx *sqlx.Tx, c echo.Context, id, kind, accountID, applicationID string, detail map[string]any) error {
	if err := store.RecordCaseReported(ctx, tx, id, "staff:"+caller(c).StaffID, mustJSON(detail)); err != nil {
		return err
	}
	if err := audit(ctx, tx, c, "case."+kind+"_opened", "case", id, detail); err != nil {
		return err
	}
	d := map[string]any{"case_id": id}
	for k, v := range detail {
		d[k] = v
	}
	if accountID != "" {
		return audit(ctx, tx, c, "case."+kind+"_opened", "account", accountID, d)
	}
	return audit(ctx, tx, c, "case."+kind+"_opened", "application", applicationID, d)
}

// startCase starts the case's workflow; a start that did not take takes
// the case back (its audit entries stay), an unknown outcome is settled
// (api/intake.go).
func (s *server) startCase(ctx context.Context, id string, repeat bool, wfID, kind string, wf any, in any) error {
	opts := client.StartWorkflowOptions{
		ID:                       wfID,
		TaskQueue:                s.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
	}
	clause := workflows.ClauseFraud
	if kind == workflows.KindViolation {
		clause = workflows.ClauseViolation
	}
	startRecord(&opts, workflows.RunRecord{Kind: kind, RecordID: id, Clause: clause, Console: "/console/cases/" + id}, workflows.CaseReported)
	err := s.settleIntake(ctx, "case", id, repeat, s.startIntake(opts, wf, in), func(ctx context.Context) {
		s.discardIntake(ctx, id, store.DiscardCaseReport)
	})
	if err != nil {
		slog.Error("start case", "workflow_id", wfID, "error", err)
		return intakeError(err)
	}
	return nil
}

// caseExists: a keyed request whose case is already stored repeats it.
func (s *server) caseExists(ctx context.Context, keyed bool, id string) (bool, error) {
	if !keyed {
		return false, nil
	}
	return store.CaseFiled(ctx, s.DB, id)
}

// unlessRepeat runs store unless the request repeats a stored one.
func (s *server) unlessRepeat(repeat bool, store func() error) error {
	if repeat {
		return nil
	}
	return store()
}
