package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

func bearer(t string) testenv.Header { return testenv.Bearer(t) }

func openFraud(t *testing.T, s *testenv.Stack, tok string, body map[string]any) string {
	t.Helper()
	r := s.Expect(s.Do("POST", "/v1/cases/fraud", body, bearer(tok)), http.StatusAccepted)
	id := r.Str("id")
	require.Equal(t, "/v1/cases/"+id, r.Header.Get("Location"))
	return id
}

func servicesOf(t *testing.T, s *testenv.Stack, accountID string) []string {
	var st []string
	require.NoError(t, s.DB.Select(&st, `SELECT status FROM account_services WHERE account_id = $1 ORDER BY service_code`, accountID))
	return st
}

// C2.2: a fraud case: the user is told and answers; the investigator
// suspends with the corrections required. At once every session ends,
// sign-in is refused and the services pause. The suspended user signs in
// restricted, sees the decision, the reason, the clause and how to appeal,
// and appeals; the investigator who imposed it may not decide the appeal;
// a supervisor overturns it and everything is undone.
func TestFraudSuspensionEndsSessionsAndAppealUndoesIt_C2_2(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	inv, _ := s.Staff(workflows.RoleInvestigator)
	sup, _ := s.Staff(workflows.RoleSupervisor)
	u := s.NewUser(reviewer, "social_insurance_query", "employment_registration")
	second := s.SignIn(u.IDNumber, u.Password) // a second session, on another device
	s.Expect(s.Do("GET", "/v1/me", nil, bearer(u.Token)), http.StatusOK)

	caseID := openFraud(t, s, inv, map[string]any{"account_id": u.AccountID, "suspected_fields": []string{"address"},
		"evidence": []string{"doc:utility-bill-2026-17"}, "summary": "地址证明与登记不符"})
	s.WaitForCaseState(caseID, workflows.CaseAwaitingAnswer)
	mine := s.Expect(s.Do("GET", "/v1/me/cases", nil, bearer(u.Token)), http.StatusOK)
	items := mine.Body["items"].([]any)
	require.Len(t, items, 1)
	require.Equal(t, "awaiting_answer", items[0].(map[string]any)["state"])
	var notices int
	require.NoError(t, s.DB.Get(&notices, `SELECT count(*) FROM notices WHERE account_id = $1 AND kind = 'case_opened'`, u.AccountID))
	require.Equal(t, 1, notices, "the user is told through a site notice")

	// An adverse decision waits for the answer (or its deadline).
	early := s.Do("POST", "/v1/cases/"+caseID+"/decision", map[string]any{"decision": "suspend", "reason_code": "false_address",
		"corrections": []string{"address"}, "evidence": []string{"doc:utility-bill-2026-17"}}, bearer(inv))
	require.Equal(t, http.StatusConflict, early.Status, string(early.Raw))

	answer := "我已搬家，新地址证明附后 MARKER-ANSWER-7731"
	a := s.Expect(s.Do("POST", "/v1/me/cases/"+caseID+"/answer", map[string]any{"text": answer, "evidence": []string{"upload:77"}},
		bearer(u.Token)), http.StatusOK)
	require.Equal(t, "awaiting_decision", a.Str("state"))

	d := s.Expect(s.Do("POST", "/v1/cases/"+caseID+"/decision", map[string]any{"decision": "suspend", "reason_code": "false_address",
		"corrections": []string{"address"}, "evidence": []string{"doc:utility-bill-2026-17"}}, bearer(inv)), http.StatusOK)
	require.Equal(t, "suspended", d.Str("state"))
	sanctionID := d.Str("sanction_id")
	require.NotEmpty(t, sanctionID)
	s.WaitForAccountStatus(u.AccountID, "suspended")

	// Every session ended; sign-in refused; services paused.
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/me", nil, bearer(u.Token)).Status)
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/me", nil, bearer(second)).Status)
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/sessions", map[string]string{"username": u.IDNumber, "password": u.Password}).Status)
	require.Equal(t, []string{"paused", "paused"}, servicesOf(t, s, u.AccountID))

	// The restricted session shows the decision and how to appeal, and
	// nothing else.
	rt := s.RestrictedSignIn(u.IDNumber, u.Password)
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/me", nil, testenv.Restricted(rt)).Status)
	sn := s.Expect(s.Do("GET", "/v1/me/sanctions", nil, testenv.Restricted(rt)), http.StatusOK)
	require.Equal(t, "suspended", sn.Str("account_status"))
	sanc := sn.Body["items"].([]any)[0].(map[string]any)
	require.Equal(t, "false_address", sanc["reason_code"])
	require.Equal(t, "C2.2", sanc["clause"])
	require.NotContains(t, string(sn.Raw), "doc:utility-bill-2026-17", "evidence references are staff-only")
	require.Equal(t, true, sanc["how_to_appeal"].(map[string]any)["possible"])
	require.NotContains(t, string(sn.Raw), "staff:", "the user sees roles, not staff identities")

	// Staff roles on the sanction: a reviewer may neither read nor decide.
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/sanctions/"+sanctionID, nil, bearer(reviewer)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/sanctions/"+sanctionID+"/correction-review", map[string]string{"result": "confirmed"}, bearer(reviewer)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/sanctions/"+sanctionID+"/appeal-decision", map[string]string{"decision": "overturned",
		"reason_code": "new_evidence"}, bearer(reviewer)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/me/sanctions/"+sanctionID+"/appeal", map[string]any{"text": "staff"}, bearer(sup)).Status)
	require.Equal(t, http.StatusOK, s.Do("GET", "/v1/sanctions/"+sanctionID, nil, bearer(sup)).Status)

	appeal := "处罚有误，我已提交新证明 MARKER-APPEAL-5521"
	ap := s.Expect(s.Do("POST", "/v1/me/sanctions/"+sanctionID+"/appeal", map[string]any{"text": appeal}, testenv.Restricted(rt)), http.StatusOK)
	require.Equal(t, "pending", ap.Str("appeal_state"))
	byImposer := s.Do("POST", "/v1/sanctions/"+sanctionID+"/appeal-decision", map[string]string{"decision": "overturned",
		"reason_code": "new_evidence"}, bearer(inv))
	require.Equal(t, http.StatusForbidden, byImposer.Status, string(byImposer.Raw))
	require.Equal(t, "four_eyes", byImposer.ErrorCode(), "C3.3(4): the investigator who opened the case does not decide its appeal")
	ov := s.Expect(s.Do("POST", "/v1/sanctions/"+sanctionID+"/appeal-decision", map[string]string{"decision": "overturned",
		"reason_code": "new_evidence"}, bearer(sup)), http.StatusOK)
	require.Equal(t, "overturned", ov.Str("state"))

	// Undone: active again, services open, sign-in works.
	s.WaitForAccountStatus(u.AccountID, "active")
	require.Equal(t, []string{"open", "open"}, servicesOf(t, s, u.AccountID))
	tok := s.SignIn(u.IDNumber, u.Password)
	hist := s.Expect(s.Do("GET", "/v1/me/sanctions", nil, bearer(tok)), http.StatusOK)
	kinds := []string{}
	for _, e := range hist.Body["items"].([]any)[0].(map[string]any)["history"].([]any) {
		kinds = append(kinds, e.(map[string]any)["kind"].(string))
	}
	require.Equal(t, []string{"imposed", "appealed", "overturned"}, kinds)

	// The staff view: timeline and the audit trail on the account.
	cv := s.Expect(s.Do("GET", "/v1/cases/"+caseID, nil, bearer(sup)), http.StatusOK)
	require.Equal(t, "suspended", cv.Str("state"))
	require.Len(t, cv.Body["submissions"], 1)
	var audited []string
	require.NoError(t, s.DB.Select(&audited, `SELECT DISTINCT action FROM audit_log WHERE record_kind = 'account' AND record_id = $1`, u.AccountID))
	require.Subset(t, audited, []string{"case.fraud_opened", "case.suspended", "sanction.suspension_imposed", "sanction.appealed", "sanction.overturned"})

	wfs := []string{workflows.FraudWorkflowID(caseID), workflows.SanctionWorkflowID(sanctionID)}
	testenv.Eventually(t, 20*time.Second, "visibility of the sanction run", func() bool {
		resp, err := s.Temporal.ListWorkflow(testenv.Context(t), listRequest(`WorkflowId = "`+wfs[1]+`" AND HrssKind = "sanction" AND HrssStatus = "overturned"`))
		return err == nil && len(resp.Executions) == 1
	})
	AssertNoSecretsInHistory(t, s, wfs, u.Name, u.IDNumber, u.Mobile, u.Address, u.Password, answer, appeal, "MARKER-", "地址证明")
	SaveHistory(t, s, wfs[0], "fraud_suspended")
	SaveHistory(t, s, wfs[1], "sanction_overturned_on_appeal")
}

