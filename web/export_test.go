package web_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// PIPL art. 45 / C3.3(4): "my account" links to a readable copy of
// everything held about the user, made for printing, with the JSON
// document to download; both are the user's own export. Signed out, the
// page sends the visitor to sign in; staff are sent to the console.
func TestExportPrintViewAndDownload_C3_3_4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)

	a := newAgent(t, s)
	require.Equal(t, "/signin?notice=signin_first", a.get("/account/export").Location)
	a.signIn(u.IDNumber, u.Password, "")
	require.Contains(t, a.get("/account").Body, `href="/account/export"`)
	p := a.get("/account/export")
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	for _, want := range []string{`id="export-account"`, `id="export-activity"`, `id="export-deregistration_requests"`,
		u.Name, u.Mobile, u.Address, "social_insurance_query", "sign_in.success", `href="/account/export.json"`} {
		require.Contains(t, p.Body, want)
	}
	require.NotContains(t, p.Body, "argon2")

	d := a.get("/account/export.json")
	require.Equal(t, http.StatusOK, d.Status, d.Body)
	require.Contains(t, d.Header.Get("Content-Disposition"), "attachment")
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(d.Body), &doc))
	require.Equal(t, "hrss.user_export/v1", doc["schema"])
	require.Equal(t, u.Name, doc["account"].(map[string]any)["name"])

	var n int
	require.NoError(t, s.DB.Get(&n, `SELECT count(*) FROM audit_log WHERE action = 'account.exported' AND record_id = $1`, u.AccountID))
	require.Equal(t, 2, n, "each view is one audited export")

	staffAgent := newAgent(t, s)
	su, spw := staff(t, s, workflows.RoleReviewer)
	staffAgent.signIn(su, spw, spw+"-changed")
	require.Equal(t, "/console", staffAgent.get("/account/export").Location)
}
