package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/lib/pq"
)

// Set-based notice writers. A campaign (revised terms, an announcement, a
// change of a service) or a sweep (password-age reminders) reaches up to
// millions of users, so each page places its notices with one statement
// over a key range of agreements instead of PlaceNotice per user. Each
// notice carries an operation key made of a prefix and the account, and
// ON CONFLICT DO NOTHING keeps a retried page from writing anything twice.
// These are, with PlaceNotice, the only writers of notices.

// NoticePage is one page of a fan-out over agreements g: accounts from Lo
// (inclusive) to Hi (exclusive, "" none), after After ("" none), of
// agreements in effect since Since (zero: any), at most Limit.
type NoticePage struct {
	Lo    string
	Hi    string
	After string
	Since time.Time
	Limit int
}

// BulkNotice is the notice of a page: the operation key is KeyPrefix and
// the account ID.
type BulkNotice struct {
	KeyPrefix string
	Kind      string
	TitleZH   string
	TitleEN   string
	BodyZH    string
	BodyEN    string
}

// BulkOutbox queues an SMS and an e-mail (where the person gave one) for
// each account that just got its notice: the operation key is KeyPrefix,
// the channel, "/" and the account ID. A campaign's first sweep passes
// none: its messages are derived from the notices while it dispatches
// (DeriveOutbox); its catch-up pages, a handful of users each, queue theirs
// at once.
type BulkOutbox struct {
	KeyPrefix string
	Source    string
	Template  string
}

// PageCounts says how far a page got: the page's highest account ID
// (Last), the accounts it selected, the notices it placed, the messages it
// queued and the services it closed.
type PageCounts struct {
	Last     string
	Targeted int
	Written  int
	Queued   int
	Closed   int
}

// pageFilter is the key range of a page over agreements g: $1 lo, $2 hi,
// $3 after, $4 since.
const pageFilter = `g.account_id >= $1::uuid AND ($2::uuid IS NULL OR g.account_id < $2::uuid)
	AND ($3::uuid IS NULL OR g.account_id > $3::uuid)
	AND ($4::timestamptz IS NULL OR g.effective_from >= $4::timestamptz)
	AND (g.effective_until IS NULL OR g.effective_until > now())`

func (p NoticePage) args() []any {
	var since any
	if !p.Since.IsZero() {
		since = p.Since
	}
	return []any{p.Lo, nullString(p.Hi), nullString(p.After), since}
}

// outboxFromNotices is the body of a CTE that queues an SMS and an e-mail
// (where the person gave one) for each account in the CTE n that just got
// its notice: operation key prefix || channel || '/' || account.
func outboxFromNotices(o *BulkOutbox, keyPrefix, source, template string) string {
	if o == nil {
		return `SELECT 1 WHERE false`
	}
	return `
			INSERT INTO notification_outbox (operation_key, source, account_id, channel, template)
			SELECT ` + keyPrefix + ` || chn.channel || '/' || n.account_id, ` + source + `, n.account_id, chn.channel, ` + template + `
			FROM n JOIN accounts a ON a.id = n.account_id JOIN people p ON p.id = a.person_id
			CROSS JOIN LATERAL (VALUES ('sms', p.mobile <> ''), ('email', coalesce(p.email, '') <> '')) AS chn(channel, present)
			WHERE chn.present
			ON CONFLICT (operation_key) DO NOTHING
			RETURNING 1`
}

// ServicesFilter limits agreements g to users with one of the services
// open, unless the list (the text[] parameter param) is empty (everyone).
func ServicesFilter(param string) string {
	return `(cardinality(` + param + `::text[]) = 0 OR EXISTS (SELECT 1 FROM account_services s
		WHERE s.account_id = g.account_id AND s.status = 'open' AND s.service_code = ANY(` + param + `::text[])))`
}

// holdersFilter limits agreements g to users holding service $5 (open or
// paused, not closed).
const holdersFilter = `EXISTS (SELECT 1 FROM account_services s
	WHERE s.account_id = g.account_id AND s.service_code = $5 AND s.status <> 'closed')`

