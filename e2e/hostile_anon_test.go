package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/api"
	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// Hostile anonymous clients (issue 13) over real HTTP against the real
// stack: per-address limits on every anonymous route, shared by API
// replicas and atomic under concurrency; anonymous answers that tell about
// an ID number take the same time for a match and a miss and are recorded.

// C3.4(8): every anonymous route has a per-address budget; the answer past
// it is 429 with Retry-After in the shared error shape; parallel requests
// cannot race past it; a second API replica on the same database shares
// the counter; signed-in callers are not counted.
func TestAnonymousRoutesLimitedPerAddress_C3_4_8(t *testing.T) {
	limits := api.AnonLimits{
		api.BucketRegistration: {N: 3, Per: time.Hour},
		api.BucketFollow:       {N: 4, Per: time.Hour},
		api.BucketReport:       {N: 2, Per: time.Hour},
		api.BucketSignIn:       {N: 100, Per: time.Hour},
		api.BucketPublic:       {N: 5, Per: time.Hour},
	}
	s := testenv.Start(t, testenv.Options{AnonLimits: limits})
	reviewer, _ := s.Staff(workflows.RoleReviewer)

	assertLimited := func(r testenv.Response, what string) {
		t.Helper()
		require.Equal(t, http.StatusTooManyRequests, r.Status, "%s: %s", what, r.Raw)
		require.Equal(t, "too_many_requests", r.ErrorCode(), what)
		require.NotEmpty(t, r.Str("error", "message_zh"), what)
		require.NotEmpty(t, r.Str("error", "message_en"), what)
		require.NotEmpty(t, r.Str("error", "request_id"), what)
		retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
		require.NoError(t, err, what)
		require.True(t, retry >= 1 && retry <= 3601, "%s: Retry-After %d", what, retry)
	}

	// Registrations: three, then 429, also for a valid new person.
	var id, follow string
	for i := range 3 {
		r := s.Expect(s.Do("POST", "/v1/registrations", testenv.NewPerson().Registration("social_insurance_query")), http.StatusAccepted)
		if i == 0 {
			id, follow = r.Str("id"), r.Str("follow_token")
		}
	}
	assertLimited(s.Do("POST", "/v1/registrations", testenv.NewPerson().Registration("social_insurance_query")), "registration")

	// Follow-token routes (read, supplement, withdraw) share one budget:
	// guessing tokens stops after four.
	s.Expect(s.Do("GET", "/v1/registrations/"+id, nil, testenv.Follow(follow)), http.StatusOK)
	for range 3 {
		r := s.Do("GET", "/v1/registrations/"+id, nil, testenv.Follow("guess-"+uuid.NewString()))
		require.NotEqual(t, http.StatusOK, r.Status)
		require.NotEqual(t, http.StatusTooManyRequests, r.Status)
	}
	assertLimited(s.Do("GET", "/v1/registrations/"+id, nil, testenv.Follow(follow)), "follow read with the right token")
	assertLimited(s.Do("POST", "/v1/registrations/"+id+"/withdraw", map[string]any{}, testenv.Follow(follow)), "withdraw")
	// The reviewer, signed in, is not counted.
	s.Expect(s.Do("GET", "/v1/registrations/"+id, nil, testenv.Bearer(reviewer)), http.StatusOK)

	// Security reports: two, then 429.
	for range 2 {
		p := testenv.NewPerson()
		s.Expect(s.Do("POST", "/v1/security-reports", map[string]string{"id_number": p.IDNumber, "mobile": p.Mobile}), http.StatusAccepted)
	}
	p := testenv.NewPerson()
	assertLimited(s.Do("POST", "/v1/security-reports", map[string]string{"id_number": p.IDNumber, "mobile": p.Mobile}), "security report")

	// Every other anonymous route: 20 parallel reads, exactly five pass.
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.Get(s.URL + "/v1/terms/current")
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			mu.Lock()
			statuses[res.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	require.Equal(t, map[int]int{http.StatusOK: 5, http.StatusTooManyRequests: 15}, statuses)
	assertLimited(s.Do("GET", "/v1/services", nil), "public read")
	s.Expect(s.Do("GET", "/v1/services", nil, testenv.Bearer(reviewer)), http.StatusOK)
	// Health checks stay open for load balancers.
	s.Expect(s.Do("GET", "/healthz", nil), http.StatusOK)

	// A second replica on the same database shares the spent budget.
	e, err := api.New(api.Deps{DB: s.DB, Temporal: s.Temporal, Box: s.Box, TaskQueue: s.TaskQueue, Namespace: "default",
		Hash: testenv.FastHash, AnonLimits: limits, AnswerFloor: -1, MobileCodes: api.MobileCodeSettings{Off: true},
		CheckAnswers: testenv.CheckAnswers(t), RegistrationRevision: workflows.RegistrationRevision})
	require.NoError(t, err)
	replica := httptest.NewServer(e)
	t.Cleanup(replica.Close)
	res, err := http.Get(replica.URL + "/v1/terms/current")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode, "the replica shares the counter")
	body, err := json.Marshal(testenv.NewPerson().Registration("social_insurance_query"))
	require.NoError(t, err)
	res, err = http.Post(replica.URL+"/v1/registrations", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
}

// C3.3(3): reports that name an ID number with a wrong mobile number do
// not spend the quota of the account's owner, who can still report.
func TestAnonymousReportWrongMobileLeavesOwnerQuota_C3_3_3(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	for range 3 {
		stranger := testenv.NewPerson()
		s.Expect(s.Do("POST", "/v1/security-reports", map[string]string{"id_number": u.IDNumber, "mobile": stranger.Mobile}), http.StatusAccepted)
	}
	s.Expect(s.Do("POST", "/v1/security-reports", map[string]string{"id_number": u.IDNumber, "mobile": u.Mobile,
		"description": "本人报告"}), http.StatusAccepted)
	testenv.Eventually(t, 20*time.Second, "the owner's report locks the account", func() bool {
		return s.Do("GET", "/v1/me", nil, testenv.Bearer(u.Token)).Status == http.StatusUnauthorized
	})
}

// C3.4(8) / C3.3(3): the anonymous report and the registration answer in
// the same time for a match and a miss (every answer is held to a common
// floor; the lock of a matching report happens after the answer), and the
// registration answers that tell about an ID number are recorded.
func TestAnonymousAnswersTakeEvenTimeAndAreRecorded_C3_4_8(t *testing.T) {
	const floor = 800 * time.Millisecond
	s := testenv.Start(t, testenv.Options{AnswerFloor: floor})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	timed := func(path string, body any) (testenv.Response, time.Duration) {
		t.Helper()
		start := time.Now()
		r := s.Do("POST", path, body)
		return r, time.Since(start)
	}
	stranger := testenv.NewPerson()
	miss, missTook := timed("/v1/security-reports", map[string]string{"id_number": stranger.IDNumber, "mobile": stranger.Mobile})
	match, matchTook := timed("/v1/security-reports", map[string]string{"id_number": u.IDNumber, "mobile": u.Mobile})
	require.Equal(t, http.StatusAccepted, miss.Status)
	require.Equal(t, miss.Body, match.Body)
	for what, d := range map[string]time.Duration{"miss": missTook, "match": matchTook} {
		require.GreaterOrEqual(t, d, floor, "the %s answers after the floor", what)
		require.Less(t, d, floor+2*time.Second, "the %s answers soon after the floor", what)
	}
	testenv.Eventually(t, 20*time.Second, "the account locked after the answer", func() bool {
		return s.Do("GET", "/v1/me", nil, testenv.Bearer(u.Token)).Status == http.StatusUnauthorized
	})

	// Registration: a known ID number (409 already_registered) and a new
	// person (202) both take the floor; the refusal is recorded, without
	// the ID number.
	known, knownTook := timed("/v1/registrations", u.Registration("social_insurance_query"))
	require.Equal(t, http.StatusConflict, known.Status, string(known.Raw))
	require.Equal(t, "already_registered", known.ErrorCode())
	fresh, freshTook := timed("/v1/registrations", testenv.NewPerson().Registration("social_insurance_query"))
	require.Equal(t, http.StatusAccepted, fresh.Status)
	require.GreaterOrEqual(t, knownTook, floor)
	require.GreaterOrEqual(t, freshTook, floor)

	var rec struct {
		Detail    string `db:"detail"`
		SourceIP  string `db:"source_ip"`
		RequestID string `db:"request_id"`
	}
	require.NoError(t, s.DB.Get(&rec, `SELECT detail::text AS detail, source_ip, request_id FROM audit_log
		WHERE action = 'registration.refused' ORDER BY id DESC LIMIT 1`))
	require.Contains(t, rec.Detail, "already_registered")
	require.NotContains(t, rec.Detail, u.IDNumber)
	require.Equal(t, "127.0.0.1", rec.SourceIP)
	require.Equal(t, known.Str("error", "request_id"), rec.RequestID)
}

// C3.3(1): on a shared counter tablet the page session ends with the
// browser (a session cookie, no Max-Age or Expires), and the API ends a
// staff session left unused for the idle timeout (15 minutes), whatever
// the page does; a user's session is not cut by it.
func TestPageSessionCookieAndStaffIdleTimeout_C3_3_1(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, reviewerID := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)

	// The page sign-in sets session cookies.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(s.URL + "/signin")
	require.NoError(t, err)
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(string(page))
	require.NotNil(t, m, "the sign-in form carries a CSRF token")
	res, err = c.PostForm(s.URL+"/signin", url.Values{"csrf": {m[1]}, "username": {u.IDNumber}, "password": {u.Password}})
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	var names []string
	for _, line := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(line, "hrss_session=") || strings.HasPrefix(line, "hrss_kind=") {
			names = append(names, line)
			require.NotContains(t, strings.ToLower(line), "max-age", line)
			require.NotContains(t, strings.ToLower(line), "expires", line)
		}
	}
	require.Len(t, names, 2, "the session and kind cookies are set")

	// Staff: used within the idle time, the session lives; unused for 16
	// minutes, it has ended.
	s.Expect(s.Do("GET", "/v1/review/queue", nil, testenv.Bearer(reviewer)), http.StatusOK)
	_, err = s.DB.Exec(`UPDATE sessions SET last_seen_at = now() - interval '14 minutes' WHERE staff_id = $1`, reviewerID)
	require.NoError(t, err)
	s.Expect(s.Do("GET", "/v1/review/queue", nil, testenv.Bearer(reviewer)), http.StatusOK)
	_, err = s.DB.Exec(`UPDATE sessions SET last_seen_at = now() - interval '16 minutes' WHERE staff_id = $1`, reviewerID)
	require.NoError(t, err)
	r := s.Do("GET", "/v1/review/queue", nil, testenv.Bearer(reviewer))
	require.Equal(t, http.StatusUnauthorized, r.Status, string(r.Raw))
	require.Equal(t, "unauthenticated", r.ErrorCode())
	// A user's session is not cut by the staff idle timeout.
	_, err = s.DB.Exec(`UPDATE sessions SET last_seen_at = now() - interval '16 minutes' WHERE account_id = $1`, u.AccountID)
	require.NoError(t, err)
	s.Expect(s.Do("GET", "/v1/me", nil, testenv.Bearer(u.Token)), http.StatusOK)
}

