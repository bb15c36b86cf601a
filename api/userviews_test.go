package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C2.3: the automated checks of an application are staff-only. An
// applicant whose mobile number belongs to another live account reads the
// application with the follow token: the staff see the mobile_in_use flag,
// the applicant's answer carries no flag anywhere (not in the timeline's
// details either), and neither does the activity record of the account
// once the application is approved.
func TestApplicantAndUserViewsCarryNoCheckFlags_C2_3(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	owner := s.NewUser(reviewer)
	p := testenv.NewPerson()
	p.Mobile = owner.Mobile
	id, follow := s.Register(p, "social_insurance_query")
	s.WaitForStatus(id, "pending")

	staff := s.Expect(s.Do("GET", "/v1/registrations/"+id, nil, testenv.Bearer(reviewer)), http.StatusOK)
	require.Contains(t, string(staff.Raw), "mobile_in_use", "the staff see the flag")

	mine := s.Expect(s.Do("GET", "/v1/registrations/"+id, nil, testenv.Follow(follow)), http.StatusOK)
	require.NotContains(t, string(mine.Raw), "mobile_in_use", "the applicant learns nothing of another account")
	require.NotContains(t, string(mine.Raw), `"flags"`)
	kinds := []string{}
	for _, e := range mine.Body["timeline"].([]any) {
		kinds = append(kinds, e.(map[string]any)["kind"].(string))
	}
	require.Contains(t, kinds, "checked", "the step is shown, its findings are not")

	d := s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "approve"}, testenv.Bearer(reviewer)), http.StatusOK)
	initial := s.PickUp(id, follow, p.Mobile)
	tok := s.SignIn(p.IDNumber, initial)
	s.ChangePassword(tok, initial, "Flags-Test-Pass-"+p.IDNumber[14:])
	act := s.Expect(s.Do("GET", "/v1/me/activity?limit=200", nil, testenv.Bearer(tok)), http.StatusOK)
	require.Contains(t, string(act.Raw), `"action":"application.checked"`)
	require.NotContains(t, string(act.Raw), "mobile_in_use")
	require.NotEmpty(t, d.Str("account_id"))
}

// C2.2: a fraud case raised by an automated check, with evidence
// references, a summary and cross-check findings: the user under suspicion
// reads the case, its timeline, the sanction and the activity record, and
// finds none of the staff-only matter: no evidence reference (of the report
// or of the decision), no findings, no source or check code, no summary,
// no staff identity; the decision's reason code, clause and corrections
// are shown. Staff still read all of it.
func TestSuspectReadsNoFindingsEvidenceOrSource_C2_2(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	inv, invID := s.Staff(workflows.RoleInvestigator)
	u := s.NewUser(reviewer)
	const reportRef, decisionRef, summary, check = "doc:tip-evid-7731", "doc:decision-evid-8842", "MARKER-SUMMARY-5517", "mobile_cluster_9"
	caseID := s.Expect(s.Do("POST", "/v1/cases/fraud", map[string]any{"account_id": u.AccountID, "suspected_fields": []string{"address"},
		"evidence": []string{reportRef}, "summary": summary, "source": "automated_check", "check_code": check},
		testenv.Bearer(inv)), http.StatusAccepted).Str("id")
	s.WaitForCaseState(caseID, workflows.CaseAwaitingAnswer)
	testenv.Eventually(t, 20*time.Second, "the cross-check", func() bool {
		var n int
		_ = s.DB.Get(&n, `SELECT count(*) FROM case_events WHERE case_id = $1 AND kind = 'cross_checked'`, caseID)
		return n == 1
	})
	staffView := s.Expect(s.Do("GET", "/v1/cases/"+caseID, nil, testenv.Bearer(inv)), http.StatusOK)
	for _, want := range []string{reportRef, summary, "no_automated_findings", "automated_check"} {
		require.Contains(t, string(staffView.Raw), want, "staff read %s", want)
	}
	hidden := []string{reportRef, decisionRef, summary, check, "no_automated_findings", "automated_check", `"findings"`,
		`"evidence"`, `"decision_evidence"`, `"source"`, "notified_role", invID}
	noStaffMatter := func(what string, r testenv.Response) {
		t.Helper()
		for _, h := range hidden {
			if h == `"source"` && what == "the activity record" {
				continue // an entry's source there is audit or sign_in
			}
			require.NotContains(t, string(r.Raw), h, "%s carries %s", what, h)
		}
	}
	cases := s.Expect(s.Do("GET", "/v1/me/cases", nil, testenv.Bearer(u.Token)), http.StatusOK)
	noStaffMatter("the user's cases", cases)
	require.Equal(t, []any{"address"}, cases.Body["items"].([]any)[0].(map[string]any)["suspected_fields"], "what is suspected is the user's to answer")
	noStaffMatter("the activity record", s.Expect(s.Do("GET", "/v1/me/activity?limit=200", nil, testenv.Bearer(u.Token)), http.StatusOK))

	s.Expect(s.Do("POST", "/v1/me/cases/"+caseID+"/answer", map[string]any{"text": "地址属实"}, testenv.Bearer(u.Token)), http.StatusOK)
	sanctionID := s.Expect(s.Do("POST", "/v1/cases/"+caseID+"/decision", map[string]any{"decision": "suspend", "reason_code": "false_address",
		"corrections": []string{"address"}, "evidence": []string{decisionRef}}, testenv.Bearer(inv)), http.StatusOK).Str("sanction_id")
	s.WaitForAccountStatus(u.AccountID, "suspended")
	testenv.Eventually(t, 20*time.Second, "the case's closing event", func() bool {
		var n int
		_ = s.DB.Get(&n, `SELECT count(*) FROM case_events WHERE case_id = $1 AND event_key = 'closed'`, caseID)
		return n == 1
	})
	staffSanction := s.Expect(s.Do("GET", "/v1/sanctions/"+sanctionID, nil, testenv.Bearer(inv)), http.StatusOK)
	require.Contains(t, string(staffSanction.Raw), decisionRef)

	rt := s.RestrictedSignIn(u.IDNumber, u.Password)
	cases = s.Expect(s.Do("GET", "/v1/me/cases", nil, testenv.Restricted(rt)), http.StatusOK)
	noStaffMatter("the decided case", cases)
	c := cases.Body["items"].([]any)[0].(map[string]any)
	require.Equal(t, "false_address", c["reason_code"])
	require.Equal(t, []any{"address"}, c["corrections"])
	sanctions := s.Expect(s.Do("GET", "/v1/me/sanctions", nil, testenv.Restricted(rt)), http.StatusOK)
	noStaffMatter("the user's sanctions", sanctions)
	sn := sanctions.Body["items"].([]any)[0].(map[string]any)
	require.Equal(t, "false_address", sn["reason_code"])
	require.Equal(t, "C2.2", sn["clause"])
}