// C2.2 / C2.5: two restrictions at once (a violation suspension and a
// fraud suspension): lifting one leaves the account suspended; the second
// is lifted when its corrections are verified, and only then does the
// account come back.
func TestConcurrentRestrictionsAreLiftedIndependently_C2_2_C2_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	inv, _ := s.Staff(workflows.RoleInvestigator)
	inv2, _ := s.Staff(workflows.RoleInvestigator)
	sup, _ := s.Staff(workflows.RoleSupervisor)
	u := s.NewUser(reviewer, "social_insurance_query")

	v := s.Expect(s.Do("POST", "/v1/cases/violation", map[string]any{"account_id": u.AccountID, "rule": "C3.4(8)",
		"evidence": []string{"log:ddos-2026-11"}, "action": "suspend"}, bearer(inv)), http.StatusAccepted)
	violationID := v.Str("id")
	s.WaitForCaseState(violationID, workflows.CaseSuspended)
	s.WaitForAccountStatus(u.AccountID, "suspended")

	fraudID := openFraud(t, s, inv, map[string]any{"account_id": u.AccountID, "suspected_fields": []string{"mobile"},
		"evidence": []string{"check:mobile-registry"}})
	s.WaitForCaseState(fraudID, workflows.CaseAwaitingAnswer)
	rt := s.RestrictedSignIn(u.IDNumber, u.Password)
	s.Expect(s.Do("POST", "/v1/me/cases/"+fraudID+"/answer", map[string]any{"text": "号码已停用"}, testenv.Restricted(rt)), http.StatusOK)
	fd := s.Expect(s.Do("POST", "/v1/cases/"+fraudID+"/decision", map[string]any{"decision": "suspend", "reason_code": "false_contact_data",
		"corrections": []string{"mobile"}, "evidence": []string{"check:mobile-registry"}}, bearer(inv)), http.StatusOK)
	fraudSanction := fd.Str("sanction_id")
	s.WaitForSanctionState(fraudSanction, "in_force")

	var violationSanction string
	require.NoError(t, s.DB.Get(&violationSanction, `SELECT id FROM sanctions WHERE case_id = $1`, violationID))
	// Only a supervisor lifts; the violation suspension goes, the fraud one stays.
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/sanctions/"+violationSanction+"/lift", map[string]string{"reason_code": "supervisor_review"}, bearer(inv)).Status)
	s.Expect(s.Do("POST", "/v1/sanctions/"+violationSanction+"/lift", map[string]string{"reason_code": "supervisor_review"}, bearer(sup)), http.StatusOK)
	s.WaitForSanctionState(violationSanction, "lifted")
	var status string
	require.NoError(t, s.DB.Get(&status, `SELECT status FROM accounts WHERE id = $1`, u.AccountID))
	require.Equal(t, "suspended", status, "the fraud suspension still holds")
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/sessions", map[string]string{"username": u.IDNumber, "password": u.Password}).Status)
	require.Equal(t, []string{"paused"}, servicesOf(t, s, u.AccountID))

	// Reinstatement when the conditions are met.
	s.Expect(s.Do("POST", "/v1/me/sanctions/"+fraudSanction+"/correction", map[string]any{"text": "已在柜台更新手机号"}, testenv.Restricted(rt)), http.StatusOK)
	s.Expect(s.Do("POST", "/v1/sanctions/"+fraudSanction+"/correction-review", map[string]string{"result": "confirmed"}, bearer(inv2)), http.StatusOK)
	s.WaitForAccountStatus(u.AccountID, "active")
	require.Equal(t, []string{"open"}, servicesOf(t, s, u.AccountID))
	s.SignIn(u.IDNumber, u.Password)

	wfs := []string{workflows.ViolationWorkflowID(violationID), workflows.SanctionWorkflowID(violationSanction), workflows.SanctionWorkflowID(fraudSanction)}
	AssertNoSecretsInHistory(t, s, wfs, u.Name, u.IDNumber, u.Mobile, u.Address, u.Password, "号码已停用", "柜台更新")
	SaveHistory(t, s, wfs[0], "violation_direct_suspension")
	SaveHistory(t, s, wfs[1], "sanction_lifted_by_supervisor")
	SaveHistory(t, s, wfs[2], "sanction_lifted_on_verified_correction")
}

