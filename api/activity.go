package api

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/lib/pq"

	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
)

type activityEntry struct {
	Source    string          `db:"source" json:"source"` // audit | sign_in
	ID        int64           `db:"id" json:"-"`
	At        time.Time       `db:"at" json:"at"`
	Action    string          `db:"action" json:"action"`
	ActorKind string          `db:"actor_kind" json:"actor_kind"`
	ActorID   string          `db:"actor_id" json:"actor_id,omitempty"`
	SourceIP  string          `db:"source_ip" json:"source_ip,omitempty"`
	Detail    json.RawMessage `db:"detail" json:"detail"`
}

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
	var appID sql.NullString
	if err := s.DB.GetContext(c.Request().Context(), &appID, `SELECT application_id::text FROM accounts WHERE id = $1`, accountID); err != nil {
		return nil, "", err
	}
	hidden := []string{}
	if forUser {
		hidden = userHiddenActions
	}
	entries := []activityEntry{}
	if err := s.DB.SelectContext(c.Request().Context(), &entries, `
		SELECT source, id, at, action, actor_kind, actor_id, source_ip, detail FROM (
			SELECT 'audit' AS source, id, at, action, actor_kind, actor_id, source_ip, detail
			FROM audit_log
			WHERE ((record_kind = 'account' AND record_id = $1::text) OR (record_kind = 'application' AND record_id = $2))
			  AND NOT action = ANY($7)
			UNION ALL
			SELECT 'sign_in', id, at, 'sign_in.' || outcome, 'sign_in', '', source_ip, '{}'::jsonb
			FROM sign_in_attempts WHERE account_id = $1::uuid
		) r
		WHERE (at, source, id) < ($3, $4, $5)
		ORDER BY at DESC, source DESC, id DESC
		LIMIT $6`, accountID, appID.String, at, source, id, limit, pq.Array(hidden)); err != nil {
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
	var acct struct {
		Status     string       `db:"status" json:"status"`
		MustChange bool         `db:"must_change_password" json:"must_change_password"`
		ChangedAt  time.Time    `db:"password_changed_at" json:"password_changed_at"`
		LockedAt   sql.NullTime `db:"compromise_locked_at" json:"-"`
	}
	err := getOne(ctx, s.DB, &acct, `SELECT status, must_change_password, password_changed_at, compromise_locked_at FROM accounts WHERE id = $1`, accountID)
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
