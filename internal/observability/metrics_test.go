package observability

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// Made-up HTTP methods share one label value: a client looping over new
// method tokens must not grow the metric series without bound (C3.4(8)).
func TestUnknownMethodsShareOneLabel_C3_4_8(t *testing.T) {
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.Use(m.Echo())
	e.GET("/x", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	for _, method := range []string{"AAAA1", "AAAA2", "AAAA3", http.MethodGet} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, "/x", nil))
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if strings.Contains(string(body), "AAAA") {
		t.Fatalf("a made-up method became a label value:\n%s", body)
	}
	if !strings.Contains(string(body), `method="other"`) || !strings.Contains(string(body), `method="GET"`) {
		t.Fatalf("want the methods labelled GET and other:\n%s", body)
	}
}
