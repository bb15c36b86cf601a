package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
)

// The notices to the signed-in staff member's roles (GET /v1/staff/notices):
// the reminders and escalations of the service levels and the user
// submissions waiting for staff, each linked to its record's page.
func (a *app) staffNoticePages() {
	a.get("/console/notices", a.staffNoticesPage)
}

func init() {
	addMessages(map[string][2]string{
		"snotices.title":     {"提醒与上报", "Reminders and escalations"},
		"snotices.filter":    {"筛选", "Filter"},
		"snotices.role":      {"角色", "Role"},
		"snotices.all_roles": {"我的全部角色", "All my roles"},
		"snotices.apply":     {"应用", "Apply"},
		"snotices.list":      {"通知（最新在前）", "Notices (newest first)"},
		"snotices.open":      {"打开", "Open"},
		"snotices.more":      {"更早的通知", "Older notices"},
		"snotices.empty":     {"暂无通知。", "No notices."},
	})
}

// recordPages are the console pages of the records notices are about.
var recordPages = map[string]string{"application": "/console/applications/", "case": "/console/cases/",
	"sanction": "/console/sanctions/", "data_change": "/console/data-changes/"}

type staffNotice struct {
	Role       string    `json:"role"`
	Kind       string    `json:"kind"`
	TitleZH    string    `json:"title_zh"`
	TitleEN    string    `json:"title_en"`
	BodyZH     string    `json:"body_zh"`
	BodyEN     string    `json:"body_en"`
	CreatedAt  time.Time `json:"created_at"`
	RecordKind string    `json:"record_kind"`
	RecordID   string    `json:"record_id"`
}

// Link is the record's console page, if it has one.
func (n staffNotice) Link() string {
	if p, ok := recordPages[n.RecordKind]; ok && uuidPattern.MatchString(n.RecordID) {
		return p + n.RecordID
	}
	return ""
}

type staffNoticesData struct {
	Notices []staffNotice `json:"notices"`
	Next    string        `json:"next_before"`
	Roles   []string
	Role    string
	More    string
}

func (a *app) staffNoticesPage(c echo.Context) error {
	me, done, err := a.staffOnly(c)
	if done {
		return err
	}
	d := staffNoticesData{Roles: me.Staff.Roles}
	q := url.Values{}
	if r := c.QueryParam("role"); hasRole(me.Staff.Roles, r) {
		q.Set("role", r)
		d.Role = r
	}
	if b := c.QueryParam("before"); b != "" {
		q.Set("before", b)
	}
	path := "/v1/staff/notices"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	e := a.call(c, asSignedIn, http.MethodGet, path, nil, &d)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		return fail(c, e)
	}
	if d.Next != "" {
		q.Set("before", d.Next)
		d.More = "/console/notices?" + q.Encode()
	}
	return render(c, http.StatusOK, "notices/notices.html", view{Title: "snotices.title", Data: d})
}