// C3.3(2): an initial password never changed stops working after seven
// days; the right one then tells the person to go to a counter, a wrong
// one answers as any failed sign-in.
func TestUnusedInitialPasswordExpires_C3_3_2(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	p := testenv.NewPerson()
	id, follow := s.Register(p, "social_insurance_query")
	s.WaitForStatus(id, "pending")
	d := s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "approve"}, testenv.Bearer(reviewer)), http.StatusOK)
	initial := s.PickUp(id, follow, p.Mobile)
	_, err := s.DB.Exec(`UPDATE accounts SET password_changed_at = now() - interval '6 days' WHERE id = $1`, d.Str("account_id"))
	require.NoError(t, err)
	six := s.SignIn(p.IDNumber, initial) // still within seven days
	s.Expect(s.Do("DELETE", "/v1/sessions/current", nil, testenv.Bearer(six)), http.StatusNoContent)

	_, err = s.DB.Exec(`UPDATE accounts SET password_changed_at = now() - interval '8 days' WHERE id = $1`, d.Str("account_id"))
	require.NoError(t, err)
	r := s.Do("POST", "/v1/sessions", map[string]string{"username": p.IDNumber, "password": initial})
	require.Equal(t, http.StatusForbidden, r.Status, string(r.Raw))
	require.Equal(t, "initial_password_expired", r.ErrorCode())
	wrong := s.Do("POST", "/v1/sessions", map[string]string{"username": p.IDNumber, "password": initial + "x"})
	require.Equal(t, http.StatusUnauthorized, wrong.Status)
	require.Equal(t, "sign_in_failed", wrong.ErrorCode())
	var outcome string
	require.NoError(t, s.DB.Get(&outcome, `SELECT outcome FROM sign_in_attempts WHERE account_id = $1 ORDER BY id DESC OFFSET 1 LIMIT 1`, d.Str("account_id")))
	require.Equal(t, "initial_expired", outcome)
}

