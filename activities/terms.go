package activities

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hrss-backoffice/store"
)

// Terms revision campaigns and announcements (C2.7, C3.5). The campaign
// workflow pages through the agreements by account-ID key range; each page
// is one transaction of set-based SQL: the inbox notices, the channel
// messages for the users who got a new notice, and the counters. A page run
// twice finds its notices by operation key and writes nothing again.

// Sources name the fan-outs in the outbox and the notice operation keys.
func TermsSource(version string) string   { return "terms/" + version }
func AnnouncementSource(id string) string { return "announcement/" + id }
func TermsNoticeKey(version, account string) string {
	return TermsSource(version) + "/notice/" + account
}

// Fan-out kinds.
const (
	FanoutTerms        = "terms"
	FanoutAnnouncement = "announcement"
)

// NoticeKindTermsRevision is the kind of a terms-revision notice.
const NoticeKindTermsRevision = "terms_revision"

// BeginInput starts a fan-out: a terms campaign (Ref = version) or an
// announcement (Ref = announcement ID).
type BeginInput struct {
	Kind        string `json:"kind"`
	Ref         string `json:"ref"`
	PublishedBy string `json:"published_by,omitempty"`
}

// BeginResult is the fan-out's fixed data.
type BeginResult struct {
	StartedAt     time.Time `json:"started_at"`
	EffectiveAt   time.Time `json:"effective_at,omitzero"`
	UsersTargeted int64     `json:"users_targeted"`
}

// BeginFanout publishes the terms version (or the announcement) once and
// creates its campaign record with the number of users it targets.
func (a *Activities) BeginFanout(ctx context.Context, in BeginInput) (BeginResult, error) {
	var res BeginResult
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		switch in.Kind {
		case FanoutTerms:
			return beginTerms(ctx, tx, in, &res)
		case FanoutAnnouncement:
			return beginAnnouncement(ctx, tx, in, &res)
		case FanoutServiceChange:
			return beginServiceChange(ctx, tx, in, &res)
		}
		return conflictf("unknown fan-out kind %q", in.Kind)
	})
	return res, err
}

func beginTerms(ctx context.Context, tx *sqlx.Tx, in BeginInput, res *BeginResult) error {
	var eff time.Time
	if err := tx.GetContext(ctx, &eff, `SELECT effective_at FROM terms_versions WHERE version = $1 FOR UPDATE`, in.Ref); err != nil {
		if isNoRows(err) {
			return conflictf("terms version %s does not exist", in.Ref)
		}
		return err
	}
	res.EffectiveAt = eff.UTC()
	err := tx.QueryRowxContext(ctx, `SELECT started_at, users_targeted FROM terms_campaigns WHERE terms_version = $1`, in.Ref).
		Scan(&res.StartedAt, &res.UsersTargeted)
	if err == nil {
		res.StartedAt = res.StartedAt.UTC()
		return nil // begun before: a retry
	}
	if !isNoRows(err) {
		return err
	}
	newer, err := notOlderVersions(ctx, tx, in.Ref)
	if err != nil {
		return err
	}
	if err := tx.GetContext(ctx, &res.UsersTargeted, `SELECT count(*) FROM agreements
		WHERE (effective_until IS NULL OR effective_until > now()) AND terms_version <> ALL($1)`, pq.Array(newer)); err != nil {
		return err
	}
	if err := tx.GetContext(ctx, &res.StartedAt, `INSERT INTO terms_campaigns (terms_version, published_by, users_targeted)
		VALUES ($1, $2, $3) RETURNING started_at`, in.Ref, nullString(in.PublishedBy), res.UsersTargeted); err != nil {
		return err
	}
	res.StartedAt = res.StartedAt.UTC()
	if _, err := tx.ExecContext(ctx, `UPDATE terms_versions SET published_at = coalesce(published_at, $2) WHERE version = $1`,
		in.Ref, res.StartedAt); err != nil {
		return err
	}
	return writeAudit(ctx, tx, AuditEntry{OperationKey: TermsSource(in.Ref) + "/published", ActorKind: actorKindOf(in.PublishedBy),
		ActorID: in.PublishedBy, Action: "terms.published", RecordKind: "terms", RecordID: in.Ref,
		Detail: map[string]any{"users_targeted": res.UsersTargeted, "effective_at": res.EffectiveAt}})
}

