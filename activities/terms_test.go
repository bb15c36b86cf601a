package activities_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/store"
)

// draftVersion adds an unpublished terms version effective at eff.
func draftVersion(t *testing.T, db *sqlx.DB, version string, eff time.Time) {
	_, err := db.Exec(`INSERT INTO terms_versions (version, title, body, summary, effective_at) VALUES ($1, '承诺书', '正文', '修订摘要', $2)`, version, eff)
	require.NoError(t, err)
}

func seed(t *testing.T, db *sqlx.DB, n int, o testenv.SeedOptions) {
	require.NoError(t, testenv.SeedUsers(context.Background(), db, n, o))
}

// campaignSnapshot counts every row a page or a dispatch writes.
func campaignSnapshot(t *testing.T, db *sqlx.DB) map[string]int {
	out := map[string]int{}
	for name, q := range map[string]string{
		"notices":  `SELECT count(*) FROM notices`,
		"outbox":   `SELECT count(*) FROM notification_outbox`,
		"sent":     `SELECT count(*) FROM notification_outbox WHERE status = 'sent'`,
		"log":      `SELECT count(*) FROM notification_log`,
		"audit":    `SELECT count(*) FROM audit_log`,
		"written":  `SELECT coalesce(sum(notices_written), 0) FROM terms_campaigns`,
		"queued":   `SELECT coalesce(sum(messages_queued), 0) FROM terms_campaigns`,
		"targeted": `SELECT coalesce(sum(users_targeted), 0) FROM terms_campaigns`,
		"counts":   `SELECT coalesce(sum(n), 0) FROM notification_counts`,
	} {
		out[name] = count(t, db, q)
	}
	return out
}

// deriveAll ends a campaign's sweep (planning the derivation of its
// channel messages) and queues every message at once, as its dispatch
// would batch by batch.
func deriveAll(t *testing.T, acts *activities.Activities, db *sqlx.DB, in activities.BeginInput) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, acts.MarkSweepDone(ctx, in))
	src := activities.TermsSource(in.Ref)
	if in.Kind == activities.FanoutServiceChange {
		src = activities.ServiceChangeSource(in.Ref)
	}
	for {
		d, err := store.DeriveOutbox(ctx, db, src, 1<<20)
		require.NoError(t, err)
		if !d.Open {
			return
		}
	}
}