// C3.3(3): a matching anonymous report whose lock after the answer did not
// happen (the API stopped, Temporal did not answer) is locked by the
// housekeeping, which every API replica runs.
func TestHousekeepingLocksAfterAFailedAnonymousLock_C3_3_3(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	reportID := uuid.NewString()
	_, err := s.DB.Exec(`INSERT INTO security_reports (id, account_id, channel, description, created_at)
		VALUES ($1, $2, 'anonymous', '', now() - interval '2 minutes')`, reportID, u.AccountID)
	require.NoError(t, err)
	s.Expect(s.Do("GET", "/v1/me", nil, testenv.Bearer(u.Token)), http.StatusOK)

	ctx, cancel := context.WithCancel(testenv.Context(t))
	defer cancel()
	go api.RunHousekeeping(ctx, api.Deps{DB: s.DB, Temporal: s.Temporal, TaskQueue: s.TaskQueue}, time.Hour)
	testenv.Eventually(t, 30*time.Second, "the report's account locked", func() bool {
		var locked bool
		_ = s.DB.Get(&locked, `SELECT locked_at IS NOT NULL FROM security_reports WHERE id = $1`, reportID)
		return locked
	})
	require.Equal(t, http.StatusUnauthorized, s.Do("GET", "/v1/me", nil, testenv.Bearer(u.Token)).Status)
}

