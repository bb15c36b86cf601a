package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/api"
	"hrss-backoffice/internal/sealed"
	"hrss-backoffice/internal/testdb"
	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

func count(t *testing.T, s *testenv.Stack, q string, args ...any) int {
	var n int
	require.NoError(t, s.DB.Get(&n, q, args...))
	return n
}

// C3.2: every field of a registration is validated and all problems are
// reported at once, field by field; nothing is stored.
func TestRegistrationValidationReportsEveryField_C3_2(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	valid := testenv.NewPerson().IDNumber
	badCheck := valid[:17] + map[bool]string{true: "1", false: "0"}[valid[17] == '0']
	body := map[string]any{"name": "X", "id_number": badCheck, "mobile": "12345", "email": "nope",
		"address": "短", "channel": "online", "services": []string{"social_insurance_query", "bogus"},
		"terms_version": "1999-01", "agreed": false}
	r := s.Do("POST", "/v1/registrations", body)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Raw))
	require.Equal(t, "validation_failed", r.ErrorCode())
	require.ElementsMatch(t, []string{"name", "id_number", "mobile", "email", "address", "agreed", "terms_version", "services.1"}, r.DetailFields())
	require.NotEmpty(t, r.Str("error", "message_zh"))
	require.NotEmpty(t, r.Str("error", "message_en"))
	require.NotEmpty(t, r.Str("error", "request_id"))
	require.Equal(t, 0, count(t, s, `SELECT count(*) FROM applications`))
}

// Bad requests get a defined 4xx in the shared shape, never a 500.
func TestMalformedRequestsGetDefined4xx(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	good := testenv.NewPerson().Registration()
	withExtra := map[string]any{"is_admin": true}
	for k, v := range good {
		withExtra[k] = v
	}
	cases := []struct {
		name   string
		method string
		path   string
		body   any
		ctype  string
		status int
		code   string
	}{
		{"unknown field", "POST", "/v1/registrations", withExtra, "", 422, "validation_failed"},
		{"missing fields", "POST", "/v1/registrations", map[string]any{"name": "王五"}, "", 422, "validation_failed"},
		{"wrong type", "POST", "/v1/registrations", map[string]any{"agreed": "yes"}, "", 422, "validation_failed"},
		{"not json", "POST", "/v1/registrations", []byte("{not json"), "", 422, "validation_failed"},
		{"wrong content type", "POST", "/v1/registrations", []byte("name=x"), "application/x-www-form-urlencoded", 415, "unsupported_media_type"},
		{"bad channel", "POST", "/v1/registrations", map[string]any{"channel": "fax"}, "", 422, "validation_failed"},
		{"too large", "POST", "/v1/registrations", []byte(`{"name":"` + strings.Repeat("a", 70_000) + `"}`), "", 413, "body_too_large"},
		{"bad path id", "GET", "/v1/registrations/not-a-uuid", nil, "", 422, "validation_failed"},
		{"unknown route", "GET", "/v1/nowhere", nil, "", 404, "not_found"},
		{"wrong method", "DELETE", "/v1/registrations", nil, "", 405, "method_not_allowed"},
		{"bad queue limit", "GET", "/v1/review/queue?limit=0", nil, "", 422, "validation_failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hs []testenv.Header
			if tc.ctype != "" {
				hs = append(hs, testenv.Header{Name: "Content-Type", Value: tc.ctype})
			}
			r := s.Do(tc.method, tc.path, tc.body, hs...)
			require.Equal(t, tc.status, r.Status, string(r.Raw))
			require.Equal(t, tc.code, r.ErrorCode(), string(r.Raw))
		})
	}
	require.Equal(t, 0, count(t, s, `SELECT count(*) FROM applications`))
}

// C1.4: only operator staff with the right role may decide, see the queue
// or manage staff; everyone else is refused and nothing changes.
func TestRolesAreEnforcedOnStaffEndpoints_C1_4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	auditor, _ := s.Staff(workflows.RoleAuditor)
	admin := s.Admin()
	p := testenv.NewPerson()
	id, follow := s.Register(p)
	s.WaitForStatus(id, "pending")
	decide := map[string]string{"decision": "approve"}

	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/registrations/"+id+"/decision", decide).Status)
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/registrations/"+id+"/decision", decide, testenv.Bearer("forged")).Status)
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/registrations/"+id+"/decision", decide, testenv.Follow(follow)).Status)
	// Staff without a review role: refused by the workflow's validator.
	for _, tok := range []string{auditor, admin} {
		r := s.Do("POST", "/v1/registrations/"+id+"/decision", decide, testenv.Bearer(tok))
		require.Contains(t, []int{http.StatusForbidden, http.StatusNotFound}, r.Status, string(r.Raw))
	}
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/review/queue", nil, testenv.Bearer(auditor)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/review/queue", nil, testenv.Bearer(admin)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/staff", map[string]any{"username": "x.y.z", "name": "n",
		"roles": []string{"administrator"}}, testenv.Bearer(reviewer)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/staff", nil, testenv.Bearer(reviewer)).Status)
	require.Equal(t, http.StatusOK, s.Do("GET", "/v1/staff", nil, testenv.Bearer(admin)).Status)
	require.Equal(t, "pending", queryStatus(t, s, id), "refused decisions changed nothing")
	// A reviewer decides; a pickup by the wrong staff member is refused.
	s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", decide, testenv.Bearer(reviewer)), http.StatusOK)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/registrations/"+id+"/initial-password", nil, testenv.Bearer(auditor)).Status)
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/registrations/"+id+"/initial-password", nil).Status)
}

