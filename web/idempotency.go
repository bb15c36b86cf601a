package web

import (
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"
)

// Every form carries an idempotency key of its own (the hidden "idem"
// field, one per rendered page). The pages pass it to the API as the
// Idempotency-Key header, so a form sent twice (a double click, a browser
// that resends after a lost answer, the same form sent again after a
// "try again" page) reaches the same document and the same run instead of
// starting a second process (docs/reliability.md). A refused form is shown
// again with the key it came with, so that sending it again is still the
// same request.

// formKeyPattern is the API's own rule for Idempotency-Key.
var formKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// submittedKey is the key the posted form came with, if it is well formed.
func submittedKey(c echo.Context) string {
	if c.Request().Method != http.MethodPost {
		return ""
	}
	if k := c.FormValue("idem"); formKeyPattern.MatchString(k) {
		return k
	}
	return ""
}

// formKey is the key the page's forms carry: the one a refused form came
// with, or a new one.
func formKey(c echo.Context) string {
	if k := submittedKey(c); k != "" {
		return k
	}
	return randomSecret()[:32]
}
