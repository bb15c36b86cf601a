package web

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/apitypes"
	"hrss-backoffice/internal/authz"
)

// Disclosure requests in the console (C2.3): personal data leaves only with
// the user's consent or as the law requires, decided by a second person,
// exported once and kept in a register.
//
//	GET  /console/disclosures               the register (GET /v1/disclosures) for its readers; open by number; link to file
//	GET  /console/disclosures/new           the form to file a request
//	POST /console/disclosures               POST /v1/disclosures
//	GET  /console/disclosures/{id}          GET /v1/disclosures/{id}: state, basis, consent, timeline, run link, forms
//	POST /console/disclosures/{id}/decision POST /v1/disclosures/{id}/decision (never the one who filed it)
//	POST /console/disclosures/{id}/export   POST /v1/disclosures/{id}/export: the data on a no-store page answering the POST
//
// The API decides who may do what; the pages offer only what the reader's
// roles allow and show the API's refusals.
func (a *app) disclosurePages() {
	a.get("/console/disclosures", a.disclosureRegisterPage)
	a.get("/console/disclosures/new", a.newDisclosurePage)
	a.post("/console/disclosures", a.fileDisclosure)
	a.get("/console/disclosures/:id", a.disclosurePage)
	a.post("/console/disclosures/:id/decision", a.decideDisclosure)
	a.post("/console/disclosures/:id/export", a.exportDisclosure)
}

var (
	disclosureStates = []string{"received", "awaiting_consent", "awaiting_approval", "approved", "delivered", "refused", "expired"}
	disclosureBases  = []string{"law", "user_authorised", "service_need"}
	// disclosableFields are the field codes a request may name (activities.DisclosableFields).
	disclosableFields = []string{"name", "id_number", "birth_date", "mobile", "email", "address",
		"account_status", "registered_at", "services", "agreement"}
)

// disclosure is the API's record of a request (apitypes.Disclosure, GET
// /v1/disclosures/{id}) with what the pages derive from it.
type disclosure struct{ apitypes.Disclosure }

// disclosures wraps the API's records for the pages.
func disclosures(in []apitypes.Disclosure) []disclosure {
	out := make([]disclosure, len(in))
	for i, d := range in {
		out[i] = disclosure{d}
	}
	return out
}

// Badge is the CSS class of the state's badge (the state is also written).
func (d disclosure) Badge() string {
	switch d.Status {
	case "approved", "delivered":
		return "approved"
	case "refused":
		return "rejected"
	case "expired":
		return "expired"
	}
	return "pending"
}

// short abbreviates a staff ID for the register's table; the full ID is
// in its title and on the request's page.
func short(id string) string {
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}

// ShortEnteredBy and ShortApprovedBy are the staff IDs as the register shows them.
func (d disclosure) ShortEnteredBy() string { return short(d.EnteredBy) }

func (d disclosure) ShortApprovedBy() string {
	if d.ApprovedBy == nil {
		return ""
	}
	return short(*d.ApprovedBy)
}

type discEvent struct {
	Kind  string
	At    time.Time
	Actor string // a staff ID, when a staff member acted
}

// Timeline puts the request's dated steps in order.
func (d disclosure) Timeline() []discEvent {
	ev := []discEvent{{Kind: "entered", At: d.EnteredAt, Actor: d.EnteredBy}}
	if d.ConsentAt != nil && d.ConsentDecision != nil {
		ev = append(ev, discEvent{Kind: "consent_" + *d.ConsentDecision, At: *d.ConsentAt})
	}
	if d.DecidedAt != nil && d.ApprovedBy != nil {
		kind := "approved"
		if d.Status == "refused" {
			kind = "refused"
		}
		ev = append(ev, discEvent{Kind: kind, At: *d.DecidedAt, Actor: *d.ApprovedBy})
	}
	if d.DeliveredAt != nil {
		actor := ""
		if d.DeliveredTo != nil {
			actor = *d.DeliveredTo
		}
		ev = append(ev, discEvent{Kind: "delivered", At: *d.DeliveredAt, Actor: actor})
	}
	if d.Status == "expired" && d.ClosedAt != nil {
		ev = append(ev, discEvent{Kind: "expired", At: *d.ClosedAt})
	}
	sort.SliceStable(ev, func(i, j int) bool { return ev[i].At.Before(ev[j].At) })
	return ev
}

type disclosureListData struct {
	Items   []disclosure
	Next    string
	Reader  bool         // may read the register
	Mine    []disclosure // a filer's own requests, when they may not read the register
	Filer   bool         // may file a request
	States  []string
	Bases   []string
	State   string
	Basis   string
	Account string
	More    string // the next page, with the same filters
}

