package web

import "hrss-backoffice/internal/authz"

// mayStaff reports whether a staff member holding roles may do a under the
// API's policy (internal/authz): the menus and buttons offer what the API
// will allow, from the same table. The template function "may" is the same
// check by the action's name ({{if may $roles "case.read"}}).
func mayStaff(roles []string, a authz.Action) bool { return authz.Allows(roles, authz.Staff, a) }
