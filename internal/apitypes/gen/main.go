// Command gen merges the API's OpenAPI document with its fragments
// (internal/openapidoc, as the API does) into a temporary file and runs the
// pinned oapi-codegen (a tool of go.mod) on it. `go generate` runs it in
// internal/apitypes.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"hrss-backoffice/internal/openapidoc"
)

func main() {
	apiDir := flag.String("api", "../../api", "directory of openapi.yaml and openapi.d/")
	config := flag.String("config", "oapi-codegen.yaml", "oapi-codegen configuration")
	flag.Parse()
	if err := run(*apiDir, *config); err != nil {
		fmt.Fprintln(os.Stderr, "apitypes/gen:", err)
		os.Exit(1)
	}
}

func run(apiDir, config string) error {
	base, err := os.ReadFile(filepath.Join(apiDir, "openapi.yaml"))
	if err != nil {
		return err
	}
	merged, err := openapidoc.Merge(base, os.DirFS(apiDir), "openapi.d/*.yaml")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp("", "openapi-merged-*.yaml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(merged); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	cmd := exec.Command("go", "tool", "oapi-codegen", "-config", config, tmp.Name())
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}
