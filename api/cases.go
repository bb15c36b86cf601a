package api

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/lib/pq"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/internal/validate"
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
	v1.POST("/cases/fraud", s.openFraudCase, s.requireStaff)
	v1.POST("/cases/violation", s.openViolationCase, s.requireStaff)
	v1.GET("/cases", s.listCases, s.requireStaff)
	v1.GET("/cases/:id", s.getCase, s.requireStaff)
	v1.POST("/cases/:id/decision", s.decideCase, s.requireStaff)
	v1.POST("/cases/:id/correction-review", s.reviewCaseCorrection, s.requireStaff)
	v1.GET("/sanctions/:id", s.getSanction, s.requireStaff)
	v1.POST("/sanctions/:id/lift", s.liftSanction, s.requireStaff)
	v1.POST("/sanctions/:id/correction-review", s.reviewSanctionCorrection, s.requireStaff)
	v1.POST("/sanctions/:id/appeal-decision", s.decideAppeal, s.requireStaff)

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

func staffOnly(c echo.Context, roles ...string) error {
	if caller(c).hasRole(roles...) {
		return nil
	}
	return errForbidden("this needs one of the roles "+strings.Join(roles, ", "), "您没有执行此操作所需的角色")
}

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

func fieldErr(field, code, zh, en string) validate.FieldError {
	return validate.FieldError{Field: field, Code: code, MessageZH: zh, MessageEN: en}
}

