package store

import (
	"context"
	"database/sql"
	"regexp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// message_deliveries (migration 00025, issue 18): one row per send attempt
// of an outbox message (written by the outbox's dispatcher) or of a
// verification code (written by the API that sends it). Never the text or
// the code; the reason with the address masked.

// Delivery statuses.
const (
	DeliverySent      = "sent"
	DeliveryRetrying  = "retrying"
	DeliveryFailed    = "failed"
	DeliveryAbandoned = "abandoned"
)

// Delivery is one send attempt.
type Delivery struct {
	AccountID     string // "" when none
	ApplicationID string // "" when none
	MessageID     int64  // the outbox message, or 0 for a code
	CodeID        string // the verification code, or ""
	Channel       string
	Kind          string
	Sender        string
	Attempt       int
	Status        string
	ProviderID    string
	// Reason is the error; Address is masked out of it before it is stored.
	Reason  string
	Address string
}

// RecordDeliveries writes send attempts; an attempt of an outbox message
// already recorded (a retried activity) is left as it is.
func RecordDeliveries(ctx context.Context, q Q, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	n := len(ds)
	acct, app, msg, code := make([]sql.NullString, n), make([]sql.NullString, n), make([]sql.NullInt64, n), make([]sql.NullString, n)
	ch, kind, sender, status, prov, reason := make([]string, n), make([]string, n), make([]string, n), make([]string, n),
		make([]sql.NullString, n), make([]sql.NullString, n)
	att := make([]int64, n)
	for i, d := range ds {
		acct[i], app[i], code[i] = nullString(d.AccountID), nullString(d.ApplicationID), nullString(d.CodeID)
		msg[i] = sql.NullInt64{Int64: d.MessageID, Valid: d.MessageID != 0}
		ch[i], kind[i], sender[i], status[i], att[i] = d.Channel, d.Kind, d.Sender, d.Status, int64(d.Attempt)
		prov[i], reason[i] = nullString(d.ProviderID), nullString(MaskAddress(d.Reason, d.Address))
	}
	_, err := q.ExecContext(ctx, `INSERT INTO message_deliveries (account_id, application_id, message_id, code_id, channel, kind, sender,
			attempt, status, provider_id, reason)
		SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::int[],
			$9::text[], $10::text[], $11::text[])
		ON CONFLICT (message_id, attempt) DO NOTHING`,
		pq.Array(acct), pq.Array(app), pq.Array(msg), pq.Array(code), pq.Array(ch), pq.Array(kind), pq.Array(sender), pq.Array(att),
		pq.Array(status), pq.Array(prov), pq.Array(reason))
	return err
}

var (
	digitRun = regexp.MustCompile(`\d{7,}`)
	// mailLocal is the local part of an e-mail address in a reason
	// ("<13800138000@sms.invalid>: mailbox full").
	mailLocal = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@`)
)

// MaskAddress takes an address (and any long run of digits, a mobile
// number in whatever form a provider echoes it, and the local part of any
// e-mail address) out of a reason. Only whole addresses are masked: a
// short local part ("a@x.cn") must not mask every "a" of the reason.
func MaskAddress(reason, address string) string {
	if reason == "" {
		return ""
	}
	if address != "" {
		reason = strings.ReplaceAll(reason, address, "***")
	}
	reason = mailLocal.ReplaceAllString(reason, "***@")
	return digitRun.ReplaceAllString(reason, "***")
}

// DeliveryAttempt is one attempt as staff see it.
type DeliveryAttempt struct {
	Attempt    int       `db:"attempt" json:"attempt"`
	Status     string    `db:"status" json:"status"`
	Sender     string    `db:"sender" json:"sender"`
	ProviderID string    `db:"provider_id" json:"provider_id,omitempty"`
	Reason     string    `db:"reason" json:"reason,omitempty"`
	At         time.Time `db:"at" json:"at"`
}

// AccountMessage is one message to an account (or to its application) and
// its delivery: the outbox's notices and the verification codes sent to
// the person, never their text.
type AccountMessage struct {
	Source     string            `json:"source"` // outbox | verification_code
	ID         string            `json:"id"`
	Channel    string            `json:"channel"`
	Kind       string            `json:"kind"`
	Status     string            `json:"status"` // queued | sent | retrying | failed | abandoned
	Attempts   int               `json:"attempts"`
	ProviderID string            `json:"provider_id,omitempty"`
	Reason     string            `json:"reason,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	LastAt     *time.Time        `json:"last_attempt_at"`
	SentAt     *time.Time        `json:"sent_at"`
	History    []DeliveryAttempt `json:"history"`
}

// AccountMessages lists the newest limit messages to an account and its
// registration application, newest first, each with its attempts.
func AccountMessages(ctx context.Context, q Q, accountID string, limit int) ([]AccountMessage, error) {
	var rows []struct {
		Source    string       `db:"source"`
		ID        string       `db:"id"`
		Channel   string       `db:"channel"`
		Kind      string       `db:"kind"`
		Status    string       `db:"status"`
		Attempts  int          `db:"attempts"`
		CreatedAt time.Time    `db:"created_at"`
		SentAt    sql.NullTime `db:"sent_at"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `
		WITH acct AS (SELECT id, application_id FROM accounts WHERE id = $1)
		SELECT * FROM (
			SELECT 'outbox' AS source, o.id::text AS id, o.channel, split_part(o.template, ':', 1) AS kind,
				CASE o.status WHEN 'failed' THEN 'retrying' ELSE o.status END AS status, o.attempts, o.created_at, o.sent_at
			FROM notification_outbox o WHERE o.account_id = $1
			UNION ALL
			SELECT 'verification_code', d.code_id::text, min(d.channel), min(d.kind),
				(array_agg(d.status ORDER BY d.attempt DESC, d.id DESC))[1], count(*)::int, min(d.at),
				min(d.at) FILTER (WHERE d.status = 'sent')
			FROM message_deliveries d, acct
			WHERE d.code_id IS NOT NULL AND (d.account_id = acct.id OR d.application_id = acct.application_id)
			GROUP BY d.code_id
		) m ORDER BY created_at DESC, id DESC LIMIT $2`, accountID, limit); err != nil {
		return nil, err
	}
	out := make([]AccountMessage, 0, len(rows))
	var outboxIDs, codeIDs []string
	for _, r := range rows {
		m := AccountMessage{Source: r.Source, ID: r.ID, Channel: r.Channel, Kind: r.Kind, Status: r.Status, Attempts: r.Attempts,
			CreatedAt: r.CreatedAt, History: []DeliveryAttempt{}}
		if r.SentAt.Valid {
			m.SentAt = &r.SentAt.Time
		}
		out = append(out, m)
		if r.Source == "outbox" {
			outboxIDs = append(outboxIDs, r.ID)
		} else {
			codeIDs = append(codeIDs, r.ID)
		}
	}
	if len(out) == 0 {
		return out, nil
	}
	var attempts []struct {
		Key        string         `db:"key"`
		Attempt    int            `db:"attempt"`
		Status     string         `db:"status"`
		Sender     string         `db:"sender"`
		ProviderID sql.NullString `db:"provider_id"`
		Reason     sql.NullString `db:"reason"`
		At         time.Time      `db:"at"`
	}
	if err := sqlx.SelectContext(ctx, q, &attempts, `
		SELECT coalesce(message_id::text, code_id::text) AS key, attempt, status, sender, provider_id, reason, at
		FROM message_deliveries WHERE message_id::text = ANY($1) OR code_id::text = ANY($2)
		ORDER BY attempt, id`, pq.Array(outboxIDs), pq.Array(codeIDs)); err != nil {
		return nil, err
	}
	byID := map[string]*AccountMessage{}
	for i := range out {
		byID[out[i].ID] = &out[i]
	}
	for _, a := range attempts {
		m := byID[a.Key]
		if m == nil {
			continue
		}
		m.History = append(m.History, DeliveryAttempt{Attempt: a.Attempt, Status: a.Status, Sender: a.Sender,
			ProviderID: a.ProviderID.String, Reason: a.Reason.String, At: a.At})
		at := a.At
		m.LastAt = &at
		if a.ProviderID.Valid {
			m.ProviderID = a.ProviderID.String
		}
		if a.Reason.Valid {
			m.Reason = a.Reason.String
		} else if a.Status == DeliverySent {
			m.Reason = ""
		}
	}
	return out, nil
}

// DeleteUnlinkedDeliveries removes the delivery records tied to no account
// or application (registration codes) after 25 hours, with the codes.
func DeleteUnlinkedDeliveries(ctx context.Context, q Q) error {
	_, err := q.ExecContext(ctx, `DELETE FROM message_deliveries WHERE account_id IS NULL AND application_id IS NULL
		AND at < now() - interval '25 hours'`)
	return err
}
