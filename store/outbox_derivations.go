package store

import (
	"context"
	"database/sql"
	"errors"
)

// Channel messages derived from a campaign's notices (outbox_derivations).
// A campaign's sweep writes the inbox notices only; once it has placed the
// last one, the campaign plans a derivation, and every dispatch of the
// campaign's source first tops its queue up from the notices, a batch of
// accounts at a time, in account order. Writers: the activities that end a
// sweep (PlanOutboxDerivation) and dispatch its messages (DeriveOutbox).

// OutboxDerivation says which notices get which messages: each notice
// whose operation key is NoticeKeyPrefix || account gets an SMS and an
// e-mail (where the person gave one) keyed OutboxKeyPrefix || channel ||
// '/' || account, under Source and Template. CampaignKind and CampaignRef
// name the campaign whose messages_queued counter grows with them.
type OutboxDerivation struct {
	Source          string
	NoticeKeyPrefix string
	OutboxKeyPrefix string
	Template        string
	CampaignKind    string // terms | service_change
	CampaignRef     string
}

// PlanOutboxDerivation records a derivation once; planning it again
// changes nothing.
func PlanOutboxDerivation(ctx context.Context, q Q, d OutboxDerivation) error {
	_, err := q.ExecContext(ctx, `INSERT INTO outbox_derivations (source, notice_key_prefix, outbox_key_prefix, template,
		campaign_kind, campaign_ref) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source) DO NOTHING`,
		d.Source, d.NoticeKeyPrefix, d.OutboxKeyPrefix, d.Template, d.CampaignKind, d.CampaignRef)
	return err
}

// Derived is what one derivation step did: the messages it queued, and
// whether the source still has notices to derive from (Open).
type Derived struct {
	Queued int
	Open   bool
}

// DeriveOutbox queues the messages of the next accounts (at most limit)
// of the source's derivation, unless at least limit messages of the source
// are already due. Messages that failed and wait for their next attempt
// do not count: a provider's outage must not stall the derivation (nor
// spin the dispatch while nothing is due). It locks the derivation's row,
// so two dispatchers of one source derive one after the other, and it
// moves the cursor and the campaign's counter in the caller's
// transaction, which should be short (its own, before the dispatch's): a
// step that rolls back leaves nothing behind, and the operation keys keep
// a message that exists (queued by an older sweep, or by a catch-up page)
// from being queued twice. A source without a derivation is not Open.
func DeriveOutbox(ctx context.Context, q Q, source string, limit int) (Derived, error) {
	var res Derived
	var d struct {
		OutboxDerivation
		After sql.NullString
	}
	err := q.QueryRowxContext(ctx, `SELECT notice_key_prefix, outbox_key_prefix, template, campaign_kind, campaign_ref, after_account::text
		FROM outbox_derivations WHERE source = $1 AND done_at IS NULL FOR UPDATE`, source).
		Scan(&d.NoticeKeyPrefix, &d.OutboxKeyPrefix, &d.Template, &d.CampaignKind, &d.CampaignRef, &d.After)
	if errors.Is(err, sql.ErrNoRows) {
		return res, nil
	}
	if err != nil {
		return res, err
	}
	res.Open = true
	var waiting int
	if err := q.QueryRowxContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM notification_outbox
		WHERE source = $1 AND status IN ('queued', 'failed') AND next_attempt_at <= now() LIMIT $2) w`, source, limit).Scan(&waiting); err != nil {
		return res, err
	}
	if waiting >= limit {
		return res, nil
	}
	var last sql.NullString
	var accounts int
	if err := q.QueryRowxContext(ctx, `
		WITH n AS (
			SELECT n.account_id FROM notices n
			WHERE n.account_id > coalesce($2::uuid, '00000000-0000-0000-0000-000000000000'::uuid)
			  AND n.operation_key = $3 || n.account_id::text
			ORDER BY n.account_id LIMIT $4
		), o AS (`+outboxFromNotices(&BulkOutbox{}, "$5", "$1", "$6")+`)
		SELECT (SELECT max(account_id::text) FROM n), (SELECT count(*) FROM n), (SELECT count(*) FROM o)`,
		source, d.After, d.NoticeKeyPrefix, limit, d.OutboxKeyPrefix, d.Template).Scan(&last, &accounts, &res.Queued); err != nil {
		return res, err
	}
	res.Open = accounts == limit
	if _, err := q.ExecContext(ctx, `UPDATE outbox_derivations SET after_account = coalesce($2::uuid, after_account),
		derived = derived + $3, done_at = CASE WHEN $4 THEN NULL ELSE now() END WHERE source = $1`,
		source, last, res.Queued, res.Open); err != nil {
		return res, err
	}
	if res.Queued == 0 {
		return res, nil
	}
	counter := `UPDATE terms_campaigns SET messages_queued = messages_queued + $2 WHERE terms_version = $1`
	if d.CampaignKind == "service_change" {
		counter = `UPDATE service_changes SET messages_queued = messages_queued + $2 WHERE id = $1`
	}
	_, err = q.ExecContext(ctx, counter, d.CampaignRef, res.Queued)
	return res, err
}
