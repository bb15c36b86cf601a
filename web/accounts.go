package web

import (
	"net/http"
	"net/url"
	"regexp"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/apitypes"
	"hrss-backoffice/internal/authz"
)

// An account in the console: its activity record with its password and
// lock state (GET /v1/accounts/{id}/activity), and the counter password
// reset after an in-person identity check (POST /v1/accounts/{id}/password-reset)
// with the one-time pickup on the printable slip (POST
// /v1/password-resets/{id}/initial-password).
func (a *app) accountConsolePages() {
	a.get("/console/accounts", a.accountsPage)
	a.post("/console/accounts/search", a.findAccounts)
	a.get("/console/accounts/:id", a.accountConsolePage)
	a.post("/console/accounts/:id/password-reset", a.resetPassword)
	a.post("/console/accounts/:id/security-report", a.reportForCaller)
	a.post("/console/password-resets/:id/initial-password", a.pickUpReset)
}

var identityDocuments = []string{"resident_id_card", "temporary_resident_id_card", "household_register", "passport", "other"}

func init() {
	addMessages(map[string][2]string{
		"console.screens":                {"功能", "Screens"},
		"accounts.title":                 {"账户", "Accounts"},
		"accounts.open":                  {"打开账户", "Open an account"},
		"accounts.hint":                  {"输入账户编号（见申请或案件页面）。", "Enter the account number (shown on the application or case)."},
		"field.account":                  {"账户编号", "Account number"},
		"accounts.bad_id":                {"账户编号格式不正确", "this is not an account number"},
		"account_console.title":          {"账户与活动记录", "Account and activity record"},
		"account_console.state":          {"账户状态", "Account state"},
		"account_console.locked":         {"因被盗用报告锁定于", "Locked after a compromise report at"},
		"account_console.must":           {"待改初始密码", "Must change the initial password"},
		"reset.title":                    {"窗口重置密码", "Password reset at the counter"},
		"reset.hint":                     {"仅在当面核验本人身份证件后操作。所有登录将失效，新的初始密码只能由您领取一次。", "Only after checking the person's identity document in person. Every session ends; only you can pick up the new initial password, once."},
		"field.identity_document":        {"核验的证件", "Document checked"},
		"field.document_checked":         {"我已当面核验证件与本人一致", "I checked the document against the person in person"},
		"reset.office_hint":              {"（未填写时为您所在的服务网点）", "(your own office when left empty)"},
		"reset.submit":                   {"重置密码", "Reset the password"},
		"reset.issued":                   {"已重置：请领取新的初始密码", "Reset: pick up the new initial password"},
		"reset.lifted":                   {"被盗用锁定已解除。", "The compromise lock is lifted."},
		"doc.resident_id_card":           {"居民身份证", "resident ID card"},
		"doc.temporary_resident_id_card": {"临时居民身份证", "temporary resident ID card"},
		"doc.household_register":         {"户口簿", "household register"},
		"doc.passport":                   {"护照", "passport"},
		"doc.other":                      {"其他证件", "other document"},
		"caller_report.title":            {"代用户报告账户被盗用", "Report a compromise for the caller"},
		"caller_report.hint":             {"用户来电或到窗口报告账户被非法使用时填写：账户立即锁定、所有登录失效，之后须当面重置密码。", "When the user calls or comes in to report illegal use: the account locks at once, every session ends, and the password must then be reset in person."},
		"caller_report.submit":           {"锁定账户并记录报告", "Lock the account and record the report"},
		"notice.caller_report_locked":    {"报告已记录，账户已锁定。", "The report is recorded and the account is locked."},
		"accounts.find":                  {"按证件查找账户", "Find accounts by ID document"},
		"accounts.find_hint":             {"输入当面出示的居民身份证号码。查找会记入该用户的活动记录。", "Enter the number on the resident ID card shown in person. The lookup is recorded in the person's activity record."},
		"accounts.find_submit":           {"查找", "Find"},
		"accounts.found":                 {"找到的账户", "Accounts found"},
		"accounts.none":                  {"没有使用此证件号码的账户。", "No account uses this ID number."},
		"accounts.opened":                {"开户时间", "Opened"},
		"status.cancelled":               {"已注销（处罚）", "cancelled"},
		"status.deregistered":            {"已注销（本人申请）", "deregistered"},
		"action.account.looked_up":       {"工作人员按证件查找账户", "account looked up by staff"},
	})
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func (a *app) accountsPage(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	v := view{Title: "accounts.title"}
	if id := c.QueryParam("account"); id != "" {
		if uuidPattern.MatchString(id) {
			return c.Redirect(http.StatusSeeOther, "/console/accounts/"+id)
		}
		v.Fields = map[string][]fieldError{"account": {{Field: "account", Code: "invalid",
			MessageZH: text("zh", "accounts.bad_id"), MessageEN: text("en", "accounts.bad_id")}}}
		return render(c, http.StatusUnprocessableEntity, "accounts/accounts.html", v)
	}
	return render(c, http.StatusOK, "accounts/accounts.html", v)
}

// foundAccount is the document's AccountMatch (POST /v1/accounts/search).
type foundAccount struct{ apitypes.AccountMatch }

// Status is the account's state as the page's functions take it (a string).
func (f foundAccount) Status() string { return string(f.AccountMatch.Status) }

// foundAccounts is the answer of a lookup (possibly none).
type foundAccounts struct{ Items []foundAccount }

// findAccounts looks a person's accounts up by the ID number typed in at
// the counter. The number goes in the POST body to the API and is never
// put in a URL; the page answering the POST lists the accounts found.
func (a *app) findAccounts(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	var out apitypes.AccountMatches
	e := a.call(c, asSignedIn, http.MethodPost, "/v1/accounts/search", map[string]any{"id_number": c.FormValue("id_number")}, &out)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		if e.Status >= 500 || e.Status == http.StatusForbidden {
			return fail(c, e)
		}
		return render(c, e.Status, "accounts/accounts.html", view{Title: "accounts.title", Err: e})
	}
	return render(c, http.StatusOK, "accounts/accounts.html", view{Title: "accounts.title", Data: foundAccounts{Items: found(out.Items)}})
}

