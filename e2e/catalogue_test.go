package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

func findService(t *testing.T, list testenv.Response, code string) map[string]any {
	t.Helper()
	for _, it := range list.Body["services"].([]any) {
		if m := it.(map[string]any); m["code"] == code {
			return m
		}
	}
	return nil
}

// approveWith registers p for services and approves the application with
// the qualifications the reviewer confirmed; it returns the decision.
func approveWith(t *testing.T, s *testenv.Stack, reviewer string, p testenv.Person, quals []string, services ...string) testenv.Response {
	t.Helper()
	id, _ := s.Register(p, services...)
	s.WaitForStatus(id, "pending")
	body := map[string]any{"decision": "approve"}
	if quals != nil {
		body["qualifications"] = quals
	}
	return s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", body, testenv.Bearer(reviewer)), http.StatusOK)
}

func refusal(d testenv.Response, code string) string {
	refused, _ := d.Body["refused_services"].([]any)
	for _, r := range refused {
		if m := r.(map[string]any); m["code"] == code {
			return m["reason"].(string)
		}
	}
	return ""
}

// C1.4, C3.4(6): terms editors and administrators create a service with
// eligibility rules as data, and rename it; other roles may not; bad input
// is refused field by field and stores nothing. At approval each rule type
// is applied: household registration or residence in the city (ID
// number's division code, registered address, or a residence permit the
// reviewer confirmed) and insured status (confirmed by the reviewer).
func TestStaffManageServiceCatalogueAndRulesApply_C1_4_C3_4_6(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	editor, _ := s.Staff(workflows.RoleTermsEditor)
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	user := s.NewUser(reviewer)

	rules := []map[string]any{
		{"type": "household_or_residence", "region_codes": []string{"4401"}, "place_names": []string{"广州市"}},
		{"type": "insured", "scheme": "employee"},
		{"type": "age_range", "min_age": 18},
	}
	body := map[string]any{"code": "gz_housing_fund", "name_zh": "广州住房补贴", "name_en": "Guangzhou housing subsidy", "rules": rules}

	bad := s.Do("POST", "/v1/services", map[string]any{"code": "Bad Code", "name_zh": " ", "name_en": "Housing",
		"rules": []map[string]any{{"type": "age_range"}, {"type": "lottery"}, {"type": "insured", "scheme": "gold"}}}, testenv.Bearer(editor))
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, string(bad.Raw))
	require.ElementsMatch(t, []string{"code", "name_zh", "rules.0.min_age", "rules.1.type", "rules.2.scheme"}, bad.DetailFields())
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/services", body).Status)
	for _, tok := range []string{reviewer, user.Token} {
		require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/services", body, testenv.Bearer(tok)).Status)
	}
	require.Zero(t, dbCount(t, s, `SELECT count(*) FROM services WHERE code NOT IN
		('social_insurance_query', 'employment_registration', 'unemployment_benefit', 'pension_claim', 'vocational_training')`))

	created := s.Expect(s.Do("POST", "/v1/services", body, testenv.Bearer(editor)), http.StatusCreated)
	require.Equal(t, "/v1/services/gz_housing_fund", created.Header.Get("Location"))
	require.Equal(t, "service_exists", s.Do("POST", "/v1/services", body, testenv.Bearer(s.Admin())).ErrorCode())
	svc := findService(t, s.Expect(s.Do("GET", "/v1/services", nil), http.StatusOK), "gz_housing_fund")
	require.NotNil(t, svc)
	require.Equal(t, "available", svc["status"])
	require.Len(t, svc["rules"], 3)
	require.EqualValues(t, 18, svc["min_age"])

	// Renaming: names only, at once.
	require.Equal(t, []string{"name_en"}, s.Do("PATCH", "/v1/services/gz_housing_fund", map[string]any{"name_en": ""},
		testenv.Bearer(editor)).DetailFields())
	require.Equal(t, http.StatusForbidden, s.Do("PATCH", "/v1/services/gz_housing_fund", map[string]any{"name_en": "X service"},
		testenv.Bearer(reviewer)).Status)
	renamed := s.Expect(s.Do("PATCH", "/v1/services/gz_housing_fund", map[string]any{"name_en": "Guangzhou housing allowance"},
		testenv.Bearer(s.Admin())), http.StatusOK)
	require.Equal(t, "Guangzhou housing allowance", renamed.Str("name_en"))
	require.Equal(t, "广州住房补贴", renamed.Str("name_zh"))
	require.Equal(t, http.StatusNotFound, s.Do("PATCH", "/v1/services/no_such_service", map[string]any{"name_en": "Whatever"},
		testenv.Bearer(editor)).Status)
	require.Equal(t, 2, dbCount(t, s, `SELECT count(*) FROM audit_log WHERE record_kind = 'service' AND record_id = 'gz_housing_fund'`))

	// The reviewer's confirmations are checked.
	p := testenv.NewPerson()
	id, _ := s.Register(p, "gz_housing_fund")
	s.WaitForStatus(id, "pending")
	badQ := s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]any{"decision": "approve", "qualifications": []string{"insured_employee", "vip"}},
		testenv.Bearer(reviewer))
	require.Equal(t, []string{"qualifications.1"}, badQ.DetailFields())
	rejQ := s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]any{"decision": "reject", "reason": "x", "qualifications": []string{"insured_employee"}},
		testenv.Bearer(reviewer))
	require.Equal(t, []string{"qualifications"}, rejQ.DetailFields())
	require.Equal(t, "pending", dbString(t, s, `SELECT status FROM applications WHERE id = $1`, id))

	// household_or_residence: a Shanghai person without a residence permit
	// is refused; with one confirmed, the insured rule is next.
	d := s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]any{"decision": "approve"}, testenv.Bearer(reviewer)), http.StatusOK)
	require.Equal(t, "no_local_household_or_residence", refusal(d, "gz_housing_fund"))
	d = approveWith(t, s, reviewer, testenv.NewPerson(), []string{"residence_permit"}, "gz_housing_fund")
	require.Equal(t, "not_insured", refusal(d, "gz_housing_fund"))
	d = approveWith(t, s, reviewer, testenv.NewPerson(), []string{"residence_permit", "insured_resident"}, "gz_housing_fund")
	require.Equal(t, "not_insured", refusal(d, "gz_housing_fund"), "the rule asks for the employee scheme")
	// An address in the city counts as residence.
	local := testenv.NewPerson()
	local.Address = "广州市天河区体育西路 1 号"
	d = approveWith(t, s, reviewer, local, []string{"insured_employee"}, "gz_housing_fund", "social_insurance_query")
	require.Empty(t, d.Body["refused_services"])
	require.ElementsMatch(t, []any{"gz_housing_fund", "social_insurance_query"}, d.Body["opened_services"])
	require.Equal(t, 1, dbCount(t, s, `SELECT count(*) FROM account_services WHERE service_code = 'gz_housing_fund'`))
}

