package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/store"
)

// ---- the user's inbox (C2.7, C3.5) ----

func (s *server) myNotices(c echo.Context) error {
	limit, before, err := noticePaging(c)
	if err != nil {
		return err
	}
	rows, err := store.AccountInbox(c.Request().Context(), s.DB, caller(c).AccountID, before, limit)
	if err != nil {
		return err
	}
	return noticePage(c, rows, limit, func(i int) time.Time { return rows[i].CreatedAt })
}

// noticeItem is a notice as an inbox shows it.
type noticeItem = store.InboxNotice

// noticePage answers a page of notices, newest first, with the cursor of
// the next page when this one is full.
func noticePage[T any](c echo.Context, rows []T, limit int, createdAt func(int) time.Time) error {
	out := map[string]any{"notices": rows}
	if len(rows) == limit {
		out["next_before"] = createdAt(len(rows) - 1).UTC().Format(time.RFC3339Nano)
	}
	return c.JSON(http.StatusOK, out)
}

// noticePaging reads an inbox page's limit (default 50) and its "before"
// cursor (the time of the last notice shown; nil for the first page).
func noticePaging(c echo.Context) (int, any, error) {
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	if v := c.QueryParam("before"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return 0, nil, errValidation(fieldError("before", "malformed", "时间格式不正确", "before must be an RFC 3339 time"))
		}
		return limit, t, nil
	}
	return limit, nil, nil
}
