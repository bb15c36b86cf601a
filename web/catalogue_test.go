package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C1.4, C3.4(6), C2.7: the catalogue in the console. A terms editor
// creates a service with rules entered as fields (a refused form shows the
// field errors and keeps the input), changes its rules and retires it; a
// reviewer has no such screen; an auditor reads it without the forms.
func TestServiceCataloguePages_C1_4_C3_4_6(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ed := newAgent(t, s)
	eu, epw := staff(t, s, workflows.RoleTermsEditor)
	ed.signIn(eu, epw, epw+"-changed")
	require.Contains(t, ed.get("/console").Body, `href="/console/services"`)
	page := ed.get("/console/services")
	require.Equal(t, http.StatusOK, page.Status)
	require.Contains(t, page.Body, `data-code="pension_claim"`)
	require.Contains(t, page.Body, `<label for="f-region_codes"`)

	bad := ed.post("/console/services", url.Values{"code": {"Bad Code"}, "name_zh": {"测试服务"}, "name_en": {"Test"},
		"min_age": {"70"}, "max_age": {"60"}, "region_codes": {"0101"}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, bad.Body)
	for _, f := range []string{"code", "max_age", "region_codes"} {
		require.Contains(t, bad.Body, `id="`+f+`-error"`, f)
	}
	require.Contains(t, bad.Body, `value="测试服务"`)

	ok := ed.post("/console/services", url.Values{"code": {"city_card"}, "name_zh": {"市民卡"}, "name_en": {"City card"},
		"min_age": {"16"}, "region_codes": {"3101, 3102"}, "place_names": {"上海市"}, "scheme": {"any"}})
	require.Equal(t, http.StatusSeeOther, ok.Status, ok.Body)
	page = ed.get("/console/services")
	require.Contains(t, page.Body, `data-code="city_card" data-status="available"`)
	require.Contains(t, page.Body, `data-rule="household_or_residence"`)
	require.Contains(t, page.Body, `data-rule="insured"`)

	// The reviewer confirms the insurance record on the decision page; the
	// service opens only with it.
	rev := newAgent(t, s)
	ru, rpw := staff(t, s, workflows.RoleReviewer)
	rev.signIn(ru, rpw, rpw+"-changed")
	var accounts []string
	for _, quals := range [][]string{nil, {"insured_resident"}} {
		id, _ := s.Register(testenv.NewPerson(), "city_card")
		s.WaitForStatus(id, "pending")
		require.Contains(t, rev.get("/console/applications/"+id).Body, `value="insured_resident"`)
		d := rev.post("/console/applications/"+id+"/decision", url.Values{"decision": {"approve"}, "qualifications": quals})
		require.Less(t, d.Status, 400, d.Body)
		var account string
		require.NoError(t, s.DB.Get(&account, `SELECT account_id FROM applications WHERE id = $1`, id))
		accounts = append(accounts, account)
	}
	var opened []string
	require.NoError(t, s.DB.Select(&opened, `SELECT account_id FROM account_services WHERE service_code = 'city_card'`))
	require.Equal(t, accounts[1:], opened)

	ch := ed.post("/console/services/city_card/changes", url.Values{"kind": {"rules"}, "min_age": {"18"}, "note_zh": {"年龄调整"}})
	require.Equal(t, http.StatusSeeOther, ch.Status, ch.Body)
	testenv.Eventually(t, 30*time.Second, "the rules change to complete", func() bool {
		return strings.Contains(ed.get("/console/services").Body, `data-change-status="completed"`)
	})
	ret := ed.post("/console/services/city_card/changes", url.Values{"kind": {"retire"}})
	require.Equal(t, http.StatusSeeOther, ret.Status, ret.Body)
	testenv.Eventually(t, 30*time.Second, "the service to be retired", func() bool {
		return strings.Contains(ed.get("/console/services").Body, `data-code="city_card" data-status="retired"`)
	})
	require.NotContains(t, ed.get("/console/services").Body, `id="manage-city_card"`)

	require.NotContains(t, rev.get("/console").Body, `href="/console/services"`)
	require.Equal(t, http.StatusForbidden, rev.get("/console/services").Status)
	require.Equal(t, http.StatusForbidden, rev.post("/console/services", url.Values{"code": {"x_y"}}).Status)

	aud := newAgent(t, s)
	au, apw := staff(t, s, workflows.RoleAuditor)
	aud.signIn(au, apw, apw+"-changed")
	read := aud.get("/console/services")
	require.Equal(t, http.StatusOK, read.Status)
	require.Contains(t, read.Body, `data-code="city_card"`)
	require.NotContains(t, read.Body, `action="/console/services"`)
}