func queryStatus(t *testing.T, s *testenv.Stack, id string) string {
	var st string
	require.NoError(t, s.DB.Get(&st, `SELECT status FROM applications WHERE id = $1`, id))
	return st
}

// Sign-in answers the same for an unknown user and a wrong password, and
// throttles repeated failures per username, known or not (C3.4(8)).
func TestSignInIsGenericAndThrottled_C3_4_8(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	unknown := s.Do("POST", "/v1/sessions", map[string]string{"username": testenv.NewPerson().IDNumber, "password": "whatever-123"})
	wrong := s.Do("POST", "/v1/sessions", map[string]string{"username": testenv.AdminUsername, "password": "whatever-123"})
	require.Equal(t, http.StatusUnauthorized, unknown.Status)
	require.Equal(t, unknown.Status, wrong.Status)
	require.Equal(t, unknown.Body["error"].(map[string]any)["message_en"], wrong.Body["error"].(map[string]any)["message_en"])
	require.Equal(t, unknown.ErrorCode(), wrong.ErrorCode())

	// A fresh staff member (known username) and an unknown one lock alike.
	known := "locked." + strings.ToLower(testenv.NewPerson().IDNumber[10:16])
	s.NewStaff(known, "reviewer")
	for _, user := range []string{known, "no.such.user"} {
		for range 5 {
			require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/sessions", map[string]string{"username": user, "password": "bad-guess"}).Status)
		}
		r := s.Do("POST", "/v1/sessions", map[string]string{"username": user, "password": "bad-guess"})
		require.Equal(t, http.StatusTooManyRequests, r.Status, user)
		require.Equal(t, "too_many_attempts", r.ErrorCode())
	}
	// Even the right password is refused while locked.
	r := s.Do("POST", "/v1/sessions", map[string]string{"username": known, "password": "Right-Password-123"})
	require.Equal(t, http.StatusTooManyRequests, r.Status)
}

// C3.3(2): sessions are server-side: sign-out and a password change end
// them at once.
func TestSessionsAreRevocable_C3_3_2(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	admin := s.Admin()
	tok, _ := s.Staff(workflows.RoleReviewer)
	require.Equal(t, http.StatusOK, s.Do("GET", "/v1/me", nil, testenv.Bearer(tok)).Status)
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", "/v1/sessions/current", nil, testenv.Bearer(tok)).Status)
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/me", nil, testenv.Bearer(tok)).Status)

	// A second session of the admin ends when the password changes.
	other := s.SignIn(testenv.AdminUsername, "Strong-Changed-Passphrase-9")
	s.ChangePassword(admin, "Strong-Changed-Passphrase-9", "Another-Strong-Passphrase-7")
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/me", nil, testenv.Bearer(other)).Status)
	require.Equal(t, http.StatusOK, s.Do("GET", "/v1/me", nil, testenv.Bearer(admin)).Status)
	wrongOld := s.Do("PUT", "/v1/me/password", map[string]string{"old_password": "nope-nope-nope", "new_password": "Yet-Another-Passphrase-3"}, testenv.Bearer(admin))
	require.Equal(t, http.StatusUnauthorized, wrongOld.Status)
}

