package activities_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/messages"
)

// recorder is a sender that keeps what it is given, failing while fail is set.
type recorder struct {
	mu   sync.Mutex
	msgs []activities.Message
	fail bool
}

func (*recorder) Name() string { return "recorder" }

func (r *recorder) Send(_ context.Context, msgs []activities.Message) []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	errs := make([]error, len(msgs))
	for i := range msgs {
		if r.fail {
			errs[i] = errors.New("provider unavailable")
			continue
		}
		r.msgs = append(r.msgs, msgs[i])
	}
	return errs
}

// recordMessages gives acts a recorder for each channel and the public
// address of the follow page, and answers the recorders.
func recordMessages(acts *activities.Activities) (sms, mail *recorder) {
	sms, mail = &recorder{}, &recorder{}
	acts.Senders = map[string]activities.Sender{"sms": sms, "email": mail}
	acts.PublicBaseURL = "https://hrss.example.cn"
	return sms, mail
}

// admitted files an application as the intake does (born 1990-01-01 with
// the ID number's sequence seq), sets the columns of set (SQL assignments
// such as "channel = 'online'"; none: a counter application in Chinese),
// and runs its checks.
func admitted(t *testing.T, acts *activities.Activities, db *sqlx.DB, seq, mobile, set string, services ...string) string {
	t.Helper()
	app := submit(t, db, idNumber("19900101", seq), mobile, services...)
	if set != "" {
		_, err := db.Exec(`UPDATE applications SET `+set+` WHERE id = $1`, app)
		require.NoError(t, err)
	}
	_, err := acts.AdmitApplication(context.Background(), app)
	require.NoError(t, err)
	return app
}

func (r *recorder) sent() []activities.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]activities.Message(nil), r.msgs...)
}

// C1.5, C2.1 (issue 18): the approval of an online application queues its
// notice to the applicant in the approval's transaction (SMS, and e-mail
// where the application gave one), once per application however often the
// activity runs, and sends it: the follow link, the pickup deadline, never
// the password or the follow token. The outbox keeps only the reference.
func TestApprovalNoticeGoesByTheOutboxOnce_C1_5_C2_1(t *testing.T) {
	acts, db := newActivities(t)
	sms, mail := recordMessages(acts)
	ctx := context.Background()
	rev := staffID(t, db)
	app := admitted(t, acts, db, "456", "13900139000", "channel = 'online', email = 'wang@example.cn'", "social_insurance_query")

	in := activities.ApproveInput{ApplicationID: app, ReviewerID: rev, PickupWindow: 15 * time.Minute, ApplicantPickupWindow: 72 * time.Hour}
	res, err := acts.ApproveApplication(ctx, in)
	require.NoError(t, err)
	require.True(t, res.ToApplicant)

	var ct []byte
	require.NoError(t, db.Get(&ct, `SELECT ciphertext FROM credential_pickups WHERE operation_key = $1`, activities.RegistrationPickupKey(app)))
	plain, err := acts.Box.Open(ct, []byte(activities.RegistrationPickupKey(app)))
	require.NoError(t, err)

	require.Len(t, sms.sent(), 1)
	require.Len(t, mail.sent(), 1)
	m := sms.sent()[0]
	require.Equal(t, "13900139000", m.Address)
	require.Equal(t, messages.Approved, m.Kind, "the provider's template kind")
	deadline := res.PickupExpiresAt.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04")
	require.Equal(t, []string{"https://hrss.example.cn/follow", deadline}, m.Params)
	require.Contains(t, m.Text, "https://hrss.example.cn/follow")
	require.Contains(t, m.Text, deadline)
	require.NotContains(t, m.Text, string(plain), "never the password")
	require.Equal(t, "wang@example.cn", mail.sent()[0].Address)

	// The stored copy is the reference: no text, no address, no secret.
	var templates []string
	require.NoError(t, db.Select(&templates, `SELECT template FROM notification_outbox WHERE source = $1 ORDER BY channel`,
		activities.ApplicantNoticeSource(app)))
	require.Equal(t, []string{"registration_approved:" + app, "registration_approved:" + app}, templates)
	require.Equal(t, 2, count(t, db, `SELECT count(*) FROM notification_outbox WHERE source = $1 AND status = 'sent'`,
		activities.ApplicantNoticeSource(app)))

	// A retried approval queues and sends nothing more.
	_, err = acts.ApproveApplication(ctx, in)
	require.NoError(t, err)
	require.Len(t, sms.sent(), 1)
	require.Equal(t, 2, count(t, db, `SELECT count(*) FROM notification_outbox WHERE source = $1`, activities.ApplicantNoticeSource(app)))
	for _, text := range []string{m.Text, mail.sent()[0].Text} {
		require.False(t, strings.Contains(text, string(plain)))
	}
}

// A counter application keeps the reviewer's slip: no applicant notice.
func TestCounterApprovalSendsNoPickupNotice_C1_5(t *testing.T) {
	acts, db := newActivities(t)
	sms, _ := recordMessages(acts)
	ctx := context.Background()
	rev := staffID(t, db)
	app := admitted(t, acts, db, "457", "13900139001", "")
	_, err := acts.ApproveApplication(ctx, activities.ApproveInput{ApplicationID: app, ReviewerID: rev, PickupWindow: 15 * time.Minute,
		ApplicantPickupWindow: 72 * time.Hour})
	require.NoError(t, err)
	require.Empty(t, sms.sent())
	require.Equal(t, 0, count(t, db, `SELECT count(*) FROM notification_outbox WHERE source = $1`, activities.ApplicantNoticeSource(app)))
}

// C1.5 (issue 18): an approval notice whose first send failed stays in the
// outbox as failed and the relay sends it when its next attempt is due,
// once; a campaign's source is left to its own run.
func TestRelayRetriesAFailedApprovalNotice_C1_5(t *testing.T) {
	acts, db := newActivities(t)
	sms := &recorder{fail: true}
	acts.Senders = map[string]activities.Sender{"sms": sms}
	restore := activities.RetryBackoff
	activities.RetryBackoff = time.Millisecond
	t.Cleanup(func() { activities.RetryBackoff = restore })
	ctx := context.Background()
	rev := staffID(t, db)
	app := admitted(t, acts, db, "458", "13900139002", "channel = 'kiosk'")
	_, err := acts.ApproveApplication(ctx, activities.ApproveInput{ApplicationID: app, ReviewerID: rev, PickupWindow: 15 * time.Minute,
		ApplicantPickupWindow: 72 * time.Hour})
	require.NoError(t, err, "a failed send never fails the approval")
	require.Empty(t, sms.sent())
	src := activities.ApplicantNoticeSource(app)
	require.Equal(t, "failed", queryString(t, db, `SELECT status FROM notification_outbox WHERE source = $1`, src))

	sms.mu.Lock()
	sms.fail = false
	sms.mu.Unlock()
	// The next attempt is due after the 1 ms backoff.
	var res activities.RelayResult
	for deadline := time.Now().Add(5 * time.Second); res.Sent == 0 && time.Now().Before(deadline); {
		res, err = acts.RelayOutbox(ctx, activities.RelayInput{})
		require.NoError(t, err)
	}
	require.Equal(t, 1, res.Sent)
	require.Len(t, sms.sent(), 1)
	require.Equal(t, "sent", queryString(t, db, `SELECT status FROM notification_outbox WHERE source = $1`, src))
	res, err = acts.RelayOutbox(ctx, activities.RelayInput{})
	require.NoError(t, err)
	require.Zero(t, res.Sent, "sent once")
	require.Len(t, sms.sent(), 1)
}