// C2.5: an order to correct not met in time escalates to a suspension
// (never dropped); the suspension was imposed by the system on the
// investigator's order.
func TestViolationNotCorrectedInTimeEscalatesToSuspension_C2_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	inv, _ := s.Staff(workflows.RoleInvestigator)
	u := s.NewUser(reviewer)
	v := s.Expect(s.Do("POST", "/v1/cases/violation", map[string]any{"account_id": u.AccountID, "rule": "C3.4(5)",
		"evidence": []string{"ticket:4411"}, "action": "correct", "instructions": "删除重复提交的申报材料",
		"correct_by": time.Now().Add(3 * time.Second).UTC().Format(time.RFC3339Nano)}, bearer(inv)), http.StatusAccepted)
	id := v.Str("id")
	s.WaitForCaseState(id, workflows.CaseAwaitingCorrection)
	mine := s.Expect(s.Do("GET", "/v1/me/cases", nil, bearer(u.Token)), http.StatusOK)
	require.Equal(t, "删除重复提交的申报材料", mine.Body["items"].([]any)[0].(map[string]any)["instructions"])

	s.WaitForCaseState(id, workflows.CaseSuspended)
	s.WaitForAccountStatus(u.AccountID, "suspended")
	var row struct {
		Outcome string `db:"outcome"`
		Kind    string `db:"imposed_by_kind"`
		Reason  string `db:"reason_code"`
	}
	require.NoError(t, s.DB.Get(&row, `SELECT c.outcome, s.imposed_by_kind, s.reason_code FROM cases c JOIN sanctions s ON s.case_id = c.id WHERE c.id = $1`, id))
	require.Equal(t, "escalated", row.Outcome)
	require.Equal(t, "system", row.Kind)
	require.Equal(t, workflows.ReasonNotCorrected, row.Reason)
	var reminded int
	require.NoError(t, s.DB.Get(&reminded, `SELECT count(*) FROM notices WHERE account_id = $1 AND kind = 'case_correction_reminder'`, u.AccountID))
	require.Equal(t, 1, reminded)

	run := s.Temporal.GetWorkflow(testenv.Context(t), workflows.ViolationWorkflowID(id), "")
	require.NoError(t, run.Get(testenv.Context(t), nil))
	AssertNoSecretsInHistory(t, s, []string{workflows.ViolationWorkflowID(id)}, u.Name, u.IDNumber, u.Mobile, u.Address, u.Password, "重复提交")
	SaveHistory(t, s, workflows.ViolationWorkflowID(id), "violation_escalated")
}

