package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/authz"
	"hrss-backoffice/store"
)

// The user's own copy (PIPL art. 45; C3.3(4)); docs/data-protection.md.
//
//	GET /v1/me/export   user: everything held about the caller, one JSON document
//
// Each part of the document is the answer of the user's own endpoint for
// it (GET /v1/me, /v1/me/terms, /v1/me/notices, …), produced by the same
// handler, so the same explicit field lists (userviews.go) decide what the
// user reads and staff-only fields never appear here either.

// ExportSchema names the document's schema (OpenAPI: UserExport).
const ExportSchema = "hrss.user_export/v1"

// exportLimit is how many exports a user may take within exportWindow.
const (
	exportLimit  = 5
	exportWindow = time.Hour
)

func (s *server) exportRoutes(g *echo.Group) {
	g.GET("/me/export", s.myExport, s.allow(authz.UserArea))
}

// exportPart names one part of the document and the handler that answers it.
type exportPart struct {
	key     string
	path    string
	handler echo.HandlerFunc
	items   string // for a paged answer: the list's key
	next    string // and its cursor's key
	cursor  string // and the query parameter that takes it
}

func (s *server) myExport(c echo.Context) error {
	p := caller(c)
	ctx := c.Request().Context()
	var retry time.Duration
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		// The row lock serialises one user's exports: the count and the
		// new entry cannot race past the limit.
		if err := store.LockAccountRow(ctx, tx, p.AccountID); err != nil {
			return err
		}
		recent, err := store.RecentActionsOn(ctx, tx, "account", p.AccountID, "account.exported", exportWindow)
		if err != nil {
			return err
		}
		if recent.N >= exportLimit {
			retry = exportWindow
			if recent.Oldest != nil {
				retry = recent.Oldest.Add(exportWindow).Sub(recent.Now)
			}
			return nil
		}
		return audit(ctx, tx, c, "account.exported", "account", p.AccountID, map[string]any{"schema": ExportSchema})
	})
	if err != nil {
		return err
	}
	if retry > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())+1))
		return newError(http.StatusTooManyRequests, "too_many_exports",
			fmt.Sprintf("导出过于频繁：每小时最多 %d 次，请稍后再试", exportLimit),
			fmt.Sprintf("too many exports: at most %d an hour; try again later", exportLimit))
	}

	doc := map[string]any{"schema": ExportSchema, "generated_at": s.now().UTC()}
	me, err := s.exportCall(c, "/v1/me", nil, s.me)
	if err != nil {
		return err
	}
	for _, k := range []string{"account", "services", "agreement", "second_factor"} {
		doc[k] = me[k]
	}
	for _, part := range []exportPart{
		{key: "terms", path: "/v1/me/terms", handler: s.myTerms},
		{key: "notices", path: "/v1/me/notices", handler: s.myNotices, items: "notices", next: "next_before", cursor: "before"},
		{key: "activity", path: "/v1/me/activity", handler: s.myActivity, items: "items", next: "next_cursor", cursor: "after"},
		{key: "cases", path: "/v1/me/cases", handler: s.myCases},
		{key: "sanctions", path: "/v1/me/sanctions", handler: s.mySanctions},
		{key: "disclosures", path: "/v1/me/disclosures", handler: s.myDisclosures},
		{key: "consents", path: "/v1/me/consents", handler: s.myConsents},
		{key: "data_changes", path: "/v1/me/data-changes", handler: s.myDataChanges},
		{key: "deregistration_requests", path: "/v1/me/deregistration", handler: s.myDeregistrations},
	} {
		if part.items == "" {
			body, err := s.exportCall(c, part.path, nil, part.handler)
			if err != nil {
				return err
			}
			doc[part.key] = body
			continue
		}
		all := []json.RawMessage{}
		q := url.Values{"limit": {"200"}}
		for {
			body, err := s.exportCall(c, part.path, q, part.handler)
			if err != nil {
				return err
			}
			var page []json.RawMessage
			if raw, ok := body[part.items]; ok {
				if err := json.Unmarshal(raw, &page); err != nil {
					return err
				}
			}
			all = append(all, page...)
			var next string
			if raw, ok := body[part.next]; !ok || json.Unmarshal(raw, &next) != nil || next == "" || len(page) == 0 {
				break
			}
			q.Set(part.cursor, next)
		}
		doc[part.key] = all
	}
	return c.JSON(http.StatusOK, doc)
}

// exportCall runs a user endpoint's handler for the caller, as a GET of
// path with query, and returns its JSON answer's members.
func (s *server) exportCall(c echo.Context, path string, query url.Values, h echo.HandlerFunc) (map[string]json.RawMessage, error) {
	req := c.Request().Clone(c.Request().Context())
	req.Method, req.Body, req.ContentLength = http.MethodGet, http.NoBody, 0
	req.URL = &url.URL{Path: path, RawQuery: query.Encode()}
	w := httptest.NewRecorder() // an in-process call: its answer is read here, not sent
	sub := c.Echo().NewContext(req, w)
	sub.Set(principalKey, caller(c))
	if err := h(sub); err != nil {
		return nil, err
	}
	if w.Code != http.StatusOK {
		return nil, fmt.Errorf("export: %s answered %d", path, w.Code)
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("export: %s: %w", path, err)
	}
	return out, nil
}
