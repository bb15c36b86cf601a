package activities

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"hrss-backoffice/internal/eligibility"
	"hrss-backoffice/internal/messages"
	"hrss-backoffice/store"
)

// Changes of the service catalogue users must be told about (C2.7): new
// eligibility rules or the retirement of a service. The API stores the
// change; the service-change workflow (the terms-campaign fan-out with the
// kind FanoutServiceChange) applies it once in BeginFanout, then pages
// through the users holding the service: an inbox notice and queued SMS /
// e-mail messages each, and on retirement the service closed for each of
// them in the same transaction as the notice, once (keyed by the change
// and the account).

// FanoutServiceChange is the fan-out kind of a service change.
const FanoutServiceChange = "service_change"

// ServiceChangeSource names a change's outbox messages and notice keys.
func ServiceChangeSource(id string) string { return "service-change/" + id }

type serviceChange struct {
	Code      string       `db:"service_code"`
	Kind      string       `db:"kind"`
	Rules     []byte       `db:"rules"`
	NoteZH    string       `db:"note_zh"`
	NoteEN    string       `db:"note_en"`
	CreatedBy string       `db:"created_by"`
	Applied   sql.NullTime `db:"applied_at"`
	Targeted  int64        `db:"users_targeted"`
	NameZH    string       `db:"name_zh"`
	NameEN    string       `db:"name_en"`
	Retired   sql.NullTime `db:"retired_at"`
}

func loadServiceChange(ctx context.Context, tx *sqlx.Tx, id string, lock bool) (serviceChange, error) {
	var ch serviceChange
	q := `SELECT c.service_code, c.kind, c.rules, c.note_zh, c.note_en, c.created_by, c.applied_at, c.users_targeted,
		s.name_zh, s.name_en, s.retired_at
		FROM service_changes c JOIN services s ON s.code = c.service_code WHERE c.id = $1`
	if lock {
		q += ` FOR UPDATE OF c, s`
	}
	if err := tx.GetContext(ctx, &ch, q, id); err != nil {
		if isNoRows(err) {
			return ch, conflictf("service change %s does not exist", id)
		}
		return ch, err
	}
	return ch, nil
}

// beginServiceChange applies the change to the catalogue once and counts
// the users it concerns.
func beginServiceChange(ctx context.Context, tx *sqlx.Tx, in BeginInput, res *BeginResult) error {
	ch, err := loadServiceChange(ctx, tx, in.Ref, true)
	if err != nil {
		return err
	}
	if ch.Applied.Valid {
		res.StartedAt, res.EffectiveAt, res.UsersTargeted = ch.Applied.Time.UTC(), ch.Applied.Time.UTC(), ch.Targeted
		return nil // applied before: a retry
	}
	if ch.Retired.Valid {
		return conflictf("service %s is retired", ch.Code)
	}
	if err := tx.GetContext(ctx, &res.UsersTargeted, `SELECT count(*) FROM agreements g
		WHERE (g.effective_until IS NULL OR g.effective_until > now()) AND `+
		`EXISTS (SELECT 1 FROM account_services s WHERE s.account_id = g.account_id AND s.service_code = $1 AND s.status <> 'closed')`,
		ch.Code); err != nil {
		return err
	}
	var now time.Time
	if err := tx.GetContext(ctx, &now, `UPDATE service_changes SET applied_at = now(), users_targeted = $2
		WHERE id = $1 RETURNING applied_at`, in.Ref, res.UsersTargeted); err != nil {
		return err
	}
	res.StartedAt, res.EffectiveAt = now.UTC(), now.UTC()
	action, detail := "service.retired", map[string]any{"change_id": in.Ref, "users_targeted": res.UsersTargeted}
	switch ch.Kind {
	case "retire":
		if _, err := tx.ExecContext(ctx, `UPDATE services SET active = false, retired_at = $2, updated_at = $2 WHERE code = $1`,
			ch.Code, now); err != nil {
			return err
		}
	case "rules":
		rules, err := eligibility.Decode(ch.Rules)
		if err != nil {
			return fmt.Errorf("rules of change %s: %w", in.Ref, err)
		}
		minAge, maxAge := eligibility.AgeBounds(rules)
		if _, err := tx.ExecContext(ctx, `UPDATE services SET rules = $2, min_age = $3, max_age = $4, updated_at = $5 WHERE code = $1`,
			ch.Code, ch.Rules, minAge, maxAge, now); err != nil {
			return err
		}
		action = "service.rules_changed"
		detail["rules"] = json.RawMessage(ch.Rules)
	default:
		return conflictf("unknown service change kind %q", ch.Kind)
	}
	return writeAudit(ctx, tx, AuditEntry{OperationKey: ServiceChangeSource(in.Ref) + "/applied", ActorKind: "staff",
		ActorID: ch.CreatedBy, Action: action, RecordKind: "service", RecordID: ch.Code, Detail: detail})
}

func serviceChangeTexts(ch serviceChange) (titleZH, titleEN, bodyZH, bodyEN string) {
	if ch.Kind == "retire" {
		titleZH = "服务「" + ch.NameZH + "」已停止提供"
		titleEN = "The service \"" + ch.NameEN + "\" has been retired"
		bodyZH = "该服务已对您关闭，无需另行申请。"
		bodyEN = "It is now closed for you; there is nothing you need to do."
	} else {
		titleZH = "服务「" + ch.NameZH + "」的办理条件已调整"
		titleEN = "The rules of the service \"" + ch.NameEN + "\" have changed"
		bodyZH = "您已开通的服务继续有效。新的办理条件请在服务目录中查看。"
		bodyEN = "Your service stays open. The new rules are shown in the service catalogue."
	}
	if ch.NoteZH != "" {
		bodyZH = ch.NoteZH + "\n" + bodyZH
	}
	if ch.NoteEN != "" {
		bodyEN = ch.NoteEN + "\n" + bodyEN
	}
	return
}