// C2.5: corrected in time and confirmed by staff: the case closes, the
// account was never restricted, and the record stays on the account.
func TestViolationCorrectedInTimeKeepsTheRecord_C2_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	inv, _ := s.Staff(workflows.RoleInvestigator)
	u := s.NewUser(reviewer)
	v := s.Expect(s.Do("POST", "/v1/cases/violation", map[string]any{"account_id": u.AccountID, "rule": "C3.4(7)",
		"evidence": []string{"ticket:9"}, "action": "correct", "instructions": "更正所填工作单位",
		"correct_by": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, bearer(inv)), http.StatusAccepted)
	id := v.Str("id")
	s.WaitForCaseState(id, workflows.CaseAwaitingCorrection)
	early := s.Do("POST", "/v1/cases/"+id+"/correction-review", map[string]string{"result": "confirmed"}, bearer(inv))
	require.Equal(t, http.StatusConflict, early.Status)
	s.Expect(s.Do("POST", "/v1/me/cases/"+id+"/correction", map[string]any{"text": "已更正"}, bearer(u.Token)), http.StatusOK)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/cases/"+id+"/correction-review", map[string]string{"result": "confirmed"}, bearer(reviewer)).Status)
	ok := s.Expect(s.Do("POST", "/v1/cases/"+id+"/correction-review", map[string]string{"result": "confirmed"}, bearer(inv)), http.StatusOK)
	require.Equal(t, "corrected", ok.Str("state"))
	s.Expect(s.Do("GET", "/v1/me", nil, bearer(u.Token)), http.StatusOK)
	mine := s.Expect(s.Do("GET", "/v1/me/cases", nil, bearer(u.Token)), http.StatusOK)
	c := mine.Body["items"].([]any)[0].(map[string]any)
	require.Equal(t, "corrected", c["state"])
	require.Equal(t, false, c["open"])
	require.Equal(t, "C3.4(7)", c["rule"])
	AssertNoSecretsInHistory(t, s, []string{workflows.ViolationWorkflowID(id)}, u.Name, u.IDNumber, u.Mobile, u.Address, u.Password, "已更正", "工作单位")
	SaveHistory(t, s, workflows.ViolationWorkflowID(id), "violation_corrected")
}

