package api_test

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/api"
	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// The authorization matrix (C1.4, C3.3): every operation of the merged
// OpenAPI document is called by every kind of caller, and each answer must
// fall in the class the table below expects. An operation in the document
// without a row fails the test, so a new route cannot ship without its
// authorization being stated here.
//
// Columns, in order: anonymous, user (own data), user asking for another
// user's data, suspended user (the session opened before the suspension),
// then the staff roles reviewer, supervisor, administrator, investigator,
// terms_editor, auditor.
//
// Classes: A allowed (authenticated and authorised: anything but 401, 403
// and 5xx; a made-up ID may well answer 404), 1 = 401, 3 = 403, 4 = 404,
// '-' not applicable (no other user's record exists for this route).
// A 401 counts only with the code "unauthenticated": a wrong old password
// or failed sign-in is an answer of the handler to an authorised caller.
//
// The suspended user's session was revoked at suspension, so it is refused
// everywhere, public routes included (a bearer that does not authenticate
// is never treated as anonymous). Path IDs are made up except in the
// other_user column; where the handler looks the record up before checking
// the role (registration decision, campaign pause/resume, disclosure
// export) a wrong role therefore shows as A (404 not found) here, and the
// process tests check those refusals on real records.
var authzColumns = []string{"anonymous", "user", "other_user", "suspended",
	workflows.RoleReviewer, workflows.RoleSupervisor, workflows.RoleAdministrator,
	workflows.RoleInvestigator, workflows.RoleTermsEditor, workflows.RoleAuditor, workflows.RoleOperator}

// The operator column (workflows.RoleOperator) is appended to every row by
// withOperatorColumn: an operator answers like every other staff role where
// they all answer alike, is refused (3) where they differ, and
// operatorColumn states the exceptions.
var operatorColumn = map[string]byte{
	"POST /codec/decode":      'A',
	"GET /v1/operations/runs": 'A',
}

func withOperatorColumn(row, key string) string {
	if c, ok := operatorColumn[key]; ok {
		return row + string(c)
	}
	staff := row[4:]
	if strings.Count(staff, staff[:1]) == len(staff) {
		return row + staff[:1]
	}
	return row + "3"
}

