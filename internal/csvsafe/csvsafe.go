// Package csvsafe writes CSV files that a spreadsheet opens as data.
//
// A spreadsheet program reads a cell that starts with = + - or @ as a
// formula (and a leading tab or carriage return is dropped before it looks,
// so those hide one): a value an attacker controls, such as a request ID or
// an address from a forwarding header, becomes a formula that runs on the
// auditor's machine when the export is opened (CSV injection). Every CSV
// the system produces goes through this package, which neutralises such a
// cell by putting an apostrophe in front of it: the spreadsheet shows the
// text as it was, and a reader of the raw file sees the apostrophe.
package csvsafe

import (
	"encoding/csv"
	"io"
)

// dangerous reports whether a spreadsheet would read s as a formula.
func dangerous(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// Cell returns s, with an apostrophe in front when a spreadsheet would
// read s as a formula.
func Cell(s string) string {
	if dangerous(s) {
		return "'" + s
	}
	return s
}

// Writer is a csv.Writer that neutralises every cell it writes.
type Writer struct {
	w *csv.Writer
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Write writes one record, each cell through Cell.
func (w *Writer) Write(record []string) error {
	safe := make([]string, len(record))
	for i, v := range record {
		safe[i] = Cell(v)
	}
	return w.w.Write(safe)
}

// Flush writes any buffered data; Error reports an earlier failure.
func (w *Writer) Flush() { w.w.Flush() }

// Error reports any error of an earlier Write or Flush.
func (w *Writer) Error() error { return w.w.Error() }