// C2.2: a fraud case against a pending application blocks its approval
// until decided; cleared, the approval goes through. Cancelled for false
// data, the ID number is blocked from registering again.
func TestFraudCaseBlocksApprovalAndCancelBlocksIDNumber_C2_2(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	inv, _ := s.Staff(workflows.RoleInvestigator)

	// Cleared: approval blocked, then allowed.
	p := testenv.NewPerson()
	app, follow := s.Register(p)
	s.WaitForStatus(app, "pending")
	c1 := openFraud(t, s, inv, map[string]any{"application_id": app, "suspected_fields": []string{"name"}, "evidence": []string{"doc:1"},
		"source": "automated_check", "check_code": "name_registry_mismatch"})
	s.WaitForCaseState(c1, workflows.CaseAwaitingAnswer)
	blocked := s.Do("POST", "/v1/registrations/"+app+"/decision", map[string]string{"decision": "approve"}, bearer(reviewer))
	require.Equal(t, http.StatusConflict, blocked.Status, string(blocked.Raw))
	s.WaitForStatus(app, "pending")
	s.Expect(s.Do("POST", "/v1/me/cases/"+c1+"/answer", map[string]any{"text": "姓名无误"}, testenv.Follow(follow)), http.StatusOK)
	s.Expect(s.Do("POST", "/v1/cases/"+c1+"/decision", map[string]any{"decision": "cleared"}, bearer(inv)), http.StatusOK)
	s.Expect(s.Do("POST", "/v1/registrations/"+app+"/decision", map[string]string{"decision": "approve"}, bearer(reviewer)), http.StatusOK)

	// Cancelled: the ID number is blocked.
	q := testenv.NewPerson()
	app2, _ := s.Register(q)
	s.WaitForStatus(app2, "pending")
	c2 := openFraud(t, s, inv, map[string]any{"application_id": app2, "suspected_fields": []string{"id_number"}, "evidence": []string{"doc:2"},
		"answer_by": time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339Nano)})
	s.WaitForCaseState(c2, workflows.CaseAwaitingDecision) // no answer in time: decided on the evidence
	s.Expect(s.Do("POST", "/v1/cases/"+c2+"/decision", map[string]any{"decision": "cancel", "reason_code": "false_identity",
		"evidence": []string{"doc:2"}}, bearer(inv)), http.StatusOK)
	var n int
	require.NoError(t, s.DB.Get(&n, `SELECT count(*) FROM registration_blocks WHERE id_number = $1`, q.IDNumber))
	require.Equal(t, 1, n)
	again := s.Do("POST", "/v1/registrations/"+app2+"/decision", map[string]string{"decision": "approve"}, bearer(reviewer))
	require.Equal(t, http.StatusConflict, again.Status)

	wfs := []string{workflows.FraudWorkflowID(c1), workflows.FraudWorkflowID(c2), workflows.RegistrationWorkflowID(app)}
	AssertNoSecretsInHistory(t, s, wfs, p.Name, p.IDNumber, p.Mobile, p.Address, q.Name, q.IDNumber, follow, "姓名无误")
	SaveHistory(t, s, wfs[0], "fraud_application_cleared")
	SaveHistory(t, s, wfs[1], "fraud_application_cancelled_on_evidence")
	SaveHistory(t, s, wfs[2], "registration_approved_after_fraud_case")
}