var authzMatrix = map[string]string{
	"GET /healthz":                                   "AA-1AAAAAA",
	"GET /readyz":                                    "AA-1AAAAAA",
	"POST /codec/encode":                             "13-133A333",
	"POST /codec/decode":                             "13-133A33A",
	"GET /v1/openapi.yaml":                           "AA-1AAAAAA",
	"GET /v1/accounts/{id}/activity":                 "13-1AAAA3A",
	"GET /v1/accounts/{id}/messages":                 "13-1AAAA3A",
	"POST /v1/accounts/search":                       "13-1AAAA3A",
	"POST /v1/accounts/{id}/password-reset":          "13-1AA3333",
	"POST /v1/accounts/{id}/security-reports":        "13-1AA3A33",
	"GET /v1/announcements":                          "AA-1AAAAAA",
	"POST /v1/announcements":                         "13-133A333",
	"GET /v1/audit/export":                           "13-133333A",
	"GET /v1/audit":                                  "13-133333A",
	"POST /v1/cases/fraud":                           "13-1333A33",
	"POST /v1/cases/violation":                       "13-1333A33",
	"POST /v1/cases/{id}/correction-review":          "13-13A3A33",
	"POST /v1/cases/{id}/decision":                   "13-13A3A33",
	"GET /v1/cases/{id}":                             "13-13A3A3A",
	"GET /v1/cases":                                  "13-13A3A3A",
	"POST /v1/data-changes/{id}/decision":            "13-1AA3333",
	"GET /v1/data-changes/{id}":                      "1A41AAAAAA",
	"POST /v1/disclosures/{id}/decision":             "13-13AA333",
	"POST /v1/disclosures/{id}/export":               "13-1AAAAAA",
	"GET /v1/disclosures/{id}":                       "13-1AAAAAA",
	"GET /v1/disclosures":                            "13-13AA33A",
	"POST /v1/disclosures":                           "13-1AAAA33",
	"GET /v1/me/activity":                            "1A-1333333",
	"POST /v1/me/cases/{id}/answer":                  "1A41333333",
	"POST /v1/me/cases/{id}/correction":              "1A41333333",
	"GET /v1/me/cases":                               "1A-1333333",
	"POST /v1/me/consents/{id}":                      "1A41333333",
	"GET /v1/me/consents":                            "1A-1333333",
	"POST /v1/me/data-changes":                       "1A-1333333",
	"GET /v1/me/data-changes":                        "1A-1333333",
	"POST /v1/me/deregistration/{id}/withdraw":       "1A41333333",
	"GET /v1/me/deregistration/{id}":                 "1A41333333",
	"POST /v1/me/deregistration":                     "1A-1333333",
	"GET /v1/me/deregistration":                      "1A-1333333",
	"GET /v1/me/export":                              "1A-1333333",
	"GET /v1/me/disclosures":                         "1A-1333333",
	"GET /v1/me/notices":                             "1A-1333333",
	"PUT /v1/me/password":                            "1A-1AAAAAA",
	"POST /v1/me/sanctions/{id}/appeal":              "1A41333333",
	"POST /v1/me/sanctions/{id}/correction":          "1A41333333",
	"GET /v1/me/sanctions":                           "1A-1333333",
	"POST /v1/me/security-reports":                   "1A-1333333",
	"POST /v1/me/terms/{version}/accept":             "1A-1333333",
	"POST /v1/me/terms/{version}/reject":             "1A-1333333",
	"GET /v1/me/terms/{version}":                     "1A-1333333",
	"GET /v1/me/terms":                               "1A-1333333",
	"GET /v1/me":                                     "1A-1AAAAAA",
	"GET /v1/operations/runs":                        "13-133A33A",
	"PATCH /v1/me":                                   "1A-1333333",
	"POST /v1/password-resets/{id}/initial-password": "13-1AA3333",
	"POST /v1/registrations/{id}/decision":           "13-1AAAAAA",
	"POST /v1/registrations/{id}/initial-password":   "13-1AA3333",
	"POST /v1/registrations/{id}/supplement":         "AA-1AAAAAA",
	"POST /v1/registrations/{id}/withdraw":           "AA-1AAAAAA",
	"GET /v1/registrations/{id}":                     "AA41AAAAAA",
	"POST /v1/registrations":                         "AA-1AAAAAA",
	"GET /v1/kiosks":                                 "13-133A333",
	"POST /v1/verification-codes":                    "AA-1AAAAAA",
	"POST /v1/kiosks":                                "13-133A333",
	"POST /v1/kiosks/{id}/credential":                "13-133A333",
	"DELETE /v1/kiosks/{id}":                         "13-133A333",
	"GET /v1/review/data-changes":                    "13-1AA3333",
	"GET /v1/review/queue":                           "13-1AA3333",
	"POST /v1/sanctions/{id}/appeal-decision":        "13-13A3A33",
	"POST /v1/sanctions/{id}/correction-review":      "13-13A3A33",
	"POST /v1/sanctions/{id}/lift":                   "13-13A3333",
	"GET /v1/sanctions/{id}":                         "13-13A3A3A",
	"POST /v1/security-reports":                      "AA-1AAAAAA",
	"GET /v1/services":                               "AA-1AAAAAA",
	"POST /v1/services":                              "13-133A3A3",
	"GET /v1/services/{code}":                        "AA-1AAAAAA",
	"PATCH /v1/services/{code}":                      "13-133A3A3",
	"POST /v1/services/{code}/changes":               "13-133A3A3",
	"GET /v1/service-catalogue":                      "13-133A3AA",
	"DELETE /v1/sessions/current":                    "1A-1AAAAAA",
	"POST /v1/sessions/restricted":                   "AA-1AAAAAA",
	"POST /v1/sessions/second-factor":                "AA-1AAAAAA",
	"POST /v1/sessions/reauth":                       "1A-1AAAAAA",
	"POST /v1/me/second-factor":                      "1A-1AAAAAA",
	"POST /v1/me/second-factor/confirm":              "1A-1AAAAAA",
	"DELETE /v1/staff/{id}/second-factor":            "13-133A333",
	"POST /v1/sessions":                              "AA-1AAAAAA",
	"GET /v1/staff":                                  "13-133A333",
	"POST /v1/staff":                                 "13-133A333",
	"PATCH /v1/staff/{id}":                           "13-133A333",
	"PUT /v1/staff/{id}/password":                    "13-133A333",
	"GET /v1/staff-changes":                          "13-133A333",
	"GET /v1/staff-changes/{id}":                     "13-133A333",
	"POST /v1/staff-changes/{id}/approve":            "13-133A333",
	"POST /v1/staff-changes/{id}/refuse":             "13-133A333",
	"GET /v1/staff/notices":                          "13-1AAAAAA",
	"GET /v1/terms/current":                          "AA-1AAAAAA",
	"POST /v1/terms/{version}/campaign/pause":        "13-1AAAAAA",
	"POST /v1/terms/{version}/campaign/resume":       "13-1AAAAAA",
	"GET /v1/terms/{version}/campaign":               "13-133A3AA",
	"POST /v1/terms/{version}/publish":               "13-133A3A3",
	"GET /v1/terms/{version}":                        "AA-1AAAAAA",
	"GET /v1/terms":                                  "AA-1AAAAAA",
	"POST /v1/terms":                                 "13-133A3A3",
}