// C2.7: a page writes one inbox notice per targeted user in one
// transaction; run twice, it writes nothing the second time. Users already
// on the new version are not targeted. Beginning twice publishes once. The
// SMS (everyone) and e-mail (who has one) are derived from the notices
// while the campaign dispatches, batch by batch, each message once.
func TestNoticePageIsIdempotent_C2_7(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	seed(t, db, 300, testenv.SeedOptions{EmailEvery: 3})
	draftVersion(t, db, "2026-07", time.Now().Add(24*time.Hour))
	seed(t, db, 20, testenv.SeedOptions{TermsVersion: "2026-07", Prefix: "N"}) // registered on the new version

	begin := activities.BeginInput{Kind: activities.FanoutTerms, Ref: "2026-07"}
	b1, err := acts.BeginFanout(ctx, begin)
	require.NoError(t, err)
	require.EqualValues(t, 300, b1.UsersTargeted)
	b2, err := acts.BeginFanout(ctx, begin)
	require.NoError(t, err)
	require.Equal(t, b1, b2)
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'terms.published'`))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM terms_versions WHERE version = '2026-07' AND published_at IS NOT NULL`))

	page := activities.PageInput{Kind: activities.FanoutTerms, Ref: "2026-07", Lo: "00000000-0000-0000-0000-000000000000", Limit: 1000}
	r1, err := acts.WriteNoticePage(ctx, page)
	require.NoError(t, err)
	require.Equal(t, activities.PageResult{Last: r1.Last, Targeted: 300, Written: 300, Done: true}, r1)
	before := campaignSnapshot(t, db)
	require.Equal(t, 300, before["notices"])
	require.Zero(t, before["outbox"], "the sweep writes the notices only")
	require.Equal(t, 300, before["written"])
	require.Equal(t, 0, count(t, db, `SELECT count(*) FROM notices n JOIN agreements g ON g.account_id = n.account_id WHERE g.terms_version = '2026-07'`))

	r2, err := acts.WriteNoticePage(ctx, page)
	require.NoError(t, err)
	require.Equal(t, 300, r2.Targeted)
	require.Zero(t, r2.Written)
	require.Zero(t, r2.Queued)
	require.Equal(t, before, campaignSnapshot(t, db))

	// Dispatching before the sweep is done derives nothing.
	src := activities.TermsSource("2026-07")
	d, err := acts.DispatchOutbox(ctx, activities.DispatchInput{Source: src, Batch: 120})
	require.NoError(t, err)
	require.Equal(t, activities.DispatchResult{}, d)

	// Once it is, each dispatch tops the queue up from the notices (at most
	// a batch of accounts, and only while fewer than a batch of messages
	// wait) until every notice has its messages.
	require.NoError(t, acts.MarkSweepDone(ctx, begin))
	require.NoError(t, acts.MarkSweepDone(ctx, begin), "planned once")
	queued, sent, dispatches := 0, 0, 0
	for {
		d, err := acts.DispatchOutbox(ctx, activities.DispatchInput{Source: src, Batch: 120})
		require.NoError(t, err)
		dispatches++
		require.LessOrEqual(t, d.Queued, 2*120, "at most a batch of accounts per dispatch")
		queued, sent = queued+d.Queued, sent+d.Sent
		if d.Pending == 0 && !d.Underived {
			break
		}
		require.Less(t, dispatches, 20)
	}
	require.Equal(t, 400, queued)
	require.Equal(t, 400, sent)
	after := campaignSnapshot(t, db)
	require.Equal(t, 400, after["outbox"])
	require.Equal(t, 400, after["sent"])
	require.Equal(t, 400, after["log"])
	require.Equal(t, 400, after["queued"], "the campaign's counter grows with the derived messages")
	require.Equal(t, 400, count(t, db, `SELECT count(DISTINCT (account_id, channel)) FROM notification_outbox`))

	// Derived to the end, nothing more is queued or sent.
	d, err = acts.DispatchOutbox(ctx, activities.DispatchInput{Source: src, Batch: 120})
	require.NoError(t, err)
	require.Equal(t, activities.DispatchResult{}, d)
	require.Equal(t, after, campaignSnapshot(t, db))
}

// begunCampaign seeds users (every emailEvery-th with an e-mail address),
// drafts terms version 2026-07 in force in an hour and begins its campaign.
func begunCampaign(t *testing.T, acts *activities.Activities, db *sqlx.DB, users, emailEvery int) activities.BeginInput {
	t.Helper()
	seed(t, db, users, testenv.SeedOptions{EmailEvery: emailEvery})
	draftVersion(t, db, "2026-07", time.Now().Add(time.Hour))
	begin := activities.BeginInput{Kind: activities.FanoutTerms, Ref: "2026-07"}
	_, err := acts.BeginFanout(context.Background(), begin)
	require.NoError(t, err)
	return begin
}

// C2.7: while a provider is down, the failed messages waiting for their
// next attempt do not hold the derivation up: each dispatch derives or
// sends a batch, every notice gets its messages, and once all are derived
// the dispatch waits for the retries (NextIn) instead of running again at
// once.
func TestDerivationGoesOnWhileAProviderIsDown_C2_7(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	begin := begunCampaign(t, acts, db, 300, 3)
	_, err := acts.WriteNoticePage(ctx, activities.PageInput{Kind: activities.FanoutTerms, Ref: "2026-07",
		Lo: "00000000-0000-0000-0000-000000000000", Limit: 1000})
	require.NoError(t, err)
	require.NoError(t, acts.MarkSweepDone(ctx, begin))
	defer activities.SetSender("sms", flakySender{fail: true})()
	defer activities.SetSender("email", flakySender{fail: true})()
	src := activities.TermsSource("2026-07")
	var last activities.DispatchResult
	dispatches := 0
	for {
		last, err = acts.DispatchOutbox(ctx, activities.DispatchInput{Source: src, Batch: 50})
		require.NoError(t, err)
		dispatches++
		if !last.Underived && last.NextIn > 0 {
			break
		}
		require.Less(t, dispatches, 20, "each dispatch derives or sends while every send fails")
	}
	require.Equal(t, 400, count(t, db, `SELECT count(*) FROM notification_outbox WHERE source = $1`, src))
	require.Equal(t, 400, count(t, db, `SELECT count(*) FROM notification_outbox WHERE source = $1 AND status = 'failed'`, src))
	require.Positive(t, last.Pending)
	require.Positive(t, last.NextIn, "all derived: the campaign sleeps until the retries are due")
}

