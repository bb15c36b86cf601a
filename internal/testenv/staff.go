package testenv

import (
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"

	"github.com/google/uuid"

	"hrss-backoffice/workflows"
)

var staffSeq atomic.Int64

// Staff creates a staff member with roles through the API, signs in with
// the generated first password and changes it; it returns the session token
// and staff ID. While two or more administrators are active the creation is
// a request: the stack asks with the newest administrator it created and
// approves with the bootstrap administrator, whose account nobody changed
// (the four-eyes rule refuses an approver that the requester created).
func (s *Stack) Staff(roles ...string) (token, id string) {
	s.T.Helper()
	username := fmt.Sprintf("staff%d.%s", staffSeq.Add(1), uuid.NewString()[:6])
	id, first := s.CreateStaff(s.requester(), username, roles...)
	tok := s.SignIn(username, first)
	s.ChangePassword(tok, first, first+"-changed")
	if slices.Contains(roles, workflows.RoleAdministrator) {
		s.admins = append(s.admins, stackAdmin{token: tok, username: username})
	}
	return tok, id
}

type stackAdmin struct{ token, username string }

// requester is the administrator that asks for the stack's staff changes:
// the newest one Staff created, else the bootstrap administrator.
func (s *Stack) requester() string {
	if n := len(s.admins); n > 0 {
		return s.admins[n-1].token
	}
	return s.Admin()
}

// NewStaff creates a staff member without signing in and returns the ID and
// the generated first password. Before a second administrator that the test
// signs in itself, the stack makes one of its own (Staff), so that later
// staff changes have a requester and an approver it holds sessions of.
func (s *Stack) NewStaff(username string, roles ...string) (id, initialPassword string) {
	s.T.Helper()
	if slices.Contains(roles, workflows.RoleAdministrator) && len(s.admins) == 0 {
		s.Staff(workflows.RoleAdministrator)
	}
	return s.CreateStaff(s.requester(), username, roles...)
}

// ResetStaffPassword gives a staff member a new generated first password
// (PUT /v1/staff/{id}/password, approved if need be) and returns it.
func (s *Stack) ResetStaffPassword(id, reason string) string {
	s.T.Helper()
	req := s.requester()
	r := s.AsAdmin(req, "PUT", "/v1/staff/"+id+"/password", map[string]any{"reason": reason})
	if r.Status == http.StatusOK {
		return r.Str("initial_password")
	}
	s.Expect(r, http.StatusAccepted)
	return s.ApproveStaffChange(r.Str("staff_change", "id"), req).Str("initial_password")
}

// CreateStaff creates a staff member as admin and returns its ID and the
// generated first password (initial_password): at once while admin is the
// sole active administrator, else through a request that another
// administrator of this stack approves (ApproveStaffChange).
func (s *Stack) CreateStaff(admin, username string, roles ...string) (id, initialPassword string) {
	s.T.Helper()
	r := s.AsAdmin(admin, "POST", "/v1/staff", map[string]any{"username": username, "name": "测试员", "roles": roles})
	if r.Status == http.StatusCreated {
		return r.Str("id"), r.Str("initial_password")
	}
	s.Expect(r, http.StatusAccepted)
	ok := s.ApproveStaffChange(r.Str("staff_change", "id"), admin)
	return r.Str("staff_change", "target_id"), ok.Str("initial_password")
}

// AsAdmin makes a call that needs a recent second-factor code with an
// administrator's session of this stack, re-authenticating once if asked.
func (s *Stack) AsAdmin(token, method, path string, body any) Response {
	s.T.Helper()
	r := s.Do(method, path, body, Bearer(token))
	if r.Status == http.StatusForbidden && r.ErrorCode() == "reauthentication_required" {
		if u := s.adminUsername(token); u != "" && s.Secret(u) != "" {
			s.Expect(s.Do("POST", "/v1/sessions/reauth", map[string]string{"code": s.Code(u)}, Bearer(token)), http.StatusOK)
			r = s.Do(method, path, body, Bearer(token))
		}
	}
	return r
}

func (s *Stack) adminUsername(token string) string {
	if token == s.admin {
		return AdminUsername
	}
	for _, a := range s.admins {
		if a.token == token {
			return a.username
		}
	}
	return ""
}

// ApproveStaffChange approves a pending staff-change request with an
// administrator of this stack other than the requester and returns the
// answer (with initial_password for a creation or a password reset).
func (s *Stack) ApproveStaffChange(requestID, requesterToken string) Response {
	s.T.Helper()
	candidates := []string{s.Admin()}
	for _, a := range s.admins {
		candidates = append(candidates, a.token)
	}
	var last Response
	for _, tok := range candidates {
		if tok == requesterToken {
			continue
		}
		last = s.AsAdmin(tok, "POST", "/v1/staff-changes/"+requestID+"/approve", nil)
		if last.Status == http.StatusOK {
			return last
		}
	}
	s.T.Fatalf("no other administrator of this stack could approve staff change %s: %d %s", requestID, last.Status, last.Raw)
	return Response{}
}