// disclosureRegisterPage is the register for its readers, the "open by number"
// form and the way to file a request for the roles that may.
func (a *app) disclosureRegisterPage(c echo.Context) error {
	me, done, err := a.staffOnly(c)
	if done {
		return err
	}
	if n := c.QueryParam("request"); n != "" {
		if uuidPattern.MatchString(n) {
			return c.Redirect(http.StatusSeeOther, "/console/disclosures/"+n)
		}
	}
	d := disclosureListData{Reader: mayStaff(me.Staff.Roles, authz.DisclosureRegister), Filer: mayStaff(me.Staff.Roles, authz.DisclosureEnter),
		States: disclosureStates, Bases: disclosureBases}
	v := view{Title: "disc.title", Fields: map[string][]fieldError{}}
	status := http.StatusOK
	if n := c.QueryParam("request"); n != "" {
		v.Fields["request"] = []fieldError{{Field: "request", Code: "invalid",
			MessageZH: text("zh", "disc.bad_number"), MessageEN: text("en", "disc.bad_number")}}
		status = http.StatusUnprocessableEntity
	}
	// Somebody in neither group gets the API's own refusal of the register.
	if d.Reader || !d.Filer {
		q := url.Values{}
		if st := c.QueryParam("status"); hasRole(disclosureStates, st) {
			q.Set("status", st)
			d.State = st
		}
		if b := c.QueryParam("basis"); hasRole(disclosureBases, b) {
			q.Set("basis", b)
			d.Basis = b
		}
		if acc := strings.TrimSpace(c.QueryParam("account_id")); acc != "" {
			d.Account = acc
			if uuidPattern.MatchString(acc) {
				q.Set("account_id", acc)
			} else {
				v.Fields["account_id"] = []fieldError{{Field: "account_id", Code: "invalid",
					MessageZH: text("zh", "disc.bad_account"), MessageEN: text("en", "disc.bad_account")}}
				status = http.StatusUnprocessableEntity
			}
		}
		if after := c.QueryParam("after"); after != "" {
			q.Set("after", after)
		}
		path := "/v1/disclosures"
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
		// A bad filter shows its error and no register.
		if v.Fields["account_id"] == nil || !d.Reader {
			var page apitypes.DisclosureRegister
			if e := a.call(c, asSignedIn, http.MethodGet, path, nil, &page); e != nil {
				if done, err := needSignIn(c, e); done {
					return err
				}
				return fail(c, e)
			}
			d.Items, d.Next = disclosures(page.Items), page.NextCursor
		}
		if d.Next != "" {
			q.Set("after", d.Next)
			d.More = "/console/disclosures?" + q.Encode()
		}
	} else {
		// A filer who may not read the register still finds their own
		// requests (they alone export them).
		var mine apitypes.DisclosureRegister
		if e := a.call(c, asSignedIn, http.MethodGet, "/v1/disclosures?mine=true&limit=200", nil, &mine); e != nil {
			if done, err := needSignIn(c, e); done {
				return err
			}
			return fail(c, e)
		}
		d.Mine = disclosures(mine.Items)
	}
	v.Data = d
	return render(c, status, "disclosures/list.html", v)
}

type newDisclosureData struct {
	Bases    []string
	Fields   []string
	Services services
}

func (a *app) showNewDisclosure(c echo.Context, status int, v view) error {
	me, done, err := a.staffOnly(c)
	if done {
		return err
	}
	// The form is not offered to a role the API would refuse (its POST
	// still gets the API's own refusal).
	if !mayStaff(me.Staff.Roles, authz.DisclosureEnter) {
		return fail(c, newAPIError(http.StatusForbidden, "forbidden",
			text("zh", "disc.not_filer"), text("en", "disc.not_filer")))
	}
	d := newDisclosureData{Bases: disclosureBases, Fields: disclosableFields}
	d.Services, _ = a.catalogue(c)
	v.Title, v.Data, v.Back = "disc.new", d, "/console/disclosures/new"
	return render(c, status, "disclosures/new.html", v)
}

func (a *app) newDisclosurePage(c echo.Context) error {
	return a.showNewDisclosure(c, http.StatusOK, view{})
}

// fileDisclosure sends the form to POST /v1/disclosures. Every key goes
// along (empty when left empty) so that the API names each missing field.
func (a *app) fileDisclosure(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	form, _ := c.FormParams()
	subject := map[string]string{}
	if v := strings.TrimSpace(form.Get("account_id")); v != "" {
		subject["account_id"] = v
	}
	if v := strings.TrimSpace(form.Get("id_number")); v != "" {
		subject["id_number"] = v
	}
	fields := form["fields"]
	if fields == nil {
		fields = []string{}
	}
	body := map[string]any{"subject": subject, "requester": form.Get("requester"), "basis": form.Get("basis"),
		"purpose": form.Get("purpose"), "fields": fields}
	for _, k := range []string{"legal_reference", "department", "service_code"} {
		if v := strings.TrimSpace(form.Get(k)); v != "" {
			body[k] = v
		}
	}
	if ref, until := strings.TrimSpace(form.Get("secrecy_reference")), strings.TrimSpace(form.Get("secrecy_until")); ref != "" || until != "" {
		body["secrecy_order"] = map[string]string{"reference": ref, "until": localTime(until)}
	}
	var out apitypes.DisclosureFiled
	e := a.call(c, asSignedIn, http.MethodPost, "/v1/disclosures", body, &out)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		if e.Status >= 500 || e.Status == http.StatusForbidden || e.Status == http.StatusNotFound {
			return fail(c, e)
		}
		form.Del("csrf")
		return a.showNewDisclosure(c, e.Status, view{Err: e, Form: form})
	}
	return c.Redirect(http.StatusSeeOther, "/console/disclosures/"+url.PathEscape(out.ID)+"?notice=disclosure_filed")
}

