package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/inventory"
	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// digitsZH spells a number in Chinese numerals: a unique name that the
// name validator accepts (letters only).
func digitsZH(n string) string {
	zh := []rune("零一二三四五六七八九")
	var b strings.Builder
	for _, r := range n {
		if r >= '0' && r <= '9' {
			b.WriteRune(zh[r-'0'])
		}
	}
	return b.String()
}

// markerColumns lists every text, array and JSON column of the public
// schema (owner's view), as table.column.
func markerColumns(t *testing.T, s *testenv.Stack) [][2]string {
	t.Helper()
	var cols []struct {
		Table  string `db:"table_name"`
		Column string `db:"column_name"`
	}
	require.NoError(t, s.DB.Select(&cols, `SELECT c.table_name, c.column_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
		WHERE c.table_schema = 'public' AND c.table_name <> 'goose_db_version'
		  AND (c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb') OR c.udt_name IN ('_text', '_varchar'))
		ORDER BY 1, 2`))
	out := make([][2]string, len(cols))
	for i, c := range cols {
		out[i] = [2]string{c.Table, c.Column}
	}
	return out
}

// findMarkers searches every text and JSON column of every table for the
// markers and returns "table.column: marker" for each hit.
func findMarkers(t *testing.T, s *testenv.Stack, markers map[string]string) []string {
	t.Helper()
	var hits []string
	for _, tc := range markerColumns(t, s) {
		for label, m := range markers {
			var n int
			q := fmt.Sprintf(`SELECT count(*) FROM %s WHERE strpos(%s::text, $1) > 0`, pq.QuoteIdentifier(tc[0]), pq.QuoteIdentifier(tc[1]))
			require.NoError(t, s.DB.Get(&n, q, m), q)
			if n > 0 {
				hits = append(hits, fmt.Sprintf("%s.%s: %s (%d rows)", tc[0], tc[1], label, n))
			}
		}
	}
	return hits
}