func beginAnnouncement(ctx context.Context, tx *sqlx.Tx, in BeginInput, res *BeginResult) error {
	var row struct {
		Published sql.NullTime   `db:"published_at"`
		Targeted  int64          `db:"users_targeted"`
		Services  pq.StringArray `db:"services"`
		StartsAt  time.Time      `db:"starts_at"`
		CreatedBy string         `db:"created_by"`
	}
	if err := tx.GetContext(ctx, &row, `SELECT published_at, users_targeted, services, starts_at, created_by
		FROM announcements WHERE id = $1 FOR UPDATE`, in.Ref); err != nil {
		if isNoRows(err) {
			return conflictf("announcement %s does not exist", in.Ref)
		}
		return err
	}
	res.EffectiveAt = row.StartsAt.UTC()
	if row.Published.Valid {
		res.StartedAt, res.UsersTargeted = row.Published.Time.UTC(), row.Targeted
		return nil
	}
	if err := tx.GetContext(ctx, &res.UsersTargeted, `SELECT count(*) FROM agreements g
		WHERE (g.effective_until IS NULL OR g.effective_until > now()) AND `+store.ServicesFilter("$1"), pq.Array([]string(row.Services))); err != nil {
		return err
	}
	if err := tx.GetContext(ctx, &res.StartedAt, `UPDATE announcements SET published_at = now(), users_targeted = $2
		WHERE id = $1 RETURNING published_at`, in.Ref, res.UsersTargeted); err != nil {
		return err
	}
	res.StartedAt = res.StartedAt.UTC()
	return writeAudit(ctx, tx, AuditEntry{OperationKey: AnnouncementSource(in.Ref) + "/published", ActorKind: "staff",
		ActorID: row.CreatedBy, Action: "announcement.published", RecordKind: "announcement", RecordID: in.Ref,
		Detail: map[string]any{"users_targeted": res.UsersTargeted, "services": []string(row.Services)}})
}

func actorKindOf(staffID string) string {
	if staffID == "" {
		return "system"
	}
	return "staff"
}

// notOlderVersions lists the version itself and every version effective at
// the same time or later: agreements on these are not targeted.
func notOlderVersions(ctx context.Context, q sqlx.QueryerContext, version string) ([]string, error) {
	var out []string
	err := sqlx.SelectContext(ctx, q, &out, `SELECT v.version FROM terms_versions v, terms_versions t
		WHERE t.version = $1 AND (v.effective_at >= t.effective_at OR v.version = t.version)`, version)
	return out, err
}

// PageInput is one page of a fan-out: agreements with account IDs in
// [Lo, Hi) after After, at most Limit of them. Since, when set, limits the
// page to agreements that began at or after it (the catch-up of users
// approved on an older version while the campaign ran).
type PageInput struct {
	Kind  string    `json:"kind"`
	Ref   string    `json:"ref"`
	Lo    string    `json:"lo"`
	Hi    string    `json:"hi,omitempty"`
	After string    `json:"after,omitempty"`
	Limit int       `json:"limit"`
	Since time.Time `json:"since,omitzero"`
}

// PageResult says how far the page got. Last is the page's highest account
// ID (the next page starts after it); Done means the range is exhausted.
type PageResult struct {
	Last     string `json:"last,omitempty"`
	Targeted int    `json:"targeted"`
	Written  int    `json:"written"`
	Queued   int    `json:"queued"`
	Done     bool   `json:"done"`
}

// WriteNoticePage writes one page of inbox notices (and, for terms, the
// queued channel messages of the users who got a new notice).
func (a *Activities) WriteNoticePage(ctx context.Context, in PageInput) (PageResult, error) {
	if in.Limit <= 0 {
		return PageResult{}, conflictf("page limit must be positive")
	}
	var res PageResult
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		switch in.Kind {
		case FanoutTerms:
			err = termsPage(ctx, tx, in, &res)
		case FanoutAnnouncement:
			err = announcementPage(ctx, tx, in, &res)
		case FanoutServiceChange:
			err = serviceChangePage(ctx, tx, in, &res)
		default:
			err = conflictf("unknown fan-out kind %q", in.Kind)
		}
		if err != nil {
			return err
		}
		res.Done = res.Targeted < in.Limit
		return nil
	})
	return res, err
}

// noticePage is the page of agreements a fan-out page covers.
func noticePage(in PageInput) store.NoticePage {
	return store.NoticePage{Lo: in.Lo, Hi: in.Hi, After: in.After, Since: in.Since, Limit: in.Limit}
}

