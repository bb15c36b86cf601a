package api_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C3.2: the queue of name and ID number changes pages oldest first by a
// cursor, so that no request is out of the reviewers' sight however long
// the queue grows.
func TestDataChangeQueuePagesOldestFirst_C3_2(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	var ids []string
	for _, name := range []string{"甲新名", "乙新名", "丙新名"} {
		u := s.NewUser(reviewer)
		ids = append(ids, s.Expect(s.Do("POST", "/v1/me/data-changes", map[string]any{"name": name}, testenv.Bearer(u.Token)),
			http.StatusAccepted).Str("id"))
	}
	var seen []string
	path := "/v1/review/data-changes?limit=2"
	for pages := 0; path != ""; pages++ {
		require.Less(t, pages, 3)
		r := s.Expect(s.Do("GET", path, nil, testenv.Bearer(reviewer)), http.StatusOK)
		for _, it := range r.Body["items"].([]any) {
			seen = append(seen, it.(map[string]any)["id"].(string))
		}
		path = ""
		if next := r.Str("next_cursor"); next != "" {
			path = "/v1/review/data-changes?limit=2&after=" + url.QueryEscape(next)
		}
	}
	require.Equal(t, ids, seen, "every request once, oldest first")
	bad := s.Do("GET", "/v1/review/data-changes?after=not-a-cursor", nil, testenv.Bearer(reviewer))
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
	require.Equal(t, []string{"after"}, bad.DetailFields())
}
