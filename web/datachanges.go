package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/apitypes"
	"hrss-backoffice/internal/authz"
)

// The review of name and ID number changes (C3.2) in the console: the
// queue, oldest first, with the waiting time (GET /v1/review/data-changes),
// a request with the registered and the requested values, the user's note
// and the link to its run (GET /v1/data-changes/{id}), and the decision with
// a reason (POST /v1/data-changes/{id}/decision). Reviewers and supervisors
// decide; the other roles that read accounts may open a request; a refused
// second decision shows the request as it really is.
func (a *app) dataChangePages() {
	a.get("/console/data-changes", a.dataChangeQueuePage)
	a.get("/console/data-changes/:id", a.dataChangePage)
	a.post("/console/data-changes/:id/decision", a.decideDataChange)
}

// identityFields are the fields a reviewed change may touch, in page order.
var identityFields = []string{"name", "id_number"}

// queueLimit is how many requests the queue page asks for.
const queueLimit = 100

func init() {
	addMessages(map[string][2]string{
		"dchange.menu":        {"姓名、身份证号变更审核", "Name and ID number changes"},
		"dchange.queue_title": {"待审核的姓名、身份证号变更（最早提交的在前）", "Name and ID number changes waiting for review (oldest first)"},
		"dchange.empty":       {"目前没有待审核的变更申请。", "No change is waiting."},
		"dchange.more":        {"更多申请", "More requests"},
		"dchange.requested":   {"提交时间", "Requested"},
		"dchange.fields":      {"变更项目", "Fields"},
		"dchange.title":       {"姓名、身份证号变更申请", "Change of name or ID number"},
		"dchange.request":     {"申请", "Request"},
		"dchange.status":      {"状态", "Status"},
		"dchange.decided_at":  {"决定时间", "Decided"},
		"dchange.values":      {"变更内容", "The change"},
		"dchange.field":       {"项目", "Field"},
		"dchange.old":         {"现登记", "Registered"},
		"dchange.new":         {"申请变更为", "Requested"},
		"dchange.old_after":   {"原登记", "Registered before"},
		"dchange.note":        {"申请人说明", "The user's note"},
		"dchange.no_note":     {"申请人未填写说明。", "The user wrote no note."},
		"dchange.docs":        {"证明材料", "Supporting documents"},
		"dchange.docs_hint": {"变更姓名或身份证号须核对证明材料（如户口簿、公安机关出具的变更证明）。申请不附电子文件：请按申请人的说明，当面或通过服务网点核对原件后再作决定。",
			"A change of name or ID number needs supporting documents (household register, the police's certificate of the change). The request carries no file: check the originals as the user's note says, in person or through a service office, before deciding."},
		"dchange.temporal":     {"在 Temporal 网页界面中查看此申请的审核流程", "This request's review run in the Temporal web UI"},
		"dchange.decision":     {"审核决定", "Decision"},
		"dchange.reason_label": {"理由（驳回时必填，申请人可见；勿写个人资料）", "Reason (required to reject; the user reads it; write no personal data)"},
		"dchange.refused":      {"您的决定未被接受：此申请已有决定，当前状态如下。", "Your decision was not accepted: this change is already decided. Its current state is below."},
		"dchange.closed":       {"此申请已有决定。", "This change is decided."},
		"dchange.reader":       {"您的角色可以查看此申请，审核由审核人员或主管决定。", "Your roles may read this request; a reviewer or supervisor decides it."},
		"ddecision.approve":    {"批准（变更登记的信息）", "Approve (change the registered data)"},
		"ddecision.reject":     {"驳回", "Reject"},
	})
}

// dataChange is a change of registration data as the API gives it to staff
// (the document's DataChange).
type dataChange struct{ apitypes.DataChange }

// Status is the change's state as the page's functions take it (a string).
func (d dataChange) Status() string { return string(d.DataChange.Status) }

