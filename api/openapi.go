package api

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/validate"
)

// OpenAPIDocument is the API's description, served at /v1/openapi.yaml and
// used to validate every request before a handler sees it.
//
//go:embed openapi.yaml
var OpenAPIDocument []byte

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
	var walk func(error)
	walk = func(err error) {
		var multi openapi3.MultiError
		if errors.As(err, &multi) {
			for _, e := range multi {
				walk(e)
			}
			return
		}
		var reqErr *openapi3filter.RequestError
		if errors.As(err, &reqErr) {
			if reqErr.Err != nil && reqErr.Err != err {
				var inner openapi3.MultiError
				var schemaErr *openapi3.SchemaError
				if errors.As(reqErr.Err, &inner) || errors.As(reqErr.Err, &schemaErr) {
					field := ""
					if reqErr.Parameter != nil {
						field = reqErr.Parameter.Name
					}
					walkSchema(reqErr.Err, field, &details)
					return
				}
			}
			field := "body"
			if reqErr.Parameter != nil {
				field = reqErr.Parameter.Name
			}
			details = append(details, detail(field, "invalid", reqErr.Reason))
			return
		}
		var secErr *openapi3filter.SecurityRequirementsError
		if errors.As(err, &secErr) {
			return
		}
		details = append(details, detail("body", "invalid", err.Error()))
	}
	walk(err)
	for _, d := range details {
		if d.Code == "unsupported_media_type" {
			e := newError(http.StatusUnsupportedMediaType, "unsupported_media_type", "请以 application/json 提交", "send application/json")
			e.Details = details
			return e
		}
	}
	if len(details) == 0 {
		details = append(details, detail("body", "invalid", "the request is malformed"))
	}
	return errValidation(details...)
}

func walkSchema(err error, prefix string, out *[]validate.FieldError) {
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		for _, e := range multi {
			walkSchema(e, prefix, out)
		}
		return
	}
	var schemaErr *openapi3.SchemaError
	if errors.As(err, &schemaErr) {
		path := schemaErr.JSONPointer()
		field := strings.Join(path, ".")
		if prefix != "" {
			field = strings.TrimSuffix(prefix+"."+field, ".")
		}
		if field == "" {
			field = "body"
		}
		code := "schema_" + schemaErr.SchemaField
		reason := schemaErr.Reason
		if schemaErr.SchemaField == "additionalProperties" {
			code = "unknown_field"
		}
		*out = append(*out, detail(field, code, reason))
		return
	}
	if strings.Contains(err.Error(), "header Content-Type has unexpected value") || strings.Contains(err.Error(), "unsupported content type") {
		*out = append(*out, detail("Content-Type", "unsupported_media_type", err.Error()))
		return
	}
	*out = append(*out, detail(prefix, "invalid", err.Error()))
}

func detail(field, code, en string) validate.FieldError {
	return validate.FieldError{Field: field, Code: code, MessageZH: "格式不符合要求", MessageEN: en}
}
