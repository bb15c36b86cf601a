package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"
)

// The audit log for auditors: filters and paging over GET /v1/audit, and
// the CSV export of the same filters through GET /v1/audit/export. The
// filters are IDs, action names and times, never personal data.
func (a *app) auditPages() {
	a.get("/console/audit", a.auditPage)
	a.get("/console/audit/export", a.auditExport)
}

var auditFilters = []string{"actor_kind", "actor_id", "action", "record_kind", "record_id", "request_id", "from", "to"}

func init() {
	addMessages(map[string][2]string{
		"audit.title":       {"审计日志", "Audit log"},
		"audit.filter":      {"筛选", "Filter"},
		"audit.apply":       {"筛选", "Apply"},
		"audit.export":      {"导出为 CSV", "Export as CSV"},
		"audit.next":        {"下一页", "Next page"},
		"audit.empty":       {"没有符合条件的记录。", "No entry matches."},
		"audit.record":      {"对象", "Record"},
		"audit.request":     {"请求编号", "Request ID"},
		"field.actor_kind":  {"操作者类型", "Actor kind"},
		"field.actor_id":    {"操作者编号", "Actor ID"},
		"field.action":      {"事项（可用 account.* 匹配前缀）", "Action (account.* matches a prefix)"},
		"field.record_kind": {"对象类型", "Record kind"},
		"field.record_id":   {"对象编号", "Record ID"},
		"field.request_id":  {"请求编号", "Request ID"},
		"field.from":        {"起始时间（北京时间）", "From (China Standard Time)"},
		"field.to":          {"截止时间（北京时间）", "To (China Standard Time)"},
		"actor.user":        {"用户", "user"},
	})
}

// auditQuery keeps the filters the form sent (times as RFC 3339).
func auditQuery(c echo.Context) url.Values {
	q := url.Values{}
	for _, f := range auditFilters {
		if v := c.QueryParam(f); v != "" {
			if f == "from" || f == "to" {
				v = localTime(v)
			}
			q.Set(f, v)
		}
	}
	return q
}

type auditData struct {
	Items      []map[string]any `json:"items"`
	NextCursor string           `json:"next_cursor"`
	Filters    []string
	Export     string
	Next       string
}

func (a *app) auditPage(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	q := auditQuery(c)
	d := auditData{Filters: auditFilters, Export: "/console/audit/export?" + q.Encode()}
	api := url.Values{}
	for k, v := range q {
		api[k] = v
	}
	api.Set("limit", "50")
	if n, err := strconv.Atoi(c.QueryParam("limit")); err == nil && n >= 1 && n <= 500 {
		api.Set("limit", strconv.Itoa(n))
	}
	if after := c.QueryParam("after"); after != "" {
		api.Set("after", after)
	}
	form := url.Values{}
	for _, f := range auditFilters {
		if v := c.QueryParam(f); v != "" {
			form.Set(f, v)
		}
	}
	e := a.call(c, asSignedIn, http.MethodGet, "/v1/audit?"+api.Encode(), nil, &d)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		if e.Status == http.StatusUnprocessableEntity {
			return render(c, e.Status, "audit/audit.html", view{Title: "audit.title", Err: e, Form: form, Data: d})
		}
		return fail(c, e)
	}
	if d.NextCursor != "" {
		next := url.Values{}
		for k, v := range form {
			next[k] = v
		}
		next.Set("after", d.NextCursor)
		if c.QueryParam("limit") != "" {
			next.Set("limit", api.Get("limit"))
		}
		d.Next = "/console/audit?" + next.Encode()
	}
	return render(c, http.StatusOK, "audit/audit.html", view{Title: "audit.title", Form: form, Data: d})
}

// auditExport passes the API's CSV through as a download.
func (a *app) auditExport(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	body, e := a.callRaw(c, http.MethodGet, "/v1/audit/export?"+auditQuery(c).Encode())
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		return fail(c, e)
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="audit.csv"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", body)
}