// Fields names the changed fields, in page order.
func (d dataChange) Fields() []string {
	var out []string
	for _, f := range identityFields {
		if _, ok := d.NewValues[f]; ok {
			out = append(out, f)
		}
	}
	return out
}

// valueRow is one field of the change: registered and requested values.
type valueRow struct {
	Field, Old, New string
}

func (d dataChange) Rows() []valueRow {
	var out []valueRow
	for _, f := range d.Fields() {
		out = append(out, valueRow{Field: f, Old: d.OldValues[f], New: d.NewValues[f]})
	}
	return out
}

type dataChangeQueueItem struct {
	dataChange
	WaitingSeconds int64
}

type dataChangeQueueData struct {
	Items []dataChangeQueueItem
	More  string // the next page
}

func (a *app) dataChangeQueuePage(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	var q apitypes.DataChangeQueue
	path := "/v1/review/data-changes?limit=" + strconv.Itoa(queueLimit)
	if after := c.QueryParam("after"); after != "" {
		path += "&after=" + url.QueryEscape(after)
	}
	if e := a.call(c, asSignedIn, http.MethodGet, path, nil, &q); e != nil {
		if done, err := needSignIn(c, e); done {
			return err
		}
		return fail(c, e)
	}
	d := dataChangeQueueData{}
	if q.NextCursor != "" {
		d.More = "/console/data-changes?after=" + url.QueryEscape(q.NextCursor)
	}
	now := time.Now()
	for _, it := range q.Items {
		w := int64(now.Sub(it.RequestedAt) / time.Second)
		if w < 0 {
			w = 0
		}
		d.Items = append(d.Items, dataChangeQueueItem{dataChange: dataChange{it}, WaitingSeconds: w})
	}
	return render(c, http.StatusOK, "datachanges/queue.html", view{Title: "dchange.menu", Data: d})
}

type dataChangeData struct {
	Change  dataChange
	Decider bool // reviewer or supervisor
}

func (a *app) showDataChange(c echo.Context, status int, v view) error {
	me, done, err := a.staffOnly(c)
	if done {
		return err
	}
	d := dataChangeData{Decider: mayStaff(me.Staff.Roles, authz.DataChangeDecide)}
	id := c.Param("id")
	if e := a.call(c, asSignedIn, http.MethodGet, "/v1/data-changes/"+url.PathEscape(id), nil, &d.Change.DataChange); e != nil {
		if done, err := needSignIn(c, e); done {
			return err
		}
		return fail(c, e)
	}
	v.Title, v.Data, v.Back = "dchange.title", d, "/console/data-changes/"+d.Change.ID
	return render(c, status, "datachanges/change.html", v)
}

func (a *app) dataChangePage(c echo.Context) error { return a.showDataChange(c, http.StatusOK, view{}) }

func (a *app) decideDataChange(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	id := c.Param("id")
	body := map[string]string{"decision": c.FormValue("decision")}
	if r := strings.TrimSpace(c.FormValue("reason")); r != "" {
		body["reason"] = r
	}
	e := a.call(c, asSignedIn, http.MethodPost, "/v1/data-changes/"+url.PathEscape(id)+"/decision", body, nil)
	if done, err := needSignIn(c, e); done {
		return err
	}
	switch {
	case e == nil:
		return c.Redirect(http.StatusSeeOther, "/console/data-changes/"+url.PathEscape(id)+"?notice=decided")
	case e.Status == http.StatusConflict:
		// Decided already (by someone else, or in another tab): nothing
		// changed; say so in the reader's language with the real state.
		return a.showDataChange(c, http.StatusConflict, view{Problem: "dchange.refused"})
	case e.Status >= 500 || e.Status == http.StatusForbidden || e.Status == http.StatusNotFound:
		return fail(c, e)
	default:
		form, _ := c.FormParams()
		form.Del("csrf")
		return a.showDataChange(c, e.Status, view{Err: e, Form: form})
	}
}
