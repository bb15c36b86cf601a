package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C3.3(2): a session ends by itself after SESSION_TTL, for users and staff
// alike; an expired token opens nothing, not even the public routes, and
// signing in again gives a fresh session.
func TestSessionsExpire_C3_3_2(t *testing.T) {
	const ttl = 8 * time.Second
	s := testenv.Start(t, testenv.Options{SessionTTL: ttl})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	// Fresh sessions, so both have nearly the whole lifetime left.
	user := s.SignIn(u.IDNumber, u.Password)
	signIn := s.Expect(s.Do("POST", "/v1/sessions", map[string]string{"username": u.IDNumber, "password": u.Password}), http.StatusCreated)
	expires, err := time.Parse(time.RFC3339Nano, signIn.Str("expires_at"))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(ttl), expires, 2*time.Second, "expires_at follows SESSION_TTL")
	require.Equal(t, http.StatusOK, s.Do("GET", "/v1/me", nil, testenv.Bearer(user)).Status)
	require.Equal(t, http.StatusOK, s.Do("GET", "/v1/review/queue", nil, testenv.Bearer(reviewer)).Status)

	testenv.Eventually(t, 3*ttl, "the user's session to expire", func() bool {
		return s.Do("GET", "/v1/me", nil, testenv.Bearer(user)).Status == http.StatusUnauthorized
	})
	testenv.Eventually(t, 3*ttl, "the reviewer's session to expire", func() bool {
		return s.Do("GET", "/v1/review/queue", nil, testenv.Bearer(reviewer)).Status == http.StatusUnauthorized
	})
	for _, probe := range []struct{ method, path string }{
		{"GET", "/v1/me"}, {"GET", "/v1/me/notices"}, {"GET", "/v1/services"}, {"DELETE", "/v1/sessions/current"},
	} {
		r := s.Do(probe.method, probe.path, nil, testenv.Bearer(user))
		require.Equal(t, http.StatusUnauthorized, r.Status, probe.path)
		require.Equal(t, "unauthenticated", r.ErrorCode(), probe.path)
	}
	again := s.SignIn(u.IDNumber, u.Password)
	require.Equal(t, http.StatusOK, s.Do("GET", "/v1/me", nil, testenv.Bearer(again)).Status)
}

// C3.3(2): after sign-out the token is dead everywhere (a second sign-out,
// public routes, the user's own routes), while the user's other sessions
// live on.
func TestNoTokenAcceptedAfterSignOut_C3_3_2(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	second := s.SignIn(u.IDNumber, u.Password)
	require.Equal(t, http.StatusNoContent, s.Do("DELETE", "/v1/sessions/current", nil, testenv.Bearer(u.Token)).Status)
	for _, probe := range []struct{ method, path string }{
		{"DELETE", "/v1/sessions/current"}, {"GET", "/v1/me"}, {"GET", "/v1/me/activity"}, {"GET", "/v1/terms/current"},
		{"PUT", "/v1/me/password"},
	} {
		var body any
		if probe.method == "PUT" {
			body = map[string]string{"old_password": u.Password, "new_password": "Never-Applied-Pass-42"}
		}
		r := s.Do(probe.method, probe.path, body, testenv.Bearer(u.Token))
		require.Equal(t, http.StatusUnauthorized, r.Status, probe.path)
		require.Equal(t, "unauthenticated", r.ErrorCode(), probe.path)
	}
	require.Equal(t, http.StatusOK, s.Do("GET", "/v1/me", nil, testenv.Bearer(second)).Status, "the other session lives on")
	// The refused password change changed nothing.
	s.SignIn(u.IDNumber, u.Password)
}
