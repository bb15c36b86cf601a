package authz_test

import (
	"regexp"
	"slices"
	"testing"

	"hrss-backoffice/internal/authz"
	"hrss-backoffice/workflows"
)

var clause = regexp.MustCompile(`^C[1-4](\.[0-9]+)?(\([0-9]+\))?$`)

// Every action of the table names its clause, admits somebody, and names
// only roles and kinds the system knows (C1.4).
func TestPolicyTable_C1_4(t *testing.T) {
	if !slices.Equal(authz.AllRoles, workflows.AllRoles) {
		t.Fatalf("authz.AllRoles %v differs from workflows.AllRoles %v", authz.AllRoles, workflows.AllRoles)
	}
	kinds := []string{authz.Anonymous, authz.User, authz.Staff}
	objects := []string{authz.NoObject, authz.OwnRecord, authz.Filer, authz.FourEyes, authz.Handler}
	actions := authz.Actions()
	if len(actions) < 40 {
		t.Fatalf("only %d actions", len(actions))
	}
	for _, a := range actions {
		r, ok := authz.RuleOf(a)
		if !ok {
			t.Fatalf("%s: no rule", a)
		}
		if !clause.MatchString(r.Clause) {
			t.Errorf("%s: clause %q is not a clause of the agreement", a, r.Clause)
		}
		if len(r.Kinds) == 0 {
			t.Errorf("%s: admits nobody", a)
		}
		for _, k := range r.Kinds {
			if !slices.Contains(kinds, k) {
				t.Errorf("%s: unknown kind %q", a, k)
			}
		}
		for _, role := range r.Roles {
			if !slices.Contains(workflows.AllRoles, role) {
				t.Errorf("%s: role %q is not in workflows.AllRoles", a, role)
			}
		}
		if len(r.Roles) > 0 && !slices.Contains(r.Kinds, authz.Staff) {
			t.Errorf("%s: names roles but admits no staff", a)
		}
		if !slices.Contains(objects, r.Object) {
			t.Errorf("%s: unknown object rule %q", a, r.Object)
		}
		// At least one caller is allowed.
		allowed := false
		for _, k := range r.Kinds {
			allowed = allowed || authz.Allows(workflows.AllRoles, k, a)
		}
		if !allowed {
			t.Errorf("%s: no caller is allowed", a)
		}
		if en, zh := authz.Denial(a); en == "" || zh == "" {
			t.Errorf("%s: no refusal message", a)
		}
	}
}

func TestAllows_C1_4(t *testing.T) {
	cases := []struct {
		roles []string
		kind  string
		a     authz.Action
		want  bool
	}{
		{nil, authz.Anonymous, authz.Public, true},
		{nil, authz.Anonymous, authz.SignedIn, false},
		{nil, authz.User, authz.UserArea, true},
		{[]string{authz.RoleAdministrator}, authz.Staff, authz.UserArea, false},
		{nil, authz.User, authz.Console, false},
		{[]string{authz.RoleAuditor}, authz.Staff, authz.Console, true},
		{[]string{authz.RoleInvestigator}, authz.Staff, authz.FraudCaseOpen, true},
		{[]string{authz.RoleSupervisor}, authz.Staff, authz.FraudCaseOpen, false},
		{[]string{authz.RoleReviewer, authz.RoleSupervisor}, authz.Staff, authz.SanctionLift, true},
		{[]string{authz.RoleAdministrator}, authz.User, authz.StaffList, false}, // roles count for staff only
		{[]string{authz.RoleAdministrator}, "system", authz.StaffList, false},
		{[]string{authz.RoleAdministrator}, authz.Staff, "no.such.action", false}, // deny by default
	}
	for _, c := range cases {
		if got := authz.Allows(c.roles, c.kind, c.a); got != c.want {
			t.Errorf("Allows(%v, %s, %s) = %v, want %v", c.roles, c.kind, c.a, got, c.want)
		}
	}
	if got := authz.RolesFor(authz.DisclosureDecide); !slices.Equal(got, []string{authz.RoleSupervisor, authz.RoleAdministrator}) {
		t.Errorf("RolesFor(DisclosureDecide) = %v", got)
	}
	if got := authz.RolesFor(authz.Console); !slices.Equal(got, authz.AllRoles) {
		t.Errorf("RolesFor(Console) = %v", got)
	}
	if got := authz.RolesFor(authz.UserArea); got != nil {
		t.Errorf("RolesFor(UserArea) = %v", got)
	}
}
