package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// A hostile client against the running stack over real HTTP (C3.4(8),
// issue 13 items 1, 2, 3 and 8): whatever it sends, a name takes five
// wrong passwords from one address and then waits — with absurd request
// IDs, with forged forwarding headers (on the API and through the pages),
// with guesses in parallel, and with a stolen session that guesses through
// the password confirmations of signed requests.
func TestHostileClientCannotOutguessTheSignInLimits_C3_4_8(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	guess := func(username string, headers ...testenv.Header) testenv.Response {
		return s.Do("POST", "/v1/sessions", map[string]string{"username": username, "password": "Guess-" + uuid.NewString()[:6]}, headers...)
	}
	staff := func() (username, password, id string) {
		username = "target." + uuid.NewString()[:8]
		id, password = s.NewStaff(username, workflows.RoleReviewer)
		return username, password, id
	}
	statuses := func(rs []testenv.Response) []int {
		var out []int
		for _, r := range rs {
			out = append(out, r.Status)
		}
		return out
	}
	fiveThenLocked := []int{401, 401, 401, 401, 401, 429, 429}

	t.Run("item 1: request IDs cannot break the count", func(t *testing.T) {
		name, password, id := staff()
		noise := make([]byte, 6000)
		_, _ = rand.Read(noise)
		hostile := []string{base64.StdEncoding.EncodeToString(noise), "=HYPERLINK(\"http://x\")", strings.Repeat("../", 30), "id with spaces", "é", "", "ok-id-1"}
		var rs []testenv.Response
		for _, rid := range hostile {
			r := guess(name, testenv.Header{Name: "X-Request-ID", Value: rid})
			require.Regexp(t, `^[A-Za-z0-9._-]{1,64}$`, r.Header.Get("X-Request-ID"))
			rs = append(rs, r)
		}
		require.Equal(t, fiveThenLocked, statuses(rs))
		require.Equal(t, "ok-id-1", rs[6].Header.Get("X-Request-ID"), "a safe ID is kept")
		require.Equal(t, http.StatusTooManyRequests, s.Do("POST", "/v1/sessions", map[string]string{"username": name, "password": password}).Status)
		var lockRequest string
		require.NoError(t, s.DB.Get(&lockRequest, `SELECT request_id FROM audit_log WHERE action = 'account.sign_in_locked' AND record_id = $1`, id))
		require.Equal(t, rs[4].Header.Get("X-Request-ID"), lockRequest, "the lock is on record with the request's safe ID")
	})

	t.Run("item 2: forged addresses count for nothing", func(t *testing.T) {
		name, _, id := staff()
		var rs []testenv.Response
		for i := range 7 {
			rs = append(rs, guess(name, testenv.Header{Name: "X-Forwarded-For", Value: fmt.Sprintf("203.0.113.%d", i+1)},
				testenv.Header{Name: "X-Real-IP", Value: fmt.Sprintf("198.51.100.%d", i+1)}))
		}
		require.Equal(t, fiveThenLocked, statuses(rs))
		var addrs []string
		require.NoError(t, s.DB.Select(&addrs, `SELECT DISTINCT source_ip FROM sign_in_attempts WHERE staff_id = $1`, id))
		require.Equal(t, []string{"127.0.0.1"}, addrs)

		// Through the page form, the forged header does not reach the API.
		secret := strings.Repeat("s", 40)
		page := uuid.NewString()[:8]
		req, err := http.NewRequest("POST", s.URL+"/signin", strings.NewReader("username=page."+page+"&password=Guess-1234&csrf="+testenv.CSRFToken(secret)))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", "192.0.2.55")
		req.AddCookie(&http.Cookie{Name: "hrss_csrf", Value: secret})
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.NoError(t, s.DB.Select(&addrs, `SELECT DISTINCT source_ip FROM sign_in_attempts WHERE outcome = 'failed'`))
		require.Equal(t, []string{"127.0.0.1"}, addrs)
	})

	t.Run("item 3: parallel guesses stop at the limit", func(t *testing.T) {
		name, password, id := staff()
		var wg sync.WaitGroup
		var mu sync.Mutex
		byStatus := map[int]int{}
		for range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := guess(name).Status
				mu.Lock()
				byStatus[st]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		require.Equal(t, map[int]int{401: 5, 429: 35}, byStatus)
		var counted int
		require.NoError(t, s.DB.Get(&counted, `SELECT count(*) FROM sign_in_attempts WHERE staff_id = $1 AND outcome = 'failed'`, id))
		require.Equal(t, 5, counted)
		require.Equal(t, http.StatusTooManyRequests, s.Do("POST", "/v1/sessions", map[string]string{"username": name, "password": password}).Status)
	})

	t.Run("item 8: a stolen session guesses no further", func(t *testing.T) {
		reviewer, _ := s.Staff(workflows.RoleReviewer)
		u := s.NewUser(reviewer)
		version := s.PublishRevision()
		thief := testenv.Bearer(u.Token)
		wrong := "Stolen-Guess-" + uuid.NewString()[:6]
		attempts := []func(pw string) testenv.Response{
			func(pw string) testenv.Response {
				return s.Do("POST", "/v1/me/deregistration", map[string]any{"scope": "account", "statement": "注销", "password": pw}, thief)
			},
			func(pw string) testenv.Response {
				return s.Do("POST", "/v1/me/terms/"+version+"/reject", map[string]any{"choice": "deregister", "password": pw}, thief)
			},
			func(pw string) testenv.Response {
				return s.Do("PUT", "/v1/me/password", map[string]string{"old_password": pw, "new_password": "Thief-Chosen-Words-9"}, thief)
			},
		}
		var rs []testenv.Response
		for i := range 5 {
			rs = append(rs, attempts[i%3](wrong))
		}
		require.Equal(t, []int{422, 422, 401, 422, 422}, statuses(rs))
		for _, try := range attempts {
			r := try(u.Password) // even the right password now waits
			require.Equal(t, http.StatusTooManyRequests, r.Status, string(r.Raw))
			require.Equal(t, "too_many_attempts", r.ErrorCode())
			require.NotEmpty(t, r.Header.Get("Retry-After"))
		}
		var requests, rejections int
		require.NoError(t, s.DB.Get(&requests, `SELECT count(*) FROM deregistration_requests WHERE account_id = $1`, u.AccountID))
		require.NoError(t, s.DB.Get(&rejections, `SELECT count(*) FROM terms_rejections WHERE account_id = $1`, u.AccountID))
		require.Zero(t, requests+rejections)
		act := actions(t, s.Expect(s.Do("GET", "/v1/me/activity?limit=50", nil, thief), http.StatusOK))
		require.Contains(t, act, "sign_in.wrong_confirmation")
		require.Contains(t, act, "sign_in.wrong_old_password")
		require.Contains(t, act, "sign_in.throttled")
		require.Contains(t, noticeKinds(t, s, u.AccountID), "sign_in_locked")
	})
}