func TestAuthorizationMatrix_C1_4(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPIDocument)
	require.NoError(t, err)
	type op struct {
		method, path string
		op           *openapi3.Operation
	}
	var ops []op
	for path, item := range doc.Paths.Map() {
		for method, o := range item.Operations() {
			ops = append(ops, op{method, path, o})
		}
	}
	// Operations that end the caller's session or lock the account run
	// last, each with a session of its own.
	last := func(o op) bool {
		return o.method+" "+o.path == "DELETE /v1/sessions/current" || o.method+" "+o.path == "POST /v1/me/security-reports"
	}
	sort.Slice(ops, func(i, j int) bool {
		if last(ops[i]) != last(ops[j]) {
			return !last(ops[i])
		}
		return ops[i].path+ops[i].method < ops[j].path+ops[j].method
	})
	// A documented operation without an expectation fails at once.
	var missing []string
	for _, o := range ops {
		if _, ok := authzMatrix[o.method+" "+o.path]; !ok {
			missing = append(missing, fmt.Sprintf("%q: %q, // %s", o.method+" "+o.path, "", o.op.Summary))
		}
	}
	for key, row := range authzMatrix {
		row = withOperatorColumn(row, key)
		authzMatrix[key] = row
		require.Len(t, row, len(authzColumns), key)
		require.Empty(t, strings.Trim(row, "A134-"), key)
	}
	require.Empty(t, missing, "operations without an authorization row:\n%s", strings.Join(missing, "\n"))

	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	inv, _ := s.Staff(workflows.RoleInvestigator)
	// One user per column, and spares for the operations that end a session.
	owner := s.NewUser(reviewer)
	other := s.NewUser(reviewer)
	suspended := s.NewUser(reviewer)
	spare := s.NewUser(reviewer)
	s.Expect(s.Do("POST", "/v1/cases/violation", map[string]any{"account_id": suspended.AccountID, "rule": "C3.4(8)",
		"evidence": []string{"log:matrix"}, "action": "suspend"}, testenv.Bearer(inv)), http.StatusAccepted)
	s.WaitForAccountStatus(suspended.AccountID, "suspended")

	staff := map[string]string{}
	for _, role := range authzColumns[4:] {
		staff[role], _ = s.Staff(role)
	}
	// Records of the other user that the first user must not see.
	otherRecords := map[string]string{
		"/v1/registrations/{id}": other.ApplicationID,
	}
	dc := s.Expect(s.Do("POST", "/v1/me/data-changes", map[string]any{"name": "改名测试"}, testenv.Bearer(other.Token)), http.StatusAccepted)
	otherRecords["/v1/data-changes/{id}"] = dc.Str("id")
	// The other user's case, sanction (the suspended user's: another user
	// from the owner's side), consent request and deregistration request.
	kase := s.Expect(s.Do("POST", "/v1/cases/fraud", map[string]any{"account_id": other.AccountID, "suspected_fields": []string{"address"},
		"evidence": []string{"doc:matrix"}}, testenv.Bearer(inv)), http.StatusAccepted).Str("id")
	otherRecords["/v1/me/cases/{id}/answer"], otherRecords["/v1/me/cases/{id}/correction"] = kase, kase
	var sanction string
	require.NoError(t, s.DB.Get(&sanction, `SELECT id FROM sanctions WHERE account_id = $1`, suspended.AccountID))
	otherRecords["/v1/me/sanctions/{id}/appeal"], otherRecords["/v1/me/sanctions/{id}/correction"] = sanction, sanction
	consent := s.Expect(s.Do("POST", "/v1/disclosures", map[string]any{"subject": map[string]string{"account_id": other.AccountID},
		"requester": "某商业银行", "basis": "user_authorised", "purpose": "核验", "fields": []string{"name"}}, testenv.Bearer(reviewer)),
		http.StatusAccepted).Str("id")
	otherRecords["/v1/me/consents/{id}"] = consent
	dereg := s.Expect(s.Do("POST", "/v1/me/deregistration", map[string]any{"scope": "account", "statement": "申请注销（授权矩阵）",
		"password": other.Password}, testenv.Bearer(other.Token)), http.StatusAccepted).Str("id")
	otherRecords["/v1/me/deregistration/{id}"], otherRecords["/v1/me/deregistration/{id}/withdraw"] = dereg, dereg

	random := uuid.NewString()
	fill := func(path, id string) string {
		path = strings.ReplaceAll(path, "{version}", "no-such-version")
		path = strings.ReplaceAll(path, "{code}", "no_such_service")
		return strings.ReplaceAll(path, "{id}", id)
	}
	var diffs []string
	for _, o := range ops {
		key := o.method + " " + o.path
		want := authzMatrix[key]
		got := make([]byte, len(authzColumns))
		var statuses []string
		for col, who := range authzColumns {
			if want[col] == '-' {
				got[col] = '-'
				continue
			}
			var hs []testenv.Header
			id := random
			switch who {
			case "anonymous":
			case "user":
				hs = append(hs, testenv.Bearer(owner.Token))
			case "other_user":
				hs = append(hs, testenv.Bearer(owner.Token))
				id = otherRecords[o.path]
				if id == "" {
					t.Errorf("%s: the table expects an answer for another user's record, but the test has none; write '-' or add a record", key)
					continue
				}
			case "suspended":
				hs = append(hs, testenv.Bearer(suspended.Token))
			default:
				hs = append(hs, testenv.Bearer(staff[who]))
			}
			if last(o) && who == "user" {
				// The owner's session must survive until the end; the
				// security report locks the spare user's account.
				u := owner
				if o.path == "/v1/me/security-reports" {
					u = spare
				}
				hs = []testenv.Header{testenv.Bearer(s.SignIn(u.IDNumber, u.Password))}
			}
			body := sampleBody(t, o.op, who, owner)
			r := s.Do(o.method, fill(o.path, id), body, hs...)
			require.Less(t, r.Status, 500, "%s as %s: %s", key, who, r.Raw)
			statuses = append(statuses, fmt.Sprintf("%s=%d/%s", who, r.Status, r.ErrorCode()))
			switch {
			case r.Status == http.StatusUnauthorized && r.ErrorCode() == "unauthenticated":
				got[col] = '1' // not a wrong password: no valid session
			case r.Status == http.StatusForbidden:
				got[col] = '3'
			case r.Status == http.StatusNotFound && id != random:
				got[col] = '4'
			case r.Status == http.StatusNotFound && want[col] == '4':
				got[col] = '4'
			default:
				got[col] = 'A' // a made-up ID may be not found
			}
		}
		if string(got) != want {
			diffs = append(diffs, fmt.Sprintf("%-50s want %s got %s (%s)", key, want, got, strings.Join(statuses, " ")))
		}
	}
	require.Empty(t, diffs, "columns: %s\n%s", strings.Join(authzColumns, " "), strings.Join(diffs, "\n"))
}