// C2.2 / C4: a cancellation for false data ends the agreement and the
// account for good, and the ID number cannot register again.
func TestCancellationEndsAgreementAndBlocksReRegistration_C2_2_C4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	inv, _ := s.Staff(workflows.RoleInvestigator)
	u := s.NewUser(reviewer, "social_insurance_query")
	id := openFraud(t, s, inv, map[string]any{"account_id": u.AccountID, "suspected_fields": []string{"id_number"}, "evidence": []string{"doc:x"}})
	s.WaitForCaseState(id, workflows.CaseAwaitingAnswer)
	s.Expect(s.Do("POST", "/v1/me/cases/"+id+"/answer", map[string]any{"text": "无异议"}, bearer(u.Token)), http.StatusOK)
	d := s.Expect(s.Do("POST", "/v1/cases/"+id+"/decision", map[string]any{"decision": "cancel", "reason_code": "false_identity",
		"evidence": []string{"doc:x"}}, bearer(inv)), http.StatusOK)
	s.WaitForAccountStatus(u.AccountID, "cancelled")
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/me", nil, bearer(u.Token)).Status)
	require.Equal(t, []string{"closed"}, servicesOf(t, s, u.AccountID))
	var until *time.Time
	require.NoError(t, s.DB.Get(&until, `SELECT effective_until FROM agreements WHERE account_id = $1`, u.AccountID))
	require.NotNil(t, until, "the agreement ended (C4)")
	rt := s.RestrictedSignIn(u.IDNumber, u.Password)
	sn := s.Expect(s.Do("GET", "/v1/me/sanctions", nil, testenv.Restricted(rt)), http.StatusOK)
	require.Equal(t, "cancelled", sn.Str("account_status"))
	require.Equal(t, "cancellation", sn.Body["items"].([]any)[0].(map[string]any)["kind"])

	app, _ := s.Register(u.Person)
	s.WaitForStatus(app, "pending")
	var flagged bool
	require.NoError(t, s.DB.Get(&flagged, `SELECT 'blocked_false_data' = ANY(flags) FROM applications WHERE id = $1`, app))
	require.True(t, flagged, "the reviewer sees the block")
	refused := s.Do("POST", "/v1/registrations/"+app+"/decision", map[string]string{"decision": "approve"}, bearer(reviewer))
	require.Equal(t, http.StatusConflict, refused.Status, string(refused.Raw))
	SaveHistory(t, s, workflows.SanctionWorkflowID(d.Str("sanction_id")), "sanction_cancellation_in_force")
}

