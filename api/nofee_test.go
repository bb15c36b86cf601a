package api

import (
	"testing"

	"go.yaml.in/yaml/v3"

	"hrss-backoffice/internal/feewords"
)

// C2.4: online services are free. No operation of the API and no field it
// takes or gives asks for a fee or a payment: every path, operation ID,
// parameter name, property name and enumerated value of the merged OpenAPI
// document is free of fee and payment words (the web pages' fields and
// texts: web TestNoPageAsksForAFee_C2_4).
func TestNoOperationOrFieldAsksForAFee_C2_4(t *testing.T) {
	var doc any
	if err := yaml.Unmarshal(OpenAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	checked := 0
	var walk func(path string, v any)
	check := func(path, name string) {
		checked++
		if w := feewords.In(name); len(w) > 0 {
			t.Errorf("%s: %q names a fee or payment (%v)", path, name, w)
		}
	}
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, child := range x {
				switch k {
				case "description", "summary", "example", "examples", "title":
					continue // prose about the API, not a field
				}
				check(path, k)
				if k == "operationId" || k == "name" {
					if s, ok := child.(string); ok {
						check(path+"."+k, s)
					}
				}
				if k == "enum" {
					if list, ok := child.([]any); ok {
						for _, e := range list {
							if s, ok := e.(string); ok {
								check(path+".enum", s)
							}
						}
					}
				}
				walk(path+"."+k, child)
			}
		case []any:
			for _, child := range x {
				walk(path+"[]", child)
			}
		}
	}
	walk("", doc)
	if checked < 500 {
		t.Fatalf("checked only %d names: is the document read?", checked)
	}
}
