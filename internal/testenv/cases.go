package testenv

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"hrss-backoffice/workflows"
)

// User is a formal user whose initial password was changed, with a session.
type User struct {
	Person
	ApplicationID string
	AccountID     string
	Initial       string // the initial password picked up at approval
	Password      string // the current password
	Token         string
}

// NewUser takes a new person through registration: the reviewer approves,
// the applicant picks the initial password up (online: follow token and a
// code by SMS), signs in and changes it.
// Without services the person asks for social_insurance_query.
func (s *Stack) NewUser(reviewerToken string, services ...string) User {
	s.T.Helper()
	if len(services) == 0 {
		services = []string{"social_insurance_query"}
	}
	return s.approveUser(reviewerToken, NewPerson(), services)
}

// User takes p through registration with the services given (none is
// fine), approved by a fresh reviewer.
func (s *Stack) User(p Person, services ...string) User {
	s.T.Helper()
	reviewer, _ := s.Staff("reviewer")
	return s.approveUser(reviewer, p, services)
}

func (s *Stack) approveUser(reviewerToken string, p Person, services []string) User {
	s.T.Helper()
	id, follow := s.Register(p, services...)
	s.WaitForStatus(id, "pending")
	d := s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "approve"}, Bearer(reviewerToken)), http.StatusOK)
	// An online application: the applicant picks the password up.
	initial := s.PickUp(id, follow, p.Mobile)
	tok := s.SignIn(p.IDNumber, initial)
	pw := "User-Pass-" + uuid.NewString()[:8]
	s.ChangePassword(tok, initial, pw)
	return User{Person: p, ApplicationID: id, AccountID: d.Str("account_id"), Initial: initial, Password: pw, Token: tok}
}

// WaitForCaseState waits until the case's state is want both in Postgres
// and in its run (the run takes up the new state just after the activity
// that wrote it returns).
func (s *Stack) WaitForCaseState(caseID, want string) {
	s.T.Helper()
	Eventually(s.T, 30*time.Second, "case "+caseID+" to be "+want, func() bool {
		var row struct {
			State string `db:"state"`
			Kind  string `db:"kind"`
		}
		if err := s.DB.Get(&row, `SELECT state, kind FROM cases WHERE id = $1`, caseID); err != nil || row.State != want {
			return false
		}
		wfID := workflows.FraudWorkflowID(caseID)
		if row.Kind == workflows.KindViolation {
			wfID = workflows.ViolationWorkflowID(caseID)
		}
		v, err := s.Temporal.QueryWorkflow(Context(s.T), wfID, "", workflows.QueryCaseStatus)
		if err != nil {
			return false
		}
		var st workflows.CaseStatus
		return v.Get(&st) == nil && st.State == want
	})
}

// WaitForAccountStatus waits until the account's status is want.
func (s *Stack) WaitForAccountStatus(accountID, want string) {
	s.T.Helper()
	Eventually(s.T, 30*time.Second, "account "+accountID+" to be "+want, func() bool {
		var st string
		_ = s.DB.Get(&st, `SELECT status FROM accounts WHERE id = $1`, accountID)
		return st == want
	})
}

// WaitForSanctionState waits until the sanction exists in the state want.
func (s *Stack) WaitForSanctionState(sanctionID, want string) {
	s.T.Helper()
	Eventually(s.T, 30*time.Second, "sanction "+sanctionID+" to be "+want, func() bool {
		var st string
		_ = s.DB.Get(&st, `SELECT state FROM sanctions WHERE id = $1`, sanctionID)
		return st == want
	})
}

// Restricted is the header of a restricted session token.
func Restricted(token string) Header { return Header{"X-Restricted-Token", token} }

// RestrictedSignIn opens a restricted session for a suspended or cancelled
// user.
func (s *Stack) RestrictedSignIn(username, password string) string {
	s.T.Helper()
	r := s.Expect(s.Do("POST", "/v1/sessions/restricted", map[string]string{"username": username, "password": password}), http.StatusCreated)
	return r.Str("token")
}