func dbString(t *testing.T, s *testenv.Stack, q string, args ...any) string {
	t.Helper()
	var v string
	require.NoError(t, s.DB.Get(&v, q, args...))
	return v
}

func waitChange(t *testing.T, s *testenv.Stack, id string) {
	t.Helper()
	testenv.Eventually(t, 60*time.Second, "service change "+id+" to complete", func() bool {
		return dbCount(t, s, `SELECT count(*) FROM service_changes WHERE id = $1 AND completed_at IS NOT NULL`, id) == 1
	})
}

// C2.7: new rules and a retirement are changes users are told about: the
// service-change workflow applies them, places a notice in the inbox of
// every user holding the service (and queues SMS / e-mail), and a
// retirement closes the service for each of them exactly once, with the
// notice. Others hear nothing; a retired service takes no more changes or
// applicants.
func TestServiceRulesChangeAndRetirementNotifyAndCloseOnce_C2_7(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	editor, _ := s.Staff(workflows.RoleTermsEditor)
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	s.Expect(s.Do("POST", "/v1/services", map[string]any{"code": "pilot_scheme", "name_zh": "试点项目", "name_en": "Pilot scheme"},
		testenv.Bearer(editor)), http.StatusCreated)
	holders := []testenv.User{s.NewUser(reviewer, "pilot_scheme", "social_insurance_query"), s.NewUser(reviewer, "pilot_scheme")}
	other := s.NewUser(reviewer)

	for _, c := range []struct {
		body   map[string]any
		fields []string
	}{
		{map[string]any{"kind": "rename"}, []string{"kind"}},
		{map[string]any{"kind": "rules"}, []string{"rules"}},
		{map[string]any{"kind": "rules", "rules": []map[string]any{{}}}, []string{"rules.0.type"}},
		{map[string]any{"kind": "retire", "rules": []map[string]any{{"type": "age_range", "min_age": 1}}}, []string{"rules"}},
	} {
		require.ElementsMatch(t, c.fields, s.Do("POST", "/v1/services/pilot_scheme/changes", c.body, testenv.Bearer(editor)).DetailFields(), c.body)
	}
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/services/pilot_scheme/changes", map[string]any{"kind": "retire"},
		testenv.Bearer(reviewer)).Status)
	require.Zero(t, dbCount(t, s, `SELECT count(*) FROM service_changes`))

	// New rules: applied by the workflow, told to the two holders.
	r := s.Expect(s.Do("POST", "/v1/services/pilot_scheme/changes", map[string]any{"kind": "rules",
		"rules": []map[string]any{{"type": "age_range", "min_age": 18, "max_age": 70}}, "note_zh": "自下月起仅限 18 至 70 周岁。",
		"note_en": "From next month, ages 18 to 70 only."}, testenv.Bearer(editor)), http.StatusAccepted)
	rulesID := r.Str("id")
	waitChange(t, s, rulesID)
	svc := s.Expect(s.Do("GET", "/v1/services/pilot_scheme", nil), http.StatusOK)
	require.EqualValues(t, 70, svc.Body["max_age"])
	require.Equal(t, 2, dbCount(t, s, `SELECT count(*) FROM notices WHERE kind = 'service_rules' AND operation_key LIKE 'service-change/' || $1 || '/notice/%'`, rulesID))
	require.Equal(t, 2, dbCount(t, s, `SELECT count(*) FROM account_services WHERE service_code = 'pilot_scheme' AND status = 'open'`),
		"new rules close nothing")
	require.Equal(t, 2, dbCount(t, s, `SELECT count(*) FROM notification_outbox WHERE source = 'service-change/' || $1`, rulesID),
		"an SMS each (the test people give no e-mail)")

	// Retirement.
	r = s.Expect(s.Do("POST", "/v1/services/pilot_scheme/changes", map[string]any{"kind": "retire", "note_zh": "试点结束。",
		"note_en": "The pilot has ended."}, testenv.Bearer(s.Admin())), http.StatusAccepted)
	retireID, wfID := r.Str("id"), r.Str("workflow_id")
	require.Equal(t, workflows.ServiceChangeWorkflowID(retireID), wfID)
	waitChange(t, s, retireID)
	for _, u := range holders {
		require.Equal(t, "closed", dbString(t, s, `SELECT status FROM account_services WHERE account_id = $1 AND service_code = 'pilot_scheme'`, u.AccountID))
		notices := s.Expect(s.Do("GET", "/v1/me/notices", nil, testenv.Bearer(u.Token)), http.StatusOK)
		require.Contains(t, string(notices.Raw), "试点结束。")
		me := s.Expect(s.Do("GET", "/v1/me", nil, testenv.Bearer(u.Token)), http.StatusOK)
		require.Contains(t, string(me.Raw), `"status":"closed"`)
	}
	require.Equal(t, "open", dbString(t, s, `SELECT status FROM account_services WHERE account_id = $1 AND service_code = 'social_insurance_query'`,
		holders[0].AccountID), "other services stay open")
	require.Zero(t, dbCount(t, s, `SELECT count(*) FROM notices WHERE account_id = $1 AND kind LIKE 'service_%'`, other.AccountID))
	require.Equal(t, 2, dbCount(t, s, `SELECT count(*) FROM audit_log WHERE action = 'account.service_closed' AND detail->>'change_id' = $1`, retireID))
	require.Equal(t, 2, dbCount(t, s, `SELECT services_closed FROM service_changes WHERE id = $1`, retireID))

	// Exactly once: the same change run again (a second run of the
	// workflow) finds it applied and every holder done.
	again, err := s.Temporal.ExecuteWorkflow(testenv.Context(t), client.StartWorkflowOptions{ID: wfID + "/again", TaskQueue: s.TaskQueue},
		workflows.ServiceChange, workflows.ServiceChangeInput{ChangeID: retireID})
	require.NoError(t, err)
	var res workflows.CampaignResult
	require.NoError(t, again.Get(testenv.Context(t), &res))
	require.Zero(t, res.Counters.NoticesWritten)
	require.Equal(t, 2, dbCount(t, s, `SELECT count(*) FROM notices WHERE kind = 'service_retire'`))
	require.Equal(t, 2, dbCount(t, s, `SELECT count(*) FROM audit_log WHERE action = 'account.service_closed'`))

	// Retired: gone from the public catalogue, kept for staff, no more
	// changes, refused to new applicants.
	require.Nil(t, findService(t, s.Expect(s.Do("GET", "/v1/services", nil), http.StatusOK), "pilot_scheme"))
	require.Equal(t, http.StatusNotFound, s.Do("GET", "/v1/services/pilot_scheme", nil).Status)
	require.Equal(t, "retired", s.Expect(s.Do("GET", "/v1/services/pilot_scheme", nil, testenv.Bearer(editor)), http.StatusOK).Str("status"))
	cat := s.Expect(s.Do("GET", "/v1/service-catalogue", nil, testenv.Bearer(editor)), http.StatusOK)
	entry := findService(t, cat, "pilot_scheme")
	require.Len(t, entry["changes"], 2)
	require.Equal(t, "service_retired", s.Do("POST", "/v1/services/pilot_scheme/changes", map[string]any{"kind": "retire"},
		testenv.Bearer(editor)).ErrorCode())
	reg := s.Do("POST", "/v1/registrations", testenv.NewPerson().Registration("pilot_scheme"))
	require.Equal(t, http.StatusUnprocessableEntity, reg.Status, string(reg.Raw))
	require.Equal(t, []string{"services.0"}, reg.DetailFields())

	var markers []string
	for _, u := range holders {
		markers = append(markers, u.Name, u.IDNumber, u.Mobile, u.Address)
	}
	AssertNoSecretsInHistory(t, s, []string{wfID, workflows.ServiceChangeWorkflowID(rulesID)}, markers...)
	SaveHistory(t, s, wfID, "service_change_retired")
}

