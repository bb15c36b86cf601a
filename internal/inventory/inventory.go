// Package inventory reads the data inventory of docs/data-protection.md:
// one row per table and column that holds personal data (or may, such as
// free text), with its category, purpose, retention rule and when it is
// erased or de-identified, and the list of columns without personal data.
// Tests compare it with the schema and with what is left after the
// retention schedule has run.
package inventory

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Entry is one row of the inventory.
type Entry struct {
	Table, Column, Category, Purpose, Retention, Erased string
}

// LegalHold reports whether the inventory keeps the column's data beyond
// the account's retention schedule (its retention rule says "legal hold").
func (e Entry) LegalHold() bool {
	return strings.Contains(strings.ToLower(e.Retention), "legal hold")
}

// Load parses the inventory table of the document at path: the rows of
// the table under the heading "## Inventory", keyed "table.column". The
// first two cells name the table and column (in back quotes).
func Load(path string) (map[string]Entry, error) {
	rows, err := tableRows(path, "Inventory")
	if err != nil {
		return nil, err
	}
	out := map[string]Entry{}
	for _, cells := range rows {
		if len(cells) < 6 {
			return nil, fmt.Errorf("%s: inventory row %q has %d cells, want 6", path, strings.Join(cells, " | "), len(cells))
		}
		e := Entry{Table: strings.Trim(cells[0], "`"), Column: strings.Trim(cells[1], "`"), Category: cells[2],
			Purpose: cells[3], Retention: cells[4], Erased: cells[5]}
		key := e.Table + "." + e.Column
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("%s: %s listed twice", path, key)
		}
		out[key] = e
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no inventory table under \"## Inventory\"", path)
	}
	return out, nil
}

// LoadNonPersonal parses the section "## Columns without personal data" of
// the document at path: rows "| `table` | `a`, `b`, … |", keyed
// "table.column".
func LoadNonPersonal(path string) (map[string]bool, error) {
	rows, err := tableRows(path, "Columns without personal data")
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, cells := range rows {
		if len(cells) < 2 {
			continue
		}
		table := strings.Trim(cells[0], "`")
		for _, col := range strings.Split(cells[1], ",") {
			if col = strings.Trim(strings.TrimSpace(col), "`"); col != "" {
				out[table+"."+col] = true
			}
		}
	}
	return out, nil
}

// tableRows returns the trimmed cells of the table rows under the
// second-level heading given whose first cell is in back quotes (the header
// and its rule are left out).
func tableRows(path, heading string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows [][]string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(text, "## ") {
			in = strings.EqualFold(strings.TrimSpace(text[3:]), heading)
			continue
		}
		if !in || !strings.HasPrefix(text, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(text, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, cells)
	}
	return rows, sc.Err()
}
