package testenv

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"hrss-backoffice/api"
)

type recordingTB struct {
	testing.TB
	failures []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

// The harness fails the test with the route, the status and the
// validator's message of an answer the document does not allow.
func TestCheckAnswers_FailsTheTest(t *testing.T) {
	tb := &recordingTB{TB: t}
	CheckAnswers(tb)(api.AnswerMismatch{Method: "GET", Route: "/v1/me", Status: 200,
		Err: errors.New(`property "secret" is unsupported`)})
	if len(tb.failures) != 1 {
		t.Fatalf("failures: %v", tb.failures)
	}
	for _, want := range []string{"GET /v1/me", "200", `property "secret" is unsupported`} {
		if !strings.Contains(tb.failures[0], want) {
			t.Errorf("%q lacks %q", tb.failures[0], want)
		}
	}
}
