package web

import (
	"io/fs"
	"regexp"
	"testing"

	"hrss-backoffice/internal/authz"
)

// The menus name actions of the API's policy table by their names; a name
// the table does not know would hide a link for everybody (C1.4).
func TestTemplatesNameKnownActions_C1_4(t *testing.T) {
	use := regexp.MustCompile(`\bmay \$?[A-Za-z.]+ "([^"]+)"`)
	n := 0
	err := fs.WalkDir(files, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		for _, m := range use.FindAllStringSubmatch(string(b), -1) {
			n++
			if _, ok := authz.RuleOf(authz.Action(m[1])); !ok {
				t.Errorf("%s: action %q is not in internal/authz", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no template names an action: the menus no longer read the policy")
	}
}
