package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Announcements (C2.7): the API stores one, the announcement workflow
// publishes it and tells the users.

// KnownServiceCodes answers those of codes that name a service.
func KnownServiceCodes(ctx context.Context, q Q, codes []string) ([]string, error) {
	var known []string
	err := sqlx.SelectContext(ctx, q, &known, `SELECT code FROM services WHERE code = ANY($1)`, pq.Array(codes))
	return known, err
}

// NewAnnouncement is an announcement as an administrator writes it.
type NewAnnouncement struct {
	ID, Kind                         string
	TitleZH, TitleEN, BodyZH, BodyEN string
	Services                         []string
	StartsAt, EndsAt                 time.Time
	CreatedBy                        string
}

// StoreAnnouncement stores an announcement before its workflow publishes it.
func StoreAnnouncement(ctx context.Context, q Q, a NewAnnouncement) error {
	_, err := q.ExecContext(ctx, `INSERT INTO announcements (id, kind, title_zh, title_en, body_zh, body_en, services, starts_at, ends_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, a.ID, a.Kind, a.TitleZH, a.TitleEN,
		a.BodyZH, a.BodyEN, pq.Array(a.Services), a.StartsAt, a.EndsAt, a.CreatedBy)
	return err
}

// TakeBackAnnouncement removes an announcement no workflow published.
func TakeBackAnnouncement(ctx context.Context, q Q, id string) error {
	_, err := q.ExecContext(ctx, `DELETE FROM announcements WHERE id = $1 AND published_at IS NULL`, id)
	return err
}

// Announcement is a published announcement.
type Announcement struct {
	ID          string         `db:"id" json:"id"`
	Kind        string         `db:"kind" json:"kind"`
	TitleZH     string         `db:"title_zh" json:"title_zh"`
	TitleEN     string         `db:"title_en" json:"title_en"`
	BodyZH      string         `db:"body_zh" json:"body_zh"`
	BodyEN      string         `db:"body_en" json:"body_en"`
	Services    pq.StringArray `db:"services" json:"services"`
	StartsAt    time.Time      `db:"starts_at" json:"starts_at"`
	EndsAt      time.Time      `db:"ends_at" json:"ends_at"`
	PublishedAt time.Time      `db:"published_at" json:"published_at"`
}

// CurrentAnnouncements lists the published announcements whose window has
// not ended, by start.
func CurrentAnnouncements(ctx context.Context, q Q) ([]Announcement, error) {
	rows := []Announcement{}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT id, kind, title_zh, title_en, body_zh, body_en, services, starts_at, ends_at, published_at
		FROM announcements WHERE published_at IS NOT NULL AND ends_at > now() ORDER BY starts_at, id`)
	return rows, err
}
