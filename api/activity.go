package api

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
)

type activityEntry = store.ActivityEntry

// activity cursor: base64 of "at|source|id" of the last entry of a page.
func encodeActivityCursor(e activityEntry) string {
	return base64.RawURLEncoding.EncodeToString([]byte(e.At.UTC().Format(time.RFC3339Nano) + "|" + e.Source + "|" + strconv.FormatInt(e.ID, 10)))
}

func decodeActivityCursor(s string) (time.Time, string, int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", 0, false
	}
	parts := strings.Split(string(b), "|")
	if len(parts) != 3 || (parts[1] != "audit" && parts[1] != "sign_in") {
		return time.Time{}, "", 0, false
	}
	t, err1 := time.Parse(time.RFC3339Nano, parts[0])
	id, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return time.Time{}, "", 0, false
	}
	return t, parts[1], id, true
}

// activityPage reads one page of an account's activity record, newest
// first (C3.3(4)): every sign-in attempt against the account (time,
// address, outcome) and every audit entry about the account or its
// registration application: password changes and resets, data changes,
// reports, locks, requests and decisions.
// The user's own reading (forUser) leaves out userHiddenActions.
func (s *server) activityPage(c echo.Context, accountID string, forUser bool) ([]activityEntry, string, error) {
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	at, source, id := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), "~", int64(0)
	if v := c.QueryParam("after"); v != "" {
		var ok bool
		if at, source, id, ok = decodeActivityCursor(v); !ok {
			return nil, "", errValidation(validate.FieldError{Field: "after", Code: "invalid_cursor", MessageZH: "分页游标无效", MessageEN: "invalid cursor"})
		}
	}
	appID, err := store.AccountApplicationID(c.Request().Context(), s.DB, accountID)
	if err != nil {
		return nil, "", err
	}
	hidden := []string{}
	if forUser {
		hidden = userHiddenActions
	}
	entries, err := store.AccountActivity(c.Request().Context(), s.DB, store.ActivityQuery{AccountID: accountID,
		ApplicationID: appID.String, At: at, Source: source, ID: id, Limit: limit, HiddenActions: hidden})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(entries) == limit {
		next = encodeActivityCursor(entries[len(entries)-1])
	}
	return entries, next, nil
}

// myActivity: the signed-in user's own record. Staff appear as a role, not
// by identity.
func (s *server) myActivity(c echo.Context) error {
	p := caller(c)
	if !may(c, authz.UserArea) {
		return errUsersOnly()
	}
	entries, next, err := s.activityPage(c, p.AccountID, true)
	if err != nil {
		return err
	}
	for i := range entries {
		entries[i] = userActivity(entries[i], p.AccountID)
	}
	return activityAnswer(c, entries, next)
}

// accountActivity: staff read the same record for an account; the reading
// itself is recorded.
func (s *server) accountActivity(c echo.Context) error {
	if !may(c, authz.AccountActivityRead) {
		return errForbidden("your role may not read account activity", "您的角色无权查看账户活动记录")
	}
	accountID := c.Param("id")
	ctx := c.Request().Context()
	acct, err := store.AccountPasswordStateByID(ctx, s.DB, accountID)
	if err != nil {
		return err
	}
	entries, next, err := s.activityPage(c, accountID, false)
	if err != nil {
		return err
	}
	if err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		return audit(ctx, tx, c, "account.activity_viewed", "account", accountID, nil)
	}); err != nil {
		return err
	}
	out := map[string]any{"items": entries, "account": map[string]any{"id": accountID, "status": acct.Status,
		"must_change_password": acct.MustChange, "password_changed_at": acct.ChangedAt,
		"compromise_locked_at": nullable(acct.LockedAt.Time, acct.LockedAt.Valid)}}
	if next != "" {
		out["next_cursor"] = next
	}
	return c.JSON(http.StatusOK, out)
}

func activityAnswer(c echo.Context, entries []activityEntry, next string) error {
	out := map[string]any{"items": entries}
	if next != "" {
		out["next_cursor"] = next
	}
	return c.JSON(http.StatusOK, out)
}
