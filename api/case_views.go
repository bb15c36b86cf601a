package api

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/lib/pq"

	"hrss-backoffice/internal/authz"
	"hrss-backoffice/store"
	"hrss-backoffice/workflows"
)

// ---- cases and sanctions (api/cases.go): what staff read ----

type caseRow = store.Case

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

// timelineEvent is one event of a case's, a sanction's or an application's
// timeline.
type timelineEvent = store.CaseEvent

// timeline reads a case's or a sanction's events (read, e.g.
// store.CaseTimeline); the user sees roles, not staff.
func (s *server) timeline(ctx context.Context, read func(context.Context, store.Q, string) ([]store.CaseEvent, error), id string, staff bool) ([]timelineEvent, error) {
	events, err := read(ctx, s.DB, id)
	if err != nil {
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
	if err := authorize(c, authz.CaseRead); err != nil {
		return err
	}
	f := store.CaseFilter{Kind: c.QueryParam("kind"), State: c.QueryParam("state"), AccountID: c.QueryParam("account_id"),
		Now: s.now(), Limit: 100}
	if v := c.QueryParam("overdue"); v != "" {
		overdue, _ := strconv.ParseBool(v)
		f.Overdue = &overdue
	}
	if v := c.QueryParam("limit"); v != "" {
		f.Limit, _ = strconv.Atoi(v)
	}
	rows, err := store.ListCases(c.Request().Context(), s.DB, f)
	if err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		items = append(items, s.caseView(r, true))
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

func (s *server) getCase(c echo.Context) error {
	if err := authorize(c, authz.CaseRead); err != nil {
		return err
	}
	ctx := c.Request().Context()
	r, err := store.CaseByID(ctx, s.DB, c.Param("id"))
	if err != nil {
		return err
	}
	out := s.caseView(r, true)
	if out["timeline"], err = s.timeline(ctx, store.CaseTimeline, r.ID, true); err != nil {
		return err
	}
	subs, err := store.AcceptedSubmissions(ctx, s.DB, r.ID)
	if err != nil {
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

// ---- sanctions (staff) ----

type sanctionRow = store.Sanction

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
	if err := authorize(c, authz.SanctionRead); err != nil {
		return err
	}
	ctx := c.Request().Context()
	r, err := store.SanctionByID(ctx, s.DB, c.Param("id"))
	if err != nil {
		return err
	}
	out := s.sanctionView(r, true)
	if out["history"], err = s.timeline(ctx, store.SanctionTimeline, r.ID, true); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
