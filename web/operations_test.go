package web_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// Issue 17 (C1.4): the console's operators' page is in the menu of
// operators (and administrators and auditors) and lists the runs that need
// attention, with the saved queries of the runbook; a reviewer is refused.
func TestConsoleOperationsPageForOperatorsOnly_C1_4(t *testing.T) {
	s := testenv.Start(t, testenv.Options{UIURL: "http://localhost:8233"})

	op := newAgent(t, s)
	u, pw := staff(t, s, workflows.RoleOperator)
	op.signIn(u, pw, pw+"-changed")
	r := op.get("/console")
	require.Equal(t, http.StatusOK, r.Status)
	require.Contains(t, r.Body, `id="operations-link"`)
	r = op.get("/console/operations?retrying_minutes=0")
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	require.Contains(t, r.Body, `id="ops-empty"`)
	require.Contains(t, r.Body, `id="saved-queries"`)
	require.Contains(t, r.Body, `http://localhost:8233/namespaces/default/workflows?query=HrssKind`)

	rev := newAgent(t, s)
	u, pw = staff(t, s, workflows.RoleReviewer)
	rev.signIn(u, pw, pw+"-changed")
	require.NotContains(t, rev.get("/console").Body, `id="operations-link"`)
	require.Equal(t, http.StatusForbidden, rev.get("/console/operations").Status)
}
