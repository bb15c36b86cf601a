package api

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/workflows"
)

// Bounds of the attention scan (docs/operations.md, "Runs that need
// attention"): closed runs of the last week, and at most this many open
// runs described per call (newest first), this many at a time.
const (
	attentionClosedWindow = 7 * 24 * time.Hour
	attentionOpenScan     = 300
	attentionParallel     = 8
	attentionMaxItems     = 200
)

// attentionRun is one run that needs an operator: IDs and codes only.
type attentionRun struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Type       string `json:"workflow_type"`
	Kind       string `json:"kind,omitempty"`
	Status     string `json:"status,omitempty"`
	// From HrssSince, HrssRecordId, HrssOffice and the run's plain memo
	// (workflows.RunRecord); absent on runs started before them.
	StatusSince *time.Time `json:"status_since,omitempty"`
	RecordID    string     `json:"record_id,omitempty"`
	Office      string     `json:"office,omitempty"`
	Clause      string     `json:"clause,omitempty"`
	Console     string     `json:"console,omitempty"`
	Reason      string     `json:"reason"` // failed | timed_out | retrying
	Since       time.Time  `json:"since"`
	Activity    string     `json:"activity,omitempty"`
	Attempt     int32      `json:"attempt,omitempty"`
	URL         string     `json:"workflow_url"`
}

func (s *server) operationsRoutes(g *echo.Group) {
	g.GET("/operations/runs", s.attentionRuns)
}

// attentionRuns lists, from the visibility API, the runs of this task queue
// that failed or timed out in the last week, and the open runs with an
// activity that has been retrying for more than retrying_minutes (default
// 10): the time since its ActivityTaskScheduled event.
func (s *server) attentionRuns(c echo.Context) error {
	if err := authorize(c, authz.OperationsRead); err != nil {
		return err
	}
	minutes := 10
	if v := c.QueryParam("retrying_minutes"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 10080 {
			return errValidation(validate.FieldError{Field: "retrying_minutes", Code: "out_of_range",
				MessageZH: "请填写 0 到 10080 之间的分钟数", MessageEN: "give a number of minutes from 0 to 10080"})
		}
		minutes = n
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 20*time.Second)
	defer cancel()
	now := s.now().UTC()
	items := []attentionRun{}

	closed, err := s.listRuns(ctx, fmt.Sprintf(`TaskQueue = '%s' AND (ExecutionStatus = 'Failed' OR ExecutionStatus = 'TimedOut') AND CloseTime > '%s'`,
		s.TaskQueue, now.Add(-attentionClosedWindow).Format(time.RFC3339)), attentionMaxItems)
	if err != nil {
		return err
	}
	for _, e := range closed {
		r := s.runOf(e)
		r.Reason, r.Since = "failed", e.GetCloseTime().AsTime()
		if e.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT {
			r.Reason = "timed_out"
		}
		items = append(items, r)
	}

	open, err := s.listRuns(ctx, fmt.Sprintf(`TaskQueue = '%s' AND ExecutionStatus = 'Running'`, s.TaskQueue), attentionOpenScan)
	if err != nil {
		return err
	}
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, attentionParallel)
	)
	for _, e := range open {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if r, ok := s.retrying(ctx, e, now, time.Duration(minutes)*time.Minute); ok {
				mu.Lock()
				items = append(items, r)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.SliceStable(items, func(i, j int) bool { return items[i].Since.Before(items[j].Since) })
	if len(items) > attentionMaxItems {
		items = items[:attentionMaxItems]
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items, "retrying_minutes": minutes,
		"search_url":        strings.TrimSuffix(s.workflowURL(""), "/") + "?query=",
		"scanned_open_runs": len(open), "open_scan_limit": attentionOpenScan})
}

