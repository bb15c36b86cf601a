package testenv

import (
	"net/http"
	"time"
)

// User is a registered person with a signed-in session whose password is
// changed.
type User struct {
	Person
	AccountID string
	Token     string
	Password  string
}

// User registers p through the API, has a fresh reviewer approve it, picks
// up the initial password, signs in and changes it.
func (s *Stack) User(p Person, services ...string) User {
	s.T.Helper()
	reviewer, _ := s.Staff("reviewer")
	id, _ := s.Register(p, services...)
	s.WaitForStatus(id, "pending")
	d := s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "approve"}, Bearer(reviewer)), http.StatusOK)
	pw := s.Expect(s.Do("POST", "/v1/registrations/"+id+"/initial-password", nil, Bearer(reviewer)), http.StatusOK)
	tok := s.SignIn(p.IDNumber, pw.Str("initial_password"))
	password := "User-Strong-Passphrase-26"
	s.ChangePassword(tok, pw.Str("initial_password"), password)
	return User{Person: p, AccountID: d.Str("account_id"), Token: tok, Password: password}
}

// SetSetting changes a process setting (process_settings) for this test's
// database, e.g. SetSetting("deregistration.cooling_off", 2*time.Second).
func (s *Stack) SetSetting(name string, d time.Duration) {
	s.T.Helper()
	if _, err := s.DB.Exec(`UPDATE process_settings SET value = make_interval(secs => $2) WHERE name = $1`, name, d.Seconds()); err != nil {
		s.T.Fatal(err)
	}
}

// SetRetention changes how long a data category is kept after the
// agreement ends.
func (s *Stack) SetRetention(category string, d time.Duration) {
	s.T.Helper()
	if _, err := s.DB.Exec(`UPDATE retention_schedule SET keep = make_interval(secs => $2) WHERE category = $1`, category, d.Seconds()); err != nil {
		s.T.Fatal(err)
	}
}