// sampleBody builds a request body that passes the OpenAPI validation of
// the operation, so that what answers is the authentication and
// authorization, not the validator.
func sampleBody(t *testing.T, o *openapi3.Operation, who string, u testenv.User) any {
	if o.RequestBody == nil || o.RequestBody.Value == nil {
		return nil
	}
	mt := o.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return sample(mt.Schema.Value, "", who, u)
}

func sample(sc *openapi3.Schema, name, who string, u testenv.User) any {
	if sc == nil {
		return nil
	}
	if v, ok := sampleOverrides[name]; ok {
		return v(who, u)
	}
	if len(sc.AllOf) > 0 {
		return sample(sc.AllOf[0].Value, name, who, u)
	}
	if len(sc.OneOf) > 0 {
		return sample(sc.OneOf[0].Value, name, who, u)
	}
	if len(sc.AnyOf) > 0 {
		return sample(sc.AnyOf[0].Value, name, who, u)
	}
	if len(sc.Enum) > 0 {
		return sc.Enum[0]
	}
	if sc.Example != nil {
		return sc.Example
	}
	switch {
	case sc.Type.Is("object"):
		out := map[string]any{}
		for _, p := range sc.Required {
			if ref := sc.Properties[p]; ref != nil {
				out[p] = sample(ref.Value, p, who, u)
			}
		}
		return out
	case sc.Type.Is("array"):
		n := int(sc.MinItems)
		if n == 0 {
			n = 1
		}
		var out []any
		for range n {
			var item *openapi3.Schema
			if sc.Items != nil {
				item = sc.Items.Value
			}
			out = append(out, sample(item, name, who, u))
		}
		return out
	case sc.Type.Is("integer"), sc.Type.Is("number"):
		if sc.Min != nil {
			return *sc.Min
		}
		return 1
	case sc.Type.Is("boolean"):
		return true
	}
	switch sc.Format {
	case "uuid":
		return uuid.NewString()
	case "date-time":
		return time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	case "date":
		return time.Now().Add(24 * time.Hour).UTC().Format("2006-01-02")
	case "email":
		return "matrix@example.org"
	}
	n := int(sc.MinLength)
	if n < 8 {
		n = 8
	}
	return strings.Repeat("x", n)
}

// sampleOverrides give fields whose valid values a schema cannot describe
// alone (patterns, passwords that must be right).
var sampleOverrides = map[string]func(who string, u testenv.User) any{}
