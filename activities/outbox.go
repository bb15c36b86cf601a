package activities

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hrss-backoffice/internal/messages"
	"hrss-backoffice/store"
)

// The notification outbox carries messages to channels other than the
// site inbox (SMS, e-mail). A campaign's first sweep writes the inbox
// notices only, and DispatchOutbox derives their messages batch by batch
// (store.DeriveOutbox); other writers queue theirs in the transaction of
// the fact they tell of. DispatchOutbox sends them in batches through the
// channel's Sender, records every attempt in notification_log, and retries
// a failed message with exponential backoff until its maximum attempt
// count, then abandons it.

// Message is one outgoing message as a sender sees it. It carries the
// address and text, so it never leaves the activity (no workflow sees it).
type Message struct {
	ID        int64
	AccountID string
	// ApplicationID: a notice to an applicant without an account.
	ApplicationID string
	Channel       string
	Address       string
	Text          string
	Attempt       int
	// Kind and Params are the message as a template with parameters, for
	// providers that send approved templates (Tencent Cloud SMS); Text is
	// the same message rendered.
	Kind   string
	Params []string
}

// PermanentError marks a send that trying again will not mend (a bad
// number, a refused template, bad credentials): the outbox abandons the
// message at once, with the reason.
type PermanentError struct{ Err error }

func (p PermanentError) Error() string { return p.Err.Error() }
func (p PermanentError) Unwrap() error { return p.Err }

// Sender delivers messages of one channel. Send returns one error (or nil)
// per message, in order.
type Sender interface {
	Name() string
	Send(ctx context.Context, msgs []Message) []error
}

// LogSender is the default sender: it sends nothing and reports success,
// so notification_log shows what would have been sent.
type LogSender struct{}

func (LogSender) Name() string { return "log" }

func (LogSender) Send(_ context.Context, msgs []Message) []error { return make([]error, len(msgs)) }

var senders = struct {
	sync.RWMutex
	m map[string]Sender
}{m: map[string]Sender{}}

// SetSender installs the sender of a channel (sms, email) and returns a
// function that restores the previous one. Without one, LogSender is used.
func SetSender(channel string, s Sender) (restore func()) {
	senders.Lock()
	defer senders.Unlock()
	prev, had := senders.m[channel]
	senders.m[channel] = s
	return func() {
		senders.Lock()
		defer senders.Unlock()
		if had {
			senders.m[channel] = prev
		} else {
			delete(senders.m, channel)
		}
	}
}

// SenderFor is the sender installed for a channel (LogSender without one).
func SenderFor(channel string) Sender { return senderFor(channel) }

// senderFor is the sender of a channel: the Activities' own (Senders),
// else the installed one.
func (a *Activities) senderFor(channel string) Sender {
	if s, ok := a.Senders[channel]; ok && s != nil {
		return s
	}
	return senderFor(channel)
}

func senderFor(channel string) Sender {
	senders.RLock()
	defer senders.RUnlock()
	if s, ok := senders.m[channel]; ok {
		return s
	}
	return LogSender{}
}

// RetryBackoff is the wait before the second attempt; it doubles with each
// further attempt up to MaxRetryBackoff.
var (
	RetryBackoff    = 30 * time.Second
	MaxRetryBackoff = time.Hour
)

func backoff(attempt int) time.Duration {
	d := RetryBackoff
	for i := 1; i < attempt && d < MaxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, MaxRetryBackoff)
}

// DispatchInput sends up to Batch due messages of one source.
type DispatchInput struct {
	Source string `json:"source"`
	Batch  int    `json:"batch"`
}

// DispatchResult counts this batch's outcomes and says what is left:
// Pending messages not yet sent, abandoned or failed for good; NextIn is
// how long until the earliest of them is due (0: due now). Queued counts
// the messages this batch derived from a campaign's notices first, and
// Underived says that more notices of the source still wait for theirs
// (store.DeriveOutbox): the source is not done even when Pending is 0.
type DispatchResult struct {
	Sent      int           `json:"sent"`
	Failed    int           `json:"failed"`
	Abandoned int           `json:"abandoned"`
	Pending   int           `json:"pending"`
	NextIn    time.Duration `json:"next_in"`
	Queued    int           `json:"queued,omitempty"`
	Underived bool          `json:"underived,omitempty"`
}

