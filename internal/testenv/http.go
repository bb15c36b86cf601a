package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"hrss-backoffice/api"
)

// CheckAnswers is the API's Deps.CheckAnswers of a test: an answer that the
// OpenAPI document does not allow fails t with its route, status and the
// validator's message. Every stack turns it on, so every API, end-to-end and
// page test (the pages call /v1 in-process) validates every answer.
func CheckAnswers(t testing.TB) func(api.AnswerMismatch) {
	return func(m api.AnswerMismatch) { t.Errorf("%v", m) }
}

// Response is a decoded answer.
type Response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// Str reads a string field by path ("error.code").
func (r Response) Str(path ...string) string {
	var v any = r.Body
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

// ErrorCode is the stable code of an error answer.
func (r Response) ErrorCode() string { return r.Str("error", "code") }

// DetailFields lists the fields named in an error's details.
func (r Response) DetailFields() []string {
	var out []string
	e, _ := r.Body["error"].(map[string]any)
	ds, _ := e["details"].([]any)
	for _, d := range ds {
		if m, ok := d.(map[string]any); ok {
			out = append(out, fmt.Sprint(m["field"]))
		}
	}
	return out
}

// Header is an extra request header.
type Header struct{ Name, Value string }

// Bearer is the Authorization header of a session token.
func Bearer(token string) Header { return Header{"Authorization", "Bearer " + token} }

// Follow is the applicant's follow-token header.
func Follow(token string) Header { return Header{"X-Follow-Token", token} }

// Do sends a request; body is marshalled as JSON unless it is a []byte.
func (s *Stack) Do(method, path string, body any, headers ...Header) Response {
	s.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.T.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		s.T.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		req.Header.Set(h.Name, h.Value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// Expect fails the test unless the answer has the status.
func (s *Stack) Expect(r Response, status int) Response {
	s.T.Helper()
	if r.Status != status {
		s.T.Fatalf("want status %d, got %d: %s", status, r.Status, r.Raw)
	}
	return r
}
