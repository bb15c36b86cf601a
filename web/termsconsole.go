package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/authz"
)

// Terms revisions in the console for terms editors and administrators: a
// draft (POST /v1/terms), a version with its publish button (GET
// /v1/terms/{v}, POST .../publish), the campaign's progress with a progress
// bar and pause/resume (GET /v1/terms/{v}/campaign, POST .../pause|resume);
// and announcements for administrators (GET/POST /v1/announcements).
func (a *app) termsConsolePages() {
	a.get("/console/terms", a.termsConsole)
	a.post("/console/terms", a.draftTerms)
	a.get("/console/terms/:version", a.termsVersionPage)
	a.post("/console/terms/:version/publish", a.publishTerms)
	a.post("/console/terms/:version/pause", a.pauseCampaign)
	a.post("/console/terms/:version/resume", a.resumeCampaign)
	a.get("/console/announcements", a.announcementsPage)
	a.post("/console/announcements", a.createAnnouncement)
}

func init() {
	addMessages(map[string][2]string{
		"tconsole.title":                {"用户承诺书修订", "Terms revisions"},
		"tconsole.open":                 {"打开版本", "Open a version"},
		"tconsole.versions":             {"全部版本（最新在前）", "All versions (newest first)"},
		"tconsole.state":                {"状态", "State"},
		"tconsole.draft":                {"起草新版本", "Draft a new version"},
		"tconsole.draft_submit":         {"保存草稿", "Save the draft"},
		"field.version":                 {"版本号", "Version"},
		"field.title":                   {"标题", "Title"},
		"field.summary":                 {"修订摘要", "Summary of changes"},
		"field.effective_at":            {"生效时间（北京时间）", "In force from (China Standard Time)"},
		"tconsole.body":                 {"全文", "Full text"},
		"tconsole.version_title":        {"承诺书版本", "Terms version"},
		"tconsole.draft_state":          {"草稿", "draft"},
		"tconsole.published":            {"发布时间", "Published"},
		"tconsole.publish":              {"发布并通知用户", "Publish and notify the users"},
		"tconsole.campaign":             {"通知进度", "Campaign progress"},
		"tconsole.progress":             {"已写入站内通知 %d / %d", "%d of %d inbox notices written"},
		"tconsole.cstatus":              {"状态", "Status"},
		"tconsole.messages":             {"短信及邮件", "SMS and e-mail"},
		"tconsole.queued":               {"排队", "queued"},
		"tconsole.sent":                 {"已发送", "sent"},
		"tconsole.abandoned":            {"放弃", "abandoned"},
		"tconsole.positions":            {"用户态度", "Positions"},
		"tconsole.pause":                {"暂停", "Pause"},
		"tconsole.resume":               {"继续", "Resume"},
		"tconsole.temporal":             {"在 Temporal 网页界面中查看通知流程", "The campaign's run in the Temporal web UI"},
		"cstatus.running":               {"进行中", "running"},
		"cstatus.paused":                {"已暂停", "paused"},
		"cstatus.completed":             {"已完成", "completed"},
		"notice.terms_drafted":          {"草稿已保存。", "The draft is saved."},
		"notice.terms_published":        {"已发布，通知正在发送。", "Published; the notices are going out."},
		"notice.campaign_paused":        {"通知已暂停。", "The campaign is paused."},
		"notice.campaign_resumed":       {"通知已继续。", "The campaign is running again."},
		"ann.title":                     {"公告", "Announcements"},
		"ann.current":                   {"当前公告", "Current announcements"},
		"ann.create":                    {"发布公告", "Publish an announcement"},
		"ann.kind":                      {"类型", "Kind"},
		"ann.kind.service_interruption": {"服务中断", "service interruption"},
		"ann.kind.rule_change":          {"规则变更", "rule change"},
		"field.title_zh":                {"标题（中文）", "Title (Chinese)"},
		"field.title_en":                {"标题（英文）", "Title (English)"},
		"field.body_zh":                 {"正文（中文）", "Text (Chinese)"},
		"field.body_en":                 {"正文（英文）", "Text (English)"},
		"field.starts_at":               {"开始时间（北京时间）", "Starts (China Standard Time)"},
		"field.ends_at":                 {"结束时间（北京时间）", "Ends (China Standard Time)"},
		"ann.services_hint":             {"不选择时发给所有用户。", "Choose none to reach every user."},
		"ann.window":                    {"有效期", "Window"},
		"notice.announced":              {"公告正在发布。", "The announcement is being published."},
	})
}

// localTime reads a datetime-local field as China Standard Time and gives
// it in RFC 3339 (empty or unreadable input goes to the API as is, which
// names the field).
func localTime(s string) string {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, shanghai); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return s
}

func (a *app) termsConsole(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	if v := c.QueryParam("version"); v != "" {
		return c.Redirect(http.StatusSeeOther, "/console/terms/"+url.PathEscape(v))
	}
	return render(c, http.StatusOK, "terms/console.html", view{Title: "tconsole.title", Data: a.termsVersions(c)})
}

