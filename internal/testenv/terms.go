package testenv

import (
	"net/http"
	"time"

	"github.com/google/uuid"
)

// PublishRevision drafts a terms revision in force tomorrow, publishes it
// through the API as a new terms editor and waits until its campaign has
// marked it published. The version is unique per call (workflow IDs are
// global on a shared dev server).
func (s *Stack) PublishRevision() string {
	s.T.Helper()
	editor, _ := s.Staff("terms_editor")
	v := "2027-" + uuid.NewString()[:8]
	s.Expect(s.Do("POST", "/v1/terms", map[string]any{"version": v, "title": "用户承诺书（修订）", "body": "修订后的全文……",
		"summary": "第7条：服务中断须提前通知", "effective_at": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)},
		Bearer(editor)), http.StatusCreated)
	s.Expect(s.Do("POST", "/v1/terms/"+v+"/publish", nil, Bearer(editor)), http.StatusAccepted)
	Eventually(s.T, 30*time.Second, "the revision "+v+" published", func() bool {
		var n int
		_ = s.DB.Get(&n, `SELECT count(*) FROM terms_versions WHERE version = $1 AND published_at IS NOT NULL`, v)
		return n == 1
	})
	return v
}
