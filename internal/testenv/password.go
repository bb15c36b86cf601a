package testenv

import (
	"bytes"
	"net/http"
	"sync"

	"github.com/google/uuid"
)

// User is a formal user whose initial password was changed, with a session.
type User struct {
	Person
	AccountID     string
	ApplicationID string
	Initial       string // the initial password picked up at approval
	Password      string // the current password
	Token         string
}

// NewUser takes a new person through registration: reviewerTok approves
// and picks up the initial password, the user signs in and changes it.
func (s *Stack) NewUser(reviewerTok string) User {
	s.T.Helper()
	p := NewPerson()
	id, _ := s.Register(p, "social_insurance_query")
	s.WaitForStatus(id, "pending")
	d := s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "approve"}, Bearer(reviewerTok)), http.StatusOK)
	initial := s.Expect(s.Do("POST", "/v1/registrations/"+id+"/initial-password", nil, Bearer(reviewerTok)), http.StatusOK).Str("initial_password")
	tok := s.SignIn(p.IDNumber, initial)
	pw := "Secure-Passphrase-" + uuid.NewString()[:8]
	s.ChangePassword(tok, initial, pw)
	return User{Person: p, AccountID: d.Str("account_id"), ApplicationID: id, Initial: initial, Password: pw, Token: tok}
}

// LogBuffer collects log output from several goroutines.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns what was logged so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