// termsVersions lists the versions, drafts included for editors (GET
// /v1/terms); the page works without the list if the call fails.
func (a *app) termsVersions(c echo.Context) []map[string]any {
	var out struct {
		Items []map[string]any `json:"items"`
	}
	if e := a.call(c, asSignedIn, http.MethodGet, "/v1/terms", nil, &out); e != nil {
		return nil
	}
	return out.Items
}

func (a *app) draftTerms(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	v := c.FormValue("version")
	body := map[string]any{"version": v, "title": c.FormValue("title"), "body": c.FormValue("body"),
		"summary": c.FormValue("summary"), "effective_at": localTime(c.FormValue("effective_at"))}
	if done, err := a.staffPost(c, "/v1/terms", body, func(st int, vw view) error {
		vw.Title, vw.Data = "tconsole.title", a.termsVersions(c)
		return render(c, st, "terms/console.html", vw)
	}); done {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/console/terms/"+url.PathEscape(v)+"?notice=terms_drafted")
}

type termsVersionData struct {
	Version  map[string]any
	Campaign map[string]any
	Done     int64
	Total    int64
}

func num(v any) int64 {
	if f, ok := v.(float64); ok {
		return int64(f)
	}
	return 0
}

func (a *app) showTermsVersion(c echo.Context, status int, v view) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	ver := url.PathEscape(c.Param("version"))
	var d termsVersionData
	if e := a.call(c, asSignedIn, http.MethodGet, "/v1/terms/"+ver, nil, &d.Version); e != nil {
		if done, err := needSignIn(c, e); done {
			return err
		}
		return fail(c, e)
	}
	if d.Version["published_at"] != nil {
		if e := a.call(c, asSignedIn, http.MethodGet, "/v1/terms/"+ver+"/campaign", nil, &d.Campaign); e != nil {
			return fail(c, e)
		}
		d.Done, d.Total = num(d.Campaign["notices_written"]), num(d.Campaign["users_targeted"])
	}
	v.Title, v.Data, v.Back = "tconsole.version_title", d, "/console/terms/"+c.Param("version")
	return render(c, status, "terms/version.html", v)
}

func (a *app) termsVersionPage(c echo.Context) error {
	return a.showTermsVersion(c, http.StatusOK, view{})
}

func (a *app) termsAction(c echo.Context, action, notice string) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	ver := c.Param("version")
	path := "/v1/terms/" + url.PathEscape(ver) + "/" + action
	if done, err := a.staffPost(c, path, nil, func(st int, v view) error { return a.showTermsVersion(c, st, v) }); done {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/console/terms/"+url.PathEscape(ver)+"?notice="+notice)
}

func (a *app) publishTerms(c echo.Context) error {
	return a.termsAction(c, "publish", "terms_published")
}
func (a *app) pauseCampaign(c echo.Context) error {
	return a.termsAction(c, "campaign/pause", "campaign_paused")
}
func (a *app) resumeCampaign(c echo.Context) error {
	return a.termsAction(c, "campaign/resume", "campaign_resumed")
}

type announcementsData struct {
	Announcements []map[string]any `json:"announcements"`
	Services      services
}

func (a *app) showAnnouncements(c echo.Context, status int, v view) error {
	me, done, err := a.staffOnly(c)
	if done {
		return err
	}
	if !mayStaff(me.Staff.Roles, authz.AnnouncementCreate) {
		// The list is public; the page is the administrator's form.
		return fail(c, newAPIError(http.StatusForbidden, "forbidden",
			"只有管理员可以发布公告", "only administrators publish announcements"))
	}
	var d announcementsData
	if e := a.call(c, anonymous, http.MethodGet, "/v1/announcements", nil, &d); e != nil {
		return fail(c, e)
	}
	d.Services, _ = a.catalogue(c)
	v.Title, v.Data = "ann.title", d
	return render(c, status, "terms/announcements.html", v)
}

func (a *app) announcementsPage(c echo.Context) error {
	return a.showAnnouncements(c, http.StatusOK, view{})
}

func (a *app) createAnnouncement(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	form, _ := c.FormParams()
	body := map[string]any{"kind": form.Get("kind"), "title_zh": form.Get("title_zh"), "title_en": form.Get("title_en"),
		"starts_at": localTime(form.Get("starts_at")), "ends_at": localTime(form.Get("ends_at"))}
	for _, k := range []string{"body_zh", "body_en"} {
		if s := form.Get(k); s != "" {
			body[k] = s
		}
	}
	if len(form["services"]) > 0 {
		body["services"] = form["services"]
	}
	e := a.call(c, asSignedIn, http.MethodPost, "/v1/announcements", body, nil)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		if e.Status >= 500 || e.Status == http.StatusForbidden {
			return fail(c, e)
		}
		form.Del("csrf")
		return a.showAnnouncements(c, e.Status, view{Err: e, Form: form})
	}
	return c.Redirect(http.StatusSeeOther, "/console/announcements?notice=announced")
}
