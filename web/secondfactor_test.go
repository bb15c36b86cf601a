package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C1.4 in the console: an audit export more than 10 minutes after the last
// code sends the auditor to the code prompt, which returns to the export
// (and never to another site).
func TestConsoleAsksForACodeBeforeTheAuditExport_C1_4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	au, apw := staff(t, s, workflows.RoleAuditor)
	a := newAgent(t, s)
	a.signIn(au, apw, apw+"-changed")
	_, err := s.DB.Exec(`UPDATE sessions SET second_factor_at = now() - interval '11 minutes' WHERE second_factor_at IS NOT NULL`)
	require.NoError(t, err)
	r := a.get("/console/audit/export")
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	require.True(t, strings.HasPrefix(r.Location, "/reauth?next="), r.Location)
	page := a.get(r.Location)
	require.Contains(t, page.Body, `id="reauth-intro"`)
	wrong := a.post("/reauth", url.Values{"next": {"/console/audit/export"}, "code": {"000000"}})
	require.Equal(t, http.StatusUnauthorized, wrong.Status)
	require.Contains(t, wrong.Body, `id="code-error"`)
	evil := a.post("/reauth", url.Values{"next": {"//evil.example/x"}, "code": {s.Code(au)}})
	require.Equal(t, "/console", evil.Location)
	require.Equal(t, http.StatusOK, a.get("/console/audit/export").Status)
}