// PlaceTermsNotices places the notice of a terms revision (kind
// terms_revision) on a page of users whose agreement is on none of the
// versions notOlder, and queues their messages.
func PlaceTermsNotices(ctx context.Context, q Q, page NoticePage, notOlder []string, n BulkNotice, o *BulkOutbox) (PageCounts, error) {
	var res PageCounts
	args := append(page.args(), pq.Array(notOlder), page.Limit, n.KeyPrefix,
		n.TitleZH, n.TitleEN, n.BodyZH, n.BodyEN)
	if o != nil {
		args = append(args, o.KeyPrefix, o.Source, o.Template)
	}
	var last sql.NullString
	if err := q.QueryRowxContext(ctx, `
		WITH t AS (
			SELECT g.account_id FROM agreements g
			WHERE `+pageFilter+` AND g.terms_version <> ALL($5)
			ORDER BY g.account_id LIMIT $6
		), n AS (
			INSERT INTO notices (id, operation_key, account_id, kind, title_zh, title_en, body_zh, body_en)
			SELECT gen_random_uuid(), $7 || t.account_id, t.account_id, 'terms_revision', $8, $9, $10, $11 FROM t
			ON CONFLICT (operation_key) DO NOTHING
			RETURNING account_id
		), o AS (`+outboxFromNotices(o, "$12", "$13", "$14")+`)
		SELECT (SELECT account_id::text FROM t ORDER BY account_id DESC LIMIT 1),
		       (SELECT count(*) FROM t), (SELECT count(*) FROM n), (SELECT count(*) FROM o)`, args...).
		Scan(&last, &res.Targeted, &res.Written, &res.Queued); err != nil {
		return res, err
	}
	res.Last = last.String
	return res, nil
}

// PlaceAnnouncementNotices places an announcement's notice on a page of
// users with one of the services open (all users when services is empty).
func PlaceAnnouncementNotices(ctx context.Context, q Q, page NoticePage, services []string, n BulkNotice) (PageCounts, error) {
	var res PageCounts
	args := append(page.args(), pq.Array(services), page.Limit, n.KeyPrefix,
		n.Kind, n.TitleZH, n.TitleEN, n.BodyZH, n.BodyEN)
	var last sql.NullString
	if err := q.QueryRowxContext(ctx, `
		WITH t AS (
			SELECT g.account_id FROM agreements g
			WHERE `+pageFilter+` AND `+ServicesFilter("$5")+`
			ORDER BY g.account_id LIMIT $6
		), n AS (
			INSERT INTO notices (id, operation_key, account_id, kind, title_zh, title_en, body_zh, body_en)
			SELECT gen_random_uuid(), $7 || t.account_id, t.account_id, $8, $9, $10, $11, $12 FROM t
			ON CONFLICT (operation_key) DO NOTHING
			RETURNING account_id
		)
		SELECT (SELECT account_id::text FROM t ORDER BY account_id DESC LIMIT 1),
		       (SELECT count(*) FROM t), (SELECT count(*) FROM n)`, args...).
		Scan(&last, &res.Targeted, &res.Written); err != nil {
		return res, err
	}
	res.Last = last.String
	return res, nil
}

// ServiceChangePage is what a page of a service change does beside the
// notice: on a retirement (Retire) it closes the service of each user
// once, with an audit row keyed AuditKeyPrefix || 'closed/' || account.
type ServiceChangePage struct {
	ServiceCode    string
	ChangeID       string
	Retire         bool
	AuditKeyPrefix string
}

// PlaceServiceChangeNotices places the notice of a change of a service on
// a page of users holding it, queues their messages (when o is given) and,
// on a retirement, closes the service.
func PlaceServiceChangeNotices(ctx context.Context, q Q, page NoticePage, ch ServiceChangePage, n BulkNotice, o *BulkOutbox) (PageCounts, error) {
	var res PageCounts
	args := append(page.args(), ch.ServiceCode, page.Limit, n.KeyPrefix, n.Kind,
		n.TitleZH, n.TitleEN, n.BodyZH, n.BodyEN, ch.AuditKeyPrefix, ch.Retire, ch.ChangeID)
	if o != nil {
		args = append(args, o.KeyPrefix, o.Source, o.Template)
	}
	var last sql.NullString
	if err := q.QueryRowxContext(ctx, `
		WITH t AS (
			SELECT g.account_id FROM agreements g
			WHERE `+pageFilter+` AND `+holdersFilter+`
			ORDER BY g.account_id LIMIT $6
		), c AS (
			UPDATE account_services s SET status = 'closed', closed_at = now(), sanction_hold = false
			FROM t WHERE $14 AND s.account_id = t.account_id AND s.service_code = $5 AND s.status <> 'closed'
			RETURNING s.account_id
		), ca AS (
			INSERT INTO audit_log (operation_key, actor_kind, action, record_kind, record_id, detail)
			SELECT $13 || 'closed/' || c.account_id, 'system', 'account.service_closed', 'account', c.account_id::text,
				jsonb_build_object('service', $5::text, 'change_id', $15::text, 'reason', 'service_retired')
			FROM c
			ON CONFLICT (operation_key) DO NOTHING
			RETURNING 1
		), n AS (
			INSERT INTO notices (id, operation_key, account_id, kind, title_zh, title_en, body_zh, body_en)
			SELECT gen_random_uuid(), $7 || t.account_id, t.account_id, $8, $9, $10, $11, $12 FROM t
			ON CONFLICT (operation_key) DO NOTHING
			RETURNING account_id
		), o AS (`+outboxFromNotices(o, "$16", "$17", "$18")+`)
		SELECT (SELECT account_id::text FROM t ORDER BY account_id DESC LIMIT 1),
		       (SELECT count(*) FROM t), (SELECT count(*) FROM n), (SELECT count(*) FROM o),
		       (SELECT count(*) FROM c) + 0 * (SELECT count(*) FROM ca)`, args...).
		Scan(&last, &res.Targeted, &res.Written, &res.Queued, &res.Closed); err != nil {
		return res, err
	}
	res.Last = last.String
	return res, nil
}

