package api

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/eligibility"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
	"hrss-backoffice/workflows"
)

// The review of an application by staff (C2.1): the queue, the decision
// and the Update that carries it to the registration workflow.

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
	rows, err := store.ReviewQueue(c.Request().Context(), s.DB, after, afterID, limit)
	if err != nil {
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
