package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C2.7: the terms versions are listed newest first; a draft is seen only by
// terms editors and administrators until it is published, then by anyone.
func TestTermsVersionsListShowsDraftsToEditorsOnly_C2_7(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	editor, _ := s.Staff(workflows.RoleTermsEditor)
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	v := "2031-" + uuid.NewString()[:8]
	s.Expect(s.Do("POST", "/v1/terms", map[string]any{"version": v, "title": "用户承诺书（草稿）", "body": "全文",
		"summary": "第7条修订", "effective_at": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)},
		testenv.Bearer(editor)), http.StatusCreated)
	versions := func(hs ...testenv.Header) map[string]map[string]any {
		r := s.Expect(s.Do("GET", "/v1/terms", nil, hs...), http.StatusOK)
		out := map[string]map[string]any{}
		for i, it := range r.Body["items"].([]any) {
			m := it.(map[string]any)
			m["position"] = i
			out[m["version"].(string)] = m
			require.NotContains(t, m, "body", "the list leaves the bodies out")
		}
		return out
	}
	require.NotContains(t, versions(), v)
	require.NotContains(t, versions(testenv.Bearer(reviewer)), v)
	draft := versions(testenv.Bearer(editor))
	require.Contains(t, draft, v)
	require.Nil(t, draft[v]["published_at"])
	require.Equal(t, 0, draft[v]["position"], "newest first")
	require.Contains(t, draft, "2026-01", "the published versions too")

	s.Expect(s.Do("POST", "/v1/terms/"+v+"/publish", nil, testenv.Bearer(editor)), http.StatusAccepted)
	// The campaign's first activity marks the version published.
	testenv.Eventually(t, 30*time.Second, "the version listed for anyone", func() bool {
		_, ok := versions()[v]
		return ok
	})
	require.NotNil(t, versions()[v]["published_at"])
}
