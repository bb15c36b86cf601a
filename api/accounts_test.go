package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C3.3: at the counter, staff find the accounts of the person in front of
// them by the ID number on the document. The number is answered masked,
// each account found is recorded and shows in the person's own activity
// record, a bad number is a field error, and roles without account access
// are refused.
func TestStaffFindAccountsByIDNumberAndTheLookupIsRecorded_C3_3(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	editor, _ := s.Staff(workflows.RoleTermsEditor)
	u := s.NewUser(reviewer)
	lookups := func() int {
		var n int
		require.NoError(t, s.DB.Get(&n, `SELECT count(*) FROM audit_log WHERE action = 'account.looked_up' AND record_id = $1`, u.AccountID))
		return n
	}

	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/accounts/search", map[string]any{"id_number": u.IDNumber}, testenv.Bearer(editor)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/accounts/search", map[string]any{"id_number": u.IDNumber}, testenv.Bearer(u.Token)).Status)
	wrongCheck := "0"
	if u.IDNumber[17] == '0' {
		wrongCheck = "1"
	}
	bad := s.Do("POST", "/v1/accounts/search", map[string]any{"id_number": u.IDNumber[:17] + wrongCheck}, testenv.Bearer(reviewer))
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, string(bad.Raw))
	require.Equal(t, []string{"id_number"}, bad.DetailFields())
	none := s.Expect(s.Do("POST", "/v1/accounts/search", map[string]any{"id_number": testenv.NewPerson().IDNumber}, testenv.Bearer(reviewer)), http.StatusOK)
	require.Empty(t, none.Body["items"])
	require.Zero(t, lookups())

	// Typed with a lower-case x or spaces, as people do at the counter.
	typed := " " + strings.ToLower(u.IDNumber) + " "
	r := s.Expect(s.Do("POST", "/v1/accounts/search", map[string]any{"id_number": typed}, testenv.Bearer(reviewer)), http.StatusOK)
	items := r.Body["items"].([]any)
	require.Len(t, items, 1)
	it := items[0].(map[string]any)
	require.Equal(t, u.AccountID, it["id"])
	require.Equal(t, "active", it["status"])
	require.Equal(t, u.Name, it["name"])
	require.NotContains(t, string(r.Raw), u.IDNumber[6:14], "the ID number is answered masked")
	require.Equal(t, 1, lookups())

	mine := s.Expect(s.Do("GET", "/v1/me/activity", nil, testenv.Bearer(u.Token)), http.StatusOK)
	require.Contains(t, string(mine.Raw), `"action":"account.looked_up"`)
}
