package e2e

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// A hostile client over real HTTP against the real stack (issue 13, items
// 7, 9 and 10; docs/security.md): what an applicant, a suspect and a user
// can read, whether reading takes the right to reject a revision away, and
// whether values a client chooses come out of the audit export as
// spreadsheet formulas.
func TestHostileClientViewsTermsAndExports_C2_2_C2_3_C3_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	inv, _ := s.Staff(workflows.RoleInvestigator)
	auditor, _ := s.Staff(workflows.RoleAuditor)
	from := time.Now().Add(-time.Second).UTC().Format(time.RFC3339)
	owner := s.NewUser(reviewer, "social_insurance_query", "employment_registration")

	t.Run("item 7: the applicant probes whether a mobile belongs to a live account", func(t *testing.T) {
		p := testenv.NewPerson()
		p.Mobile = owner.Mobile
		id, follow := s.Register(p)
		s.WaitForStatus(id, "pending")
		view := s.Expect(s.Do("GET", "/v1/registrations/"+id, nil, testenv.Follow(follow)), http.StatusOK)
		require.NotContains(t, string(view.Raw), "mobile_in_use")
		require.NotContains(t, string(view.Raw), "flags")
	})

	t.Run("item 7: the suspect reads the case, its timeline and the activity record", func(t *testing.T) {
		const ref, summary = "doc:hostile-tip-0071", "MARKER-HOSTILE-SUMMARY"
		caseID := s.Expect(s.Do("POST", "/v1/cases/fraud", map[string]any{"account_id": owner.AccountID, "suspected_fields": []string{"mobile"},
			"evidence": []string{ref}, "summary": summary, "source": "automated_check", "check_code": "shared_mobile"}, bearer(inv)), http.StatusAccepted).Str("id")
		s.WaitForCaseState(caseID, workflows.CaseAwaitingAnswer)
		testenv.Eventually(t, 20*time.Second, "the cross-check", func() bool {
			return dbCount(t, s, `SELECT count(*) FROM case_events WHERE case_id = $1 AND kind = 'cross_checked'`, caseID) == 1
		})
		for _, path := range []string{"/v1/me/cases", "/v1/me/activity?limit=200", "/v1/me/sanctions"} {
			r := s.Expect(s.Do("GET", path, nil, bearer(owner.Token)), http.StatusOK)
			for _, h := range []string{ref, summary, "automated_check", "shared_mobile", "findings", "no_automated_findings", "mobile_shared"} {
				require.NotContains(t, string(r.Raw), h, "%s carries %s", path, h)
			}
		}
	})

	t.Run("item 9: sign in as the site does, read, then reject the revision in force", func(t *testing.T) {
		u := s.NewUser(reviewer)
		v := s.PublishRevisionInForce(u.AccountID)
		tok := s.SignIn(u.IDNumber, u.Password)
		s.Expect(s.Do("GET", "/v1/me", nil, bearer(tok)), http.StatusOK)
		s.Expect(s.Do("GET", "/v1/me/terms", nil, bearer(tok)), http.StatusOK)
		rej := s.Do("POST", "/v1/me/terms/"+v+"/reject", map[string]any{"choice": "deregister", "statement": "=HYPERLINK(\"http://evil.example\")",
			"password": u.Password}, bearer(tok))
		require.Equal(t, http.StatusAccepted, rej.Status, string(rej.Raw))
		require.Zero(t, dbCount(t, s, `SELECT count(*) FROM terms_acceptances WHERE account_id = $1 AND position = 'deemed_accepted'`, u.AccountID))
	})

	t.Run("item 10: client-chosen values come out of the audit export as text", func(t *testing.T) {
		s.Do("POST", "/v1/sessions", map[string]string{"username": testenv.NewPerson().IDNumber, "password": "Wrong-Password-1"},
			testenv.Header{Name: "X-Request-ID", Value: "=1+2"}, testenv.Header{Name: "X-Forwarded-For", Value: "-1+cmd|' /C calc'!A0"},
			testenv.Header{Name: "User-Agent", Value: "@SUM(1+1)"})
		exp := s.Do("GET", "/v1/audit/export?from="+url.QueryEscape(from), nil, bearer(auditor))
		require.Equal(t, http.StatusOK, exp.Status, string(exp.Raw))
		rows, err := csv.NewReader(strings.NewReader(string(exp.Raw))).ReadAll()
		require.NoError(t, err)
		require.Greater(t, len(rows), 10)
		for _, row := range rows {
			for i, cell := range row {
				require.False(t, cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])), "column %s: %q", rows[0][i], cell)
			}
		}
	})
}
