package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Written requests to deregister or cancel services
// (deregistration_requests): filed by the API (api/deregistration.go,
// and the rejection of revised terms), carried out by the deregistration
// and service-cancellation workflows.

// NewDeregistration is a written request as filed.
type NewDeregistration struct {
	ID            string
	AccountID     string
	Scope         string
	Services      []string
	Document      string
	ContentSHA256 string
	SubmittedAt   time.Time
	SourceIP      string
	RequestID     string
}

// FileDeregistration stores a written request as received; an open
// request of the account is a unique violation.
func FileDeregistration(ctx context.Context, q Q, d NewDeregistration) error {
	_, err := q.ExecContext(ctx, `INSERT INTO deregistration_requests (id, account_id, scope, services, document, content_sha256,
		submitted_at, source_ip, request_id, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'received')`,
		d.ID, d.AccountID, d.Scope, pq.Array(d.Services), d.Document, d.ContentSHA256, d.SubmittedAt, d.SourceIP, d.RequestID)
	return err
}

// Deregistration is a written request as its user sees it.
type Deregistration struct {
	ID              string         `db:"id" json:"id"`
	Scope           string         `db:"scope" json:"scope"`
	Services        pq.StringArray `db:"services" json:"services"`
	Status          string         `db:"status" json:"status"`
	Document        string         `db:"document" json:"document"`
	ContentSHA256   string         `db:"content_sha256" json:"content_sha256"`
	SubmittedAt     time.Time      `db:"submitted_at" json:"received_at"`
	CoolingOffUntil *time.Time     `db:"cooling_off_until" json:"cooling_off_until"`
	BlockedSince    *time.Time     `db:"blocked_since" json:"blocked_since"`
	WithdrawnAt     *time.Time     `db:"withdrawn_at" json:"withdrawn_at"`
	CompletedAt     *time.Time     `db:"completed_at" json:"completed_at"`
}

const deregistrationColumns = `id, scope, services, status, document, content_sha256, submitted_at,
	cooling_off_until, blocked_since, withdrawn_at, completed_at`

// DeregistrationOf reads an account's request (ErrNotFound: none with this
// ID for the account).
func DeregistrationOf(ctx context.Context, q Q, id, accountID string) (Deregistration, error) {
	var row Deregistration
	err := getOne(ctx, q, &row, `SELECT `+deregistrationColumns+`
		FROM deregistration_requests WHERE id = $1 AND account_id = $2`, id, accountID)
	return row, err
}

// DeregistrationsOf lists an account's requests, newest first.
func DeregistrationsOf(ctx context.Context, q Q, accountID string) ([]Deregistration, error) {
	rows := []Deregistration{}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+deregistrationColumns+`
		FROM deregistration_requests WHERE account_id = $1 ORDER BY submitted_at DESC, id`, accountID)
	return rows, err
}