// C2.7: a planned interruption pauses the services it names for its
// window: the catalogue and "my account" show it, and the status comes
// back by itself when the window ends (a timer in the announcement's
// workflow).
func TestPlannedInterruptionPausesServicesForItsWindow_C2_7(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer, "pension_claim", "social_insurance_query")
	starts := time.Now().Add(2 * time.Second).UTC()
	ends := starts.Add(6 * time.Second)
	r := s.Expect(s.Do("POST", "/v1/announcements", map[string]any{"kind": "service_interruption", "title_zh": "社保查询暂停",
		"title_en": "Records paused", "services": []string{"social_insurance_query"},
		"starts_at": starts.Format(time.RFC3339Nano), "ends_at": ends.Format(time.RFC3339Nano)}, testenv.Bearer(s.Admin())), http.StatusAccepted)
	wfID := r.Str("workflow_id")
	status := func() string {
		return findService(t, s.Expect(s.Do("GET", "/v1/services", nil), http.StatusOK), "social_insurance_query")["status"].(string)
	}
	testenv.Eventually(t, 30*time.Second, "the service to be interrupted", func() bool { return status() == "interrupted" })
	svc := findService(t, s.Expect(s.Do("GET", "/v1/services", nil), http.StatusOK), "social_insurance_query")
	require.Equal(t, r.Str("id"), svc["interruption"].(map[string]any)["announcement_id"])
	require.Equal(t, "available", findService(t, s.Expect(s.Do("GET", "/v1/services", nil), http.StatusOK), "pension_claim")["status"])
	me := s.Expect(s.Do("GET", "/v1/me", nil, testenv.Bearer(u.Token)), http.StatusOK)
	for _, it := range me.Body["services"].([]any) {
		m := it.(map[string]any)
		if m["code"] == "social_insurance_query" {
			require.NotNil(t, m["interrupted_until"])
		} else {
			require.Nil(t, m["interrupted_until"])
		}
	}
	testenv.Eventually(t, 30*time.Second, "the service to be back", func() bool { return status() == "available" })
	require.Equal(t, 1, dbCount(t, s, `SELECT count(*) FROM service_pauses WHERE status = 'ended' AND ended_at >= $1`, ends))
	var res workflows.CampaignResult
	workflowResult(t, s, wfID, &res)
	SaveHistory(t, s, wfID, "announcement_interruption_window")
}

