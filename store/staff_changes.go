package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Staff change requests (tables staff_change_requests and
// staff_credential_pickups, issue 15): the API stores a request and takes
// its first password from the single pickup; the staff-change workflow
// (activities/staff_change.go) decides and applies it.

// StaffChange is a request with the username of the member it changes.
type StaffChange struct {
	ID          string          `db:"id"`
	Kind        string          `db:"kind"`
	TargetID    string          `db:"target_id"`
	RequestedBy string          `db:"requested_by"`
	SoleAdmin   bool            `db:"sole_admin"`
	Status      string          `db:"status"`
	Code        string          `db:"outcome_code"`
	DecidedBy   *string         `db:"decided_by"`
	CreatedAt   time.Time       `db:"created_at"`
	ExpiresAt   time.Time       `db:"expires_at"`
	DecidedAt   *time.Time      `db:"decided_at"`
	Detail      json.RawMessage `db:"detail"`
	// TargetUsername is empty for a creation not yet applied.
	TargetUsername string `db:"target_username"`
}

const staffChangeColumns = `r.id, r.kind, r.target_id, r.requested_by, r.sole_admin, r.status, r.outcome_code, r.decided_by,
	r.created_at, r.expires_at, r.decided_at, r.detail, coalesce(st.username, '') AS target_username`

const staffChangeFrom = ` FROM staff_change_requests r LEFT JOIN staff st ON st.id = r.target_id`

// StaffChangeByID reads one request; ErrNotFound when there is none.
func StaffChangeByID(ctx context.Context, q Q, id string) (StaffChange, error) {
	var v StaffChange
	err := getOne(ctx, q, &v, `SELECT `+staffChangeColumns+staffChangeFrom+` WHERE r.id = $1`, id)
	return v, err
}

// ListStaffChanges lists up to 200 requests, newest first, of one status
// ("" for all).
func ListStaffChanges(ctx context.Context, q Q, status string) ([]StaffChange, error) {
	rows := []StaffChange{}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+staffChangeColumns+staffChangeFrom+`
		WHERE ($1 = '' OR r.status = $1) ORDER BY r.created_at DESC, r.id LIMIT 200`, status)
	return rows, err
}

// LockSoleAdministratorCheck takes the transaction-scoped lock under which
// one request at a time decides whether its requester is the sole
// administrator.
func LockSoleAdministratorCheck(ctx context.Context, q Q) error {
	_, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('staff-change:sole-admin', 0))`)
	return err
}

// SoleAdminChangeInProgress tells whether a sole administrator's request of
// the last five minutes is still pending (taking effect).
func SoleAdminChangeInProgress(ctx context.Context, q Q) (bool, error) {
	var busy bool
	err := getOne(ctx, q, &busy, `SELECT EXISTS (SELECT 1 FROM staff_change_requests WHERE sole_admin AND status = 'pending'
				AND created_at > now() - interval '5 minutes')`)
	return busy, err
}

// NewStaffChange is a request to store.
type NewStaffChange struct {
	ID             string
	Kind           string
	TargetID       string
	RequestedBy    string
	SoleAdmin      bool
	Detail         []byte // JSON
	ExpiresAt      time.Time
	RequesterRoles []string
	SourceIP       string
	RequestID      string
}

// AddStaffChange stores a pending request.
func AddStaffChange(ctx context.Context, q Q, r NewStaffChange) error {
	_, err := q.ExecContext(ctx, `INSERT INTO staff_change_requests (id, kind, target_id, requested_by, sole_admin, detail, expires_at,
			requester_roles, source_ip, request_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, r.ID, r.Kind, r.TargetID, r.RequestedBy, r.SoleAdmin, r.Detail, r.ExpiresAt,
		pq.Array(r.RequesterRoles), r.SourceIP, r.RequestID)
	return err
}

// FailUnstartedStaffChange marks a pending request whose workflow was
// refused as failed (not_started).
func FailUnstartedStaffChange(ctx context.Context, q Q, id string) error {
	_, err := q.ExecContext(ctx, `UPDATE staff_change_requests SET status = 'failed', outcome_code = 'not_started'
			WHERE id = $1 AND status = 'pending'`, id)
	return err
}

// StaffChangePickup is the sealed first password of an applied change.
type StaffChangePickup struct {
	StaffID    string       `db:"staff_id"`
	IssuedTo   string       `db:"issued_to"`
	Ciphertext []byte       `db:"ciphertext"`
	ExpiresAt  time.Time    `db:"expires_at"`
	PickedUpAt sql.NullTime `db:"picked_up_at"`
}

// StaffPickupForUpdate reads a pickup by its operation key and locks it
// until the transaction ends; ErrNotFound when there is none.
func StaffPickupForUpdate(ctx context.Context, q Q, key string) (StaffChangePickup, error) {
	var row StaffChangePickup
	err := getOne(ctx, q, &row, `SELECT staff_id, issued_to, ciphertext, expires_at, picked_up_at
			FROM staff_credential_pickups WHERE operation_key = $1 FOR UPDATE`, key)
	return row, err
}

// DestroyStaffPickup destroys the sealed copy and notes the pickup.
func DestroyStaffPickup(ctx context.Context, q Q, key string) error {
	_, err := q.ExecContext(ctx, `UPDATE staff_credential_pickups SET ciphertext = NULL, picked_up_at = now() WHERE operation_key = $1`,
		key)
	return err
}
