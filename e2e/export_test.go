package e2e

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// PIPL art. 45 / C3.3(4): GET /v1/me/export is the caller's own data only,
// users only, audited, and limited per user: ten requests at once give
// exactly five documents and five 429 answers with Retry-After; another
// user is not affected.
func TestExportIsOwnDataAuditedAndLimitedPerUser_C3_3_4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	other := s.NewUser(reviewer)

	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/me/export", nil).Status)
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/me/export", nil, testenv.Bearer(reviewer)).Status)

	statuses := make([]int, 10)
	retry := make([]string, 10)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.Do("GET", "/v1/me/export", nil, testenv.Bearer(u.Token))
			statuses[i], retry[i] = r.Status, r.Header.Get("Retry-After")
			if r.Status == http.StatusOK {
				require.NotContains(t, string(r.Raw), other.Name, "only the caller's data")
				require.NotContains(t, string(r.Raw), other.AccountID)
			} else {
				require.Equal(t, "too_many_exports", r.ErrorCode())
			}
		}()
	}
	wg.Wait()
	ok, limited := 0, 0
	for i, st := range statuses {
		switch st {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			limited++
			require.NotEmpty(t, retry[i])
		default:
			t.Fatalf("answer %d", st)
		}
	}
	require.Equal(t, 5, ok)
	require.Equal(t, 5, limited)
	var n int
	require.NoError(t, s.DB.Get(&n, `SELECT count(*) FROM audit_log WHERE action = 'account.exported' AND record_id = $1`, u.AccountID))
	require.Equal(t, 5, n, "each document given is audited; refusals are not")

	mine := s.Expect(s.Do("GET", "/v1/me/export", nil, testenv.Bearer(other.Token)), http.StatusOK)
	require.Equal(t, other.Name, mine.Str("account", "name"))
	require.Equal(t, other.AccountID, mine.Str("account", "id"))
	for _, part := range []string{"services", "agreement", "terms", "notices", "activity", "cases", "sanctions",
		"disclosures", "consents", "data_changes", "deregistration_requests"} {
		require.Contains(t, mine.Body, part)
	}
}
