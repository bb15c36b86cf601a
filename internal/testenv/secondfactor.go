package testenv

import (
	"net/http"
	"sync"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// The second factor in tests: the stack remembers the secret of every
// member it enrolled (or that a test enrolled and passed to
// RememberSecret), and answers codes for them the way an authenticator app
// would, never the same time step twice (the API accepts each code once).

type secrets struct {
	mu sync.Mutex
	m  map[string]string // username → base32 secret
}

// TOTP is the RFC 6238 code (6 digits, SHA-1, 30 s) of secret at t.
func TOTP(secret string, t time.Time) string {
	code, err := totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		panic(err)
	}
	return code
}

func (s *Stack) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// RememberSecret records a username's second-factor secret for Code.
func (s *Stack) RememberSecret(username, secret string) {
	s.secrets.mu.Lock()
	defer s.secrets.mu.Unlock()
	if s.secrets.m == nil {
		s.secrets.m = map[string]string{}
	}
	s.secrets.m[username] = secret
}

// Secret is a remembered second-factor secret ("" if none).
func (s *Stack) Secret(username string) string {
	s.secrets.mu.Lock()
	defer s.secrets.mu.Unlock()
	return s.secrets.m[username]
}

// Code answers a code for the username that the API has not accepted yet:
// the current or the next time step, whichever is later than the last one
// used, waiting for a new step if both are used.
func (s *Stack) Code(username string) string {
	s.T.Helper()
	secret := s.Secret(username)
	if secret == "" {
		s.T.Fatalf("no second-factor secret remembered for %s", username)
	}
	deadline := time.Now().Add(75 * time.Second)
	for {
		var last int64
		if err := s.DB.Get(&last, `SELECT coalesce(max(f.last_step), 0) FROM second_factors f
			LEFT JOIN staff st ON f.subject_kind = 'staff' AND st.id = f.subject_id
			LEFT JOIN accounts a ON f.subject_kind = 'user' AND a.id = f.subject_id
			WHERE st.username = $1 OR a.username = $1`, username); err != nil {
			s.T.Fatal(err)
		}
		now := s.clock()
		cur := now.Unix() / 30
		for _, st := range []int64{cur, cur + 1} { // not cur-1: the step may end before the API checks
			if st > last {
				return TOTP(secret, time.Unix(st*30, 0))
			}
		}
		if time.Now().After(deadline) {
			s.T.Fatalf("no unused second-factor step for %s", username)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// Enrol sets up the second factor of the session's holder through the API
// (POST /v1/me/second-factor, then …/confirm) and returns the recovery
// codes; the secret is remembered for Code. A user passes the current
// password, which the API asks for again.
func (s *Stack) Enrol(token, username string, password ...string) []string {
	s.T.Helper()
	var body any
	if len(password) > 0 {
		body = map[string]string{"password": password[0]}
	}
	r := s.Expect(s.Do("POST", "/v1/me/second-factor", body, Bearer(token)), http.StatusCreated)
	s.RememberSecret(username, r.Str("secret"))
	c := s.Expect(s.Do("POST", "/v1/me/second-factor/confirm", map[string]string{"code": s.Code(username)}, Bearer(token)), http.StatusOK)
	var codes []string
	raw, _ := c.Body["recovery_codes"].([]any)
	for _, v := range raw {
		codes = append(codes, v.(string))
	}
	return codes
}

// enrolIfAsked enrols the session's holder when the API says it must.
func (s *Stack) enrolIfAsked(token string) {
	s.T.Helper()
	me := s.Expect(s.Do("GET", "/v1/me", nil, Bearer(token)), http.StatusOK)
	if must, _ := me.Body["must_enrol_second_factor"].(bool); must {
		s.Enrol(token, me.Str("staff", "username"))
	}
}
