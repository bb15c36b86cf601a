package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/apitypes"
)

// apiError is an error answer of the API (the document's ErrorBody) with
// its HTTP status.
type apiError struct {
	Status int
	apitypes.ErrorBody
}

// fieldError is the document's FieldError: one field's problem.
type fieldError = apitypes.FieldError

// newAPIError is a page's own refusal in the API's shape.
func newAPIError(status int, code, zh, en string, details ...fieldError) *apiError {
	return &apiError{Status: status, ErrorBody: apitypes.ErrorBody{Code: code, MessageZH: zh, MessageEN: en, Details: details}}
}

// errInternal is a call the pages could not make or read.
func errInternal() *apiError { return newAPIError(http.StatusInternalServerError, "internal", "", "") }

// fields maps a field name (services.1 counts as services) to its messages.
func (e *apiError) fields() map[string][]fieldError {
	out := map[string][]fieldError{}
	if e == nil {
		return out
	}
	for _, d := range e.Details {
		name, _, _ := strings.Cut(d.Field, ".")
		out[name] = append(out[name], d)
	}
	return out
}

// auth says whether a call carries the signed-in person's session.
type auth int

const (
	anonymous auth = iota
	asSignedIn
)

// call sends one request to the API in-process, through the same Echo
// instance and middleware as any client over the network, and decodes a 2xx
// answer into out. Any other answer comes back as an *apiError. The
// caller's address (as the API's IP extractor reads it) and the checked
// request ID go along, so sign-in limits, logs and audit see the real client.
func (a *app) call(c echo.Context, who auth, method, path string, in, out any, headers ...string) *apiError {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return errInternal()
		}
		body = bytes.NewReader(b)
	}
	outer := c.Request()
	req, err := http.NewRequestWithContext(outer.Context(), method, path, body)
	if err != nil {
		return errInternal()
	}
	if body == nil {
		req.Body = http.NoBody // as a server request has
	}
	// The client address as the API's IP extractor found it (the peer, or
	// what a trusted proxy forwarded) becomes the peer of the inner call;
	// no forwarding header goes along, so a client's X-Forwarded-For or
	// X-Real-IP counts for nothing here either.
	req.RemoteAddr = net.JoinHostPort(c.RealIP(), "0")
	req.Host = outer.Host
	if v := outer.Header.Get("User-Agent"); v != "" {
		req.Header.Set("User-Agent", v)
	}
	if id := c.Response().Header().Get(echo.HeaderXRequestID); id != "" {
		req.Header.Set(echo.HeaderXRequestID, id)
	}
	if in != nil {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	req.Header.Set(echo.HeaderAccept, echo.MIMEApplicationJSON)
	if who == asSignedIn {
		if tok := sessionToken(c); tok != "" {
			req.Header.Set(echo.HeaderAuthorization, "Bearer "+tok)
		} else if tok := restrictedToken(c); tok != "" {
			req.Header.Set("X-Restricted-Token", tok)
		}
	}
	if method != http.MethodGet {
		if k := submittedKey(c); k != "" {
			req.Header.Set("Idempotency-Key", k)
		}
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := &recorder{header: http.Header{}}
	a.e.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status >= 200 && rec.status < 300 {
		if raw, ok := out.(*rawBody); ok {
			*raw = rec.body.Bytes()
			return nil
		}
		if out != nil && rec.body.Len() > 0 {
			if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
				return errInternal()
			}
		}
		return nil
	}
	var wrapped apitypes.Error
	_ = json.Unmarshal(rec.body.Bytes(), &wrapped)
	e := apiError{Status: rec.status, ErrorBody: wrapped.Error}
	if e.Code == "" {
		e.Code = "error"
	}
	return &e
}

// rawBody receives a 2xx answer's body as it is (a CSV export, say).
type rawBody []byte

// callRaw is call for an answer that is not JSON.
func (a *app) callRaw(c echo.Context, method, path string) ([]byte, *apiError) {
	var b rawBody
	e := a.call(c, asSignedIn, method, path, nil, &b)
	return b, e
}

// recorder is the response writer of an in-process call.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