// C2.7: messages queued before the derivation reached them (by a catch-up
// page, or by a sweep of the code before the derivation) are not queued a
// second time, and a derivation step that rolls back leaves its cursor
// where it was.
func TestDerivationQueuesEachMessageOnce_C2_7(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	begin := begunCampaign(t, acts, db, 50, 5)
	// A catch-up page (Since set) queues its users' messages at once: here
	// it reaches everyone, as an older sweep did.
	r, err := acts.WriteNoticePage(ctx, activities.PageInput{Kind: activities.FanoutTerms, Ref: "2026-07",
		Lo: "00000000-0000-0000-0000-000000000000", Limit: 20, Since: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.Equal(t, 20, r.Written)
	early := r.Queued // 20 SMS and the e-mails of those who gave an address
	require.GreaterOrEqual(t, early, 20)
	_, err = acts.WriteNoticePage(ctx, activities.PageInput{Kind: activities.FanoutTerms, Ref: "2026-07",
		Lo: "00000000-0000-0000-0000-000000000000", After: r.Last, Limit: 100})
	require.NoError(t, err)
	require.NoError(t, acts.MarkSweepDone(ctx, begin))

	src := activities.TermsSource("2026-07")
	tx, err := db.BeginTxx(ctx, nil)
	require.NoError(t, err)
	d, err := store.DeriveOutbox(ctx, tx, src, 30)
	require.NoError(t, err)
	require.True(t, d.Open)
	require.NoError(t, tx.Rollback())
	require.Equal(t, early, count(t, db, `SELECT count(*) FROM notification_outbox`))
	require.Zero(t, count(t, db, `SELECT derived FROM outbox_derivations WHERE source = $1`, src))

	deriveAll(t, acts, db, begin)
	require.Equal(t, 60, count(t, db, `SELECT count(*) FROM notification_outbox`)) // 50 SMS, 10 e-mail
	require.Equal(t, 60-early, count(t, db, `SELECT derived FROM outbox_derivations WHERE source = $1`, src))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM outbox_derivations WHERE source = $1 AND done_at IS NOT NULL`, src))
}

// C2.7: pages by key range with a limit visit every user once across
// shards, and the catch-up filter finds only agreements begun since.
func TestNoticePagesCoverKeyRangesOnce_C2_7(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	begunCampaign(t, acts, db, 250, 0)
	bounds := []string{"00000000-0000-0000-0000-000000000000", "55555555-0000-0000-0000-000000000000", "aaaaaaaa-0000-0000-0000-000000000000", ""}
	pages, total := 0, 0
	for i := 0; i < 3; i++ {
		after := ""
		for {
			r, err := acts.WriteNoticePage(ctx, activities.PageInput{Kind: activities.FanoutTerms, Ref: "2026-07",
				Lo: bounds[i], Hi: bounds[i+1], After: after, Limit: 30})
			require.NoError(t, err)
			pages++
			total += r.Written
			require.Equal(t, r.Targeted, r.Written, "no user is visited twice")
			if r.Done {
				break
			}
			after = r.Last
		}
	}
	require.Equal(t, 250, total)
	require.Equal(t, 250, count(t, db, `SELECT count(DISTINCT account_id) FROM notices WHERE kind = 'terms_revision'`))
	require.GreaterOrEqual(t, pages, 250/30)

	// A user approved on the old version after the campaign started is
	// found by the catch-up filter, and only that user.
	since := time.Now()
	seed(t, db, 1, testenv.SeedOptions{Prefix: "L"})
	_, err := db.Exec(`UPDATE agreements SET effective_from = now() WHERE account_id IN
		(SELECT a.id FROM accounts a WHERE a.username LIKE 'L%')`)
	require.NoError(t, err)
	r, err := acts.WriteNoticePage(ctx, activities.PageInput{Kind: activities.FanoutTerms, Ref: "2026-07",
		Lo: bounds[0], Limit: 30, Since: since})
	require.NoError(t, err)
	require.Equal(t, 1, r.Targeted)
	require.Equal(t, 1, r.Written)
	require.Equal(t, 251, count(t, db, `SELECT users_targeted FROM terms_campaigns`), "a catch-up adds to the users targeted")
}

type flakySender struct{ fail bool }

func (flakySender) Name() string { return "flaky" }
func (f flakySender) Send(_ context.Context, msgs []activities.Message) []error {
	errs := make([]error, len(msgs))
	for i := range errs {
		if f.fail {
			errs[i] = errors.New("gateway timeout")
		}
	}
	return errs
}

// C2.7: the outbox sends through the channel's sender and logs every
// attempt; a failed message is retried with backoff and abandoned after
// its maximum attempts; a sent message is never sent again.
func TestOutboxRetriesWithBackoffThenAbandons_C2_7(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	begunCampaign(t, acts, db, 10, 2)
	_, err := acts.WriteNoticePage(ctx, activities.PageInput{Kind: activities.FanoutTerms, Ref: "2026-07", Lo: "00000000-0000-0000-0000-000000000000", Limit: 100})
	require.NoError(t, err)
	deriveAll(t, acts, db, activities.BeginInput{Kind: activities.FanoutTerms, Ref: "2026-07"})
	require.Equal(t, 15, count(t, db, `SELECT count(*) FROM notification_outbox`))

	defer activities.SetSender("sms", flakySender{fail: true})()
	src := activities.TermsSource("2026-07")
	r, err := acts.DispatchOutbox(ctx, activities.DispatchInput{Source: src, Batch: 100})
	require.NoError(t, err)
	require.Equal(t, 5, r.Sent)    // e-mail, default log sender
	require.Equal(t, 10, r.Failed) // SMS
	require.Equal(t, 10, r.Pending)
	require.InDelta(t, activities.RetryBackoff.Seconds(), r.NextIn.Seconds(), 2)
	require.Equal(t, 15, count(t, db, `SELECT count(*) FROM notification_log`))
	require.Equal(t, 5, count(t, db, `SELECT count(*) FROM notification_log WHERE sender = 'log' AND channel = 'email' AND address LIKE '%@example.cn' AND text LIKE '%2026-07%'`))

	// Nothing is due yet: a second dispatch sends nothing.
	before := campaignSnapshot(t, db)
	r, err = acts.DispatchOutbox(ctx, activities.DispatchInput{Source: src, Batch: 100})
	require.NoError(t, err)
	require.Zero(t, r.Sent+r.Failed+r.Abandoned)
	require.Equal(t, before, campaignSnapshot(t, db))

	// The backoff doubles; after the fifth attempt the message is abandoned.
	var prevGap float64
	for attempt := 2; attempt <= 5; attempt++ {
		var gap float64
		require.NoError(t, db.Get(&gap, `SELECT max(extract(epoch FROM next_attempt_at - now())) FROM notification_outbox WHERE status = 'failed'`))
		require.Greater(t, gap, prevGap)
		prevGap = gap
		_, err = db.Exec(`UPDATE notification_outbox SET next_attempt_at = now() WHERE status = 'failed'`)
		require.NoError(t, err)
		r, err = acts.DispatchOutbox(ctx, activities.DispatchInput{Source: src, Batch: 100})
		require.NoError(t, err)
	}
	require.Equal(t, 10, r.Abandoned)
	require.Zero(t, r.Pending)
	require.Equal(t, 10, count(t, db, `SELECT count(*) FROM notification_outbox WHERE status = 'abandoned' AND attempts = 5`))
	require.Equal(t, 5, count(t, db, `SELECT count(*) FROM notification_outbox WHERE status = 'sent' AND attempts = 1`))
	require.Equal(t, 5+50, count(t, db, `SELECT count(*) FROM notification_log`))
	require.Equal(t, 10, count(t, db, `SELECT n FROM notification_counts WHERE source = $1 AND status = 'abandoned'`, src))
}

// C2.7: an announcement reaches the users of the given services only,
// once, and is published once.
func TestAnnouncementPageTargetsServiceUsers_C2_7(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	seed(t, db, 60, testenv.SeedOptions{Services: []string{"pension_claim"}, ServicesEvery: 4})
	admin := staffID(t, db)
	id := "7d1c8a52-0000-4000-8000-000000000001"
	_, err := db.Exec(`INSERT INTO announcements (id, kind, title_zh, title_en, services, starts_at, ends_at, created_by)
		VALUES ($1, 'service_interruption', '系统维护', 'Maintenance', '{pension_claim}', now() + interval '1 day', now() + interval '2 days', $2)`, id, admin)
	require.NoError(t, err)
	in := activities.BeginInput{Kind: activities.FanoutAnnouncement, Ref: id}
	b, err := acts.BeginFanout(ctx, in)
	require.NoError(t, err)
	require.EqualValues(t, 15, b.UsersTargeted)
	page := activities.PageInput{Kind: activities.FanoutAnnouncement, Ref: id, Lo: "00000000-0000-0000-0000-000000000000", Limit: 100}
	r, err := acts.WriteNoticePage(ctx, page)
	require.NoError(t, err)
	require.Equal(t, 15, r.Written)
	r, err = acts.WriteNoticePage(ctx, page)
	require.NoError(t, err)
	require.Zero(t, r.Written)
	require.Equal(t, 15, count(t, db, `SELECT count(*) FROM notices WHERE kind = 'announcement_service_interruption'`))
	require.Equal(t, 15, count(t, db, `SELECT notices_written FROM announcements WHERE id = $1`, id))
	require.Zero(t, count(t, db, `SELECT count(*) FROM notification_outbox`))
}

// C3.5: the campaign keeps catching up while an application that agreed
// to an older version is open.
func TestOpenOlderApplicationsCounted_C3_5(t *testing.T) {
	acts, db := newActivities(t)
	draftVersion(t, db, "2026-07", time.Now().Add(-time.Minute))
	submit(t, db, idNumber("19900101", "123"), "13900000001")
	n, err := acts.OpenOlderApplications(context.Background(), "2026-07")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = acts.OpenOlderApplications(context.Background(), "2026-01")
	require.NoError(t, err)
	require.Zero(t, n)
}

// permanentSender refuses every message for good (a bad number, a refused
// template): the provider's final answer.
type permanentSender struct{}

func (permanentSender) Name() string { return "refusing" }
func (permanentSender) Send(_ context.Context, msgs []activities.Message) []error {
	errs := make([]error, len(msgs))
	for i := range errs {
		errs[i] = activities.PermanentError{Err: errors.New("InvalidParameterValue.IncorrectPhoneNumber")}
	}
	return errs
}

// Issue 18, C2.7: a provider's final refusal abandons the message at once
// with the reason, without further attempts; nothing is sent twice.
func TestOutboxAbandonsAtOnceOnFinalRefusal_C2_7(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	seed(t, db, 4, testenv.SeedOptions{})
	draftVersion(t, db, "2026-08", time.Now().Add(time.Hour))
	_, err := acts.BeginFanout(ctx, activities.BeginInput{Kind: activities.FanoutTerms, Ref: "2026-08"})
	require.NoError(t, err)
	_, err = acts.WriteNoticePage(ctx, activities.PageInput{Kind: activities.FanoutTerms, Ref: "2026-08", Lo: "00000000-0000-0000-0000-000000000000", Limit: 100})
	require.NoError(t, err)
	require.NoError(t, acts.MarkSweepDone(ctx, activities.BeginInput{Kind: activities.FanoutTerms, Ref: "2026-08"}))
	defer activities.SetSender("sms", permanentSender{})()
	src := activities.TermsSource("2026-08")
	r, err := acts.DispatchOutbox(ctx, activities.DispatchInput{Source: src, Batch: 100})
	require.NoError(t, err)
	require.Equal(t, 4, r.Abandoned)
	require.Zero(t, r.Pending)
	require.Equal(t, 4, count(t, db, `SELECT count(*) FROM notification_outbox WHERE status = 'abandoned' AND attempts = 1
		AND last_error LIKE '%IncorrectPhoneNumber%'`))
	r, err = acts.DispatchOutbox(ctx, activities.DispatchInput{Source: src, Batch: 100})
	require.NoError(t, err)
	require.Zero(t, r.Sent+r.Failed+r.Abandoned)
}