func termsPage(ctx context.Context, tx *sqlx.Tx, in PageInput, res *PageResult) error {
	var tv struct {
		Title       string    `db:"title"`
		EffectiveAt time.Time `db:"effective_at"`
	}
	if err := tx.GetContext(ctx, &tv, `SELECT title, effective_at FROM terms_versions WHERE version = $1`, in.Ref); err != nil {
		if isNoRows(err) {
			return conflictf("terms version %s does not exist", in.Ref)
		}
		return err
	}
	notOlder, err := notOlderVersions(ctx, tx, in.Ref)
	if err != nil {
		return err
	}
	eff := tv.EffectiveAt.In(shanghai).Format("2006-01-02 15:04")
	titleZH := "用户承诺书已修订（版本 " + in.Ref + "）"
	titleEN := "The user agreement has been revised (version " + in.Ref + ")"
	bodyZH := "修订后的承诺书自 " + eff + "（北京时间）起生效。请阅读修订内容，并选择接受或拒绝；生效后继续使用网站服务即视为接受。"
	bodyEN := "The revised agreement takes effect on " + eff + " (Beijing time). Read it, then accept or reject it; using the services after that date counts as acceptance."
	// The first sweep's messages are derived from its notices while the
	// campaign dispatches (termsDerivation); a catch-up page queues its
	// few users' messages at once.
	var outbox *store.BulkOutbox
	if !in.Since.IsZero() {
		d := termsDerivation(in.Ref)
		outbox = &store.BulkOutbox{KeyPrefix: d.OutboxKeyPrefix, Source: d.Source, Template: d.Template}
	}
	counts, err := store.PlaceTermsNotices(ctx, tx, noticePage(in), notOlder,
		store.BulkNotice{KeyPrefix: termsDerivation(in.Ref).NoticeKeyPrefix, TitleZH: titleZH, TitleEN: titleEN, BodyZH: bodyZH, BodyEN: bodyEN},
		outbox)
	if err != nil {
		return err
	}
	res.Last, res.Targeted, res.Written, res.Queued = counts.Last, counts.Targeted, counts.Written, counts.Queued
	if res.Written == 0 && res.Queued == 0 {
		return nil
	}
	// Counters grow in the same transaction as the rows they count.
	extra := 0
	if !in.Since.IsZero() {
		extra = res.Written // a catch-up adds users the snapshot did not count
	}
	_, err = tx.ExecContext(ctx, `UPDATE terms_campaigns SET notices_written = notices_written + $2,
		messages_queued = messages_queued + $3, users_targeted = users_targeted + $4 WHERE terms_version = $1`,
		in.Ref, res.Written, res.Queued, extra)
	return err
}

func announcementPage(ctx context.Context, tx *sqlx.Tx, in PageInput, res *PageResult) error {
	var an struct {
		Kind     string         `db:"kind"`
		TitleZH  string         `db:"title_zh"`
		TitleEN  string         `db:"title_en"`
		BodyZH   string         `db:"body_zh"`
		BodyEN   string         `db:"body_en"`
		Services pq.StringArray `db:"services"`
	}
	if err := tx.GetContext(ctx, &an, `SELECT kind, title_zh, title_en, body_zh, body_en, services FROM announcements WHERE id = $1`, in.Ref); err != nil {
		if isNoRows(err) {
			return conflictf("announcement %s does not exist", in.Ref)
		}
		return err
	}
	counts, err := store.PlaceAnnouncementNotices(ctx, tx, noticePage(in), []string(an.Services),
		store.BulkNotice{KeyPrefix: AnnouncementSource(in.Ref) + "/notice/", Kind: "announcement_" + an.Kind,
			TitleZH: an.TitleZH, TitleEN: an.TitleEN, BodyZH: an.BodyZH, BodyEN: an.BodyEN})
	if err != nil {
		return err
	}
	res.Last, res.Targeted, res.Written = counts.Last, counts.Targeted, counts.Written
	if res.Written == 0 {
		return nil
	}
	_, err = tx.ExecContext(ctx, `UPDATE announcements SET notices_written = notices_written + $2 WHERE id = $1`, in.Ref, res.Written)
	return err
}

// termsDerivation: every notice of a terms revision gets an SMS and an
// e-mail (where the person gave one).
func termsDerivation(version string) store.OutboxDerivation {
	return store.OutboxDerivation{Source: TermsSource(version), NoticeKeyPrefix: TermsSource(version) + "/notice/",
		OutboxKeyPrefix: TermsSource(version) + "/", Template: "terms_revision:" + version, CampaignKind: "terms", CampaignRef: version}
}

