package migrations_test

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/inventory"
	"hrss-backoffice/internal/testdb"
)

// C3.5 / C4 / C2.3: every column of every table is in the data inventory
// of docs/data-protection.md, either as personal data (with its category,
// purpose, retention rule and when it is erased) or in the list of columns
// without personal data. A migration that adds a column the inventory does
// not list fails here, and so does an inventory row for a column that no
// longer exists.
func TestDataInventoryListsEveryColumn_C3_5_C4(t *testing.T) {
	db, _ := testdb.New(t)
	personal, err := inventory.Load("../docs/data-protection.md")
	require.NoError(t, err)
	other, err := inventory.LoadNonPersonal("../docs/data-protection.md")
	require.NoError(t, err)
	var cols []string
	require.NoError(t, db.Select(&cols, `SELECT c.table_name || '.' || c.column_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
		WHERE c.table_schema = 'public' AND c.table_name <> 'goose_db_version' ORDER BY c.table_name, c.ordinal_position`))
	exists := map[string]bool{}
	var missing []string
	for _, c := range cols {
		exists[c] = true
		_, isPersonal := personal[c]
		if isPersonal && other[c] {
			t.Errorf("%s is listed both as personal data and as not personal", c)
		}
		if !isPersonal && !other[c] {
			missing = append(missing, c)
		}
	}
	for _, m := range missing {
		t.Errorf("column %s is not in the data inventory (docs/data-protection.md): list it under \"Inventory\" or \"Columns without personal data\"", m)
	}
	var stale []string
	for c := range personal {
		if !exists[c] {
			stale = append(stale, c)
		}
	}
	for c := range other {
		if !exists[c] {
			stale = append(stale, c)
		}
	}
	sort.Strings(stale)
	for _, c := range stale {
		t.Errorf("the data inventory lists %s, which the schema does not have", c)
	}
	for c, e := range personal {
		if e.Category == "" || e.Purpose == "" || e.Retention == "" || e.Erased == "" {
			t.Errorf("inventory row %s leaves a cell empty", c)
		}
	}
}
