package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"
)

// The service catalogue: services (created and renamed by the API,
// changed by the service-change workflow) and service_changes (filed by
// the API, carried out by the workflow). service_pauses is written by the
// announcement workflow and only read here.

// ServiceExists tells whether a service with this code exists, retired or
// not.
func ServiceExists(ctx context.Context, q Q, code string) (bool, error) {
	var known bool
	err := getOne(ctx, q, &known, `SELECT EXISTS (SELECT 1 FROM services WHERE code = $1)`, code)
	return known, err
}

// Service is a service with the interruption in effect, if any.
type Service struct {
	Code      string         `db:"code"`
	NameZH    string         `db:"name_zh"`
	NameEN    string         `db:"name_en"`
	Rules     []byte         `db:"rules"`
	Active    bool           `db:"active"`
	RetiredAt sql.NullTime   `db:"retired_at"`
	PauseID   sql.NullString `db:"pause_id"`
	PauseFrom sql.NullTime   `db:"pause_from"`
	PauseTo   sql.NullTime   `db:"pause_to"`
}

// serviceSelect reads services with the interruption in effect, if any
// (service_pauses is written by the announcement workflow at the window's
// start and end).
const serviceSelect = `SELECT s.code, s.name_zh, s.name_en, s.rules, s.active, s.retired_at,
	p.announcement_id::text AS pause_id, p.starts_at AS pause_from, p.ends_at AS pause_to
	FROM services s LEFT JOIN LATERAL (SELECT announcement_id, starts_at, ends_at FROM service_pauses
		WHERE service_code = s.code AND status = 'in_effect' ORDER BY ends_at DESC LIMIT 1) p ON true`

// ActiveServices lists the services on offer by code.
func ActiveServices(ctx context.Context, q Q) ([]Service, error) {
	var rows []Service
	err := sqlx.SelectContext(ctx, q, &rows, serviceSelect+` WHERE s.active ORDER BY s.code`)
	return rows, err
}

// AllServices lists every service, those on offer first.
func AllServices(ctx context.Context, q Q) ([]Service, error) {
	var rows []Service
	err := sqlx.SelectContext(ctx, q, &rows, serviceSelect+` ORDER BY s.active DESC, s.code`)
	return rows, err
}

// ServiceByCode reads one service, retired or not.
func ServiceByCode(ctx context.Context, q Q, code string) (Service, error) {
	var r Service
	err := getOne(ctx, q, &r, serviceSelect+` WHERE s.code = $1`, code)
	return r, err
}

// ServiceChange is a change of a service as staff see it.
type ServiceChange struct {
	ID             string          `db:"id" json:"id"`
	ServiceCode    string          `db:"service_code" json:"service_code"`
	Kind           string          `db:"kind" json:"kind"`
	Rules          json.RawMessage `db:"rules" json:"rules"`
	NoteZH         string          `db:"note_zh" json:"note_zh"`
	NoteEN         string          `db:"note_en" json:"note_en"`
	CreatedBy      string          `db:"created_by" json:"created_by"`
	CreatedAt      time.Time       `db:"created_at" json:"created_at"`
	AppliedAt      *time.Time      `db:"applied_at" json:"applied_at"`
	UsersTargeted  int64           `db:"users_targeted" json:"users_targeted"`
	NoticesWritten int64           `db:"notices_written" json:"notices_written"`
	MessagesQueued int64           `db:"messages_queued" json:"messages_queued"`
	ServicesClosed int64           `db:"services_closed" json:"services_closed"`
	Status         string          `db:"status" json:"status"`
	CompletedAt    *time.Time      `db:"completed_at" json:"completed_at"`
	WorkflowID     string          `db:"-" json:"workflow_id"`
}

// RecentServiceChanges lists the latest 200 changes, newest first.
func RecentServiceChanges(ctx context.Context, q Q) ([]ServiceChange, error) {
	changes := []ServiceChange{}
	err := sqlx.SelectContext(ctx, q, &changes, `SELECT id, service_code, kind, coalesce(rules, 'null'::jsonb) AS rules, note_zh, note_en, created_by, created_at,
		applied_at, users_targeted, notices_written, messages_queued, services_closed, status, completed_at
		FROM service_changes ORDER BY created_at DESC, id LIMIT 200`)
	return changes, err
}

// NewService is a service as created.
type NewService struct {
	Code   string
	NameZH string
	NameEN string
	MinAge *int
	MaxAge *int
	Rules  []byte
}

// CreateService stores a new service; false when the code is taken.
func CreateService(ctx context.Context, q Q, s NewService) (bool, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO services (code, name_zh, name_en, min_age, max_age, rules)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO NOTHING`,
		s.Code, s.NameZH, s.NameEN, s.MinAge, s.MaxAge, s.Rules)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n != 0, nil
}

// LockService locks a service and reports whether it is on offer.
func LockService(ctx context.Context, q Q, code string) (active bool, err error) {
	err = getOne(ctx, q, &active, `SELECT active FROM services WHERE code = $1 FOR UPDATE`, code)
	return active, err
}

// RenameService sets a service's names ("" keeps a name).
func RenameService(ctx context.Context, q Q, code, nameZH, nameEN string) error {
	_, err := q.ExecContext(ctx, `UPDATE services SET name_zh = coalesce(nullif($2, ''), name_zh),
			name_en = coalesce(nullif($3, ''), name_en), updated_at = now() WHERE code = $1`, code, nameZH, nameEN)
	return err
}

// NewServiceChange is a change of a service as filed.
type NewServiceChange struct {
	ID          string
	ServiceCode string
	Kind        string
	Rules       []byte // nil: none (a retirement)
	NoteZH      string
	NoteEN      string
	CreatedBy   string
}

// OneOpenServiceChange is the unique index that allows one unfinished
// change per service.
const OneOpenServiceChange = "service_changes_one_open"

// FileServiceChange stores a change for the service-change workflow; a
// change still in progress violates OneOpenServiceChange.
func FileServiceChange(ctx context.Context, q Q, ch NewServiceChange) error {
	var rules any
	if ch.Rules != nil {
		rules = ch.Rules
	}
	_, err := q.ExecContext(ctx, `INSERT INTO service_changes (id, service_code, kind, rules, note_zh, note_en, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, ch.ID, ch.ServiceCode, ch.Kind, rules, ch.NoteZH, ch.NoteEN, ch.CreatedBy)
	return err
}

// DiscardServiceChange removes a change that no workflow took up.
func DiscardServiceChange(ctx context.Context, q Q, id string) error {
	_, err := q.ExecContext(ctx, `DELETE FROM service_changes WHERE id = $1 AND applied_at IS NULL`, id)
	return err
}