// DispatchOutbox claims a batch of due messages (SKIP LOCKED, so several
// dispatchers can run), sends them, and records the results.
//
// The providers are called within a send window that ends before the
// caller's deadline (an activity's start-to-close timeout), and the
// transaction that records their answers does not end with that deadline:
// a dispatch cut off by its deadline would roll back the record of
// messages the provider already accepted, and its retry would send them
// again (and never count the failed attempts toward abandoning them).
func (a *Activities) DispatchOutbox(ctx context.Context, in DispatchInput) (DispatchResult, error) {
	if in.Batch <= 0 {
		in.Batch = 500
	}
	sendCtx, cancelSend := sendWindow(ctx, a.OutboxSendWindow)
	defer cancelSend()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordWindow)
	defer cancel()
	var res DispatchResult
	// A campaign's messages are derived from its notices a batch at a time,
	// in a short transaction of their own: the dispatch's transaction
	// below outlives the provider calls and must not hold the derivation's
	// or the campaign's row meanwhile.
	// Only campaigns derive (their sources: terms/…, service-change/…):
	// an applicant's notice spends no transaction on it.
	var err error
	if derivable(in.Source) {
		err = a.inTx(ctx, func(tx *sqlx.Tx) error {
			derived, err := store.DeriveOutbox(ctx, tx, in.Source, in.Batch)
			res.Queued, res.Underived = derived.Queued, derived.Open
			return err
		})
		if err != nil {
			return res, err
		}
	}
	err = a.inTx(ctx, func(tx *sqlx.Tx) error {
		type row struct {
			ID          int64          `db:"id"`
			AccountID   string         `db:"account_id"`
			AppID       string         `db:"application_id"`
			Language    string         `db:"language"`
			Channel     string         `db:"channel"`
			Template    string         `db:"template"`
			Attempts    int            `db:"attempts"`
			MaxAttempts int            `db:"max_attempts"`
			Mobile      string         `db:"mobile"`
			Email       sql.NullString `db:"email"`
		}
		var rows []row
		if err := tx.SelectContext(ctx, &rows, `
			SELECT o.id, coalesce(o.account_id::text, '') AS account_id, coalesce(o.application_id::text, '') AS application_id,
				coalesce(a.language, ap.language, 'zh') AS language, o.channel, o.template, o.attempts, o.max_attempts,
				coalesce(p.mobile, ap.mobile, '') AS mobile, CASE WHEN o.account_id IS NULL THEN ap.email ELSE p.email END AS email
			FROM notification_outbox o LEFT JOIN accounts a ON a.id = o.account_id LEFT JOIN people p ON p.id = a.person_id
				LEFT JOIN applications ap ON ap.id = o.application_id
			WHERE o.source = $1 AND o.status IN ('queued', 'failed') AND o.next_attempt_at <= now()
			ORDER BY o.next_attempt_at, o.id LIMIT $2
			FOR UPDATE OF o SKIP LOCKED`, in.Source, in.Batch); err != nil {
			return err
		}
		resolved := map[string]outboxMessage{}
		byChannel := map[string][]Message{}
		for _, r := range rows {
			msg, ok := resolved[r.Template]
			if !ok {
				m, err := a.resolveTemplate(ctx, tx, r.Template)
				if err != nil {
					return err
				}
				resolved[r.Template], msg = m, m
			}
			// The language the person chose (the account's, else the
			// application's): Chinese unless English was chosen.
			text, err := msg.text(messages.Lang(r.Language))
			if err != nil {
				return err
			}
			addr := r.Mobile
			if r.Channel == "email" {
				addr = r.Email.String
			}
			byChannel[r.Channel] = append(byChannel[r.Channel], Message{ID: r.ID, AccountID: r.AccountID, ApplicationID: r.AppID, Channel: r.Channel,
				Address: addr, Text: text, Attempt: r.Attempts + 1, Kind: msg.Kind, Params: msg.Params})
		}
		maxAttempts := map[int64]int{}
		for _, r := range rows {
			maxAttempts[r.ID] = r.MaxAttempts
		}
		var sentIDs, failIDs, abandonIDs, logIDs []int64
		var failNext []time.Time
		var failErrs, abandonErrs, logSender, logChannel, logAddr, logText, logResult []string
		var logAttempt []int64
		var deliveries []store.Delivery
		now := a.now()
		for _, ch := range []string{"sms", "email"} {
			msgs := byChannel[ch]
			if len(msgs) == 0 {
				continue
			}
			s := a.senderFor(ch)
			receipts := Deliver(sendCtx, s, msgs)
			for i, m := range msgs {
				err := receipts[i].Err
				result := "sent"
				switch {
				case err == nil:
					sentIDs = append(sentIDs, m.ID)
				case m.Attempt >= maxAttempts[m.ID] || errors.As(err, new(PermanentError)):
					result = "abandoned: " + err.Error()
					abandonIDs, abandonErrs = append(abandonIDs, m.ID), append(abandonErrs, err.Error())
				default:
					result = "failed: " + err.Error()
					failIDs, failErrs = append(failIDs, m.ID), append(failErrs, err.Error())
					failNext = append(failNext, now.Add(backoff(m.Attempt)))
				}
				deliveries = append(deliveries, outboxDelivery(m, s.Name(), receipts[i], result))
				logIDs, logAttempt = append(logIDs, m.ID), append(logAttempt, int64(m.Attempt))
				logSender, logChannel = append(logSender, s.Name()), append(logChannel, m.Channel)
				logAddr, logText, logResult = append(logAddr, m.Address), append(logText, m.Text), append(logResult, result)
			}
		}
		if len(logIDs) > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO notification_log (message_id, attempt, sender, channel, address, text, result)
				SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
				ON CONFLICT (message_id, attempt) DO NOTHING`,
				pq.Array(logIDs), pq.Array(logAttempt), pq.Array(logSender), pq.Array(logChannel), pq.Array(logAddr),
				pq.Array(logText), pq.Array(logResult)); err != nil {
				return err
			}
		}
		if err := store.RecordDeliveries(ctx, tx, deliveries); err != nil {
			return err
		}
		if len(sentIDs) > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE notification_outbox SET status = 'sent', attempts = attempts + 1, sent_at = now(),
				last_error = NULL WHERE id = ANY($1)`, pq.Array(sentIDs)); err != nil {
				return err
			}
		}
		if len(failIDs) > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE notification_outbox o SET status = 'failed', attempts = attempts + 1,
				last_error = f.err, next_attempt_at = f.next
				FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS f(id, err, next) WHERE o.id = f.id`,
				pq.Array(failIDs), pq.Array(failErrs), pq.Array(failNext)); err != nil {
				return err
			}
		}
		if len(abandonIDs) > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE notification_outbox o SET status = 'abandoned', attempts = attempts + 1, last_error = f.err
				FROM unnest($1::bigint[], $2::text[]) AS f(id, err) WHERE o.id = f.id`,
				pq.Array(abandonIDs), pq.Array(abandonErrs)); err != nil {
				return err
			}
		}
		res.Sent, res.Failed, res.Abandoned = len(sentIDs), len(failIDs), len(abandonIDs)
		for status, n := range map[string]int{"sent": res.Sent, "attempt_failed": res.Failed, "abandoned": res.Abandoned} {
			if n == 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO notification_counts (source, status, n) VALUES ($1, $2, $3)
				ON CONFLICT (source, status) DO UPDATE SET n = notification_counts.n + EXCLUDED.n`, in.Source, status, n); err != nil {
				return err
			}
		}
		var next sql.NullFloat64
		if err := tx.QueryRowxContext(ctx, `SELECT count(*), extract(epoch FROM min(next_attempt_at) - now())
			FROM notification_outbox WHERE source = $1 AND status IN ('queued', 'failed')`, in.Source).Scan(&res.Pending, &next); err != nil {
			return err
		}
		if next.Valid && next.Float64 > 0 && !res.Underived {
			res.NextIn = time.Duration(next.Float64 * float64(time.Second)).Round(time.Millisecond)
		}
		return nil
	})
	return res, err
}

// derivable says whether a source's messages may be derived from
// notices: a terms campaign's or a service change's.
func derivable(source string) bool {
	return strings.HasPrefix(source, TermsSource("")) || strings.HasPrefix(source, ServiceChangeSource(""))
}

const (
	// DefaultOutboxSendWindow bounds the provider calls of one dispatch.
	DefaultOutboxSendWindow = 20 * time.Second
	// sendMargin is kept free before the caller's deadline to record the
	// answers.
	sendMargin = 5 * time.Second
	// recordWindow bounds the dispatch's transaction, which outlives the
	// caller's deadline by design.
	recordWindow = time.Minute
)

// sendWindow is the context of a dispatch's provider calls: at most limit
// (DefaultOutboxSendWindow when zero), and ending sendMargin before ctx's
// deadline, but never shorter than a second.
func sendWindow(ctx context.Context, limit time.Duration) (context.Context, context.CancelFunc) {
	if limit <= 0 {
		limit = DefaultOutboxSendWindow
	}
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl) - sendMargin; d < limit {
			limit = max(d, time.Second)
		}
	}
	return context.WithTimeout(ctx, limit)
}
