package openapidoc

import (
	"testing"
	"testing/fstest"

	"go.yaml.in/yaml/v3"
)

// The shared answers reach every operation of their kind, and an
// operation's own answer for a status is kept.
func TestMerge_AddsSharedAnswersToEveryOperationOfTheirKind(t *testing.T) {
	base := []byte(`
openapi: 3.0.3
x-shared-answers:
  every-operation: { "401": { $ref: "#/components/responses/Error" } }
  with-body: { "413": { $ref: "#/components/responses/Error" } }
  with-parameters: { "422": { $ref: "#/components/responses/Error" } }
paths:
  /a:
    get: { responses: { "200": { description: ok }, "401": { description: own } } }
components: { responses: { Error: { description: e } } }
`)
	frags := fstest.MapFS{"d/b.yaml": {Data: []byte(`
paths:
  /b/{id}:
    parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
    post: { requestBody: { content: {} }, responses: { "200": { description: ok } } }
`)}}
	out, err := Merge(base, frags, "d/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	responses := func(path, method string) map[string]map[string]any {
		op, _ := doc.Paths[path][method].(map[string]any)
		out := map[string]map[string]any{}
		rs, _ := op["responses"].(map[string]any)
		for k, v := range rs {
			out[k], _ = v.(map[string]any)
		}
		return out
	}
	a := responses("/a", "get")
	if a["401"]["description"] != "own" {
		t.Errorf("the operation's own 401 was replaced: %v", a["401"])
	}
	if _, ok := a["413"]; ok {
		t.Errorf("413 added to an operation without a body")
	}
	if _, ok := a["422"]; ok {
		t.Errorf("422 added to an operation without parameters")
	}
	b := responses("/b/{id}", "post")
	for _, status := range []string{"200", "401", "413", "422"} {
		if _, ok := b[status]; !ok {
			t.Errorf("POST /b/{id} lacks %s: %v", status, b)
		}
	}
}
