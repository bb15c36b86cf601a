package api

import (
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
)

// staffNotices lists the notices to the caller's roles, newest first
// (GET /v1/staff/notices): the reminders and escalations of the service
// levels and the submissions that wait for staff. Each names the record it
// is about, read from its operation key, so that a page can link to it.
func (s *server) staffNotices(c echo.Context) error {
	p := caller(c)
	roles := []string(p.Roles)
	if r := c.QueryParam("role"); r != "" {
		if !slices.Contains(roles, r) {
			return errValidation(validate.FieldError{Field: "role", Code: "not_your_role",
				MessageZH: "您没有该角色", MessageEN: "you do not hold this role"})
		}
		roles = []string{r}
	}
	limit, before, err := noticePaging(c)
	if err != nil {
		return err
	}
	type notice struct {
		store.StaffNotice
		RecordKind string `json:"record_kind,omitempty"`
		RecordID   string `json:"record_id,omitempty"`
	}
	found, err := store.StaffInbox(c.Request().Context(), s.DB, roles, before, limit)
	if err != nil {
		return err
	}
	rows := make([]notice, len(found))
	for i := range found {
		rows[i].StaffNotice = found[i]
		rows[i].RecordKind, rows[i].RecordID = noticeRecord(rows[i].Key)
	}
	return noticePage(c, rows, limit, func(i int) time.Time { return rows[i].CreatedAt })
}

// noticeRecord reads the record a staff notice is about from its operation
// key ("<kind>/<id>/…", as the activities write them).
func noticeRecord(key string) (string, string) {
	kind, rest, ok := strings.Cut(key, "/")
	if !ok {
		return "", ""
	}
	id, _, _ := strings.Cut(rest, "/")
	switch kind {
	case "registration":
		return "application", id
	case "case", "sanction", "data_change":
		return kind, id
	}
	return "", ""
}
