package api

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"
)

// AnswerMismatch is an answer that the OpenAPI document does not allow: a
// status the operation does not list, a body of another shape, a missing
// required property, an unknown one where the schema forbids it.
type AnswerMismatch struct {
	Method string
	Route  string // the document's path template, /v1/registrations/{id}
	Status int
	Err    error // the validator's message
}

func (m AnswerMismatch) Error() string {
	return fmt.Sprintf("answer %d to %s %s does not match the OpenAPI document: %v", m.Status, m.Method, m.Route, m.Err)
}

// checkAnswers validates every answer of a documented route against the
// document once it is written (the error handler's answers included) and
// reports each mismatch. Tests turn it on (Deps.CheckAnswers) so that an
// answer drifting from the document fails them; the client still gets the
// answer unchanged.
func checkAnswers(router routers.Router, report func(AnswerMismatch)) echo.MiddlewareFunc {
	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true, // a status the operation does not list is a mismatch
		MultiError:            true,
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			route, params, err := router.FindRoute(req)
			if err != nil {
				return next(c)
			}
			res := c.Response()
			rec := &answerRecorder{ResponseWriter: res.Writer}
			res.Writer = rec
			if err := next(c); err != nil {
				c.Error(err) // the answer the client gets, written now to check it
			}
			res.Writer = rec.ResponseWriter
			in := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
				Status:                 res.Status,
				Header:                 res.Header(),
				Body:                   io.NopCloser(bytes.NewReader(rec.body.Bytes())),
				Options:                opts,
			}
			if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
				report(AnswerMismatch{Method: req.Method, Route: route.Path, Status: res.Status, Err: err})
			}
			return nil
		}
	}
}

// answerRecorder keeps a copy of the body it passes on.
type answerRecorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *answerRecorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func (r *answerRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *answerRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