type disclosureData struct {
	D          disclosure
	RunURL     string
	SearchURL  string
	MeID       string
	Decider    bool // an approver role, not the filer, and the request waits for approval
	SelfFiled  bool // the reader filed it and holds an approver role (four eyes)
	Exporter   bool // the filer, and the data waits for export
	UserDecide bool // a user_authorised request: the user decides
	Services   services
}

// disclosureSearchURL is the Temporal web UI's list of runs filtered by
// the request's search attributes.
func disclosureSearchURL(workflowURL, id string) string {
	i := strings.Index(workflowURL, "/workflows/")
	if i < 0 {
		return ""
	}
	q := `HrssKind = "disclosure" AND WorkflowId = "disclosure/` + id + `"`
	return workflowURL[:i] + "/workflows?query=" + url.QueryEscape(q)
}

func (a *app) showDisclosure(c echo.Context, status int, v view) error {
	me, done, err := a.staffOnly(c)
	if done {
		return err
	}
	var out apitypes.DisclosureRecord
	if e := a.call(c, asSignedIn, http.MethodGet, "/v1/disclosures/"+url.PathEscape(c.Param("id")), nil, &out); e != nil {
		if done, err := needSignIn(c, e); done {
			return err
		}
		return fail(c, e)
	}
	dd := disclosure{out.Disclosure}
	d := disclosureData{D: dd, RunURL: out.WorkflowURL, SearchURL: disclosureSearchURL(out.WorkflowURL, dd.ID), MeID: me.Staff.ID,
		UserDecide: dd.Basis == "user_authorised"}
	approver := mayStaff(me.Staff.Roles, authz.DisclosureDecide)
	waiting := dd.Status == "awaiting_approval" && !d.UserDecide
	d.Decider = approver && waiting && dd.EnteredBy != me.Staff.ID
	d.SelfFiled = approver && waiting && dd.EnteredBy == me.Staff.ID
	d.Exporter = dd.Status == "approved" && dd.EnteredBy == me.Staff.ID
	if dd.ServiceCode != nil {
		d.Services, _ = a.catalogue(c)
	}
	v.Title, v.Data, v.Back = "disc.request", d, "/console/disclosures/"+dd.ID
	return render(c, status, "disclosures/detail.html", v)
}

func (a *app) disclosurePage(c echo.Context) error { return a.showDisclosure(c, http.StatusOK, view{}) }

// refusedOnDetail shows a refused action on the request's page with its
// real state: four eyes (403 four_eyes), a changed state (409), a closed
// delivery (410), or field errors (422). Other refusals get the refusal
// page.
func (a *app) refusedOnDetail(c echo.Context, e *apiError) error {
	form, _ := c.FormParams()
	form.Del("csrf")
	switch {
	case e.Status == http.StatusForbidden && e.Code == "four_eyes":
		return a.showDisclosure(c, http.StatusForbidden, view{Problem: "disc.four_eyes_refused", Err: e})
	case e.Status == http.StatusConflict || e.Status == http.StatusGone:
		return a.showDisclosure(c, e.Status, view{Problem: "disc.refused_state", Err: e})
	case e.Status == http.StatusUnprocessableEntity:
		return a.showDisclosure(c, e.Status, view{Err: e, Form: form})
	}
	return fail(c, e)
}

func (a *app) decideDisclosure(c echo.Context) error {
	if _, done, err := a.staffOnly(c); done {
		return err
	}
	id := c.Param("id")
	form, _ := c.FormParams()
	body := map[string]any{"decision": form.Get("decision")}
	if form.Get("decision") == "approve" && len(form["fields"]) > 0 {
		body["fields"] = form["fields"]
	}
	if r := strings.TrimSpace(form.Get("reason")); r != "" {
		body["reason"] = r
	}
	e := a.call(c, asSignedIn, http.MethodPost, "/v1/disclosures/"+url.PathEscape(id)+"/decision", body, nil)
	if done, err := needSignIn(c, e); done {
		return err
	}
	if e != nil {
		return a.refusedOnDetail(c, e)
	}
	return c.Redirect(http.StatusSeeOther, "/console/disclosures/"+url.PathEscape(id)+"?notice=disclosure_decided")
}
