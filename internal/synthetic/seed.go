package synthetic

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// SeedOptions shape bulk-seeded users.
type SeedOptions struct {
	// TermsVersion of the agreements (default 2026-01).
	TermsVersion string
	// EmailEvery gives every n-th user an e-mail address (0: none).
	EmailEvery int
	// Services are opened for every ServicesEvery-th user (0: none).
	Services      []string
	ServicesEvery int
	// Prefix keeps the synthetic ID numbers of several seedings apart.
	Prefix string
}

// SeedUsers writes n users with agreements in force directly with
// set-based SQL (an approved application, a person, an account, an
// agreement and its acceptance each), for campaign tests and the
// benchmark. They cannot sign in (their password hash is not a hash), and
// their ID numbers ("S…") are not real ones. It returns nothing; count the
// agreements to see them.
func SeedUsers(ctx context.Context, db *sqlx.DB, n int, o SeedOptions) error {
	if o.TermsVersion == "" {
		o.TermsVersion = "2026-01"
	}
	if o.Prefix == "" {
		o.Prefix = "S"
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	steps := []struct {
		q    string
		args []any
	}{
		{`CREATE TEMP TABLE seed ON COMMIT DROP AS
			SELECT i, gen_random_uuid() AS app, gen_random_uuid() AS person, gen_random_uuid() AS account,
			       $2 || lpad(i::text, 17 - length($2) + 1, '0') AS id_number
			FROM generate_series(1, $1::int) AS i`, []any{n, o.Prefix}},
		{`INSERT INTO applications (id, status, name, id_number, birth_date, mobile, email, address, channel, services,
			terms_version, agreed_at, follow_token_hash, submitted_at, closed_at)
		  SELECT app, 'approved', '测试用户', id_number, date '1980-01-01' + (i % 9000), '139' || lpad((i % 100000000)::text, 8, '0'),
			CASE WHEN $1 > 0 AND i % $1 = 0 THEN 'user' || i || '@example.cn' END, '上海市黄浦区人民大道' || i || '号', 'online', '{}',
			$2, now() - interval '30 days', '\x00'::bytea, now() - interval '30 days', now() - interval '30 days'
		  FROM seed`, []any{o.EmailEvery, o.TermsVersion}},
		{`INSERT INTO people (id, id_number, name, birth_date, mobile, email, address)
		  SELECT person, id_number, '测试用户', date '1980-01-01' + (i % 9000), '139' || lpad((i % 100000000)::text, 8, '0'),
			CASE WHEN $1 > 0 AND i % $1 = 0 THEN 'user' || i || '@example.cn' END, '上海市黄浦区人民大道' || i || '号'
		  FROM seed`, []any{o.EmailEvery}},
		{`INSERT INTO accounts (id, person_id, application_id, username, password_hash, must_change_password, opened_at)
		  SELECT account, person, app, id_number, 'seeded-no-sign-in', false, now() - interval '30 days' FROM seed`, nil},
		{`INSERT INTO agreements (account_id, terms_version, channel, accepted_at, effective_from)
		  SELECT account, $1, 'online', now() - interval '30 days', now() - interval '30 days' FROM seed`, []any{o.TermsVersion}},
		{`INSERT INTO terms_acceptances (account_id, terms_version, position, channel, recorded_at)
		  SELECT account, $1, 'accepted', 'online', now() - interval '30 days' FROM seed`, []any{o.TermsVersion}},
		{`INSERT INTO account_services (account_id, service_code, opened_at)
		  SELECT account, code, now() - interval '30 days' FROM seed, unnest($1::text[]) AS code
		  WHERE $2 > 0 AND i % $2 = 0`, []any{pq.Array(o.Services), o.ServicesEvery}},
	}
	for _, s := range steps {
		if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}