// serviceChangeDerivation: likewise for the holders of a changed service.
func serviceChangeDerivation(id string) store.OutboxDerivation {
	src := ServiceChangeSource(id)
	return store.OutboxDerivation{Source: src, NoticeKeyPrefix: src + "/notice/", OutboxKeyPrefix: src + "/",
		Template: "service_change:" + id, CampaignKind: "service_change", CampaignRef: id}
}

// MarkSweepDone records that every inbox notice of the first pass is
// durable (the benchmark's end point) and plans the derivation of the
// campaign's channel messages from those notices, which its dispatch
// carries out (store.DeriveOutbox).
func (a *Activities) MarkSweepDone(ctx context.Context, in BeginInput) error {
	var d store.OutboxDerivation
	switch in.Kind {
	case FanoutTerms:
		d = termsDerivation(in.Ref)
	case FanoutServiceChange:
		d = serviceChangeDerivation(in.Ref)
	default:
		return nil // announcements reach the inbox only
	}
	return a.inTx(ctx, func(tx *sqlx.Tx) error {
		if in.Kind == FanoutTerms {
			if _, err := tx.ExecContext(ctx, `UPDATE terms_campaigns SET sweep_done_at = coalesce(sweep_done_at, now()) WHERE terms_version = $1`, in.Ref); err != nil {
				return err
			}
		}
		return store.PlanOutboxDerivation(ctx, tx, d)
	})
}

// StatusInput sets the campaign record's status (running, paused,
// completed).
type StatusInput struct {
	Kind   string `json:"kind"`
	Ref    string `json:"ref"`
	Status string `json:"status"`
	Actor  string `json:"actor,omitempty"` // staff ID for pause and resume
	Seq    int    `json:"seq"`             // distinguishes repeated pauses in the audit log
}

// SetFanoutStatus records a campaign's status change once.
func (a *Activities) SetFanoutStatus(ctx context.Context, in StatusInput) error {
	switch in.Status {
	case "running", "paused", "completed":
	default:
		return conflictf("unknown campaign status %q", in.Status)
	}
	return a.inTx(ctx, func(tx *sqlx.Tx) error {
		if in.Kind == FanoutServiceChange {
			return setServiceChangeStatus(ctx, tx, in)
		}
		if in.Kind == FanoutAnnouncement {
			if in.Status == "completed" {
				if _, err := tx.ExecContext(ctx, `UPDATE announcements SET completed_at = coalesce(completed_at, now()) WHERE id = $1`, in.Ref); err != nil {
					return err
				}
			}
			return writeAudit(ctx, tx, AuditEntry{OperationKey: fmt.Sprintf("%s/status/%s/%d", AnnouncementSource(in.Ref), in.Status, in.Seq),
				ActorKind: actorKindOf(in.Actor), ActorID: in.Actor, Action: "announcement." + in.Status, RecordKind: "announcement", RecordID: in.Ref})
		}
		if _, err := tx.ExecContext(ctx, `UPDATE terms_campaigns SET status = $2,
			completed_at = CASE WHEN $2 = 'completed' THEN coalesce(completed_at, now()) END WHERE terms_version = $1`, in.Ref, in.Status); err != nil {
			return err
		}
		return writeAudit(ctx, tx, AuditEntry{OperationKey: fmt.Sprintf("%s/status/%s/%d", TermsSource(in.Ref), in.Status, in.Seq),
			ActorKind: actorKindOf(in.Actor), ActorID: in.Actor, Action: "terms_campaign." + in.Status, RecordKind: "terms", RecordID: in.Ref})
	})
}

// OpenOlderApplications counts open registration applications that agreed
// to a version older than this one: once approved, their agreements need
// the campaign's notice, so the campaign keeps catching up until none is
// left.
func (a *Activities) OpenOlderApplications(ctx context.Context, version string) (int, error) {
	notOlder, err := notOlderVersions(ctx, a.DB, version)
	if err != nil {
		return 0, err
	}
	var n int
	err = a.DB.GetContext(ctx, &n, `SELECT count(*) FROM applications
		WHERE status IN ('submitted', 'pending', 'info_requested') AND terms_version <> ALL($1)`, pq.Array(notOlder))
	return n, err
}