// checkDeadline: a deadline in the future and within 90 days.
func (s *server) checkDeadline(field string, t time.Time) *validate.FieldError {
	now := s.now()
	if !t.After(now) || t.After(now.Add(maxCaseDeadline)) {
		fe := fieldErr(field, "deadline_range", "期限须在将来且不超过90天", "the deadline must be in the future and within 90 days")
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
	if err := staffOnly(c, workflows.RoleInvestigator); err != nil {
		return err
	}
	var req fraudReport
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var details []validate.FieldError
	if (req.AccountID == "") == (req.ApplicationID == "") {
		details = append(details, fieldErr("account_id", "one_target", "须且只能指定账户或申请之一", "name exactly one of account_id and application_id"))
	}
	details = append(details, checkRefs("evidence", req.Evidence)...)
	if fe := validate.Text("summary", req.Summary, false, 0, 1000); fe != nil {
		details = append(details, *fe)
	}
	if req.Source == "" {
		req.Source = "staff"
	}
	if req.Source == "automated_check" && req.CheckCode == "" {
		details = append(details, fieldErr("check_code", "required", "自动核查发起的案件须注明核查代码", "a case from an automated check names the check"))
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
		var status string
		err := s.DB.GetContext(ctx, &status, `SELECT status FROM accounts WHERE id = $1`, req.AccountID)
		if errors.Is(err, sql.ErrNoRows) {
			return errValidation(fieldErr("account_id", "not_found", "账户不存在", "no such account"))
		} else if err != nil {
			return err
		}
		if status != "active" && status != "suspended" {
			return newError(http.StatusConflict, "account_closed", "该账户已注销", "the account is "+status)
		}
	} else {
		var status string
		err := s.DB.GetContext(ctx, &status, `SELECT status FROM applications WHERE id = $1`, req.ApplicationID)
		if errors.Is(err, sql.ErrNoRows) {
			return errValidation(fieldErr("application_id", "not_found", "申请不存在", "no such application"))
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
			if _, err := tx.ExecContext(ctx, `INSERT INTO cases (id, kind, account_id, application_id, state, source, check_code, opened_by,
			suspected_fields, evidence, summary, answer_due_at) VALUES ($1, 'fraud', $2, $3, 'reported', $4, nullif($5, ''), $6, $7, $8, $9, $10)`,
				id, nullIfEmpty(req.AccountID), nullIfEmpty(req.ApplicationID), req.Source, req.CheckCode, p.StaffID,
				pq.Array(dedupe(req.SuspectedFields)), pq.Array(dedupe(req.Evidence)), strings.TrimSpace(req.Summary), answerBy); err != nil {
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
	if err := staffOnly(c, workflows.RoleInvestigator); err != nil {
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
			details = append(details, fieldErr("correct_by", "required", "责令改正须规定期限", "an order to correct needs a deadline"))
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
			details = append(details, fieldErr(fmt.Sprintf("corrections.%d", i), "code", "请以代码填写解除条件", "a lifting condition is a code"))
		}
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	var status string
	err := s.DB.GetContext(ctx, &status, `SELECT status FROM accounts WHERE id = $1`, req.AccountID)
	if errors.Is(err, sql.ErrNoRows) {
		return errValidation(fieldErr("account_id", "not_found", "账户不存在", "no such account"))
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
			if _, err := tx.ExecContext(ctx, `INSERT INTO cases (id, kind, account_id, state, opened_by, evidence, summary, rule, action,
			instructions, corrections, correct_by) VALUES ($1, 'violation', $2, 'reported', $3, $4, $5, $6, $7, $8, $9, $10)`,
				id, req.AccountID, p.StaffID, pq.Array(dedupe(req.Evidence)), strings.TrimSpace(req.Summary), req.Rule, req.Action,
				req.Instructions, pq.Array(dedupe(req.Corrections)), nullTimeOf(correctBy)); err != nil {
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

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTimeOf(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// recordIntake writes the case's first event and the audit entries on the
// case and on the account or application it concerns.
func (s *server) recordIntake(ctx context.Context, tx *sqlx.Tx, c echo.Context, id, kind, accountID, applicationID string, detail map[string]any) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO case_events (case_id, event_key, kind, actor, detail) VALUES ($1, 'reported', 'reported', $2, $3)`,
		id, "staff:"+caller(c).StaffID, mustJSON(detail)); err != nil {
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
		s.discardIntake(ctx, id, `DELETE FROM case_events WHERE case_id = $1`, `DELETE FROM cases WHERE id = $1 AND state = 'reported'`)
	})
	if err != nil {
		slog.Error("start case", "workflow_id", wfID, "error", err)
		return intakeError(err)
	}
	return nil
}

// caseExists: a keyed request whose case is already stored repeats it.
func (s *server) caseExists(ctx context.Context, keyed bool, id string) (bool, error) {
	var ok bool
	if !keyed {
		return false, nil
	}
	err := s.DB.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM cases WHERE id = $1)`, id)
	return ok, err
}

// unlessRepeat runs store unless the request repeats a stored one.
func (s *server) unlessRepeat(repeat bool, store func() error) error {
	if repeat {
		return nil
	}
	return store()
}

// ---- staff: read ----

type caseRow struct {
	ID               string         `db:"id" json:"id"`
	Kind             string         `db:"kind" json:"kind"`
	State            string         `db:"state" json:"state"`
	AccountID        sql.NullString `db:"account_id" json:"-"`
	ApplicationID    sql.NullString `db:"application_id" json:"-"`
	Source           string         `db:"source" json:"source"`
	OpenedBy         sql.NullString `db:"opened_by" json:"-"`
	SuspectedFields  pq.StringArray `db:"suspected_fields" json:"suspected_fields"`
	Evidence         pq.StringArray `db:"evidence" json:"evidence"`
	Summary          string         `db:"summary" json:"-"`
	Rule             sql.NullString `db:"rule" json:"-"`
	Action           sql.NullString `db:"action" json:"-"`
	Instructions     string         `db:"instructions" json:"instructions"`
	Corrections      pq.StringArray `db:"corrections" json:"corrections"`
	Findings         pq.StringArray `db:"findings" json:"findings"`
	AnswerDueAt      sql.NullTime   `db:"answer_due_at" json:"-"`
	CorrectBy        sql.NullTime   `db:"correct_by" json:"-"`
	DueAt            sql.NullTime   `db:"due_at" json:"-"`
	EscalatedAt      sql.NullTime   `db:"escalated_at" json:"-"`
	Outcome          sql.NullString `db:"outcome" json:"-"`
	DecidedBy        sql.NullString `db:"decided_by" json:"-"`
	DecidedAt        sql.NullTime   `db:"decided_at" json:"-"`
	ReasonCode       sql.NullString `db:"reason_code" json:"-"`
	Clause           sql.NullString `db:"clause" json:"-"`
	DecisionEvidence pq.StringArray `db:"decision_evidence" json:"decision_evidence"`
	SanctionID       sql.NullString `db:"sanction_id" json:"-"`
	OpenedAt         time.Time      `db:"opened_at" json:"opened_at"`
	ClosedAt         sql.NullTime   `db:"closed_at" json:"-"`
}

const caseColumns = `id, kind, state, account_id, application_id, source, opened_by, suspected_fields, evidence, summary, rule, action,
	instructions, corrections, findings, answer_due_at, correct_by, due_at, escalated_at, outcome, decided_by, decided_at, reason_code,
	clause, decision_evidence, sanction_id, opened_at, closed_at`

func ns(v sql.NullString) *string   { return nullable(v.String, v.Valid) }
func nt(v sql.NullTime) *time.Time  { return nullable(v.Time, v.Valid) }
func arr(v pq.StringArray) []string { return append([]string{}, v...) }

// view renders a case; staff see who acted, the user sees roles.
func (s *server) caseView(r caseRow, staff bool) map[string]any {
	// The user's fields, listed; evidence references, findings and the
	// report's source and summary are staff-only (docs/security.md).
	out := map[string]any{"id": r.ID, "kind": r.Kind, "state": r.State, "open": !r.ClosedAt.Valid,
		"suspected_fields": arr(r.SuspectedFields), "rule": ns(r.Rule), "action": ns(r.Action),
		"instructions": r.Instructions, "corrections": arr(r.Corrections), "answer_due_at": nt(r.AnswerDueAt),
		"correct_by": nt(r.CorrectBy), "outcome": ns(r.Outcome), "decided_at": nt(r.DecidedAt), "reason_code": ns(r.ReasonCode),
		"clause": ns(r.Clause), "sanction_id": ns(r.SanctionID),
		"opened_at": r.OpenedAt, "closed_at": nt(r.ClosedAt)}
	if staff {
		out["evidence"], out["decision_evidence"] = arr(r.Evidence), arr(r.DecisionEvidence)
		out["account_id"], out["application_id"] = ns(r.AccountID), ns(r.ApplicationID)
		out["source"], out["opened_by"], out["summary"], out["findings"] = r.Source, ns(r.OpenedBy), r.Summary, arr(r.Findings)
		out["due_at"], out["escalated_at"], out["decided_by"] = nt(r.DueAt), nt(r.EscalatedAt), ns(r.DecidedBy)
		out["overdue"] = !r.ClosedAt.Valid && r.DueAt.Valid && s.now().After(r.DueAt.Time)
	}
	return out
}

type timelineEvent struct {
	Kind   string          `db:"kind" json:"kind"`
	At     time.Time       `db:"at" json:"at"`
	Actor  string          `db:"actor" json:"actor"`
	Detail json.RawMessage `db:"detail" json:"detail"`
}

func (s *server) timeline(ctx context.Context, table, col, id string, staff bool) ([]timelineEvent, error) {
	events := []timelineEvent{}
	if err := s.DB.SelectContext(ctx, &events, `SELECT kind, at, actor, detail FROM `+table+` WHERE `+col+` = $1 ORDER BY at, event_key`, id); err != nil {
		return nil, err
	}
	if !staff {
		for i := range events {
			events[i] = userEvent(events[i])
		}
	}
	return events, nil
}

// listCases: filters kind, state, overdue (open and past its service
// level or correction deadline); newest first.
func (s *server) listCases(c echo.Context) error {
	if err := staffOnly(c, workflows.RoleInvestigator, workflows.RoleSupervisor, workflows.RoleAuditor); err != nil {
		return err
	}
	q := `SELECT ` + caseColumns + ` FROM cases WHERE true`
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		q += fmt.Sprintf(" AND "+cond, len(args))
	}
	if v := c.QueryParam("kind"); v != "" {
		add("kind = $%d", v)
	}
	if v := c.QueryParam("state"); v != "" {
		add("state = $%d", v)
	}
	if v := c.QueryParam("account_id"); v != "" {
		add("account_id = $%d", v)
	}
	if v := c.QueryParam("overdue"); v != "" {
		overdue, _ := strconv.ParseBool(v)
		if overdue {
			add("closed_at IS NULL AND due_at < $%d", s.now())
		} else {
			add("NOT (closed_at IS NULL AND coalesce(due_at < $%d, false))", s.now())
		}
	}
	limit := 100
	if v := c.QueryParam("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY opened_at DESC, id LIMIT $%d", len(args))
	rows := []caseRow{}
	if err := s.DB.SelectContext(c.Request().Context(), &rows, q, args...); err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		items = append(items, s.caseView(r, true))
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

func (s *server) getCase(c echo.Context) error {
	if err := staffOnly(c, workflows.RoleInvestigator, workflows.RoleSupervisor, workflows.RoleAuditor); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var r caseRow
	err := getOne(ctx, s.DB, &r, `SELECT `+caseColumns+` FROM cases WHERE id = $1`, c.Param("id"))
	if err != nil {
		return err
	}
	out := s.caseView(r, true)
	if out["timeline"], err = s.timeline(ctx, "case_events", "case_id", r.ID, true); err != nil {
		return err
	}
	subs := []struct {
		ID          string         `db:"id" json:"id"`
		Kind        string         `db:"kind" json:"kind"`
		Body        string         `db:"body" json:"body"`
		Evidence    pq.StringArray `db:"evidence" json:"evidence"`
		SubmittedAt time.Time      `db:"submitted_at" json:"submitted_at"`
		AcceptedAt  sql.NullTime   `db:"accepted_at" json:"accepted_at"`
	}{}
	if err := s.DB.SelectContext(ctx, &subs, `SELECT id, kind, body, evidence, submitted_at, accepted_at FROM case_submissions
		WHERE case_id = $1 AND accepted_at IS NOT NULL ORDER BY submitted_at`, r.ID); err != nil {
		return err
	}
	out["submissions"] = subs
	wf := workflows.FraudWorkflowID(r.ID)
	if r.Kind == workflows.KindViolation {
		wf = workflows.ViolationWorkflowID(r.ID)
	}
	out["workflow_url"] = s.workflowURL(wf)
	return c.JSON(http.StatusOK, out)
}

// ---- staff: decide ----

// caseWorkflowID finds an open-or-closed case's run, or 404.
func (s *server) caseWorkflowID(ctx context.Context, id string) (kind, wfID string, err error) {
	if err = getOne(ctx, s.DB, &kind, `SELECT kind FROM cases WHERE id = $1`, id); err != nil {
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
	if err := staffOnly(c, workflows.RoleInvestigator, workflows.RoleSupervisor); err != nil {
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
			details = append(details, fieldErr("reason_code", "required", "暂停或注销须说明理由代码", "a suspension or cancellation needs a reason code"))
		}
		if len(req.Evidence) == 0 {
			details = append(details, fieldErr("evidence", "required", "暂停或注销须列明证据", "a suspension or cancellation names its evidence"))
		}
		if req.Decision == workflows.FraudSuspend && len(req.Corrections) == 0 {
			details = append(details, fieldErr("corrections", "required", "暂停须列明需改正的资料", "a suspension names the corrections required"))
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
	if err := staffOnly(c, workflows.RoleInvestigator, workflows.RoleSupervisor); err != nil {
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

// ---- sanctions (staff) ----

type sanctionRow struct {
	ID              string         `db:"id"`
	AccountID       string         `db:"account_id"`
	CaseID          string         `db:"case_id"`
	Kind            string         `db:"kind"`
	State           string         `db:"state"`
	Final           bool           `db:"final"`
	ReasonCode      string         `db:"reason_code"`
	Clause          string         `db:"clause"`
	Evidence        pq.StringArray `db:"evidence"`
	Conditions      pq.StringArray `db:"conditions"`
	FalseData       bool           `db:"false_data"`
	ImposedBy       sql.NullString `db:"imposed_by"`
	ImposedKind     string         `db:"imposed_by_kind"`
	ImposedAt       time.Time      `db:"imposed_at"`
	AppealUntil     time.Time      `db:"appeal_until"`
	AppealState     string         `db:"appeal_state"`
	AppealedAt      sql.NullTime   `db:"appealed_at"`
	AppealDecidedBy sql.NullString `db:"appeal_decided_by"`
	AppealDecidedAt sql.NullTime   `db:"appeal_decided_at"`
	AppealReason    sql.NullString `db:"appeal_reason"`
	CorrectionState string         `db:"correction_state"`
	EndedAt         sql.NullTime   `db:"ended_at"`
	EndedBy         sql.NullString `db:"ended_by"`
	EndReason       sql.NullString `db:"end_reason"`
}

const sanctionColumns = `id, account_id, case_id, kind, state, final, reason_code, clause, evidence, conditions, false_data, imposed_by,
	imposed_by_kind, imposed_at, appeal_until, appeal_state, appealed_at, appeal_decided_by, appeal_decided_at, appeal_reason,
	correction_state, ended_at, ended_by, end_reason`

func (s *server) sanctionView(r sanctionRow, staff bool) map[string]any {
	canAppeal := r.State == workflows.SanctionInForce && r.AppealState == "none" && s.now().Before(r.AppealUntil)
	out := map[string]any{"id": r.ID, "case_id": r.CaseID, "kind": r.Kind, "state": r.State, "in_force": r.State == workflows.SanctionInForce,
		"final": r.Final, "reason_code": r.ReasonCode, "clause": r.Clause, "conditions": arr(r.Conditions),
		"imposed_at": r.ImposedAt, "appeal_until": r.AppealUntil, "appeal_state": r.AppealState, "appealed_at": nt(r.AppealedAt),
		"appeal_decided_at": nt(r.AppealDecidedAt), "appeal_reason": ns(r.AppealReason), "correction_state": r.CorrectionState,
		"ended_at": nt(r.EndedAt), "end_reason": ns(r.EndReason),
		"how_to_appeal": map[string]any{
			"possible": canAppeal, "until": r.AppealUntil, "endpoint": "/v1/me/sanctions/" + r.ID + "/appeal",
			"zh": "可在期限内通过网站（被暂停或注销的用户使用受限登录 POST /v1/sessions/restricted）或到经办服务机构提出申诉，由未参与原决定的工作人员复核。",
			"en": "Appeal before the deadline on the website (a suspended or cancelled user signs in with POST /v1/sessions/restricted) or at a service office; a staff member who took no part in the decision reviews it.",
		}}
	if staff {
		out["evidence"] = arr(r.Evidence)
		out["account_id"], out["false_data"], out["imposed_by"], out["imposed_by_kind"] = r.AccountID, r.FalseData, ns(r.ImposedBy), r.ImposedKind
		out["appeal_decided_by"], out["ended_by"] = ns(r.AppealDecidedBy), ns(r.EndedBy)
		out["workflow_url"] = s.workflowURL(workflows.SanctionWorkflowID(r.ID))
	}
	return out
}

func (s *server) getSanction(c echo.Context) error {
	if err := staffOnly(c, workflows.RoleInvestigator, workflows.RoleSupervisor, workflows.RoleAuditor); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var r sanctionRow
	err := getOne(ctx, s.DB, &r, `SELECT `+sanctionColumns+` FROM sanctions WHERE id = $1`, c.Param("id"))
	if err != nil {
		return err
	}
	out := s.sanctionView(r, true)
	if out["history"], err = s.timeline(ctx, "sanction_events", "sanction_id", r.ID, true); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// sanctionRun checks the sanction exists (else 404) and names its run.
func (s *server) sanctionRun(ctx context.Context, id string, accountID string) (string, error) {
	var exists bool
	q := `SELECT EXISTS (SELECT 1 FROM sanctions WHERE id = $1)`
	args := []any{id}
	if accountID != "" {
		q = `SELECT EXISTS (SELECT 1 FROM sanctions WHERE id = $1 AND account_id = $2)`
		args = append(args, accountID)
	}
	if err := s.DB.GetContext(ctx, &exists, q, args...); err != nil {
		return "", err
	}
	if !exists {
		return "", errNotFound()
	}
	return workflows.SanctionWorkflowID(id), nil
}

// sanctionAction is a staff decision on a sanction, sent as an Update to its
// run: the roles allowed, the body, and how to build the Update's argument.
func sanctionAction[B any](s *server, c echo.Context, update string, roles []string, build func(workflows.Actor, B) any) error {
	if err := staffOnly(c, roles...); err != nil {
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
	return sanctionAction(s, c, workflows.UpdateSanctionLift, []string{workflows.RoleSupervisor},
		func(a workflows.Actor, b body) any { return workflows.LiftRequest{Actor: a, ReasonCode: b.ReasonCode} })
}

func (s *server) reviewSanctionCorrection(c echo.Context) error {
	type body struct {
		Result string `json:"result"`
	}
	return sanctionAction(s, c, workflows.UpdateReviewCorrection, []string{workflows.RoleInvestigator, workflows.RoleSupervisor},
		func(a workflows.Actor, b body) any { return workflows.CorrectionReview{Actor: a, Result: b.Result} })
}

func (s *server) decideAppeal(c echo.Context) error {
	type body struct {
		Decision   string `json:"decision"`
		ReasonCode string `json:"reason_code"`
	}
	// Four eyes (issue 15): the investigator who opened the case does not
	// decide its appeal; the sanction workflow's validator refuses it too.
	var opener sql.NullString
	if err := s.DB.GetContext(c.Request().Context(), &opener, `SELECT c.opened_by::text FROM sanctions sn JOIN cases c ON c.id = sn.case_id
		WHERE sn.id::text = $1`, c.Param("id")); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if p := caller(c); p != nil && opener.Valid && opener.String == p.StaffID {
		return newError(http.StatusForbidden, "four_eyes", "开立案件的调查员不得决定该案处分的申诉，请由另一位工作人员决定",
			"the investigator who opened the case may not decide the appeal against its sanction; another staff member must")
	}
	return sanctionAction(s, c, workflows.UpdateSanctionAppealDec, []string{workflows.RoleSupervisor, workflows.RoleInvestigator},
		func(a workflows.Actor, b body) any {
			return workflows.AppealDecision{Actor: a, Decision: b.Decision, ReasonCode: b.ReasonCode}
		})
}

// ---- the user ----

const restrictedKey = "restricted"

// requireCaseUser admits a signed-in user, or a suspended or cancelled user
// with a restricted session; staff are refused.
func (s *server) requireCaseUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if p := caller(c); p != nil {
			if p.Kind != "user" {
				return errForbidden("users only", "仅限用户本人")
			}
			return next(c)
		}
		token := c.Request().Header.Get(restrictedHeader)
		if token == "" {
			return errUnauthenticated()
		}
		var accountID string
		err := s.DB.GetContext(c.Request().Context(), &accountID, `SELECT r.account_id FROM restricted_sessions r
			JOIN accounts a ON a.id = r.account_id AND a.status IN ('suspended', 'cancelled')
			WHERE r.token_hash = $1 AND r.revoked_at IS NULL AND r.expires_at > now()`, hashToken(token))
		if errors.Is(err, sql.ErrNoRows) {
			return errUnauthenticated()
		}
		if err != nil {
			return err
		}
		c.Set(principalKey, &principal{Kind: "user", AccountID: accountID})
		c.Set(restrictedKey, true)
		return next(c)
	}
}

// restrictedSignIn lets a suspended or cancelled user in to read their
// cases and sanctions and to appeal; nothing else. Failures answer like
// the ordinary sign-in and count towards the same throttle.
func (s *server) restrictedSignIn(c echo.Context) error {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Code     string `json:"code"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.Code != "" {
		if fe := codeProblem("code", req.Code); fe != nil {
			return errValidation(*fe)
		}
	}
	ctx := c.Request().Context()
	var candidates []struct {
		ID     string `db:"id"`
		Hash   string `db:"password_hash"`
		Status string `db:"status"`
	}
	if err := s.DB.SelectContext(ctx, &candidates, `SELECT id, password_hash, status FROM accounts
		WHERE username = $1 AND status IN ('suspended', 'cancelled') ORDER BY opened_at DESC LIMIT 3`,
		validate.NormalizeIDNumber(req.Username)); err != nil {
		return err
	}
	attempt, err := s.beginPasswordCheck(c, passwordCheck{Username: req.Username, Failure: "failed"})
	if err != nil {
		return err
	}
	defer attempt.release()
	var accountID, status string
	for _, a := range candidates {
		if attempt.verify(req.Password, a.Hash) {
			accountID, status = a.ID, a.Status
			break
		}
	}
	if len(candidates) == 0 {
		attempt.verify(req.Password, "")
	}
	if accountID == "" {
		attempt.failed()
		return newError(http.StatusUnauthorized, "sign_in_failed", signInGenericZ, signInGenericE)
	}
	attempt.chk.AccountID = accountID
	// A user with a second factor gives a code too (issue 15): the password
	// alone answers 200 second_factor_required; a wrong code counts as a
	// failed sign-in. A recovery code works, as at the normal sign-in.
	has, err := s.hasConfirmedFactor(ctx, "user", accountID)
	if err != nil {
		return err
	}
	if has && req.Code == "" {
		if err := attempt.succeeded(""); err != nil { // neither a failure nor a sign-in yet
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"second_factor_required": true})
	}
	if has {
		ok, err := s.checkCode(ctx, c, "user", accountID, req.Code, true)
		if err != nil {
			return err
		}
		if !ok {
			attempt.failed()
			return errSecondFactorFailed()
		}
	}
	if err := attempt.succeeded("success"); err != nil {
		return err
	}
	token, err := newToken()
	if err != nil {
		return err
	}
	expires := s.now().Add(restrictedTTL).UTC()
	err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO restricted_sessions (token_hash, account_id, expires_at) VALUES ($1, $2, $3)`,
			hashToken(token), accountID, expires); err != nil {
			return err
		}
		c.Set(principalKey, &principal{Kind: "user", AccountID: accountID})
		return audit(ctx, tx, c, "account.restricted_sign_in", "account", accountID, map[string]any{"account_status": status})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"token": token, "header": restrictedHeader, "expires_at": expires,
		"account_status": status, "scope": []string{"/v1/me/cases", "/v1/me/sanctions"}})
}

func (s *server) myCases(c echo.Context) error {
	ctx := c.Request().Context()
	rows := []caseRow{}
	if err := s.DB.SelectContext(ctx, &rows, `SELECT `+caseColumns+` FROM cases WHERE account_id = $1
		AND state <> 'reported' ORDER BY opened_at DESC`, caller(c).AccountID); err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		v := s.caseView(r, false)
		tl, err := s.timeline(ctx, "case_events", "case_id", r.ID, false)
		if err != nil {
			return err
		}
		v["timeline"] = tl
		items = append(items, v)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

func (s *server) mySanctions(c echo.Context) error {
	ctx := c.Request().Context()
	rows := []sanctionRow{}
	if err := s.DB.SelectContext(ctx, &rows, `SELECT `+sanctionColumns+` FROM sanctions WHERE account_id = $1 ORDER BY imposed_at DESC`,
		caller(c).AccountID); err != nil {
		return err
	}
	var status string
	if err := s.DB.GetContext(ctx, &status, `SELECT status FROM accounts WHERE id = $1`, caller(c).AccountID); err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		v := s.sanctionView(r, false)
		h, err := s.timeline(ctx, "sanction_events", "sanction_id", r.ID, false)
		if err != nil {
			return err
		}
		v["history"] = h
		items = append(items, v)
	}
	return c.JSON(http.StatusOK, map[string]any{"account_status": status, "items": items})
}

type submissionBody struct {
	Text     string   `json:"text"`
	Evidence []string `json:"evidence"`
}

func (s *server) readSubmission(c echo.Context) (submissionBody, error) {
	var req submissionBody
	if err := bind(c, &req); err != nil {
		return req, err
	}
	req.Text = strings.TrimSpace(req.Text)
	var details []validate.FieldError
	if fe := validate.Text("text", req.Text, true, 2, 2000); fe != nil {
		details = append(details, *fe)
	}
	details = append(details, checkRefs("evidence", req.Evidence)...)
	if len(details) > 0 {
		return req, errValidation(details...)
	}
	return req, nil
}

// submit stores the user's text, then tells the workflow its ID (the
// submission's ID is the Update's); if the workflow refuses, the stored
// text is removed again, and an unknown outcome is settled
// (api/intake.go). send returns the workflow's answer or its raw error.
func (s *server) submit(c echo.Context, kind, caseID, sanctionID, accountID string, body submissionBody,
	send func(ctx context.Context, subID string) (any, error)) error {
	ctx := c.Request().Context()
	subID, keyed, err := s.intakeID(c, "submission."+kind, body)
	if err != nil {
		return err
	}
	repeat := false
	if keyed {
		if err := s.DB.GetContext(ctx, &repeat, `SELECT EXISTS (SELECT 1 FROM case_submissions WHERE id = $1)`, subID); err != nil {
			return err
		}
	}
	err = s.unlessRepeat(repeat, func() error {
		return inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO case_submissions (id, kind, case_id, sanction_id, account_id, body, evidence)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, subID, kind, nullIfEmpty(caseID), nullIfEmpty(sanctionID), nullIfEmpty(accountID),
				body.Text, pq.Array(dedupe(body.Evidence))); err != nil {
				return err
			}
			record, id := "case", caseID
			if sanctionID != "" {
				record, id = "sanction", sanctionID
			}
			return audit(ctx, tx, c, record+"."+kind+"_submitted", record, id, map[string]any{"submission_id": subID})
		})
	})
	if err != nil {
		return err
	}
	var res any
	err = s.settleIntake(ctx, "submission", subID, repeat, func(ctx context.Context, _ bool) error {
		r, err := send(ctx, subID)
		res = r
		return err
	}, func(ctx context.Context) {
		s.discardIntake(ctx, subID, `DELETE FROM case_submissions WHERE id = $1 AND accepted_at IS NULL`)
	})
	if err != nil {
		return fromWorkflow(err)
	}
	return c.JSON(http.StatusOK, res)
}

// answerCase: the user answers a fraud case about their account (session
// or restricted session), or the applicant one about their pending
// application (X-Follow-Token).
func (s *server) answerCase(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	var cs struct {
		Kind          string         `db:"kind"`
		AccountID     sql.NullString `db:"account_id"`
		ApplicationID sql.NullString `db:"application_id"`
	}
	err := s.DB.GetContext(ctx, &cs, `SELECT kind, account_id, application_id FROM cases WHERE id = $1`, id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	found := err == nil
	var actor workflows.Actor
	if follow := c.Request().Header.Get("X-Follow-Token"); follow != "" && caller(c) == nil {
		if !found || !cs.ApplicationID.Valid || cs.AccountID.Valid {
			return errNotFound()
		}
		var stored []byte
		if err := s.DB.GetContext(ctx, &stored, `SELECT follow_token_hash FROM applications WHERE id = $1`, cs.ApplicationID.String); err != nil {
			return err
		}
		if subtle.ConstantTimeCompare(stored, hashToken(follow)) != 1 {
			return errNotFound()
		}
		actor = workflows.Actor{Kind: "applicant", ID: cs.ApplicationID.String}
	} else {
		if err := s.requireCaseUser(func(echo.Context) error { return nil })(c); err != nil {
			return err
		}
		if !found || !cs.AccountID.Valid || cs.AccountID.String != caller(c).AccountID {
			return errNotFound()
		}
		actor = caller(c).actor()
	}
	if cs.Kind != workflows.KindFraud {
		return newError(http.StatusConflict, "conflict", "违规案件请报告改正情况", "a violation case takes a correction report, not an answer")
	}
	body, err := s.readSubmission(c)
	if err != nil {
		return err
	}
	return s.submit(c, "answer", id, "", cs.AccountID.String, body, func(ctx context.Context, subID string) (any, error) {
		var res workflows.CaseResult
		err := s.updateIntake(workflows.FraudWorkflowID(id), workflows.UpdateCaseAnswer, subID, workflows.CaseAnswer{Actor: actor, SubmissionID: subID}, &res)(ctx, false)
		return res, err
	})
}

func (s *server) reportCaseCorrection(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	var kind string
	err := getOne(ctx, s.DB, &kind, `SELECT kind FROM cases WHERE id = $1 AND account_id = $2`, id, caller(c).AccountID)
	if err != nil {
		return err
	}
	if kind != workflows.KindViolation {
		return newError(http.StatusConflict, "conflict", "该案件请直接答复", "a fraud case takes an answer, not a correction report")
	}
	body, err := s.readSubmission(c)
	if err != nil {
		return err
	}
	actor := caller(c).actor()
	return s.submit(c, "correction", id, "", actor.ID, body, func(ctx context.Context, subID string) (any, error) {
		var res workflows.CaseResult
		err := s.updateIntake(workflows.ViolationWorkflowID(id), workflows.UpdateReportCorrection, subID,
			workflows.CorrectionReport{Actor: actor, SubmissionID: subID}, &res)(ctx, false)
		return res, err
	})
}

func (s *server) sanctionSubmission(c echo.Context, kind, update string) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	actor := caller(c).actor()
	wfID, err := s.sanctionRun(ctx, id, actor.ID)
	if err != nil {
		return err
	}
	body, err := s.readSubmission(c)
	if err != nil {
		return err
	}
	return s.submit(c, kind, "", id, actor.ID, body, func(ctx context.Context, subID string) (any, error) {
		var res workflows.SanctionResult
		var arg any = workflows.SanctionAppeal{Actor: actor, SubmissionID: subID}
		if kind == "correction" {
			arg = workflows.CorrectionReport{Actor: actor, SubmissionID: subID}
		}
		err := s.updateIntake(wfID, update, subID, arg, &res)(ctx, false)
		return res, err
	})
}

func (s *server) appealSanction(c echo.Context) error {
	return s.sanctionSubmission(c, "appeal", workflows.UpdateSanctionAppeal)
}

func (s *server) reportSanctionCorrection(c echo.Context) error {
	return s.sanctionSubmission(c, "correction", workflows.UpdateReportCorrection)
}
