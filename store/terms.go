package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Terms versions, the users' positions on them and their rejections
// (C2.7, C3.5). The API drafts versions and records the positions users
// take; the terms campaign workflow publishes and keeps the counters.

// TermsDraft is a new version as a terms editor drafts it.
type TermsDraft struct {
	Version, Title, Body, Summary string
	EffectiveAt                   time.Time
	DraftedBy                     string
}

// LatestPublishedEffectiveAt is the latest effective date of a published
// version (not valid when none is published).
func LatestPublishedEffectiveAt(ctx context.Context, q Q) (sql.NullTime, error) {
	var latest sql.NullTime
	err := sqlx.GetContext(ctx, q, &latest, `SELECT max(effective_at) FROM terms_versions WHERE published_at IS NOT NULL`)
	return latest, err
}

// DraftTermsVersion stores a draft; an existing version is a unique
// violation.
func DraftTermsVersion(ctx context.Context, q Q, d TermsDraft) error {
	_, err := q.ExecContext(ctx, `INSERT INTO terms_versions (version, title, body, summary, effective_at, drafted_by)
			VALUES ($1, $2, $3, $4, $5, $6)`, d.Version, d.Title, d.Body, d.Summary, d.EffectiveAt, d.DraftedBy)
	return err
}

// Terms is a version of the terms.
type Terms struct {
	Version     string       `db:"version"`
	Title       string       `db:"title"`
	Body        string       `db:"body"`
	Summary     string       `db:"summary"`
	EffectiveAt time.Time    `db:"effective_at"`
	PublishedAt sql.NullTime `db:"published_at"`
}

// TermsByVersion reads a version, or ErrNotFound.
func TermsByVersion(ctx context.Context, q Q, version string) (Terms, error) {
	var t Terms
	err := getOne(ctx, q, &t, `SELECT version, title, body, summary, effective_at, published_at FROM terms_versions WHERE version = $1`, version)
	return t, err
}

// TermsListItem is a version without its body.
type TermsListItem struct {
	Version     string     `db:"version" json:"version"`
	Title       string     `db:"title" json:"title"`
	Summary     string     `db:"summary" json:"summary"`
	EffectiveAt time.Time  `db:"effective_at" json:"effective_at"`
	PublishedAt *time.Time `db:"published_at" json:"published_at"`
	CreatedAt   time.Time  `db:"created_at" json:"created_at"`
}

// ListTermsVersions lists the published versions (and the drafts too when
// drafts), newest first.
func ListTermsVersions(ctx context.Context, q Q, drafts bool) ([]TermsListItem, error) {
	items := []TermsListItem{}
	err := sqlx.SelectContext(ctx, q, &items, `SELECT version, title, summary, effective_at, published_at, created_at
		FROM terms_versions WHERE published_at IS NOT NULL OR $1 ORDER BY created_at DESC, version DESC LIMIT 500`, drafts)
	return items, err
}

// CampaignBegun tells whether the version's campaign has recorded its start.
func CampaignBegun(ctx context.Context, q Q, version string) (bool, error) {
	var begun bool
	err := sqlx.GetContext(ctx, q, &begun, `SELECT EXISTS (SELECT 1 FROM terms_campaigns WHERE terms_version = $1)`, version)
	return begun, err
}

// CampaignCounters are a campaign's durable counters.
type CampaignCounters struct {
	Status      string       `db:"status"`
	StartedAt   time.Time    `db:"started_at"`
	Targeted    int64        `db:"users_targeted"`
	Written     int64        `db:"notices_written"`
	Queued      int64        `db:"messages_queued"`
	SweepDoneAt sql.NullTime `db:"sweep_done_at"`
	CompletedAt sql.NullTime `db:"completed_at"`
}

// CampaignCountersOf reads a version's campaign, or ErrNotFound.
func CampaignCountersOf(ctx context.Context, q Q, version string) (CampaignCounters, error) {
	var row CampaignCounters
	err := getOne(ctx, q, &row, `SELECT status, started_at, users_targeted, notices_written, messages_queued, sweep_done_at, completed_at
		FROM terms_campaigns WHERE terms_version = $1`, version)
	return row, err
}

// StatusCount is a number of messages in one status.
type StatusCount struct {
	Status string `db:"status"`
	N      int64  `db:"n"`
}

// MessageCounts counts a source's messages by status.
func MessageCounts(ctx context.Context, q Q, source string) ([]StatusCount, error) {
	var counts []StatusCount
	err := sqlx.SelectContext(ctx, q, &counts, `SELECT status, n FROM notification_counts WHERE source = $1`, source)
	return counts, err
}

// PositionCount is a number of users with one position on a version.
type PositionCount struct {
	Position string `db:"position"`
	N        int64  `db:"n"`
}