// C3.5, C4, C2.3, C3.3(4): a person with unique markers goes through
// registration, a change of contact data and of name, notices (a terms
// campaign with SMS and e-mail), a violation case answered in writing, a
// disclosure under the law and a deregistration; when the retention
// schedule has run to its end, no marker is left in any text or JSON column
// of any table, nor in any workflow history of the test, except where the
// data inventory (docs/data-protection.md) names a legal hold.
func TestErasureLeavesNoPersonalData_C3_5_C4_C2_3(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	s.SetSetting("deregistration.cooling_off", 2*time.Second)
	var categories []string
	require.NoError(t, s.DB.Select(&categories, `SELECT category FROM retention_schedule WHERE keep > interval '0'`))
	for _, c := range categories {
		s.SetRetention(c, 3*time.Second)
	}
	tag := strings.ReplaceAll(uuid.NewString(), "-", "")[:10]
	p := testenv.NewPerson()
	p.Name = "林" + digitsZH(tag+"1234567")
	p.Address = p.Address + "标记" + tag + "号"
	email := "m" + tag + "@example.test"
	newMobile := "139" + fmt.Sprintf("%08d", time.Now().UnixNano()%100000000)
	newAddress := "上海市浦东新区新址" + tag + "弄"
	newEmail := "n" + tag + "@example.test"
	newName := "何" + digitsZH(tag+"7654321")
	answer := "本人陈述" + tag + "已经更正"
	statement := "本人申请注销账户" + tag
	markers := map[string]string{"name": p.Name, "id_number": p.IDNumber, "mobile": p.Mobile, "address": p.Address,
		"email": email, "new_mobile": newMobile, "new_address": newAddress, "new_email": newEmail, "new_name": newName,
		"case_answer": answer, "deregistration_statement": statement}

	// Registration, approval, initial password, own password.
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	reg := p.Registration("social_insurance_query", "employment_registration")
	reg["email"] = email
	submitted := s.Expect(s.Do("POST", "/v1/registrations", reg), http.StatusAccepted)
	appID := submitted.Str("id")
	s.WaitForStatus(appID, "pending")
	accountID := s.Expect(s.Do("POST", "/v1/registrations/"+appID+"/decision", map[string]string{"decision": "approve"},
		testenv.Bearer(reviewer)), http.StatusOK).Str("account_id")
	// An online application: the applicant picks the password up with the
	// follow token and a code sent to the mobile (issue 18).
	initial := s.PickUp(appID, submitted.Str("follow_token"), p.Mobile)
	tok := s.SignIn(p.IDNumber, initial)
	password := "User-Pass-" + tag
	s.ChangePassword(tok, initial, password)
	user := testenv.Bearer(tok)

	// Contact data changed at once; the name changed by a reviewer.
	s.Expect(s.Do("PATCH", "/v1/me", map[string]string{"mobile": newMobile, "address": newAddress, "email": newEmail}, user), http.StatusOK)
	change := s.Expect(s.Do("POST", "/v1/me/data-changes", map[string]string{"name": newName, "note": "已办理更名"}, user), http.StatusAccepted).Str("id")
	s.Expect(s.Do("POST", "/v1/data-changes/"+change+"/decision", map[string]string{"decision": "approve", "reason": "证件核验一致"},
		testenv.Bearer(reviewer)), http.StatusOK)
	var audited []string
	require.NoError(t, s.DB.Select(&audited, `SELECT detail::text FROM audit_log WHERE record_id = $1`, accountID))
	for _, d := range audited {
		for label, m := range markers {
			require.NotContains(t, d, m, "the audit log names fields, never values (%s)", label)
		}
	}

	// Notices: a terms revision reaches the inbox, by SMS and by e-mail.
	version := s.PublishRevision()
	testenv.Eventually(t, 60*time.Second, "the campaign's messages to the user sent", func() bool {
		var n int
		_ = s.DB.Get(&n, `SELECT count(*) FROM notification_log l JOIN notification_outbox o ON o.id = l.message_id
			WHERE o.account_id = $1`, accountID)
		return n >= 2
	})

	// A violation case, answered by the user in writing, corrected.
	inv, _ := s.Staff(workflows.RoleInvestigator)
	caseID := s.Expect(s.Do("POST", "/v1/cases/violation", map[string]any{"account_id": accountID, "rule": "C3.4(7)",
		"evidence": []string{"ticket:1"}, "action": "correct", "instructions": "更正所填工作单位",
		"correct_by": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, testenv.Bearer(inv)), http.StatusAccepted).Str("id")
	s.WaitForCaseState(caseID, workflows.CaseAwaitingCorrection)
	s.Expect(s.Do("POST", "/v1/me/cases/"+caseID+"/correction", map[string]any{"text": answer}, user), http.StatusOK)
	s.Expect(s.Do("POST", "/v1/cases/"+caseID+"/correction-review", map[string]string{"result": "confirmed"}, testenv.Bearer(inv)), http.StatusOK)

	// A disclosure under the law, asked by the (new) name's ID number,
	// approved by a second supervisor and delivered.
	enterer, _ := s.Staff(workflows.RoleSupervisor)
	approver, _ := s.Staff(workflows.RoleSupervisor)
	disc := s.Expect(s.Do("POST", "/v1/disclosures", map[string]any{"subject": map[string]string{"id_number": p.IDNumber},
		"requester": "某区公安分局", "basis": "law", "legal_reference": "调取证据通知书 第1号", "purpose": "案件调查",
		"fields": []string{"name", "mobile", "address"}}, testenv.Bearer(enterer)), http.StatusAccepted).Str("id")
	waitDisclosure(t, s, disc, "awaiting_approval")
	s.Expect(s.Do("POST", "/v1/disclosures/"+disc+"/decision", map[string]any{"decision": "approve"}, testenv.Bearer(approver)), http.StatusOK)
	exp := s.Expect(s.Do("POST", "/v1/disclosures/"+disc+"/export", nil, testenv.Bearer(enterer)), http.StatusOK)
	require.Equal(t, newName, exp.Body["data"].(map[string]any)["name"])

	// The user's own copy holds it all (GET /v1/me/export).
	// The search finds the markers where they live while the account is
	// open (it would find them later too).
	before := strings.Join(findMarkers(t, s, markers), "\n")
	for _, where := range []string{"people.name: new_name", "data_changes.old_values: name", "notification_log.address: new_mobile",
		"case_submissions.body: case_answer", "applications.id_number: id_number"} {
		require.Contains(t, before, where)
	}

	// The user's own copy holds it all (GET /v1/me/export), nothing staff-only.
	mine := s.Expect(s.Do("GET", "/v1/me/export", nil, user), http.StatusOK)
	require.Equal(t, "hrss.user_export/v1", mine.Str("schema"))
	for _, m := range []string{newName, newMobile, newAddress, newEmail, change, caseID, disc} {
		require.Contains(t, string(mine.Raw), m)
	}
	for _, staffOnly := range []string{"ticket:1", "findings", "evidence", "password_hash"} {
		require.NotContains(t, string(mine.Raw), staffOnly)
	}

	// Deregistration in writing; the schedule runs to its end.
	dereg := s.Expect(s.Do("POST", "/v1/me/deregistration", map[string]any{"scope": "account", "statement": statement,
		"password": password}, user), http.StatusAccepted).Str("id")
	wfID := workflows.DeregistrationWorkflowID(accountID)
	var res workflows.DeregistrationResult
	testenv.Eventually(t, 90*time.Second, "the retention schedule to run to its end", func() bool {
		return deregStatus(s, dereg) == "completed" && s.Temporal.GetWorkflow(testenv.Context(t), wfID, "").Get(testenv.Context(t), &res) == nil
	})
	require.Equal(t, workflows.DeregErased, res.Status)

	// Every text and JSON column of every table.
	inv2, err := inventory.Load("../docs/data-protection.md")
	require.NoError(t, err)
	var held []string
	for _, hit := range findMarkers(t, s, markers) {
		col := hit[:strings.Index(hit, ":")]
		if e, ok := inv2[col]; ok && e.LegalHold() {
			held = append(held, hit)
			continue
		}
		t.Errorf("personal data left after the retention schedule ran: %s", hit)
	}
	t.Logf("searched %d text, array and JSON columns; kept under a legal hold named in the inventory: %v",
		len(markerColumns(t, s)), held)

	// Every workflow history of this test.
	var ids []string
	list, err := s.Temporal.ListWorkflow(testenv.Context(t), listRequest(fmt.Sprintf("TaskQueue = '%s'", s.TaskQueue)))
	require.NoError(t, err)
	for _, e := range list.Executions {
		ids = append(ids, e.Execution.WorkflowId)
	}
	require.NotEmpty(t, ids)
	for _, must := range []string{wfID, workflows.DataChangeWorkflowID(change), workflows.ViolationWorkflowID(caseID)} {
		require.Contains(t, ids, must)
	}
	_ = version
	t.Logf("searched %d workflow histories", len(ids))
	all := []string{password, initial, tok}
	for _, m := range markers {
		all = append(all, m)
	}
	AssertNoSecretsInHistory(t, s, ids, all...)
}
