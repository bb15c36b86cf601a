package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// "My registration data" (C3.2: keep it true and up to date): contact data
// changes at once (PATCH /v1/me); a name or ID number change goes to a
// reviewer (POST /v1/me/data-changes); the user's changes and their review
// (GET /v1/me/data-changes).
func (a *app) myDetailsPages() {
	a.get("/account/details", a.detailsPage)
	a.post("/account/details/contact", a.updateContact)
	a.post("/account/details/identity", a.requestIdentityChange)
}

func init() {
	addMessages(map[string][2]string{
		"my.details":                {"我的注册信息", "My registration data"},
		"details.intro":             {"请保持注册信息真实、准确、及时更新。", "Keep your registration data true, accurate and up to date."},
		"details.contact":           {"联系方式（立即生效）", "Contact data (changed at once)"},
		"details.contact_submit":    {"保存联系方式", "Save the contact data"},
		"details.identity":          {"姓名或身份证号码变更（须审核）", "Name or ID number change (reviewed)"},
		"details.identity_hint":     {"只填写要变更的项目。请携带户口簿或公安机关出具的变更证明，工作人员核对后决定。", "Fill in only what changes. Bring the household register or the police's certificate of the change; staff decide after checking it."},
		"details.identity_submit":   {"提交变更申请", "Ask for the change"},
		"details.new_name":          {"新姓名", "New name"},
		"details.new_id_number":     {"新身份证号码", "New ID number"},
		"details.changes":           {"我的变更记录", "My changes"},
		"details.requested":         {"提交时间", "Asked"},
		"details.fields":            {"项目", "Fields"},
		"details.status":            {"状态", "Status"},
		"dckind.contact":            {"联系方式", "contact data"},
		"dckind.identity":           {"姓名或身份证号码", "name or ID number"},
		"dcstatus.pending":          {"待审核", "waiting for review"},
		"dcstatus.approved":         {"已批准", "approved"},
		"dcstatus.rejected":         {"已驳回", "rejected"},
		"dcstatus.applied":          {"已生效", "applied"},
		"notice.contact_updated":    {"联系方式已更新。", "Your contact data is updated."},
		"notice.contact_same":       {"没有变化：与现登记信息相同。", "Nothing changed: these are your registered data."},
		"notice.identity_requested": {"变更申请已提交，等待审核。", "Your change is asked for and waits for review."},
	})
}

type detailsData struct {
	Me      meAnswer
	Changes []map[string]any
}

func (a *app) showDetails(c echo.Context, v view) error {
	var me meAnswer
	if done, err := a.userCall(c, "/v1/me", &me); done {
		return err
	}
	var changes struct {
		Items []map[string]any `json:"items"`
	}
	if done, err := a.userCall(c, "/v1/me/data-changes", &changes); done {
		return err
	}
	return page(c, "myaccount/details.html", "my.details", v, detailsData{Me: me, Changes: changes.Items})
}

func (a *app) detailsPage(c echo.Context) error { return a.showDetails(c, view{}) }

func (a *app) updateContact(c echo.Context) error {
	body := map[string]any{"mobile": c.FormValue("mobile"), "email": c.FormValue("email"), "address": c.FormValue("address")}
	var out struct {
		Changed []string `json:"changed"`
	}
	if done, err := a.userPost(c, http.MethodPatch, "/v1/me", body, &out, func(v view) error { return a.showDetails(c, v) }); done {
		return err
	}
	if len(out.Changed) == 0 {
		return c.Redirect(http.StatusSeeOther, "/account/details?notice=contact_same")
	}
	return c.Redirect(http.StatusSeeOther, "/account/details?notice=contact_updated")
}

func (a *app) requestIdentityChange(c echo.Context) error {
	body := map[string]any{"note": c.FormValue("note")}
	for _, f := range []string{"name", "id_number"} {
		if v := c.FormValue(f); v != "" {
			body[f] = v
		}
	}
	if done, err := a.userPost(c, http.MethodPost, "/v1/me/data-changes", body, nil, func(v view) error { return a.showDetails(c, v) }); done {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account/details?notice=identity_requested")
}