// PositionCounts counts the positions taken on a version.
func PositionCounts(ctx context.Context, q Q, version string) ([]PositionCount, error) {
	var byKind []PositionCount
	err := sqlx.SelectContext(ctx, q, &byKind, `SELECT position, count(*) AS n FROM terms_acceptances WHERE terms_version = $1 GROUP BY position`, version)
	return byKind, err
}

// AccountTerms is a published version with an account's position on it.
type AccountTerms struct {
	Version     string         `db:"version"`
	Title       string         `db:"title"`
	Summary     string         `db:"summary"`
	EffectiveAt time.Time      `db:"effective_at"`
	Position    sql.NullString `db:"position"`
	RecordedAt  sql.NullTime   `db:"recorded_at"`
	Closure     sql.NullString `db:"deregistration_request_id"`
}

// TermsOfAccount lists every published version, newest first, with the
// account's position and the closure request of its rejection.
func TermsOfAccount(ctx context.Context, q Q, accountID string) ([]AccountTerms, error) {
	var rows []AccountTerms
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT v.version, v.title, v.summary, v.effective_at, t.position, t.recorded_at,
		r.deregistration_request_id
		FROM terms_versions v LEFT JOIN terms_acceptances t ON t.terms_version = v.version AND t.account_id = $1
		LEFT JOIN terms_rejections r ON r.terms_version = v.version AND r.account_id = $1
		WHERE v.published_at IS NOT NULL ORDER BY v.effective_at DESC`, accountID)
	return rows, err
}

// TermsPosition is an account's position on a version.
type TermsPosition struct {
	Version     string         `db:"terms_version" json:"version"`
	Position    string         `db:"position" json:"position"`
	Channel     string         `db:"channel" json:"channel"`
	RecordedAt  time.Time      `db:"recorded_at" json:"recorded_at"`
	RequestID   sql.NullString `db:"request_id" json:"-"`
	RequestPath sql.NullString `db:"request_route" json:"-"`
}

// PositionOn reads an account's position on a version, or ErrNotFound;
// lock takes the row's lock for the transaction q.
func PositionOn(ctx context.Context, q Q, accountID, version string, lock bool) (TermsPosition, error) {
	var pos TermsPosition
	query := `SELECT terms_version, position, channel, recorded_at, request_id, request_route
		FROM terms_acceptances WHERE account_id = $1 AND terms_version = $2`
	if lock {
		query += ` FOR UPDATE`
	}
	err := getOne(ctx, q, &pos, query, accountID, version)
	return pos, err
}

// TermsDecidability says whether a version is published and newer than
// the version of the account's agreement.
type TermsDecidability struct {
	Published bool `db:"published"`
	Newer     bool `db:"newer"`
}

// DecidabilityOf reads it, or ErrNotFound (no such version or agreement).
func DecidabilityOf(ctx context.Context, q Q, accountID, version string) (TermsDecidability, error) {
	var row TermsDecidability
	err := getOne(ctx, q, &row, `SELECT v.published_at IS NOT NULL AS published, v.effective_at > cur.effective_at AS newer
		FROM terms_versions v, agreements g JOIN terms_versions cur ON cur.version = g.terms_version
		WHERE v.version = $2 AND g.account_id = $1`, accountID, version)
	return row, err
}

// MakeAcceptanceExplicit turns a deemed acceptance into an explicit one.
func MakeAcceptanceExplicit(ctx context.Context, q Q, accountID, version string) error {
	_, err := q.ExecContext(ctx, `UPDATE terms_acceptances SET position = 'accepted', channel = 'online', recorded_at = now()
				WHERE account_id = $1 AND terms_version = $2`, accountID, version)
	return err
}

// OnlinePosition is a position a user takes on the site.
type OnlinePosition struct {
	AccountID, Version string
	Position           string // accepted, rejected
	RequestID, Route   string
	SourceIP           string
}

// RecordOnlinePosition stores a position taken on the site.
func RecordOnlinePosition(ctx context.Context, q Q, p OnlinePosition) error {
	_, err := q.ExecContext(ctx, `INSERT INTO terms_acceptances (account_id, terms_version, position, channel, request_id, request_route, source_ip)
			VALUES ($1, $2, $3, 'online', $4, $5, $6)`, p.AccountID, p.Version, p.Position, p.RequestID, p.Route, p.SourceIP)
	return err
}

// TermsRejection is a rejection with the user's written request.
type TermsRejection struct {
	ID, AccountID, Version, Choice string
	Services                       []string
	Statement                      string
	RequestID, SourceIP            string
	DeregistrationRequestID        string
}

// FileTermsRejection stores a rejection.
func FileTermsRejection(ctx context.Context, q Q, r TermsRejection) error {
	_, err := q.ExecContext(ctx, `INSERT INTO terms_rejections (id, account_id, terms_version, choice, services, statement, request_id, source_ip,
			deregistration_request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, r.ID, r.AccountID, r.Version, r.Choice, pq.Array(r.Services),
		r.Statement, r.RequestID, r.SourceIP, r.DeregistrationRequestID)
	return err
}