// C2.3(3): a department asks for a user's data to deliver a service of the
// website; one supervisor enters it, a second approves a subset of the
// fields (four eyes), exactly those leave once, and the user sees who
// received what for which service. The department must name a service the
// user holds; a second request is refused by the approver.
func TestServiceNeedDisclosureFourEyes_C2_3(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	u := s.User(testenv.NewPerson(), "social_insurance_query")
	enterer, entererID := s.Staff(workflows.RoleSupervisor)
	approver, approverID := s.Staff(workflows.RoleSupervisor)
	reviewer, _ := s.Staff(workflows.RoleReviewer)

	body := map[string]any{"subject": map[string]string{"account_id": u.AccountID}, "requester": "市社会保险事业管理中心",
		"basis": "service_need", "department": "社会保险事业管理中心 参保登记科", "service_code": "social_insurance_query",
		"purpose": "核对参保记录以办理查询服务", "fields": []string{"name", "mobile", "services"}}
	for change, fields := range map[string][]string{"department": {"department"}, "service_code": {"service_code"}, "legal_reference": {"legal_reference"}} {
		b := map[string]any{}
		for k, v := range body {
			b[k] = v
		}
		switch change {
		case "department":
			delete(b, "department")
		case "service_code":
			b["service_code"] = "pension_claim" // a service the user does not hold
		case "legal_reference":
			b["legal_reference"] = "某文书"
		}
		bad := s.Do("POST", "/v1/disclosures", b, testenv.Bearer(enterer))
		require.Equal(t, http.StatusUnprocessableEntity, bad.Status, string(bad.Raw))
		require.Equal(t, fields, bad.DetailFields(), change)
	}
	require.Zero(t, dbCount(t, s, `SELECT count(*) FROM disclosure_requests`))

	id := s.Expect(s.Do("POST", "/v1/disclosures", body, testenv.Bearer(enterer)), http.StatusAccepted).Str("id")
	waitDisclosure(t, s, id, "awaiting_approval")
	same := s.Do("POST", "/v1/disclosures/"+id+"/decision", map[string]any{"decision": "approve"}, testenv.Bearer(enterer))
	require.Equal(t, "four_eyes", same.ErrorCode())
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/disclosures/"+id+"/decision", map[string]any{"decision": "approve"},
		testenv.Bearer(reviewer)).Status)
	ok := s.Expect(s.Do("POST", "/v1/disclosures/"+id+"/decision", map[string]any{"decision": "approve", "fields": []string{"name", "services"},
		"reason": "查询服务无需手机号"}, testenv.Bearer(approver)), http.StatusOK)
	require.Equal(t, "approved", ok.Str("status"))

	exp := s.Expect(s.Do("POST", "/v1/disclosures/"+id+"/export", nil, testenv.Bearer(enterer)), http.StatusOK)
	data := exp.Body["data"].(map[string]any)
	require.Equal(t, []string{"name", "services"}, keys(data))
	require.Equal(t, u.Name, data["name"])
	for _, leaked := range []string{u.Mobile, u.Address, u.IDNumber, "argon2", u.Password} {
		require.NotContains(t, string(exp.Raw), leaked)
	}
	require.Equal(t, http.StatusGone, s.Do("POST", "/v1/disclosures/"+id+"/export", nil, testenv.Bearer(enterer)).Status)

	mine := s.Expect(s.Do("GET", "/v1/me/disclosures", nil, testenv.Bearer(u.Token)), http.StatusOK).Body["disclosures"].([]any)
	require.Len(t, mine, 1)
	d := mine[0].(map[string]any)
	require.Equal(t, "service_need", d["basis"])
	require.Equal(t, "social_insurance_query", d["service_code"])
	require.Equal(t, "社会保险事业管理中心 参保登记科", d["department"])
	require.Equal(t, []any{"name", "services"}, d["fields"])
	require.Equal(t, []any{"supervisor"}, d["approver_roles"])
	auditor, _ := s.Staff(workflows.RoleAuditor)
	reg := s.Expect(s.Do("GET", "/v1/disclosures?basis=service_need", nil, testenv.Bearer(auditor)), http.StatusOK).Body["items"].([]any)
	require.Len(t, reg, 1)
	require.Equal(t, entererID, reg[0].(map[string]any)["entered_by"])
	require.Equal(t, approverID, reg[0].(map[string]any)["approved_by"])

	// A second request: the approver refuses it; nothing leaves.
	id2 := s.Expect(s.Do("POST", "/v1/disclosures", body, testenv.Bearer(enterer)), http.StatusAccepted).Str("id")
	waitDisclosure(t, s, id2, "awaiting_approval")
	s.Expect(s.Do("POST", "/v1/disclosures/"+id2+"/decision", map[string]any{"decision": "refuse", "reason": "已提供过"},
		testenv.Bearer(approver)), http.StatusOK)
	waitDisclosure(t, s, id2, "refused")
	require.Equal(t, http.StatusConflict, s.Do("POST", "/v1/disclosures/"+id2+"/export", nil, testenv.Bearer(enterer)).Status)
	require.Len(t, s.Expect(s.Do("GET", "/v1/me/disclosures", nil, testenv.Bearer(u.Token)), http.StatusOK).Body["disclosures"], 1)

	AssertNoSecretsInHistory(t, s, []string{workflows.DisclosureWorkflowID(id), workflows.DisclosureWorkflowID(id2)},
		u.Name, u.IDNumber, u.Mobile, u.Address, u.Password)
	SaveHistory(t, s, workflows.DisclosureWorkflowID(id), "disclosure_service_need_delivered")
}
