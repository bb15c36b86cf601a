package api

import (
	"strings"
	"testing"
)

func TestOpenAPIFragmentsMergeAndRefuseDuplicates(t *testing.T) {
	if !strings.Contains(string(OpenAPIDocument), "/healthz") || !strings.Contains(string(OpenAPIDocument), "/v1/registrations") {
		t.Fatal("merged document misses the base or a fragment")
	}
	dst := map[string]any{"paths": map[string]any{"/a": 1}}
	if err := mergeSection(dst, map[string]any{"paths": map[string]any{"/b": 2}}, "paths", "x.yaml"); err != nil {
		t.Fatal(err)
	}
	if err := mergeSection(dst, map[string]any{"paths": map[string]any{"/a": 3}}, "paths", "y.yaml"); err == nil {
		t.Fatal("a path defined twice must be refused")
	}
}