// PasswordAgeSweep is one page of the password-age reminder sweep: active
// accounts after After (nil: from the start) whose password is MaxAge
// seconds old at AsOf and who were not reminded within RemindEvery
// seconds, at most Limit. Detail is the audit rows' JSON detail.
type PasswordAgeSweep struct {
	SweepID     string
	AsOf        time.Time
	After       any
	MaxAge      int64
	RemindEvery int64
	Limit       int
	Detail      []byte
}

// PasswordAgeReminded is how far a sweep page got: the accounts due, those
// reminded, and the page's highest account ID.
type PasswordAgeReminded struct {
	Due      int     `db:"due"`
	Reminded int     `db:"reminded"`
	Last     *string `db:"last"`
}

// RemindOldPasswords reminds one page of accounts with one statement: it
// marks them, places their notices and appends their audit rows (keyed
// password-age/<account>/<sweep>). A retry finds them marked and moves on.
func RemindOldPasswords(ctx context.Context, q Q, in PasswordAgeSweep) (PasswordAgeReminded, error) {
	var row PasswordAgeReminded
	err := getOne(ctx, q, &row, `
			WITH due AS (
				SELECT id FROM accounts
				WHERE status = 'active' AND compromise_locked_at IS NULL
				  AND ($3::uuid IS NULL OR id > $3::uuid)
				  AND password_changed_at <= $2::timestamptz - $4 * interval '1 second'
				  AND (password_reminded_at IS NULL OR password_reminded_at < password_changed_at
				       OR password_reminded_at <= $2::timestamptz - $5 * interval '1 second')
				ORDER BY id LIMIT $6
				FOR UPDATE
			), marked AS (
				UPDATE accounts a SET password_reminded_at = $2 FROM due WHERE a.id = due.id
				RETURNING a.id, a.password_changed_at
			), placed AS (
				INSERT INTO notices (id, operation_key, account_id, kind, title_zh, title_en, body_zh, body_en)
				SELECT gen_random_uuid(), 'password-age/' || id || '/' || $1, id, 'password_age',
				       '建议您修改密码', 'We recommend changing your password',
				       '您的密码已使用 ' || extract(day FROM $2::timestamptz - password_changed_at)::int || ' 天。为保护账户安全，建议您定期更换密码。',
				       'Your password is ' || extract(day FROM $2::timestamptz - password_changed_at)::int || ' days old. Change it from time to time to keep your account safe.'
				FROM marked
				ON CONFLICT (operation_key) DO NOTHING
			), audited AS (
				INSERT INTO audit_log (operation_key, actor_kind, action, record_kind, record_id, detail)
				SELECT 'password-age/' || id || '/' || $1, 'system', 'password.age_reminder', 'account', id::text, $7::jsonb
				FROM marked
				ON CONFLICT (operation_key) DO NOTHING
			)
			SELECT (SELECT count(*) FROM due) AS due, (SELECT count(*) FROM marked) AS reminded,
			       (SELECT id::text FROM due ORDER BY id DESC LIMIT 1) AS last`,
		in.SweepID, in.AsOf, in.After, in.MaxAge, in.RemindEvery, in.Limit, in.Detail)
	return row, err
}
