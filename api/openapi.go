package api

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/openapidoc"
	"hrss-backoffice/internal/validate"
)

//go:embed openapi.yaml
var baseDocument []byte

// Each process adds its paths and components as a fragment.
//
//go:embed openapi.d/*.yaml
var fragments embed.FS

// OpenAPIDocument is the API's description (openapi.yaml with the
// fragments of openapi.d merged in), served at /v1/openapi.yaml and used to
// validate every request before a handler sees it.
var OpenAPIDocument = mustMergeOpenAPI()

func mustMergeOpenAPI() []byte {
	doc, err := mergeOpenAPI()
	if err != nil {
		panic(err)
	}
	return doc
}

// mergeOpenAPI adds every fragment's paths and components to the base
// document (internal/openapidoc). A path or component defined twice is an
// error.
func mergeOpenAPI() ([]byte, error) {
	return openapidoc.Merge(baseDocument, fragments, "openapi.d/*.yaml")
}

// anyUUID is the shape Postgres's uuid type accepts in our IDs: any
// version, so that a made-up ID answers 404, not 422.
const anyUUID = `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`

func init() {
	// kin-openapi checks no "uuid" format unless told to; without it a
	// malformed ID in a body reaches Postgres and fails there.
	openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(anyUUID))
}

func loadOpenAPI() (*openapi3.T, routers.Router, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPIDocument)
	if err != nil {
		return nil, nil, fmt.Errorf("openapi: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, nil, fmt.Errorf("openapi: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("openapi: %w", err)
	}
	return doc, router, nil
}

// validateRequests checks each request against the document: parameters,
// content type, body schema, unknown fields. Authentication is ours, not
// the validator's. Routes the document does not know fall through to Echo
// (404/405).
func validateRequests(router routers.Router) echo.MiddlewareFunc {
	opts := &openapi3filter.Options{
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		MultiError:         true,
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			route, params, err := router.FindRoute(req)
			if err != nil {
				return next(c)
			}
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
			if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
				return requestError(err)
			}
			return next(c)
		}
	}
}

// requestError turns the validator's errors into field-level details.
func requestError(err error) *Error {
	var details []validate.FieldError
	collect(err, "body", &details)
	if len(details) == 0 {
		details = append(details, detail("body", "invalid", "the request is malformed"))
	}
	for _, d := range details {
		if d.Code == "unsupported_media_type" {
			e := newError(http.StatusUnsupportedMediaType, "unsupported_media_type", "请以 application/json 提交", "send application/json")
			e.Details = details
			return e
		}
	}
	return errValidation(details...)
}

// collect walks the validator's error tree down to schema errors, naming
// each field by its JSON path (services.1) or its parameter name.
func collect(err error, field string, out *[]validate.FieldError) {
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, inner := range e {
			collect(inner, field, out)
		}
	case *openapi3filter.RequestError:
		if e.Parameter != nil {
			field = e.Parameter.Name
		}
		msg := e.Reason
		if e.Err != nil {
			msg = e.Err.Error()
		}
		switch {
		case strings.Contains(msg, "Content-Type"), strings.Contains(msg, "unsupported content type"):
			*out = append(*out, detail("Content-Type", "unsupported_media_type", "send application/json"))
		case e.Err != nil:
			collect(e.Err, field, out)
		default:
			*out = append(*out, detail(field, "invalid", e.Reason))
		}
	case *openapi3.SchemaError:
		if path := e.JSONPointer(); len(path) > 0 && field == "body" {
			field = strings.Join(path, ".")
		}
		code := "schema_" + e.SchemaField
		switch e.SchemaField {
		case "additionalProperties":
			code = "unknown_field"
		case "required":
			code = "required"
		}
		*out = append(*out, detail(field, code, e.Reason))
	case *openapi3filter.ParseError:
		*out = append(*out, detail(field, "malformed", "the value cannot be parsed"))
	default:
		var secErr *openapi3filter.SecurityRequirementsError
		if errors.As(err, &secErr) {
			return
		}
		*out = append(*out, detail(field, "invalid", err.Error()))
	}
}

func detail(field, code, en string) validate.FieldError {
	zh, ok := detailZH[code]
	if !ok {
		zh = "格式不符合要求"
	}
	return validate.FieldError{Field: field, Code: code, MessageZH: zh, MessageEN: en}
}

// detailZH says in Chinese what a schema check found, by its code, so that
// a form shows more than "not in the required format".
var detailZH = map[string]string{
	"required":               "此项为必填",
	"unknown_field":          "不接受此项",
	"schema_minItems":        "请至少选择或填写一项",
	"schema_maxItems":        "项目过多",
	"schema_minLength":       "内容过短或为空",
	"schema_maxLength":       "内容过长",
	"schema_enum":            "不在可选范围内",
	"schema_format":          "格式不正确",
	"schema_pattern":         "格式不正确",
	"schema_type":            "类型不正确",
	"schema_minimum":         "数值过小",
	"schema_maximum":         "数值过大",
	"schema_uniqueItems":     "有重复的项目",
	"unsupported_media_type": "请以 application/json 提交",
	"malformed_json":         "提交的内容不是有效的 JSON",
}

// mergeSection is openapidoc.MergeSection (the merge's tests here call it).
func mergeSection(dst, src map[string]any, section, from string) error {
	return openapidoc.MergeSection(dst, src, section, from)
}
