package web_test

import (
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C3.2 / C1.4: the review of name and ID number changes in the console.
// A terms editor is offered nothing and refused; an auditor reads a request
// without a decision form and is refused the decision; a reviewer finds
// the queue from the start page (oldest first, waiting time), reads the
// registered and requested values with the user's note and the run's link,
// is told field by field what a decision lacks (nothing changes), approves
// (the person's name changes), and a second decision is refused with the
// request's real state shown; a supervisor rejects another with a reason.
func TestDataChangeQueueDetailDecisionAndSecondDecisionRefused_C3_2(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewerTok, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewerTok)
	u2 := s.NewUser(reviewerTok)
	newName := "王新名"
	if u.Name == newName {
		newName = "王另名"
	}
	first := s.Expect(s.Do("POST", "/v1/me/data-changes", map[string]string{"name": newName,
		"note": "已在派出所办理更名，带户口簿原件到窗口核对"}, testenv.Bearer(u.Token)), http.StatusAccepted).Str("id")
	newID := testenv.NewPerson().IDNumber
	second := s.Expect(s.Do("POST", "/v1/me/data-changes", map[string]string{"id_number": newID}, testenv.Bearer(u2.Token)),
		http.StatusAccepted).Str("id")

	type changeRow struct {
		Status    string         `db:"status"`
		Reason    sql.NullString `db:"reason"`
		DecidedBy sql.NullString `db:"decided_by"`
		Name      string         `db:"name"`
		IDNumber  string         `db:"id_number"`
	}
	load := func(id string) changeRow {
		var r changeRow
		require.NoError(t, s.DB.Get(&r, `SELECT d.status, d.reason, d.decided_by, p.name, p.id_number FROM data_changes d
			JOIN accounts a ON a.id = d.account_id JOIN people p ON p.id = a.person_id WHERE d.id = $1`, id))
		return r
	}
	unchanged := func(id, name string) {
		t.Helper()
		r := load(id)
		require.Equal(t, "pending", r.Status)
		require.False(t, r.DecidedBy.Valid)
		require.Equal(t, name, r.Name)
	}

	// Only staff get the link to the review's run.
	mine := s.Expect(s.Do("GET", "/v1/data-changes/"+first, nil, testenv.Bearer(u.Token)), http.StatusOK)
	_, hasRun := mine.Body["workflow_url"]
	require.False(t, hasRun)

	// A terms editor: no link, no queue, no request, no decision.
	ed := newAgent(t, s)
	eu, epw := staff(t, s, workflows.RoleTermsEditor)
	ed.signIn(eu, epw, epw+"-changed")
	require.NotContains(t, ed.get("/console").Body, `href="/console/data-changes"`)
	require.Equal(t, http.StatusForbidden, ed.get("/console/data-changes").Status)
	require.Equal(t, http.StatusNotFound, ed.get("/console/data-changes/"+first).Status)
	r := ed.post("/console/data-changes/"+first+"/decision", url.Values{"decision": {"approve"}})
	require.Equal(t, http.StatusForbidden, r.Status, r.Body)

	// An auditor reads the request, without a decision form, and is refused.
	aud := newAgent(t, s)
	au, apw := staff(t, s, workflows.RoleAuditor)
	aud.signIn(au, apw, apw+"-changed")
	read := aud.get("/console/data-changes/" + first)
	require.Equal(t, http.StatusOK, read.Status, read.Body)
	require.Contains(t, read.Body, `id="dchange-reader"`)
	require.NotContains(t, read.Body, `id="dchange-decide"`)
	require.Equal(t, http.StatusForbidden, aud.get("/console/data-changes").Status)
	r = aud.post("/console/data-changes/"+first+"/decision", url.Values{"decision": {"approve"}})
	require.Equal(t, http.StatusForbidden, r.Status, r.Body)
	unchanged(first, u.Name)

	// The reviewer: the queue, oldest first, with the waiting time.
	rev := newAgent(t, s)
	ru, rpw := staff(t, s, workflows.RoleReviewer)
	rev.signIn(ru, rpw, rpw+"-changed")
	var revID string
	require.NoError(t, s.DB.Get(&revID, `SELECT id FROM staff WHERE username = $1`, ru))
	require.Contains(t, rev.get("/console").Body, `href="/console/data-changes"`)
	q := rev.get("/console/data-changes")
	require.Equal(t, http.StatusOK, q.Status, q.Body)
	i1, i2 := strings.Index(q.Body, `data-id="`+first+`"`), strings.Index(q.Body, `data-id="`+second+`"`)
	require.True(t, i1 >= 0 && i2 > i1, "both waiting, the older first")
	require.Contains(t, q.Body, `data-waiting="`)
	require.Contains(t, q.Body, "分钟")
	require.NotContains(t, q.Body, newID, "the queue shows which fields, the request shows the values")

	// The request: registered and requested values, the note, the run.
	page := rev.get("/console/data-changes/" + first)
	require.Equal(t, http.StatusOK, page.Status, page.Body)
	require.Contains(t, page.Body, `<td class="old">`+u.Name+`</td><td class="new">`+newName+`</td>`)
	require.Contains(t, page.Body, "带户口簿原件到窗口核对")
	require.Contains(t, page.Body, `id="temporal-link"`)
	require.Contains(t, page.Body, `/workflows/`+url.PathEscape(workflows.DataChangeWorkflowID(first)))
	require.Contains(t, page.Body, `<label for="f-reason"`)
	require.Contains(t, page.Body, `<legend>审核决定</legend>`)

	// Field errors under their fields; nothing changes.
	bad := rev.post("/console/data-changes/"+first+"/decision", url.Values{"decision": {"reject"}, "reason": {"  "}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, bad.Body)
	require.Contains(t, bad.Body, `id="reason-error"`)
	require.Contains(t, bad.Body, `aria-invalid="true" aria-describedby="reason-error"`)
	require.Contains(t, bad.Body, `value="reject" checked`)
	bad = rev.post("/console/data-changes/"+first+"/decision", url.Values{})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, bad.Body)
	require.Contains(t, bad.Body, `id="decision-error"`)
	unchanged(first, u.Name)

	// Approval changes the registered name.
	ok := rev.post("/console/data-changes/"+first+"/decision", url.Values{"decision": {"approve"}})
	require.Equal(t, http.StatusSeeOther, ok.Status, ok.Body)
	require.Equal(t, "/console/data-changes/"+first+"?notice=decided", ok.Location)
	row := load(first)
	require.Equal(t, "approved", row.Status)
	require.Equal(t, revID, row.DecidedBy.String)
	require.Equal(t, newName, row.Name)
	after := rev.get(ok.Location)
	require.Contains(t, after.Body, `id="notice"`)
	require.Contains(t, after.Body, `data-status="approved"`)
	require.Contains(t, after.Body, `id="dchange-closed"`)
	require.NotContains(t, after.Body, `id="dchange-decide"`)

	// A second decision (a stale page) is refused; the real state shows.
	again := rev.post("/console/data-changes/"+first+"/decision", url.Values{"decision": {"reject"}, "reason": {"证件不符"}})
	require.Equal(t, http.StatusConflict, again.Status, again.Body)
	require.Contains(t, again.Body, `id="problem"`)
	require.Contains(t, again.Body, "您的决定未被接受：此申请已有决定，当前状态如下。")
	require.Contains(t, again.Body, `data-status="approved"`)
	row = load(first)
	require.Equal(t, "approved", row.Status)
	require.False(t, row.Reason.Valid)
	require.Equal(t, newName, row.Name)
	q = rev.get("/console/data-changes")
	require.NotContains(t, q.Body, `data-id="`+first+`"`, "a decided request leaves the queue")

	// A supervisor rejects the other with a reason; the ID number stays.
	sup := newAgent(t, s)
	su, spw := staff(t, s, workflows.RoleSupervisor)
	sup.signIn(su, spw, spw+"-changed")
	require.Contains(t, sup.get("/console").Body, `href="/console/data-changes"`)
	other := sup.get("/console/data-changes/" + second)
	require.Contains(t, other.Body, `<td class="new">`+newID+`</td>`)
	rej := sup.post("/console/data-changes/"+second+"/decision", url.Values{"decision": {"reject"}, "reason": {"证件与户口簿不符"}})
	require.Equal(t, http.StatusSeeOther, rej.Status, rej.Body)
	row = load(second)
	require.Equal(t, "rejected", row.Status)
	require.Equal(t, "证件与户口簿不符", row.Reason.String)
	require.Equal(t, u2.IDNumber, row.IDNumber)
	require.Contains(t, sup.get(rej.Location).Body, `id="decision-reason"`)
}
