package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// answerCheckServer serves the given handler at GET /v1/terms/current and
// at an undocumented route, behind the answer check, and collects what the
// check reports.
func answerCheckServer(t *testing.T, h echo.HandlerFunc) (*echo.Echo, *[]AnswerMismatch) {
	t.Helper()
	_, router, err := loadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var got []AnswerMismatch
	e := echo.New()
	e.HTTPErrorHandler = handleError
	e.Use(checkAnswers(router, func(m AnswerMismatch) { got = append(got, m) }))
	e.GET("/v1/terms/current", h)
	e.GET("/v1/not-in-the-document", h)
	return e, &got
}

func serve(e *echo.Echo, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// A handler that answers a shape the document does not allow is reported
// with the route, the status and the validator's message, and the client
// still gets the answer unchanged.
func TestCheckAnswers_ReportsAShapeTheDocumentDoesNotAllow(t *testing.T) {
	e, got := answerCheckServer(t, func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"version": "not-a-number", "leaked": "x"})
	})
	rec := serve(e, "/v1/terms/current")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "leaked") {
		t.Fatalf("the answer changed: %d %s", rec.Code, rec.Body)
	}
	if len(*got) != 1 {
		t.Fatalf("want one mismatch, got %v", *got)
	}
	m := (*got)[0]
	msg := m.Error()
	for _, want := range []string{"GET", "/v1/terms/current", "200", "version"} {
		if !strings.Contains(msg, want) {
			t.Errorf("report %q lacks %q", msg, want)
		}
	}
	if m.Route != "/v1/terms/current" || m.Status != http.StatusOK {
		t.Errorf("report names %s %d", m.Route, m.Status)
	}
}

// An error answer is checked too, after the error handler wrote it: a
// status the operation does not list is a mismatch.
func TestCheckAnswers_ReportsAnUndocumentedStatus(t *testing.T) {
	e, got := answerCheckServer(t, func(c echo.Context) error {
		return newError(http.StatusTeapot, "teapot", "茶壶", "teapot")
	})
	if rec := serve(e, "/v1/terms/current"); rec.Code != http.StatusTeapot {
		t.Fatalf("status %d", rec.Code)
	}
	if len(*got) != 1 || (*got)[0].Status != http.StatusTeapot {
		t.Fatalf("want the 418 reported, got %v", *got)
	}
}

// Routes the document does not describe (the pages, /healthz) are not
// checked.
func TestCheckAnswers_SkipsUndocumentedRoutes(t *testing.T) {
	e, got := answerCheckServer(t, func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"anything": 1})
	})
	serve(e, "/v1/not-in-the-document")
	if len(*got) != 0 {
		t.Fatalf("reported %v", *got)
	}
}
