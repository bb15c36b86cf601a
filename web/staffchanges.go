package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
)

// Dual control of staff changes in the console (C1.4, issue 15): the
// requests waiting for a second administrator, with approve and refuse
// (GET /v1/staff-changes, POST /v1/staff-changes/{id}/approve|refuse; both
// need a recent second-factor code, like every staff change). A generated
// first password is shown once, on the page that answers the change that
// made it effective, to hand over in person.
func (a *app) staffChangePages() {
	a.get("/console/staff-changes", a.staffChangesPage)
	a.post("/console/staff-changes/:id/approve", a.decideStaffChange("approve"))
	a.post("/console/staff-changes/:id/refuse", a.decideStaffChange("refuse"))
}

func init() {
	addMessages(map[string][2]string{
		"staffchanges.title":              {"待审批的工作人员变更", "Staff changes waiting for approval"},
		"staffchanges.hint":               {"有两位及以上在职管理员时，新增工作人员、修改角色或状态、重置密码或动态验证码均须另一位管理员审批；24小时内未审批即失效。提出人、被修改的本人，以及提出人30天内修改过其账户的管理员不得审批。", "While two or more administrators are active, adding staff, changing roles or state, and resetting a password or second factor need a second administrator's approval within 24 hours. Neither the requester, nor the member changed, nor a member whose account the requester changed in the last 30 days may approve."},
		"staffchanges.none":               {"没有待审批的变更。", "No change is waiting."},
		"staffchanges.kind":               {"变更", "Change"},
		"staffchanges.target":             {"对象", "Member"},
		"staffchanges.requested":          {"提出时间", "Asked at"},
		"staffchanges.expires":            {"失效时间", "Expires"},
		"staffchanges.approve":            {"批准", "Approve"},
		"staffchanges.refuse":             {"拒绝", "Refuse"},
		"staffchanges.kind.create":        {"新增工作人员", "Add a staff member"},
		"staffchanges.kind.update":        {"修改角色、网点或状态", "Roles, office or state"},
		"staffchanges.kind.password":      {"重置密码", "Reset the password"},
		"staffchanges.kind.second_factor": {"重置动态验证码", "Reset the second factor"},
		"staffpw.title":                   {"初始密码（仅显示一次）", "First password (shown once)"},
		"staffpw.hint":                    {"请当面交给本人。此密码不会再次显示；本人首次登录时须修改，并设置动态验证码。", "Hand it over in person. It is not shown again; it must be changed at the first sign-in, and the second factor set up."},
		"staffpw.username":                {"用户名", "Username"},
		"staffpw.sole":                    {"您是唯一在职管理员，变更已立即生效，并在审计日志中标记为“唯一管理员”。", "You are the sole active administrator: the change took effect at once, marked “sole administrator” in the audit log."},
		"notice.staff_change_requested":   {"变更已提交，待另一位管理员审批。", "The change is asked for: another administrator must approve it."},
		"notice.staff_change_approved":    {"已批准，变更已生效。", "Approved: the change took effect."},
		"notice.staff_change_refused":     {"已拒绝，未作任何变更。", "Refused: nothing changed."},
		"notice.staff_updated_sole":       {"已保存修改（唯一管理员，立即生效）。", "The change is saved (sole administrator, at once)."},
	})
}

// changeAnswer is what a staff change answers: at once (the member, or the
// first password) or a request that waits.
type changeAnswer struct {
	Username        string           `json:"username"`
	InitialPassword string           `json:"initial_password"`
	Sole            bool             `json:"sole_administrator"`
	Changed         bool             `json:"changed"`
	StaffChange     *staffChangeItem `json:"staff_change"`
}

type staffChangeItem struct {
	ID             string    `json:"id"`
	Kind           string    `json:"kind"`
	Status         string    `json:"status"`
	TargetID       string    `json:"target_id"`
	TargetUsername string    `json:"target_username"`
	Username       string    `json:"username"`
	Roles          []string  `json:"roles"`
	CreatedAt      time.Time `json:"created_at"`
	ExpiresAt      time.Time `json:"expires_at"`
}

// Who names the member a request is about.
func (i staffChangeItem) Who() string {
	if i.TargetUsername != "" {
		return i.TargetUsername
	}
	return i.Username
}

type initialPasswordData struct {
	Username string
	Password string
	Sole     bool
}

// afterStaffChange answers a staff change: the first password once, on
// this page; a pending request to the list of requests; else the notice.
func (a *app) afterStaffChange(c echo.Context, out changeAnswer, username, notice string) error {
	if out.InitialPassword != "" {
		if out.Username != "" {
			username = out.Username
		}
		return render(c, http.StatusOK, "staff/initial_password.html", view{Title: "staffpw.title",
			Data: initialPasswordData{Username: username, Password: out.InitialPassword, Sole: out.Sole}})
	}
	if out.StaffChange != nil && out.StaffChange.Status == "pending" {
		return c.Redirect(http.StatusSeeOther, "/console/staff-changes?notice=staff_change_requested")
	}
	if notice == "" && out.StaffChange != nil {
		return c.Redirect(http.StatusSeeOther, "/console/staff-changes?notice=staff_change_"+out.StaffChange.Status)
	}
	if notice == "" {
		notice = "staff_updated"
	}
	return c.Redirect(http.StatusSeeOther, "/console/staff?notice="+notice)
}

func (a *app) staffChangesPage(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	var d struct {
		Changes []staffChangeItem `json:"staff_changes"`
	}
	e := a.call(c, asSignedIn, http.MethodGet, "/v1/staff-changes?status=pending", nil, &d)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		return fail(c, e)
	}
	return render(c, http.StatusOK, "staff/changes.html", view{Title: "staffchanges.title", Data: d.Changes})
}

func (a *app) decideStaffChange(decision string) echo.HandlerFunc {
	return func(c echo.Context) error {
		var out changeAnswer
		body := map[string]any{}
		if decision == "refuse" {
			body["reason"] = c.FormValue("reason")
		}
		e := a.call(c, asSignedIn, http.MethodPost, "/v1/staff-changes/"+url.PathEscape(c.Param("id"))+"/"+decision, body, &out)
		if done, err := needSignIn(c, e); done {
			return err
		}
		if e != nil {
			return fail(c, e)
		}
		if out.StaffChange != nil {
			out.Username = out.StaffChange.Who()
		}
		return a.afterStaffChange(c, out, out.Username, "")
	}
}
