package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// The operators' page (GET /v1/operations/runs): runs that failed, timed
// out or have an activity retrying for too long, each linked to the run in
// the Temporal web UI, with the saved visibility queries of the runbook
// (docs/operations.md).
func (a *app) operationsPages() {
	a.get("/console/operations", a.operationsPage)
}

func init() {
	addMessages(map[string][2]string{
		"ops.menu":             {"运行监控", "Operations"},
		"ops.title":            {"需要处理的流程运行", "Runs that need attention"},
		"ops.intro":            {"近 7 天失败或超时的运行，以及某个活动重试超过所设分钟数的运行。点击运行编号在 Temporal 界面中查看（须以运维人员身份登录本工作台）。处理步骤见运维手册。", "Runs that failed or timed out in the last 7 days, and runs with an activity retrying for longer than the minutes set. Open a run in the Temporal web UI (signed in here as an operator). The runbook (docs/operations.md) says what to do."},
		"ops.minutes":          {"重试超过（分钟）", "Retrying for more than (minutes)"},
		"ops.apply":            {"刷新", "Refresh"},
		"ops.run":              {"运行", "Run"},
		"ops.kind":             {"类型", "Kind"},
		"ops.status":           {"业务状态", "Status"},
		"ops.status_since":     {"进入该状态：", "in it since "},
		"ops.record":           {"业务记录", "Record"},
		"ops.office":           {"经办机构", "Office"},
		"ops.reason":           {"原因", "Reason"},
		"ops.since":            {"自", "Since"},
		"ops.activity":         {"活动（第几次尝试）", "Activity (attempt)"},
		"ops.empty":            {"目前没有需要处理的运行。", "No run needs attention."},
		"ops.scanned":          {"已检查 %d 个进行中的运行（上限 %d）。", "Checked %d open runs (limit %d)."},
		"ops.reason.failed":    {"失败", "failed"},
		"ops.reason.timed_out": {"超时", "timed out"},
		"ops.reason.retrying":  {"重试中", "retrying"},
		"ops.queries":          {"常用查询（在 Temporal 界面中打开）", "Saved queries (open in the Temporal web UI)"},
		"ops.q.failed":         {"失败或超时的运行", "Failed or timed-out runs"},
		"ops.q.pending":        {"等待审核的注册申请", "Registration reviews waiting"},
		"ops.q.campaign":       {"承诺书征询活动", "Terms campaigns"},
	})
}

type attentionRun struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Type       string `json:"workflow_type"`
	Kind       string `json:"kind"`
	Status     string `json:"status"`
	// StatusSince is nil on runs started before HrssSince.
	StatusSince *time.Time `json:"status_since"`
	RecordID    string     `json:"record_id"`
	Office      string     `json:"office"`
	Console     string     `json:"console"`
	Reason      string     `json:"reason"`
	Since       time.Time  `json:"since"`
	Activity    string     `json:"activity"`
	Attempt     int        `json:"attempt"`
	URL         string     `json:"workflow_url"`
}

type operationsData struct {
	Items     []attentionRun `json:"items"`
	Minutes   int            `json:"retrying_minutes"`
	Scanned   int            `json:"scanned_open_runs"`
	Limit     int            `json:"open_scan_limit"`
	SearchURL string         `json:"search_url"`
	Queries   []savedQuery
}

type savedQuery struct{ Label, URL string }

func (a *app) operationsPage(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	path := "/v1/operations/runs"
	if m, err := strconv.Atoi(c.QueryParam("retrying_minutes")); err == nil && m >= 0 && m <= 10080 {
		path += "?retrying_minutes=" + strconv.Itoa(m)
	}
	var d operationsData
	e := a.call(c, asSignedIn, http.MethodGet, path, nil, &d)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		return fail(c, e)
	}
	if d.SearchURL != "" {
		for _, q := range [][2]string{
			{"ops.q.failed", `ExecutionStatus = "Failed" OR ExecutionStatus = "TimedOut"`},
			{"ops.q.pending", `HrssKind = "registration" AND HrssStatus = "pending"`},
			{"ops.q.campaign", `HrssKind = "terms_campaign"`},
		} {
			d.Queries = append(d.Queries, savedQuery{Label: q[0], URL: d.SearchURL + url.QueryEscape(q[1])})
		}
	}
	return render(c, http.StatusOK, "operations/operations.html", view{Title: "ops.title", Data: d})
}
