package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/lib/pq"

	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/csvsafe"
	"hrss-backoffice/internal/validate"
)

// The audit register, for auditors only.
//
//	GET /v1/audit         filters and paging (after = last id seen)
//	GET /v1/audit/export  the same filters, every matching row as CSV
//
// Both searches are staff actions and are themselves logged.
func (s *server) auditRoutes(g *echo.Group) {
	g.GET("/audit", s.searchAudit, s.allow(authz.Console))
	g.GET("/audit/export", s.exportAudit, s.allow(authz.Console), s.requireReauth)
}

// maxAuditExport caps one export; narrow the filters for more.
const maxAuditExport = 100_000

type auditRow struct {
	ID         int64           `db:"id" json:"id"`
	At         time.Time       `db:"at" json:"at"`
	ActorKind  string          `db:"actor_kind" json:"actor_kind"`
	ActorID    string          `db:"actor_id" json:"actor_id"`
	ActorRoles pq.StringArray  `db:"actor_roles" json:"actor_roles"`
	Action     string          `db:"action" json:"action"`
	RecordKind string          `db:"record_kind" json:"record_kind"`
	RecordID   string          `db:"record_id" json:"record_id"`
	Detail     json.RawMessage `db:"detail" json:"detail"`
	SourceIP   string          `db:"source_ip" json:"source_ip"`
	RequestID  string          `db:"request_id" json:"request_id"`
}

// auditFilter turns the query parameters into a WHERE clause. action may
// end in '*' to match a prefix (account.*).
func auditFilter(c echo.Context) (string, []any, map[string]string, error) {
	var conds []string
	var args []any
	used := map[string]string{}
	for _, col := range []string{"actor_kind", "actor_id", "record_kind", "record_id", "request_id", "action"} {
		v := c.QueryParam(col)
		if v == "" {
			continue
		}
		used[col] = v
		if col == "action" && strings.HasSuffix(v, "*") {
			args = append(args, strings.TrimSuffix(v, "*"))
			conds = append(conds, fmt.Sprintf("starts_with(action, $%d)", len(args)))
			continue
		}
		args = append(args, v)
		conds = append(conds, fmt.Sprintf("%s = $%d", col, len(args)))
	}
	var details []validate.FieldError
	for _, b := range []struct{ name, op string }{{"from", ">="}, {"to", "<"}} {
		v := c.QueryParam(b.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			details = append(details, validate.FieldError{Field: b.name, Code: "date_time", MessageZH: "时间格式应为 RFC 3339",
				MessageEN: "want an RFC 3339 time such as 2026-01-02T15:04:05Z"})
			continue
		}
		used[b.name] = v
		args = append(args, t)
		conds = append(conds, fmt.Sprintf("at %s $%d", b.op, len(args)))
	}
	if len(details) > 0 {
		return "", nil, nil, errValidation(details...)
	}
	if len(conds) == 0 {
		return "true", args, used, nil
	}
	return strings.Join(conds, " AND "), args, used, nil
}

func (s *server) searchAudit(c echo.Context) error {
	if err := authorize(c, authz.AuditRead); err != nil {
		return err
	}
	where, args, used, err := auditFilter(c)
	if err != nil {
		return err
	}
	limit := 100
	if v := c.QueryParam("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	var after int64
	if v := c.QueryParam("after"); v != "" {
		after, _ = strconv.ParseInt(v, 10, 64)
	}
	args = append(args, after, limit)
	rows := []auditRow{}
	ctx := c.Request().Context()
	if err := s.DB.SelectContext(ctx, &rows, fmt.Sprintf(`SELECT id, at, actor_kind, actor_id, actor_roles, action, record_kind, record_id,
		detail, source_ip, request_id FROM audit_log WHERE %s AND id > $%d ORDER BY id LIMIT $%d`, where, len(args)-1, len(args)), args...); err != nil {
		return err
	}
	if err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		return audit(ctx, tx, c, "audit.searched", "audit_log", "", map[string]any{"filters": used, "after": after, "rows": len(rows)})
	}); err != nil {
		return err
	}
	out := map[string]any{"items": rows}
	if len(rows) == limit {
		out["next_cursor"] = strconv.FormatInt(rows[len(rows)-1].ID, 10)
	}
	return c.JSON(http.StatusOK, out)
}

// exportAudit streams every matching row as CSV, oldest first. The export
// is logged before the first row leaves.
func (s *server) exportAudit(c echo.Context) error {
	if err := authorize(c, authz.AuditRead); err != nil {
		return err
	}
	where, args, used, err := auditFilter(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var total int
	if err := s.DB.GetContext(ctx, &total, `SELECT count(*) FROM audit_log WHERE `+where, args...); err != nil {
		return err
	}
	if total > maxAuditExport {
		return newError(http.StatusUnprocessableEntity, "export_too_large", "导出的记录过多，请缩小筛选范围",
			fmt.Sprintf("%d rows match; narrow the filters to at most %d", total, maxAuditExport))
	}
	if err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		return audit(ctx, tx, c, "audit.exported", "audit_log", "", map[string]any{"filters": used, "rows": total})
	}); err != nil {
		return err
	}
	rows, err := s.DB.QueryxContext(ctx, `SELECT id, at, actor_kind, actor_id, actor_roles, action, record_kind, record_id,
		detail, source_ip, request_id FROM audit_log WHERE `+where+` ORDER BY id LIMIT `+strconv.Itoa(maxAuditExport), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set("Content-Disposition", `attachment; filename="audit-log.csv"`)
	res.WriteHeader(http.StatusOK)
	// Cells an outsider controls (request ID, source address, record IDs)
	// are neutralised against spreadsheet formulas (internal/csvsafe).
	w := csvsafe.NewWriter(res)
	_ = w.Write([]string{"id", "at", "actor_kind", "actor_id", "actor_roles", "action", "record_kind", "record_id", "detail", "source_ip", "request_id"})
	for rows.Next() {
		var r auditRow
		if err := rows.StructScan(&r); err != nil {
			return err
		}
		_ = w.Write([]string{strconv.FormatInt(r.ID, 10), r.At.UTC().Format(time.RFC3339Nano), r.ActorKind, r.ActorID,
			strings.Join(r.ActorRoles, " "), r.Action, r.RecordKind, r.RecordID, string(r.Detail), r.SourceIP, r.RequestID})
	}
	w.Flush()
	return rows.Err()
}