// The bootstrap administrator must change the password before anything
// else; staff creation validates and refuses duplicates.
func TestBootstrapAdminAndStaffCreation_C1_4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	first := s.SignIn(testenv.AdminUsername, testenv.AdminPassword)
	r := s.Do("POST", "/v1/staff", map[string]any{"username": "rev.one", "name": "审核员", "roles": []string{"reviewer"}},
		testenv.Bearer(first))
	require.Equal(t, http.StatusForbidden, r.Status)
	require.Equal(t, "password_change_required", r.ErrorCode())
	admin := s.Admin()
	body := map[string]any{"username": "rev.one", "name": "审核员", "roles": []string{"reviewer", "reviewer"}}
	created := s.Expect(s.Do("POST", "/v1/staff", body, testenv.Bearer(admin)), http.StatusCreated)
	require.Equal(t, []any{"reviewer"}, created.Body["roles"])
	require.NotEmpty(t, created.Str("initial_password"), "generated, shown once")
	require.Equal(t, http.StatusConflict, s.Do("POST", "/v1/staff", body, testenv.Bearer(admin)).Status)
	bad := s.Do("POST", "/v1/staff", map[string]any{"username": "Bad Name", "name": "x", "roles": []string{"wizard"}},
		testenv.Bearer(admin))
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
	require.Contains(t, bad.DetailFields(), "roles.0")
	bad = s.Do("POST", "/v1/staff", map[string]any{"username": "Bad Name", "name": "   ", "roles": []string{"reviewer"}},
		testenv.Bearer(admin))
	require.ElementsMatch(t, []string{"username", "name"}, bad.DetailFields())
	chosen := s.Do("POST", "/v1/staff", map[string]any{"username": "rev.chosen", "name": "x", "roles": []string{"reviewer"},
		"password": "Chosen-Password-123"}, testenv.Bearer(admin))
	require.Equal(t, http.StatusUnprocessableEntity, chosen.Status, "the administrator no longer chooses a first password")
	require.Equal(t, 2, count(t, s, `SELECT count(*) FROM staff`))
	require.Positive(t, count(t, s, `SELECT count(*) FROM audit_log WHERE action = 'staff.created'`))
}

// The OpenAPI document is served and valid; the catalogue and the terms
// are public.
func TestPublicDocumentsAreServed(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	r := s.Expect(s.Do("GET", "/v1/openapi.yaml", nil), http.StatusOK)
	doc, err := openapi3.NewLoader().LoadFromData(r.Raw)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	svc := s.Expect(s.Do("GET", "/v1/services", nil), http.StatusOK)
	require.Len(t, svc.Body["services"], 5)
	require.Equal(t, http.StatusOK, s.Do("GET", "/healthz", nil).Status)
}

// The review queue pages oldest first with a cursor.
func TestReviewQueuePagesOldestFirst_C2_1(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	var ids []string
	for range 3 {
		id, _ := s.Register(testenv.NewPerson())
		s.WaitForStatus(id, "pending")
		ids = append(ids, id)
	}
	var seen []string
	cursor := ""
	for page := 0; page < 5; page++ {
		path := "/v1/review/queue?limit=2"
		if cursor != "" {
			path += "&after=" + cursor
		}
		r := s.Expect(s.Do("GET", path, nil, testenv.Bearer(reviewer)), http.StatusOK)
		for _, it := range r.Body["items"].([]any) {
			seen = append(seen, it.(map[string]any)["id"].(string))
		}
		cursor = r.Str("next_cursor")
		if cursor == "" {
			break
		}
	}
	require.Equal(t, ids, seen)
	require.Equal(t, http.StatusUnprocessableEntity, s.Do("GET", "/v1/review/queue?after=garbage", nil, testenv.Bearer(reviewer)).Status)
}

// failingTemporal answers every start with err.
type failingTemporal struct {
	client.Client
	err error
}

func (f failingTemporal) ExecuteWorkflow(context.Context, client.StartWorkflowOptions, interface{}, ...interface{}) (client.WorkflowRun, error) {
	return nil, f.err
}

func registerWith(t *testing.T, err error) (*http.Response, *sqlx.DB) {
	db, _ := testdb.New(t)
	box, berr := sealed.NewBox("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")
	require.NoError(t, berr)
	e, nerr := api.New(api.Deps{DB: db, Temporal: failingTemporal{err: err}, Box: box, TaskQueue: "none", Hash: testenv.FastHash,
		IntakeSettleWait: 500 * time.Millisecond, AnonLimits: api.NoAnonLimits, AnswerFloor: -1, MobileCodes: api.MobileCodeSettings{Off: true}})
	require.NoError(t, nerr)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	p := testenv.NewPerson()
	resp, perr := http.Post(srv.URL+"/v1/registrations", "application/json", bytes.NewReader(mustJSON(t, p.Registration())))
	require.NoError(t, perr)
	resp.Body.Close()
	return resp, db
}

// No partial rows: when the review is refused for certain, the application
// is taken back and the applicant is told to try again (503).
func TestRegistrationLeavesNothingWhenTheStartIsRefused_C3_1(t *testing.T) {
	resp, db := registerWith(t, serviceerror.NewInvalidArgument("refused"))
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	var n int
	require.NoError(t, db.Get(&n, `SELECT count(*) FROM applications`))
	require.Equal(t, 0, n)
}

// Temporal unreachable throughout: the start may or may not have happened,
// so the application stays (its process, or the intake sweeper, owns it),
// and the answer is 503 outcome_unknown with Retry-After.
func TestRegistrationKeptWhenTheOutcomeStaysUnknown_C3_1(t *testing.T) {
	resp, db := registerWith(t, serviceerror.NewUnavailable("temporal is down"))
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, "5", resp.Header.Get("Retry-After"))
	var n int
	require.NoError(t, db.Get(&n, `SELECT count(*) FROM applications WHERE status = 'submitted'`))
	require.Equal(t, 1, n)
}