// serviceChangePage writes one page: for each user holding the service in
// the page, the notice (its messages follow at dispatch), and on retirement the
// service closed (once: a user whose service is closed is not selected
// again, and the notice's key is the change and the account).
func serviceChangePage(ctx context.Context, tx *sqlx.Tx, in PageInput, res *PageResult) error {
	ch, err := loadServiceChange(ctx, tx, in.Ref, false)
	if err != nil {
		return err
	}
	titleZH, titleEN, bodyZH, bodyEN := serviceChangeTexts(ch)
	// The messages are derived from the notices while the change
	// dispatches (serviceChangeDerivation).
	d := serviceChangeDerivation(in.Ref)
	counts, err := store.PlaceServiceChangeNotices(ctx, tx, noticePage(in),
		store.ServiceChangePage{ServiceCode: ch.Code, ChangeID: in.Ref, Retire: ch.Kind == "retire", AuditKeyPrefix: d.OutboxKeyPrefix},
		store.BulkNotice{KeyPrefix: d.NoticeKeyPrefix, Kind: "service_" + ch.Kind, TitleZH: titleZH, TitleEN: titleEN, BodyZH: bodyZH, BodyEN: bodyEN},
		nil)
	if err != nil {
		return err
	}
	res.Last, res.Targeted, res.Written, res.Queued = counts.Last, counts.Targeted, counts.Written, counts.Queued
	closed := counts.Closed
	if res.Written == 0 && res.Queued == 0 && closed == 0 {
		return nil
	}
	_, err = tx.ExecContext(ctx, `UPDATE service_changes SET notices_written = notices_written + $2,
		messages_queued = messages_queued + $3, services_closed = services_closed + $4 WHERE id = $1`,
		in.Ref, res.Written, res.Queued, closed)
	return err
}

// serviceChangeMessage is the SMS / e-mail message of a change.
func serviceChangeMessage(ctx context.Context, tx *sqlx.Tx, id string) (outboxMessage, error) {
	ch, err := loadServiceChange(ctx, tx, id, false)
	if err != nil {
		return outboxMessage{}, err
	}
	if ch.Kind == "retire" {
		return outboxMessage{Kind: messages.ServiceRetired, Params: []string{ch.NameZH}}, nil
	}
	return outboxMessage{Kind: messages.ServiceRules, Params: []string{ch.NameZH}}, nil
}

func setServiceChangeStatus(ctx context.Context, tx *sqlx.Tx, in StatusInput) error {
	if _, err := tx.ExecContext(ctx, `UPDATE service_changes SET status = $2,
		completed_at = CASE WHEN $2 = 'completed' THEN coalesce(completed_at, now()) END WHERE id = $1`, in.Ref, in.Status); err != nil {
		return err
	}
	return writeAudit(ctx, tx, AuditEntry{OperationKey: fmt.Sprintf("%s/status/%s/%d", ServiceChangeSource(in.Ref), in.Status, in.Seq),
		ActorKind: actorKindOf(in.Actor), ActorID: in.Actor, Action: "service_change." + in.Status, RecordKind: "service_change", RecordID: in.Ref})
}

// ServicePauseInput names an announced interruption (C2.7).
type ServicePauseInput struct {
	AnnouncementID string `json:"announcement_id"`
}

// BeginServicePause puts the announcement's services in the interrupted
// state when its window starts; run twice, it changes nothing.
func (a *Activities) BeginServicePause(ctx context.Context, in ServicePauseInput) (int, error) {
	var n int
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &n, `WITH p AS (
				INSERT INTO service_pauses (announcement_id, service_code, starts_at, ends_at, status)
				SELECT an.id, code, an.starts_at, an.ends_at, 'in_effect'
				FROM announcements an CROSS JOIN LATERAL unnest(an.services) AS code
				WHERE an.id = $1 AND an.kind = 'service_interruption'
				ON CONFLICT (announcement_id, service_code) DO NOTHING
				RETURNING 1)
			SELECT count(*) FROM p`, in.AnnouncementID); err != nil {
			return err
		}
		return writeAudit(ctx, tx, AuditEntry{OperationKey: AnnouncementSource(in.AnnouncementID) + "/pause-began", ActorKind: "system",
			Action: "announcement.services_paused", RecordKind: "announcement", RecordID: in.AnnouncementID,
			Detail: map[string]any{"services": n}})
	})
	return n, err
}

// EndServicePause gives the services their status back when the window
// ends; run twice, it changes nothing.
func (a *Activities) EndServicePause(ctx context.Context, in ServicePauseInput) (int, error) {
	var n int
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE service_pauses SET status = 'ended', ended_at = now()
			WHERE announcement_id = $1 AND status = 'in_effect'`, in.AnnouncementID)
		if err != nil {
			return err
		}
		rows, _ := res.RowsAffected()
		n = int(rows)
		return writeAudit(ctx, tx, AuditEntry{OperationKey: AnnouncementSource(in.AnnouncementID) + "/pause-ended", ActorKind: "system",
			Action: "announcement.services_resumed", RecordKind: "announcement", RecordID: in.AnnouncementID})
	})
	return n, err
}
