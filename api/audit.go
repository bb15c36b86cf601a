package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/csvsafe"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
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

type auditRow = store.AuditRecord

// auditFilter reads the filter from the query parameters, with the ones
// used (for the audit entry of the search). action may end in '*' to match
// a prefix (account.*).
func auditFilter(c echo.Context) (store.AuditFilter, map[string]string, error) {
	var f store.AuditFilter
	used := map[string]string{}
	for _, col := range []struct {
		name string
		dst  *string
	}{{"actor_kind", &f.ActorKind}, {"actor_id", &f.ActorID}, {"record_kind", &f.RecordKind}, {"record_id", &f.RecordID},
		{"request_id", &f.RequestID}, {"action", &f.Action}} {
		v := c.QueryParam(col.name)
		if v == "" {
			continue
		}
		used[col.name] = v
		if col.name == "action" && strings.HasSuffix(v, "*") {
			v, f.ActionPrefix = strings.TrimSuffix(v, "*"), true
		}
		*col.dst = v
	}
	var details []validate.FieldError
	for _, b := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
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
		*b.dst = t
	}
	if len(details) > 0 {
		return f, nil, errValidation(details...)
	}
	return f, used, nil
}

func (s *server) searchAudit(c echo.Context) error {
	if err := authorize(c, authz.AuditRead); err != nil {
		return err
	}
	filter, used, err := auditFilter(c)
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
	ctx := c.Request().Context()
	rows, err := store.SearchAuditLog(ctx, s.DB, filter, after, limit)
	if err != nil {
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
	filter, used, err := auditFilter(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	total, err := store.CountAuditLog(ctx, s.DB, filter)
	if err != nil {
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
	rows, err := store.AuditLogRows(ctx, s.DB, filter, maxAuditExport)
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
