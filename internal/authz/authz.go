// Package authz is the one authorization policy of the back office: a
// table of actions and, for each, who may do it (the kinds of caller, the
// staff roles, and the rule about the record where there is one). The API's
// checks, the workflows' Update validators, the pages' menus and the
// authorization matrix test all read it (docs/security.md, "Authorization
// policy").
//
// The package is pure and deterministic (workflow code calls it): no I/O,
// no clock, no map iteration in what it answers.
package authz

import (
	"slices"
	"strings"
)

// Staff roles. workflows re-exports them (workflows.RoleReviewer …).
const (
	RoleReviewer      = "reviewer"
	RoleSupervisor    = "supervisor"
	RoleAdministrator = "administrator"
	RoleInvestigator  = "investigator"
	RoleTermsEditor   = "terms_editor"
	RoleAuditor       = "auditor"
	// RoleOperator runs the system: reads runs in the Temporal web UI
	// and the operators' page, decodes payloads.
	RoleOperator = "operator"
)

// AllRoles lists every staff role the system knows.
var AllRoles = []string{RoleReviewer, RoleSupervisor, RoleAdministrator, RoleInvestigator, RoleTermsEditor, RoleAuditor, RoleOperator}

// Kinds of caller.
const (
	Anonymous = "anonymous" // no session
	User      = "user"      // a signed-in user (or a restricted session)
	Staff     = "staff"     // a signed-in staff member
)

// Object rules: what the caller must also be to the record, checked where
// the record is known (the handler or the workflow's validator).
const (
	NoObject  = ""
	OwnRecord = "own record"      // the record belongs to the calling user
	Filer     = "filer"           // the staff member who entered or opened it
	FourEyes  = "four eyes"       // not the staff member who entered, opened or requested it
	Handler   = "handler of step" // the staff member who did the earlier step (e.g. the reset)
)

// Action names one thing a caller may try. The string is stable: the pages'
// templates name actions by it.
type Action string

// Rule says who may do an action.
type Rule struct {
	Kinds  []string // caller kinds admitted (Anonymous, User, Staff)
	Roles  []string // for staff: one of these roles; empty means every staff member
	Object string   // object rule, checked where the record is known
	Clause string   // the agreement clause the rule serves
	// DenyEN and DenyZH explain a refusal for want of a role; empty
	// means "only [roles] may do this".
	DenyEN, DenyZH string
}

// Rule returns the action's rule; ok is false for an unknown action.
func RuleOf(a Action) (Rule, bool) {
	r, ok := policy[a]
	return r, ok
}

// Allows reports whether a caller of kind holding roles may do a. An
// unknown action is refused (deny by default). The object rule, if any, is
// not part of the answer: the caller checks it on the record.
func Allows(roles []string, kind string, a Action) bool {
	r, ok := policy[a]
	if !ok || !slices.Contains(r.Kinds, kind) {
		return false
	}
	if kind != Staff || len(r.Roles) == 0 {
		return true
	}
	for _, role := range roles {
		if slices.Contains(r.Roles, role) {
			return true
		}
	}
	return false
}

// AdmitsKind reports whether callers of kind may do a at all (whatever
// their roles).
func AdmitsKind(kind string, a Action) bool {
	r, ok := policy[a]
	return ok && slices.Contains(r.Kinds, kind)
}

// RolesFor lists the staff roles that may do a, in the order of AllRoles:
// every role when the action admits every staff member, none when it
// admits no staff.
func RolesFor(a Action) []string {
	r, ok := policy[a]
	if !ok || !slices.Contains(r.Kinds, Staff) {
		return nil
	}
	var out []string
	for _, role := range AllRoles {
		if len(r.Roles) == 0 || slices.Contains(r.Roles, role) {
			out = append(out, role)
		}
	}
	return out
}

// Denial is the English and Chinese explanation of a refusal of a staff
// member for want of a role.
func Denial(a Action) (en, zh string) {
	r, ok := policy[a]
	if !ok {
		return "nobody may do this", "无权执行此操作"
	}
	if r.DenyEN != "" {
		return r.DenyEN, r.DenyZH
	}
	return "only [" + strings.Join(RolesFor(a), " ") + "] may do this", "您的角色无权执行此操作"
}

// Actions lists every action of the table, sorted.
func Actions() []Action {
	out := make([]Action, 0, len(policy))
	for a := range policy {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}
