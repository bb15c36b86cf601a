package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

// Every field and path parameter the document declares as a UUID is
// checked by the request validator, so a malformed ID is a field-level 422
// before any handler hands it to Postgres (which would answer with an
// error the handler does not expect). The test walks the whole merged
// document, so a new operation is covered without a new row.
func TestEveryUUIDFieldRefusesAMalformedID(t *testing.T) {
	doc, router, err := loadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if ae, ok := err.(*Error); ok {
			_ = c.JSON(ae.Status, map[string]any{"error": ae})
			return
		}
		_ = c.NoContent(http.StatusInternalServerError)
	}
	e.Use(validateRequests(router))
	reached := func(c echo.Context) error { return c.NoContent(http.StatusTeapot) }
	e.Any("/*", reached)

	checked := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			params := slices.Concat(item.Parameters, op.Parameters)
			for _, p := range params {
				if p.Value.In != "path" || p.Value.Schema == nil || p.Value.Schema.Value.Format != "uuid" {
					continue
				}
				url := strings.ReplaceAll(path, "{"+p.Value.Name+"}", "not-a-uuid")
				for _, other := range params {
					url = strings.ReplaceAll(url, "{"+other.Value.Name+"}", "00000000-0000-4000-8000-000000000000")
				}
				var body map[string]any
				if op.RequestBody != nil {
					body = map[string]any{}
				}
				expectRefused(t, e, method, url, body, p.Value.Name)
				checked++
			}
			if op.RequestBody == nil || op.RequestBody.Value.Content.Get("application/json") == nil {
				continue
			}
			for _, field := range uuidFields(op.RequestBody.Value.Content.Get("application/json").Schema.Value, "") {
				body := map[string]any{}
				put(body, strings.Split(field, "."), "not-a-uuid")
				url := path
				for _, p := range params {
					url = strings.ReplaceAll(url, "{"+p.Value.Name+"}", "00000000-0000-4000-8000-000000000000")
				}
				url = strings.ReplaceAll(url, "{version}", "2026-01")
				expectRefused(t, e, method, url, body, field)
				checked++
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d UUID fields found: is the walk right?", checked)
	}
}

// uuidFields lists the JSON paths of the object properties (nested objects
// included) declared with format uuid.
func uuidFields(sc *openapi3.Schema, prefix string) []string {
	var out []string
	for _, sub := range sc.AllOf {
		out = append(out, uuidFields(sub.Value, prefix)...)
	}
	for name, p := range sc.Properties {
		if p.Value.Format == "uuid" && p.Value.Type.Is("string") {
			out = append(out, prefix+name)
		}
		if p.Value.Type.Is("object") {
			out = append(out, uuidFields(p.Value, prefix+name+".")...)
		}
	}
	return out
}

func put(m map[string]any, path []string, v any) {
	if len(path) == 1 {
		m[path[0]] = v
		return
	}
	inner := map[string]any{}
	m[path[0]] = inner
	put(inner, path[1:], v)
}

func expectRefused(t *testing.T, e *echo.Echo, method, url string, body map[string]any, field string) {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req := httptest.NewRequest(method, url, bytes.NewReader(b))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), `"field":"`+field+`"`) {
		t.Errorf("%s %s with %s = not-a-uuid: %d %s", method, url, field, rec.Code, rec.Body.String())
	}
}

// A schema check's Chinese message names what is wrong, not only that the
// format is: the pages show it under the field.
func TestSchemaDetailsSayWhatIsWrongInChinese(t *testing.T) {
	for code, want := range map[string]string{"required": "此项为必填", "schema_minItems": "请至少选择或填写一项",
		"schema_format": "格式不正确", "something_new": "格式不符合要求"} {
		if got := detail("f", code, "x").MessageZH; got != want {
			t.Errorf("%s: %q, want %q", code, got, want)
		}
	}
}
