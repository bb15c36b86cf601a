package store

import (
	"context"
	"time"
)

// TermsText is a version of the terms as published.
type TermsText struct {
	Version     string    `db:"version"`
	Title       string    `db:"title"`
	Body        string    `db:"body"`
	Summary     string    `db:"summary"`
	EffectiveAt time.Time `db:"effective_at"`
}

// CurrentTerms reads the published version in effect now (the latest to
// take effect).
func CurrentTerms(ctx context.Context, q Q) (TermsText, error) {
	var t TermsText
	err := getOne(ctx, q, &t, `SELECT version, title, body, summary, effective_at FROM terms_versions
		WHERE published_at IS NOT NULL AND effective_at <= now() ORDER BY effective_at DESC, version DESC LIMIT 1`)
	return t, err
}