// C1.4: every case endpoint refuses the roles it does not name; bad input
// is a field-level 422 that stores nothing; lists filter by kind, state
// and overdue.
func TestCaseEndpointsRolesValidationAndFilters_C1_4_C2_2(t *testing.T) {
	t.Setenv("CASE_ESCALATE_AFTER", "1s")
	t.Setenv("CASE_REMIND_AFTER", "500ms")
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	auditor, _ := s.Staff(workflows.RoleAuditor)
	inv, _ := s.Staff(workflows.RoleInvestigator)
	sup, _ := s.Staff(workflows.RoleSupervisor)
	u := s.NewUser(reviewer)
	other := s.NewUser(reviewer)
	fraud := map[string]any{"account_id": u.AccountID, "suspected_fields": []string{"name"}, "evidence": []string{"doc:1"}}

	for name, h := range map[string][]testenv.Header{"reviewer": {bearer(reviewer)}, "auditor": {bearer(auditor)},
		"supervisor": {bearer(sup)}, "user": {bearer(u.Token)}} {
		r := s.Do("POST", "/v1/cases/fraud", fraud, h...)
		require.Equal(t, http.StatusForbidden, r.Status, name)
		r = s.Do("POST", "/v1/cases/violation", map[string]any{"account_id": u.AccountID, "rule": "C3.4(1)", "evidence": []string{"e"}, "action": "suspend"}, h...)
		require.Equal(t, http.StatusForbidden, r.Status, name)
	}
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/cases/fraud", fraud).Status)
	bad := s.Do("POST", "/v1/cases/fraud", map[string]any{"suspected_fields": []string{"name"}, "evidence": []string{"bad ref with spaces"},
		"answer_by": "2001-01-01T00:00:00Z"}, bearer(inv))
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, string(bad.Raw))
	require.ElementsMatch(t, []string{"account_id", "evidence.0", "answer_by"}, bad.DetailFields())
	badV := s.Do("POST", "/v1/cases/violation", map[string]any{"account_id": u.AccountID, "rule": "C3.4(5)", "evidence": []string{"e"},
		"action": "correct"}, bearer(inv))
	require.Equal(t, http.StatusUnprocessableEntity, badV.Status)
	require.ElementsMatch(t, []string{"correct_by", "instructions"}, badV.DetailFields())
	require.Equal(t, http.StatusUnprocessableEntity, s.Do("POST", "/v1/cases/violation", map[string]any{"account_id": u.AccountID,
		"rule": "C9", "evidence": []string{"e"}, "action": "suspend"}, bearer(inv)).Status)
	var n int
	require.NoError(t, s.DB.Get(&n, `SELECT count(*) FROM cases`))
	require.Equal(t, 0, n, "bad input stores nothing")

	id := openFraud(t, s, inv, fraud)
	s.WaitForCaseState(id, workflows.CaseAwaitingAnswer)
	for name, h := range map[string]testenv.Header{"reviewer": bearer(reviewer), "user": bearer(u.Token)} {
		require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/cases", nil, h).Status, name)
		require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/cases/"+id, nil, h).Status, name)
		require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/cases/"+id+"/decision", map[string]any{"decision": "cleared"}, h).Status, name)
	}
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/cases/"+id+"/decision", map[string]any{"decision": "cleared"}, bearer(auditor)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/me/cases", nil, bearer(inv)).Status, "staff have no /me cases")
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/me/sanctions", nil).Status)
	require.Equal(t, http.StatusNotFound, s.Do("POST", "/v1/me/cases/"+id+"/answer", map[string]any{"text": "不是我的案件"}, bearer(other.Token)).Status)
	require.Empty(t, s.Expect(s.Do("GET", "/v1/me/cases", nil, bearer(other.Token)), http.StatusOK).Body["items"])
	require.Equal(t, http.StatusUnprocessableEntity, s.Do("POST", "/v1/me/cases/"+id+"/answer", map[string]any{"text": ""}, bearer(u.Token)).Status)
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/sessions/restricted", map[string]string{"username": u.IDNumber, "password": u.Password}).Status,
		"an active user has no restricted session")

	// The case escalates after its (short) service level and is overdue.
	testenv.Eventually(t, 20*time.Second, "escalation", func() bool {
		var esc bool
		_ = s.DB.Get(&esc, `SELECT escalated_at IS NOT NULL FROM cases WHERE id = $1`, id)
		return esc
	})
	var supNotices int
	require.NoError(t, s.DB.Get(&supNotices, `SELECT count(*) FROM notices WHERE staff_role = 'supervisor' AND kind = 'case_escalation' AND body_en LIKE '%'||$1`, id))
	require.Equal(t, 1, supNotices)
	list := func(q string) []any {
		return s.Expect(s.Do("GET", "/v1/cases"+q, nil, bearer(auditor)), http.StatusOK).Body["items"].([]any)
	}
	require.Len(t, list("?kind=fraud&overdue=true"), 1)
	require.Len(t, list("?kind=violation"), 0)
	require.Len(t, list("?state=awaiting_answer"), 1)
	require.Len(t, list("?state=cleared"), 0)
	require.Equal(t, http.StatusUnprocessableEntity, s.Do("GET", "/v1/cases?kind=other", nil, bearer(auditor)).Status)
	cv := s.Expect(s.Do("GET", "/v1/cases/"+id, nil, bearer(auditor)), http.StatusOK)
	require.Equal(t, true, cv.Body["overdue"])
	require.Contains(t, cv.Str("workflow_url"), "fraud%2F"+id)
	s.Expect(s.Do("POST", "/v1/cases/"+id+"/decision", map[string]any{"decision": "cleared"}, bearer(sup)), http.StatusOK)
	require.Len(t, list("?overdue=true"), 0)
	SaveHistory(t, s, workflows.FraudWorkflowID(id), "fraud_escalated_then_cleared")
}