// A user's session does not exempt registration or the anonymous report
// from the address's budget: their answers tell whether an ID number is
// known (already_registered), so a signed-in user enumerating ID numbers
// is limited like anyone else. Staff sessions stay uncounted.
func TestSignedInUsersCountOnRegistrationAndReport_C3_4_8(t *testing.T) {
	s := testenv.Start(t, testenv.Options{AnonLimits: api.AnonLimits{
		api.BucketRegistration: {N: 4, Per: time.Hour},
		api.BucketReport:       {N: 1, Per: time.Hour},
		api.BucketFollow:       {N: 100, Per: time.Hour},
		api.BucketSignIn:       {N: 100, Per: time.Hour},
		api.BucketPublic:       {N: 1000, Per: time.Hour},
	}})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer) // its registration and its pickup code spend two of the four
	for range 2 {
		s.Expect(s.Do("POST", "/v1/registrations", testenv.NewPerson().Registration("social_insurance_query"), testenv.Bearer(u.Token)),
			http.StatusAccepted)
	}
	r := s.Do("POST", "/v1/registrations", testenv.NewPerson().Registration("social_insurance_query"), testenv.Bearer(u.Token))
	require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Raw)
	p := testenv.NewPerson()
	report := map[string]string{"id_number": p.IDNumber, "mobile": p.Mobile}
	s.Do("POST", "/v1/security-reports", report, testenv.Bearer(u.Token))
	r = s.Do("POST", "/v1/security-reports", report, testenv.Bearer(u.Token))
	require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Raw)
}