// TakeBackTermsRejection removes a rejection whose closure process did not
// start: the rejection, its closure request while still received, the
// position and the two notices under noticeKey (and noticeKey + "/staff").
func TakeBackTermsRejection(ctx context.Context, q Q, rejectionID, requestID, accountID, version, noticeKey string) error {
	for _, st := range []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM terms_rejections WHERE id = $1`, []any{rejectionID}},
		{`DELETE FROM deregistration_requests WHERE id = $1 AND status = 'received'`, []any{requestID}},
		{`DELETE FROM terms_acceptances WHERE account_id = $1 AND terms_version = $2 AND position = 'rejected'`, []any{accountID, version}},
		{`DELETE FROM notices WHERE operation_key IN ($1, $1 || '/staff')`, []any{noticeKey}},
	} {
		if _, err := q.ExecContext(ctx, st.sql, st.args...); err != nil {
			return err
		}
	}
	return nil
}

// RejectionState is a rejection with the status of the closure request it
// started.
type RejectionState struct {
	ID          string         `db:"id"`
	Choice      string         `db:"choice"`
	Services    pq.StringArray `db:"services"`
	Statement   string         `db:"statement"`
	Status      string         `db:"status"`
	SubmittedAt time.Time      `db:"submitted_at"`
	RequestID   sql.NullString `db:"deregistration_request_id"`
}

// RejectionOf reads an account's rejection of a version, or ErrNotFound.
func RejectionOf(ctx context.Context, q Q, accountID, version string) (RejectionState, error) {
	var r RejectionState
	err := getOne(ctx, q, &r, `SELECT r.id, r.choice, r.services, r.statement, coalesce(d.status, r.status) AS status,
		r.submitted_at, r.deregistration_request_id
		FROM terms_rejections r LEFT JOIN deregistration_requests d ON d.id = r.deregistration_request_id
		WHERE r.account_id = $1 AND r.terms_version = $2`, accountID, version)
	return r, err
}

// CampaignVersion is a version that has a campaign, with its effective date.
type CampaignVersion struct {
	Version     string    `db:"terms_version"`
	EffectiveAt time.Time `db:"effective_at"`
}

// CampaignVersions lists the versions that have a campaign.
func CampaignVersions(ctx context.Context, q Q) ([]CampaignVersion, error) {
	var vs []CampaignVersion
	err := sqlx.SelectContext(ctx, q, &vs, `SELECT c.terms_version, v.effective_at
			FROM terms_campaigns c JOIN terms_versions v ON v.version = c.terms_version`)
	return vs, err
}

// ContinuedUse is the request by which a user used the services.
type ContinuedUse struct {
	AccountID string
	// Versions and their notices' operation keys, pairwise.
	Versions, NoticeKeys []string
	RequestID, Route     string
	SourceIP             string
}

// DeemedPosition is a version the account has a position on; New when
// this use recorded it.
type DeemedPosition struct {
	Version string `db:"terms_version"`
	New     bool   `db:"new"`
}

// RecordDeemedAcceptance records, in one statement, a deemed acceptance of
// each listed version whose notice reached the user and on which the
// account has no position yet, and answers every listed version the
// account now has a position on.
func RecordDeemedAcceptance(ctx context.Context, q Q, u ContinuedUse) ([]DeemedPosition, error) {
	var out []DeemedPosition
	err := sqlx.SelectContext(ctx, q, &out, `
		WITH due AS (
			SELECT v.version FROM unnest($2::text[], $3::text[]) AS v(version, notice_key)
			WHERE EXISTS (SELECT 1 FROM notices n WHERE n.operation_key = v.notice_key)
		), ins AS (
			INSERT INTO terms_acceptances (account_id, terms_version, position, channel, request_id, request_route, source_ip)
			SELECT $1, version, 'deemed_accepted', 'continued_use', $4, $5, $6 FROM due
			ON CONFLICT (account_id, terms_version) DO NOTHING
			RETURNING terms_version
		)
		SELECT terms_version, false AS new FROM terms_acceptances WHERE account_id = $1 AND terms_version = ANY($2)
		UNION ALL SELECT terms_version, true FROM ins`,
		u.AccountID, pq.Array(u.Versions), pq.Array(u.NoticeKeys), u.RequestID, u.Route, u.SourceIP)
	return out, err
}

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

// currentTermsSQL selects the newest published version already in effect.
const currentTermsSQL = `SELECT version FROM terms_versions
	WHERE published_at IS NOT NULL AND effective_at <= now() ORDER BY effective_at DESC, version DESC LIMIT 1`

// CurrentTermsVersion reads the newest published terms version already in
// effect.
func CurrentTermsVersion(ctx context.Context, q Q) (string, error) {
	var v string
	err := getOne(ctx, q, &v, currentTermsSQL)
	return v, err
}
