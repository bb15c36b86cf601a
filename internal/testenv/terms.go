package testenv

import (
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"hrss-backoffice/activities"
)

// PublishRevision drafts a terms revision in force tomorrow, publishes it
// through the API as a new terms editor and waits until its campaign has
// marked it published. The version is unique per call (workflow IDs are
// global on a shared dev server).
func (s *Stack) PublishRevision() string {
	s.T.Helper()
	v := s.draftAndPublish(time.Now().Add(24 * time.Hour))
	Eventually(s.T, 30*time.Second, "the revision "+v+" published", func() bool {
		var n int
		_ = s.DB.Get(&n, `SELECT count(*) FROM terms_versions WHERE version = $1 AND published_at IS NOT NULL`, v)
		return n == 1
	})
	return v
}

// PublishRevisionInForce publishes a terms revision that takes effect two
// seconds later and waits until it is in force and the campaign has put
// its notice in the inbox of each account given.
func (s *Stack) PublishRevisionInForce(accountIDs ...string) string {
	s.T.Helper()
	effective := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	v := s.draftAndPublish(effective)
	Eventually(s.T, 30*time.Second, "the revision "+v+" in force with its notices", func() bool {
		var n int
		_ = s.DB.Get(&n, `SELECT count(*) FROM notices WHERE operation_key = ANY($1)`, pq.Array(noticeKeys(v, accountIDs)))
		return n == len(accountIDs) && time.Now().After(effective)
	})
	return v
}

// draftAndPublish drafts a revision taking effect at effective and starts
// its campaign, as a new terms editor.
func (s *Stack) draftAndPublish(effective time.Time) string {
	s.T.Helper()
	editor, _ := s.Staff("terms_editor")
	v := "2027-" + uuid.NewString()[:8]
	s.Expect(s.Do("POST", "/v1/terms", map[string]any{"version": v, "title": "用户承诺书（修订）", "body": "修订后的全文……",
		"summary": "第7条：服务中断须提前通知", "effective_at": effective.UTC().Format(time.RFC3339)}, Bearer(editor)), http.StatusCreated)
	s.Expect(s.Do("POST", "/v1/terms/"+v+"/publish", nil, Bearer(editor)), http.StatusAccepted)
	return v
}

func noticeKeys(version string, accountIDs []string) []string {
	keys := make([]string, len(accountIDs))
	for i, a := range accountIDs {
		keys[i] = activities.TermsNoticeKey(version, a)
	}
	return keys
}
