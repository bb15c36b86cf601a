package e2e

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// syncBuffer is a log sink safe for the worker's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

// Operators get Prometheus metrics (HTTP by route and status, the Temporal
// SDK's, business gauges), and one request ID ties an HTTP request to the
// workflow it started and to the activity log lines; no personal data in
// the logs.
func TestMetricsRequestIDAndLogsWithoutPersonalData_C3_4_8(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	logs := &syncBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	reviewer, _ := s.Staff(workflows.RoleReviewer)
	p := testenv.NewPerson()
	r := s.Expect(s.Do("POST", "/v1/registrations", p.Registration("social_insurance_query")), http.StatusAccepted)
	id, requestID := r.Str("id"), r.Header.Get("X-Request-Id")
	require.NotEmpty(t, requestID)
	s.WaitForStatus(id, "pending")
	s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "approve"}, testenv.Bearer(reviewer)), http.StatusOK)
	s.Do("POST", "/v1/registrations", map[string]any{"name": p.Name}) // a 422, counted too

	// The request ID travels in the workflow's start header.
	h := history(t, s, workflows.RegistrationWorkflowID(id))
	hdr := h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetHeader().GetFields()["hrss-request-id"]
	require.NotNil(t, hdr, "start header carries the request ID")
	require.Contains(t, string(hdr.GetData()), requestID)
	// ... and into the activity log lines.
	testenv.Eventually(t, 10*time.Second, "activity log line with the request ID", func() bool {
		return strings.Contains(logs.String(), `"activity":"AdmitApplication"`) && strings.Contains(logs.String(), requestID)
	})

	// The API port does not serve the metrics (C3.4(8)); they are on an
	// address of their own, with the business gauges counted on a timer.
	require.Equal(t, http.StatusNotFound, s.Do("GET", "/metrics", nil).Status, "metrics on the public API port")
	var body string
	testenv.Eventually(t, 10*time.Second, "business gauges counted", func() bool {
		body = scrape(t, s.MetricsURL+"/metrics")
		return strings.Contains(body, `hrss_applications{status="approved"} 1`)
	})
	for _, want := range []string{
		`hrss_http_requests_total{method="POST",route="/v1/registrations",status="202"}`,
		`hrss_http_requests_total{method="POST",route="/v1/registrations",status="422"}`,
		`hrss_http_request_duration_seconds_bucket{method="POST",route="/v1/registrations/:id/decision"`,
		`hrss_applications{status="approved"} 1`,
		`temporal_request`,
	} {
		require.Contains(t, body, want)
	}

	for _, marker := range []string{p.Name, p.IDNumber, p.Mobile, p.Address} {
		require.NotContains(t, logs.String(), marker, "personal data in the logs")
		require.NotContains(t, body, marker)
	}
}
