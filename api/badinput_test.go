package api_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// Bad input on representative routes (anonymous intake, sign-in, a user's
// own data, a staff write): oversized bodies, wrong content types, unknown
// fields, deeply nested JSON, invalid UTF-8 and empty bodies each get a
// defined 4xx in the shared error shape, and change nothing.
func TestBadInputGetsDefined4xxOnEveryKindOfRoute(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	admin := s.Admin()
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	routes := []struct {
		method, path string
		auth         []testenv.Header
		good         map[string]any
	}{
		{"POST", "/v1/registrations", nil, testenv.NewPerson().Registration()},
		{"POST", "/v1/sessions", nil, map[string]any{"username": u.IDNumber, "password": u.Password}},
		{"PATCH", "/v1/me", []testenv.Header{testenv.Bearer(u.Token)}, map[string]any{"email": "new@example.org"}},
		{"POST", "/v1/me/data-changes", []testenv.Header{testenv.Bearer(u.Token)}, map[string]any{"name": "新名字"}},
		{"POST", "/v1/staff", []testenv.Header{testenv.Bearer(admin)}, map[string]any{"username": "bad.input", "name": "员工",
			"roles": []string{"reviewer"}}},
	}
	before := snapshot(t, s)
	deep := strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000)
	for _, rt := range routes {
		withExtra := map[string]any{"is_admin": true}
		for k, v := range rt.good {
			withExtra[k] = v
		}
		cases := []struct {
			name   string
			body   any
			ctype  string
			status int
			code   string
		}{
			{"oversized", []byte(`{"name":"` + strings.Repeat("a", 70_000) + `"}`), "", 413, "body_too_large"},
			{"oversized and wrong type", []byte(strings.Repeat("a", 200_000)), "text/plain", 413, "body_too_large"},
			{"form content type", []byte("name=x"), "application/x-www-form-urlencoded", 415, "unsupported_media_type"},
			{"xml content type", []byte("<name>x</name>"), "application/xml", 415, "unsupported_media_type"},
			{"unknown field", withExtra, "", 422, "validation_failed"},
			{"deep arrays", []byte(deep), "", 422, "validation_failed"},
			{"deep objects", []byte(strings.Repeat(`{"a":`, 5_000) + "1" + strings.Repeat("}", 5_000)), "", 422, "validation_failed"},
			{"invalid utf-8", []byte("{\"name\":\"\xff\xfe\xfd\"}"), "", 422, "validation_failed"},
			{"empty", []byte(""), "", 422, "validation_failed"},
			{"null", []byte("null"), "", 422, "validation_failed"},
		}
		for _, tc := range cases {
			t.Run(rt.method+" "+rt.path+" "+tc.name, func(t *testing.T) {
				hs := append([]testenv.Header{}, rt.auth...)
				if tc.ctype != "" {
					hs = append(hs, testenv.Header{Name: "Content-Type", Value: tc.ctype})
				}
				r := s.Do(rt.method, rt.path, tc.body, hs...)
				require.Equal(t, tc.status, r.Status, string(r.Raw))
				require.Equal(t, tc.code, r.ErrorCode(), string(r.Raw))
				require.NotEmpty(t, r.Str("error", "request_id"))
			})
		}
	}
	require.Equal(t, before, snapshot(t, s), "bad input changed nothing")
}

func snapshot(t *testing.T, s *testenv.Stack) map[string]int {
	out := map[string]int{}
	for _, q := range []string{
		`SELECT count(*) FROM applications`, `SELECT count(*) FROM staff`, `SELECT count(*) FROM sessions`,
		`SELECT count(*) FROM data_changes`, `SELECT count(*) FROM audit_log`,
	} {
		out[q] = count(t, s, q)
	}
	return out
}
