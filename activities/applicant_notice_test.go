package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/messages"
)

// C1.5 (issue 18): the rejection of an online application is told to its
// applicant by SMS and e-mail (the applicant has no account): an outbox
// row for the application, queued in the closing transaction, holding the
// template reference only, sent in the applicant's language; a retried
// activity queues and sends nothing twice.
func TestRejectionNoticeToApplicantQueuedOnce_C1_5(t *testing.T) {
	acts, db := newActivities(t)
	sms, mail := recordMessages(acts)
	ctx := context.Background()
	rev := staffID(t, db)
	app := admitted(t, acts, db, "461", "13900139061", "channel = 'online', email = 'li@example.cn', language = 'en'")

	in := activities.CloseInput{ApplicationID: app, Status: "rejected", Reason: "the address is not in Shanghai", ActorKind: "staff", ActorID: rev}
	require.NoError(t, acts.CloseApplication(ctx, in))
	require.Len(t, sms.sent(), 1)
	require.Len(t, mail.sent(), 1)
	m := sms.sent()[0]
	require.Equal(t, "13900139061", m.Address)
	require.Equal(t, messages.Rejected, m.Kind)
	require.Equal(t, app, m.ApplicationID)
	require.Equal(t, []string{"https://hrss.example.cn/follow"}, m.Params)
	require.Contains(t, m.Text, "Your registration was not approved", "in the language the applicant chose")
	require.NotContains(t, m.Text, in.Reason, "the reason stays on the follow page")
	require.Equal(t, "li@example.cn", mail.sent()[0].Address)

	src := activities.ApplicantNoticeSource(app)
	var rows []struct {
		Template string  `db:"template"`
		Account  *string `db:"account_id"`
		App      string  `db:"application_id"`
		Status   string  `db:"status"`
	}
	require.NoError(t, db.Select(&rows, `SELECT template, account_id, application_id, status FROM notification_outbox WHERE source = $1`, src))
	require.Len(t, rows, 2)
	for _, r := range rows {
		require.Equal(t, "registration_rejected:"+app, r.Template, "the reference only")
		require.Nil(t, r.Account)
		require.Equal(t, app, r.App)
		require.Equal(t, "sent", r.Status)
	}
	require.Equal(t, 2, count(t, db, `SELECT count(*) FROM message_deliveries WHERE application_id = $1 AND status = 'sent'`, app))

	// A retried activity queues and sends nothing more.
	require.NoError(t, acts.CloseApplication(ctx, in))
	require.Len(t, sms.sent(), 1)
	require.Equal(t, 2, count(t, db, `SELECT count(*) FROM notification_outbox WHERE source = $1`, src))
}

// C1.5 (issue 18): a request for more information is told by SMS once per
// round, in Chinese unless English was chosen; a counter applicant hears it
// at the counter (no message).
func TestInfoRequestNoticeToApplicantOncePerRound_C1_5(t *testing.T) {
	acts, db := newActivities(t)
	sms, _ := recordMessages(acts)
	ctx := context.Background()
	rev := staffID(t, db)
	app := admitted(t, acts, db, "462", "13900139062", "channel = 'kiosk'")
	in := activities.RequestInfoInput{ApplicationID: app, ReviewerID: rev, What: "a clearer photo of the ID card", Round: 1}
	require.NoError(t, acts.RequestInfo(ctx, in))
	require.NoError(t, acts.RequestInfo(ctx, in), "a retry")
	require.Len(t, sms.sent(), 1)
	m := sms.sent()[0]
	require.Equal(t, messages.InfoRequested, m.Kind)
	require.Contains(t, m.Text, "补充资料", "Chinese by default")
	require.NotContains(t, m.Text, in.What)
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM notification_outbox WHERE application_id = $1`, app))

	counter := admitted(t, acts, db, "463", "13900139063", "")
	require.NoError(t, acts.RequestInfo(ctx, activities.RequestInfoInput{ApplicationID: counter, ReviewerID: rev, What: "x", Round: 1}))
	require.NoError(t, acts.CloseApplication(ctx, activities.CloseInput{ApplicationID: counter, Status: "rejected", ActorKind: "staff", ActorID: rev}))
	require.Equal(t, 0, count(t, db, `SELECT count(*) FROM notification_outbox WHERE application_id = $1`, counter))
	require.Len(t, sms.sent(), 1)
}

// C1.5 (issue 18): the approval carries the applicant's language to the
// account, and the approval notice goes in it.
func TestApprovalCarriesTheLanguage_C1_5(t *testing.T) {
	acts, db := newActivities(t)
	sms, _ := recordMessages(acts)
	ctx := context.Background()
	rev := staffID(t, db)
	app := admitted(t, acts, db, "464", "13900139064", "channel = 'online', language = 'en'")
	res, err := acts.ApproveApplication(ctx, activities.ApproveInput{ApplicationID: app, ReviewerID: rev, PickupWindow: 15 * time.Minute,
		ApplicantPickupWindow: 72 * time.Hour})
	require.NoError(t, err)
	var lang string
	require.NoError(t, db.Get(&lang, `SELECT language FROM accounts WHERE id = $1`, res.AccountID))
	require.Equal(t, "en", lang)
	require.Len(t, sms.sent(), 1)
	require.Contains(t, sms.sent()[0].Text, "Your registration is approved")
}

// C3.5, C4 (issue 18): when the account's contact data are de-identified,
// the log of the messages sent to its application before the account
// existed (more information requested) loses the address and text too.
func TestContactErasureCoversTheApplicationsMessages_C1_5_C4(t *testing.T) {
	acts, db := newActivities(t)
	recordMessages(acts)
	ctx := context.Background()
	rev := staffID(t, db)
	app := admitted(t, acts, db, "465", "13900139065", "channel = 'online'")
	require.NoError(t, acts.RequestInfo(ctx, activities.RequestInfoInput{ApplicationID: app, ReviewerID: rev, What: "x", Round: 1}))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM notification_log l JOIN notification_outbox o ON o.id = l.message_id
		WHERE o.application_id = $1 AND l.address = '13900139065'`, app))
	_, err := db.Exec(`UPDATE applications SET status = 'pending' WHERE id = $1`, app)
	require.NoError(t, err)
	res, err := acts.ApproveApplication(ctx, activities.ApproveInput{ApplicationID: app, ReviewerID: rev, PickupWindow: 15 * time.Minute,
		ApplicantPickupWindow: 72 * time.Hour})
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO retention_steps (account_id, category, action, due_at) VALUES ($1, 'contact_details', 'deidentify', now())`,
		res.AccountID)
	require.NoError(t, err)
	require.NoError(t, acts.ApplyRetention(ctx, activities.RetentionInput{AccountID: res.AccountID, Category: "contact_details"}))
	require.Equal(t, 0, count(t, db, `SELECT count(*) FROM notification_log l JOIN notification_outbox o ON o.id = l.message_id
		WHERE (o.application_id = $1 OR o.account_id = $2) AND (l.address <> '' OR l.text <> '')`, app, res.AccountID))
}
