package store_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sqlStatement matches the start of an SQL statement or an advisory lock in
// Go source; the store package is the only place for them (issue 16,
// docs/architecture.md).
var sqlStatement = regexp.MustCompile(`\b(SELECT\s+[a-zA-Z0-9_*(]|INSERT\s+INTO|UPDATE\s+[a-z_]+\s+SET|DELETE\s+FROM|pg_(try_)?advisory)` +
	`|\.(ExecContext|GetContext|SelectContext|QueryContext|QueryRowContext|QueryRowxContext|QueryxContext|NamedExecContext)\(` +
	`|\b(DB|db|tx)\.(Exec|Get|Select|Query|QueryRow|Queryx|QueryRowx|NamedExec)\(`)

// TestNoSQLOutsideTheStore fails when a handler or a page writes SQL of its
// own: api/ and web/ call the store.
func TestNoSQLOutsideTheStore(t *testing.T) {
	for _, dir := range []string{"../api", "../web"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("no Go files in %s", dir)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(string(src), "\n") {
				if sqlStatement.MatchString(line) {
					t.Errorf("%s:%d: SQL outside the store: %s", f, i+1, strings.TrimSpace(line))
				}
			}
		}
	}
}

// TestFilesOfOneConcern fails on a hand-written Go file over 600 lines
// (generated files aside): a file that long holds more than one concern
// (issue 16).
func TestFilesOfOneConcern(t *testing.T) {
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != ".." && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(src[:min(len(src), 500)]), "DO NOT EDIT") {
			return nil
		}
		if n := strings.Count(string(src), "\n"); n > 600 {
			t.Errorf("%s: %d lines; split it by concern (at most 600)", path, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