func found(in []apitypes.AccountMatch) []foundAccount {
	out := make([]foundAccount, len(in))
	for i, m := range in {
		out[i] = foundAccount{m}
	}
	return out
}

type accountConsoleData struct {
	ID        string
	Activity  map[string]any
	Documents []string
	Resetter  bool
	Reporter  bool // may report a compromise for the caller
	Messages  map[string]any
}

func (a *app) showAccount(c echo.Context, status int, v view) error {
	me, done, err := a.staffOnly(c)
	if done {
		return err
	}
	id := c.Param("id")
	d := accountConsoleData{ID: id, Documents: identityDocuments, Resetter: mayStaff(me.Staff.Roles, authz.PasswordReset),
		Reporter: mayStaff(me.Staff.Roles, authz.CompromiseReportForCaller)}
	path := "/v1/accounts/" + url.PathEscape(id) + "/activity?limit=50"
	if after := c.QueryParam("after"); after != "" {
		path += "&after=" + url.QueryEscape(after)
	}
	if e := a.call(c, asSignedIn, http.MethodGet, path, nil, &d.Activity); e != nil {
		if done, err := needSignIn(c, e); done {
			return err
		}
		return fail(c, e)
	}
	var merr *apiError
	if d.Messages, merr = a.accountMessages(c, id); merr != nil {
		return fail(c, merr)
	}
	v.Title, v.Data, v.Back = "account_console.title", d, "/console/accounts/"+id
	return render(c, status, "accounts/account.html", v)
}

func (a *app) accountConsolePage(c echo.Context) error {
	return a.showAccount(c, http.StatusOK, view{})
}

type resetData struct {
	ID               string `json:"id"`
	AccountID        string `json:"account_id"`
	Office           string `json:"office"`
	LiftedCompromise bool   `json:"lifted_compromise"`
	PickupExpiresAt  string `json:"pickup_expires_at"`
}

func (a *app) resetPassword(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	id := c.Param("id")
	body := map[string]any{"identity_document": c.FormValue("identity_document"),
		"document_checked": c.FormValue("document_checked") == "true"}
	if o := c.FormValue("office"); o != "" {
		body["office"] = o
	}
	if n := c.FormValue("note"); n != "" {
		body["note"] = n
	}
	var r resetData
	e := a.call(c, asSignedIn, http.MethodPost, "/v1/accounts/"+url.PathEscape(id)+"/password-reset", body, &r)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		if e.Status >= 500 || e.Status == http.StatusNotFound {
			return fail(c, e)
		}
		form, _ := c.FormParams()
		form.Del("csrf")
		return a.showAccount(c, e.Status, view{Err: e, Form: form})
	}
	return render(c, http.StatusCreated, "accounts/reset.html", view{Title: "reset.issued", Data: r, Back: "/console/accounts/" + id})
}

// reportForCaller records a compromise reported by the user over the phone
// or at the counter (POST /v1/accounts/{id}/security-reports): the account
// locks and its sessions end.
func (a *app) reportForCaller(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	id := c.Param("id")
	e := a.call(c, asSignedIn, http.MethodPost, "/v1/accounts/"+url.PathEscape(id)+"/security-reports",
		map[string]any{"description": c.FormValue("description")}, nil)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		if e.Status >= 500 || e.Status == http.StatusNotFound || e.Status == http.StatusForbidden {
			return fail(c, e)
		}
		form, _ := c.FormParams()
		form.Del("csrf")
		return a.showAccount(c, e.Status, view{Err: e, Form: form})
	}
	return c.Redirect(http.StatusSeeOther, "/console/accounts/"+url.PathEscape(id)+"?notice=caller_report_locked")
}

func (a *app) pickUpReset(c echo.Context) error {
	var p pickupData
	e := a.call(c, asSignedIn, http.MethodPost, "/v1/password-resets/"+url.PathEscape(c.Param("id"))+"/initial-password", nil, &p)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		return fail(c, e)
	}
	return render(c, http.StatusOK, "review/slip.html", view{Title: "slip.title", Data: p, Back: "/console"})
}
