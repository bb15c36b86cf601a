package api_test

import (
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/api"
	"hrss-backoffice/internal/authz"
)

// routeActions names, for every operation of the OpenAPI document, the
// action of the policy (internal/authz) that decides who may call it. The
// matrix test (authz_matrix_test.go) derives the expected answers of every
// column from the table, so a route whose behaviour and the table disagree
// fails there. Two actions mean: allowed if either allows (a user on their
// own record, staff by role).
var routeActions = map[string][]authz.Action{
	"GET /healthz":                                   {authz.Public},
	"GET /readyz":                                    {authz.Public},
	"POST /codec/encode":                             {authz.CodecEncode},
	"POST /codec/decode":                             {authz.CodecDecode},
	"GET /v1/openapi.yaml":                           {authz.Public},
	"GET /v1/accounts/{id}/activity":                 {authz.AccountActivityRead},
	"GET /v1/accounts/{id}/messages":                 {authz.AccountActivityRead},
	"POST /v1/accounts/search":                       {authz.AccountSearch},
	"POST /v1/accounts/{id}/password-reset":          {authz.PasswordReset},
	"POST /v1/accounts/{id}/security-reports":        {authz.CompromiseReportForCaller},
	"GET /v1/announcements":                          {authz.Public},
	"POST /v1/announcements":                         {authz.AnnouncementCreate},
	"GET /v1/audit/export":                           {authz.AuditRead},
	"GET /v1/audit":                                  {authz.AuditRead},
	"POST /v1/cases/fraud":                           {authz.FraudCaseOpen},
	"POST /v1/cases/violation":                       {authz.ViolationCaseOpen},
	"POST /v1/cases/{id}/correction-review":          {authz.CaseCorrectionReview},
	"POST /v1/cases/{id}/decision":                   {authz.CaseDecide},
	"GET /v1/cases/{id}":                             {authz.CaseRead},
	"GET /v1/cases":                                  {authz.CaseRead},
	"POST /v1/data-changes/{id}/decision":            {authz.DataChangeDecide},
	"GET /v1/data-changes/{id}":                      {authz.DataChangeOwn, authz.DataChangeRead},
	"POST /v1/disclosures/{id}/decision":             {authz.DisclosureDecide},
	"POST /v1/disclosures/{id}/export":               {authz.DisclosureExport},
	"GET /v1/disclosures/{id}":                       {authz.DisclosureReadOwn, authz.DisclosureRegister},
	"GET /v1/disclosures":                            {authz.DisclosureRegister},
	"POST /v1/disclosures":                           {authz.DisclosureEnter},
	"GET /v1/me/activity":                            {authz.UserArea},
	"POST /v1/me/cases/{id}/answer":                  {authz.UserArea},
	"POST /v1/me/cases/{id}/correction":              {authz.UserArea},
	"GET /v1/me/cases":                               {authz.UserArea},
	"POST /v1/me/consents/{id}":                      {authz.UserArea},
	"GET /v1/me/consents":                            {authz.UserArea},
	"POST /v1/me/data-changes":                       {authz.UserArea},
	"GET /v1/me/data-changes":                        {authz.UserArea},
	"POST /v1/me/deregistration/{id}/withdraw":       {authz.UserArea},
	"GET /v1/me/deregistration/{id}":                 {authz.UserArea},
	"POST /v1/me/deregistration":                     {authz.UserArea},
	"GET /v1/me/deregistration":                      {authz.UserArea},
	"GET /v1/me/export":                              {authz.UserArea},
	"GET /v1/me/disclosures":                         {authz.UserArea},
	"GET /v1/me/notices":                             {authz.UserArea},
	"PUT /v1/me/password":                            {authz.SignedIn},
	"POST /v1/me/sanctions/{id}/appeal":              {authz.UserArea},
	"POST /v1/me/sanctions/{id}/correction":          {authz.UserArea},
	"GET /v1/me/sanctions":                           {authz.UserArea},
	"POST /v1/me/security-reports":                   {authz.UserArea},
	"POST /v1/me/terms/{version}/accept":             {authz.UserArea},
	"POST /v1/me/terms/{version}/reject":             {authz.UserArea},
	"GET /v1/me/terms/{version}":                     {authz.UserArea},
	"GET /v1/me/terms":                               {authz.UserArea},
	"GET /v1/me":                                     {authz.SignedIn},
	"GET /v1/operations/runs":                        {authz.OperationsRead},
	"PATCH /v1/me":                                   {authz.UserArea},
	"POST /v1/password-resets/{id}/initial-password": {authz.PasswordResetPickup},
	"POST /v1/registrations/{id}/decision":           {authz.RegistrationDecide},
	"POST /v1/registrations/{id}/initial-password":   {authz.InitialPasswordPickup},
	"POST /v1/registrations/{id}/supplement":         {authz.Public},
	"POST /v1/registrations/{id}/withdraw":           {authz.Public},
	"GET /v1/registrations/{id}":                     {authz.Public},
	"POST /v1/registrations":                         {authz.Public},
	"GET /v1/kiosks":                                 {authz.KioskManage},
	"POST /v1/verification-codes":                    {authz.Public},
	"POST /v1/kiosks":                                {authz.KioskManage},
	"POST /v1/kiosks/{id}/credential":                {authz.KioskManage},
	"DELETE /v1/kiosks/{id}":                         {authz.KioskManage},
	"GET /v1/review/data-changes":                    {authz.DataChangeQueue},
	"GET /v1/review/queue":                           {authz.ReviewQueue},
	"POST /v1/sanctions/{id}/appeal-decision":        {authz.SanctionAppealDecide},
	"POST /v1/sanctions/{id}/correction-review":      {authz.SanctionCorrectionReview},
	"POST /v1/sanctions/{id}/lift":                   {authz.SanctionLift},
	"GET /v1/sanctions/{id}":                         {authz.SanctionRead},
	"POST /v1/security-reports":                      {authz.Public},
	"GET /v1/services":                               {authz.Public},
	"POST /v1/services":                              {authz.ServiceEdit},
	"GET /v1/services/{code}":                        {authz.Public},
	"PATCH /v1/services/{code}":                      {authz.ServiceEdit},
	"POST /v1/services/{code}/changes":               {authz.ServiceEdit},
	"GET /v1/service-catalogue":                      {authz.CatalogueRead},
	"DELETE /v1/sessions/current":                    {authz.SignedIn},
	"POST /v1/sessions/restricted":                   {authz.Public},
	"POST /v1/sessions/second-factor":                {authz.Public},
	"POST /v1/sessions/reauth":                       {authz.SignedIn},
	"POST /v1/me/second-factor":                      {authz.SignedIn},
	"POST /v1/me/second-factor/confirm":              {authz.SignedIn},
	"DELETE /v1/staff/{id}/second-factor":            {authz.StaffSecondFactorReset},
	"POST /v1/sessions":                              {authz.Public},
	"GET /v1/staff":                                  {authz.StaffList},
	"POST /v1/staff":                                 {authz.StaffCreate},
	"PATCH /v1/staff/{id}":                           {authz.StaffUpdate},
	"PUT /v1/staff/{id}/password":                    {authz.StaffSetPassword},
	"GET /v1/staff-changes":                          {authz.StaffChangeDecide},
	"GET /v1/staff-changes/{id}":                     {authz.StaffChangeDecide},
	"POST /v1/staff-changes/{id}/approve":            {authz.StaffChangeDecide},
	"POST /v1/staff-changes/{id}/refuse":             {authz.StaffChangeDecide},
	"GET /v1/staff/notices":                          {authz.Console},
	"GET /v1/terms/current":                          {authz.Public},
	"POST /v1/terms/{version}/campaign/pause":        {authz.CampaignControl},
	"POST /v1/terms/{version}/campaign/resume":       {authz.CampaignControl},
	"GET /v1/terms/{version}/campaign":               {authz.CampaignProgress},
	"POST /v1/terms/{version}/publish":               {authz.TermsPublish},
	"GET /v1/terms/{version}":                        {authz.Public},
	"GET /v1/terms":                                  {authz.Public},
	"POST /v1/terms":                                 {authz.TermsDraft},
}