func (s *server) listRuns(ctx context.Context, query string, limit int) ([]*workflowpb.WorkflowExecutionInfo, error) {
	var out []*workflowpb.WorkflowExecutionInfo
	var token []byte
	for len(out) < limit {
		resp, err := s.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: s.Namespace, PageSize: int32(min(100, limit-len(out))), Query: query, NextPageToken: token})
		if err != nil {
			return nil, fromWorkflow(err)
		}
		out = append(out, resp.Executions...)
		token = resp.NextPageToken
		if len(token) == 0 {
			break
		}
	}
	return out, nil
}

// runOf gives the IDs and codes of a run: its kind, status, since when,
// record and office from the search attributes (plain, no payload), and
// the clause and console path from its memo when that is a plain
// RunRecord (never decoded: an encrypted memo is left out).
func (s *server) runOf(e *workflowpb.WorkflowExecutionInfo) attentionRun {
	r := attentionRun{WorkflowID: e.GetExecution().GetWorkflowId(), RunID: e.GetExecution().GetRunId(),
		Type: e.GetType().GetName(), URL: s.workflowURL(e.GetExecution().GetWorkflowId())}
	fields := e.GetSearchAttributes().GetIndexedFields()
	r.Kind = keyword(fields[workflows.SearchKind.GetName()])
	r.Status = keyword(fields[workflows.SearchStatus.GetName()])
	r.RecordID = keyword(fields[workflows.SearchRecordID.GetName()])
	r.Office = keyword(fields[workflows.SearchOffice.GetName()])
	if p := fields[workflows.SearchSince.GetName()]; p != nil {
		var at time.Time
		if err := converter.GetDefaultDataConverter().FromPayload(p, &at); err == nil && !at.IsZero() {
			r.StatusSince = &at
		}
	}
	if p := e.GetMemo().GetFields()[workflows.MemoRecord]; p != nil && string(p.GetMetadata()[converter.MetadataEncoding]) == converter.MetadataEncodingJSON {
		var rec workflows.RunRecord
		if err := converter.GetDefaultDataConverter().FromPayload(p, &rec); err == nil {
			r.Clause = rec.Clause
			if consolePath.MatchString(rec.Console) {
				r.Console = rec.Console
			}
		}
	}
	return r
}

// consolePath: a memo's console link is shown as a link only when it is a
// console path of letters, digits and the characters of our IDs.
var consolePath = regexp.MustCompile(`^/console/[a-z-]+(/[A-Za-z0-9._-]+)?$`)

func keyword(p *commonpb.Payload) string {
	if p == nil {
		return ""
	}
	var v string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &v); err != nil {
		return ""
	}
	return v
}

// retrying tells whether an open run has an activity at its second attempt
// or later whose first attempt was scheduled longer than d ago.
func (s *server) retrying(ctx context.Context, e *workflowpb.WorkflowExecutionInfo, now time.Time, d time.Duration) (attentionRun, bool) {
	desc, err := s.Temporal.DescribeWorkflowExecution(ctx, e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId())
	if err != nil {
		return attentionRun{}, false
	}
	for _, a := range desc.GetPendingActivities() {
		if a.GetAttempt() < 2 {
			continue
		}
		since := s.activityScheduledAt(ctx, e.GetExecution(), a.GetActivityId())
		if since.IsZero() || now.Sub(since) < d {
			continue
		}
		r := s.runOf(e)
		r.Reason, r.Since, r.Activity, r.Attempt = "retrying", since, a.GetActivityType().GetName(), a.GetAttempt()
		return r, true
	}
	return attentionRun{}, false
}

// activityScheduledAt finds when an activity was first scheduled, from
// the run's history (the pending-activity description has only the
// current attempt's times).
func (s *server) activityScheduledAt(ctx context.Context, ex *commonpb.WorkflowExecution, activityID string) time.Time {
	it := s.Temporal.GetWorkflowHistory(ctx, ex.GetWorkflowId(), ex.GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return time.Time{}
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityId() == activityID {
			return ev.GetEventTime().AsTime()
		}
	}
	return time.Time{}
}
