package config

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Settings come only from internal/config (issue 16): the application's
// packages take them from config.Config through their dependencies
// (api.Deps, activities.Activities, the workflows' inputs) and never read
// the environment themselves. Test files are not searched.
func TestSettingsOnlyFromConfig(t *testing.T) {
	root := filepath.Join("..", "..")
	var found []string
	for _, pkg := range []string{"api", "web", "activities", "workflows", "worker", "store", "cmd/hrss", "internal/app"} {
		err := filepath.WalkDir(filepath.Join(root, pkg), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			found = append(found, envReads(t, path)...)
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if len(found) > 0 {
		t.Errorf("environment read outside internal/config (add a config.Config setting and pass it in):\n%s", strings.Join(found, "\n"))
	}
}

// envReads lists the calls of os.Getenv, os.LookupEnv, os.Environ,
// os.ExpandEnv and syscall.Getenv in a file, whatever the import's name.
func envReads(t *testing.T, path string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{} // local name → import path
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if p != "os" && p != "syscall" {
			continue
		}
		name := p
		if imp.Name != nil {
			name = imp.Name.Name
		}
		names[name] = p
	}
	readers := map[string]bool{"os.Getenv": true, "os.LookupEnv": true, "os.Environ": true, "os.ExpandEnv": true,
		"syscall.Getenv": true, "syscall.Environ": true}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if id, ok := sel.X.(*ast.Ident); ok && readers[names[id.Name]+"."+sel.Sel.Name] {
			out = append(out, fset.Position(sel.Pos()).String()+": "+id.Name+"."+sel.Sel.Name)
		}
		return true
	})
	return out
}