// What the table cannot say, stated by hand.
//
// otherUserRoutes: a user asking for another user's record of these gets
// 404 (the record exists, the test makes one); elsewhere the column is '-'.
var otherUserRoutes = []string{
	"GET /v1/data-changes/{id}", "POST /v1/me/cases/{id}/answer", "POST /v1/me/cases/{id}/correction",
	"POST /v1/me/consents/{id}", "POST /v1/me/deregistration/{id}/withdraw", "GET /v1/me/deregistration/{id}",
	"POST /v1/me/sanctions/{id}/appeal", "POST /v1/me/sanctions/{id}/correction", "GET /v1/registrations/{id}",
}

// lookedUpFirst: the handler (or the workflow's validator) looks the record
// up before checking the role, so with the made-up IDs of the matrix every
// staff member gets 404 (class A); the process tests check the refusals on
// real records.
var lookedUpFirst = []string{
	"GET /v1/data-changes/{id}", "GET /v1/disclosures/{id}", "POST /v1/registrations/{id}/decision",
	"POST /v1/terms/{version}/campaign/pause", "POST /v1/terms/{version}/campaign/resume",
}

// expectedRow derives a route's row of the matrix (columns authzColumns)
// from the policy table and the two lists above; ok is false for a route
// without an action.
func expectedRow(key string) (string, bool) {
	actions, ok := routeActions[key]
	if !ok || len(actions) == 0 {
		return "", false
	}
	allows := func(roles []string, kind string) bool {
		for _, a := range actions {
			if authz.Allows(roles, kind, a) {
				return true
			}
		}
		return false
	}
	class := func(ok bool, no byte) byte {
		if ok {
			return 'A'
		}
		return no
	}
	var b strings.Builder
	b.WriteByte(class(allows(nil, authz.Anonymous), '1'))
	b.WriteByte(class(allows(nil, authz.User), '3'))
	b.WriteByte('-')
	for _, r := range otherUserRoutes {
		if r == key {
			row := b.String()
			b.Reset()
			b.WriteString(row[:2] + "4")
		}
	}
	b.WriteByte('1') // the suspended user's session was revoked
	for _, role := range authzColumns[4:] {
		staff := allows([]string{role}, authz.Staff)
		for _, r := range lookedUpFirst {
			staff = staff || r == key
		}
		b.WriteByte(class(staff, '3'))
	}
	return b.String(), true
}

// Every route of routeActions is an operation of the document and names
// actions of the table (the converse is checked by the matrix test).
func TestRouteActions_C1_4(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPIDocument)
	require.NoError(t, err)
	for key, actions := range routeActions {
		method, path, _ := strings.Cut(key, " ")
		item := doc.Paths.Find(path)
		require.NotNil(t, item, "%s: no such path in the OpenAPI document", key)
		require.NotNil(t, item.GetOperation(method), "%s: no such operation in the OpenAPI document", key)
		for _, a := range actions {
			_, ok := authz.RuleOf(a)
			require.True(t, ok, "%s: action %q is not in the policy table", key, a)
		}
	}
}
