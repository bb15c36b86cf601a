package activities_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/smtptest"
	"hrss-backoffice/internal/tencentsms"
	"hrss-backoffice/internal/testenv"
)

// queueTermsMessages publishes a terms version to the users and queues its
// SMS and e-mail; it returns the outbox source.
func queueTermsMessages(t *testing.T, acts *activities.Activities, db *sqlx.DB, version string) string {
	t.Helper()
	ctx := context.Background()
	draftVersion(t, db, version, time.Now().Add(time.Hour))
	_, err := acts.BeginFanout(ctx, activities.BeginInput{Kind: activities.FanoutTerms, Ref: version})
	require.NoError(t, err)
	_, err = acts.WriteNoticePage(ctx, activities.PageInput{Kind: activities.FanoutTerms, Ref: version,
		Lo: "00000000-0000-0000-0000-000000000000", Limit: 1000})
	require.NoError(t, err)
	deriveAll(t, acts, db, activities.BeginInput{Kind: activities.FanoutTerms, Ref: version})
	return activities.TermsSource(version)
}

// dispatchDue makes every waiting message due and dispatches once.
func dispatchDue(t *testing.T, acts *activities.Activities, db *sqlx.DB, src string) activities.DispatchResult {
	t.Helper()
	_, err := db.Exec(`UPDATE notification_outbox SET next_attempt_at = now() WHERE status = 'failed'`)
	require.NoError(t, err)
	r, err := acts.DispatchOutbox(context.Background(), activities.DispatchInput{Source: src, Batch: 1000})
	require.NoError(t, err)
	return r
}

// An SMTP outage behind the outbox (issue 18, C1.5, C2.7): while the server
// answers 421, every SMS (as mail) and e-mail stays retrying, each attempt
// recorded with the reason (the address masked); when it is back, each
// message arrives exactly once and its record says sent with the
// Message-ID; a message whose outage outlasts its attempts is abandoned
// with the reason; nothing is lost and nothing is sent twice.
func TestOutboxSMTPOutage_C1_5_C2_7(t *testing.T) {
	acts, db := newActivities(t)
	srv, err := smtptest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	c := mailClient(t, srv)
	defer activities.SetSender("email", activities.MailSender{Client: c})()
	defer activities.SetSender("sms", activities.MailSender{Client: c, SMSDomain: activities.SMSMailDomain})()

	seed(t, db, 6, testenv.SeedOptions{EmailEvery: 2})
	src := queueTermsMessages(t, acts, db, "2026-11")
	total := count(t, db, `SELECT count(*) FROM notification_outbox WHERE source = $1`, src)
	require.Equal(t, 9, total) // 6 SMS, 3 e-mail

	srv.Refuse("421 4.3.2 service not available")
	for attempt := 1; attempt <= 2; attempt++ {
		r := dispatchDue(t, acts, db, src)
		require.Equal(t, total, r.Failed, "attempt %d", attempt)
		require.Equal(t, total, r.Pending)
	}
	require.Empty(t, srv.Messages())
	require.Equal(t, 2*total, count(t, db, `SELECT count(*) FROM message_deliveries d JOIN notification_outbox o ON o.id = d.message_id
		WHERE o.source = $1 AND d.status = 'retrying' AND d.reason LIKE '%421%' AND d.provider_id IS NULL`, src))
	require.Zero(t, count(t, db, `SELECT count(*) FROM message_deliveries d JOIN notification_outbox o ON o.id = d.message_id
		JOIN accounts a ON a.id = o.account_id JOIN people p ON p.id = a.person_id
		WHERE d.reason LIKE '%' || p.mobile || '%' OR d.reason LIKE '%' || coalesce(p.email, '-') || '%'`), "no address in a reason")

	srv.Refuse("")
	r := dispatchDue(t, acts, db, src)
	require.Equal(t, total, r.Sent)
	require.Zero(t, r.Pending)
	r = dispatchDue(t, acts, db, src)
	require.Zero(t, r.Sent+r.Failed+r.Abandoned, "nothing is sent twice")
	msgs := srv.Messages()
	require.Len(t, msgs, total, "each message arrives once")
	seen := map[string]bool{}
	for _, m := range msgs {
		require.Len(t, m.To, 1)
		require.False(t, seen[m.To[0]], "%s got two messages", m.To[0])
		seen[m.To[0]] = true
		require.Contains(t, m.Body, "2026-11")
		require.Equal(t, 1, count(t, db, `SELECT count(*) FROM message_deliveries WHERE status = 'sent' AND attempt = 3 AND provider_id = $1`,
			m.MessageID), "the record of %s carries its Message-ID", m.To[0])
	}
	require.Equal(t, 6, count(t, db, `SELECT count(*) FROM message_deliveries d JOIN notification_outbox o ON o.id = d.message_id
		WHERE o.source = $1 AND d.status = 'sent' AND d.sender = 'smtp-sms'`, src))

	// A longer outage: abandoned with the reason after the fifth attempt.
	src = queueTermsMessages(t, acts, db, "2026-12")
	srv.Refuse("451 4.4.1 upstream unreachable")
	for attempt := 1; attempt <= 5; attempt++ {
		r = dispatchDue(t, acts, db, src)
	}
	require.Equal(t, total, r.Abandoned)
	require.Zero(t, r.Pending)
	require.Equal(t, total, count(t, db, `SELECT count(*) FROM notification_outbox WHERE source = $1 AND status = 'abandoned' AND attempts = 5`, src))
	require.Equal(t, total, count(t, db, `SELECT count(*) FROM message_deliveries d JOIN notification_outbox o ON o.id = d.message_id
		WHERE o.source = $1 AND d.status = 'abandoned' AND d.attempt = 5 AND d.reason LIKE '%451%'`, src))
	require.Equal(t, total*4, count(t, db, `SELECT count(*) FROM message_deliveries d JOIN notification_outbox o ON o.id = d.message_id
		WHERE o.source = $1 AND d.status = 'retrying'`, src))
	require.Len(t, srv.Messages(), total, "nothing of the abandoned messages arrived")
}

// A Tencent Cloud SMS outage behind the outbox (issue 18, C1.5, C2.7): the
// adapter signs every request (checked by the local provider), a provider
// answering 502 and then InternalError leaves the SMS retrying; back up,
// each SMS is accepted once and its record carries the serial number; a
// final refusal abandons at once.
func TestOutboxTencentOutage_C1_5_C2_7(t *testing.T) {
	acts, db := newActivities(t)
	var mu sync.Mutex
	mode := "down"
	accepted := map[string]int{}
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
		if r.Header.Get("Authorization") != tencentsms.Authorization("AKIDtest", "secret", r.Host, "SendSms", body, time.Unix(ts, 0)) {
			_, _ = w.Write([]byte(`{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"bad signature"}}}`))
			return
		}
		var req struct {
			PhoneNumberSet []string
		}
		_ = json.Unmarshal(body, &req)
		mu.Lock()
		defer mu.Unlock()
		switch mode {
		case "down":
			http.Error(w, "bad gateway", http.StatusBadGateway)
		case "internal":
			_, _ = w.Write([]byte(`{"Response":{"Error":{"Code":"InternalError.Timeout","Message":"timeout"}}}`))
		case "refuse":
			_, _ = w.Write([]byte(`{"Response":{"SendStatusSet":[{"SerialNo":"","Code":"FailedOperation.PhoneNumberInBlacklist","Message":"blacklisted"}]}}`))
		default:
			phone := req.PhoneNumberSet[0]
			accepted[phone]++
			_, _ = w.Write([]byte(`{"Response":{"SendStatusSet":[{"SerialNo":"serial-` + strings.TrimPrefix(phone, "+") + `","Code":"Ok","Message":"send success"}]}}`))
		}
	}))
	defer provider.Close()
	client, err := tencentsms.New(tencentsms.Config{SecretID: "AKIDtest", SecretKey: "secret", Endpoint: provider.URL, SDKAppID: "1400000000",
		SignName: "上海人社", Templates: map[string]string{"terms_revision": "200001"}})
	require.NoError(t, err)
	defer activities.SetSender("sms", activities.TencentSMS{Client: client})()
	setMode := func(m string) { mu.Lock(); mode = m; mu.Unlock() }

	seed(t, db, 4, testenv.SeedOptions{EmailEvery: 2})
	src := queueTermsMessages(t, acts, db, "2027-01")
	r := dispatchDue(t, acts, db, src)
	require.Equal(t, 4, r.Failed) // SMS; the 2 e-mails go through the log sender
	setMode("internal")
	r = dispatchDue(t, acts, db, src)
	require.Equal(t, 4, r.Failed)
	require.Equal(t, 4, count(t, db, `SELECT count(*) FROM message_deliveries WHERE sender = 'tencent-sms' AND status = 'retrying' AND reason LIKE '%HTTP 502%'`))
	require.Equal(t, 4, count(t, db, `SELECT count(*) FROM message_deliveries WHERE sender = 'tencent-sms' AND status = 'retrying' AND reason LIKE '%InternalError.Timeout%'`))

	setMode("up")
	r = dispatchDue(t, acts, db, src)
	require.Equal(t, 4, r.Sent)
	require.Zero(t, r.Pending)
	r = dispatchDue(t, acts, db, src)
	require.Zero(t, r.Sent+r.Failed+r.Abandoned)
	mu.Lock()
	require.Len(t, accepted, 4)
	for phone, n := range accepted {
		require.Equal(t, 1, n, "%s accepted once", phone)
	}
	mu.Unlock()
	require.Equal(t, 4, count(t, db, `SELECT count(*) FROM message_deliveries WHERE sender = 'tencent-sms' AND status = 'sent' AND attempt = 3
		AND provider_id LIKE 'serial-86%'`))

	setMode("refuse")
	src = queueTermsMessages(t, acts, db, "2027-02")
	r = dispatchDue(t, acts, db, src)
	require.Equal(t, 4, r.Abandoned)
	require.Equal(t, 4, count(t, db, `SELECT count(*) FROM message_deliveries d JOIN notification_outbox o ON o.id = d.message_id
		WHERE o.source = $1 AND d.status = 'abandoned' AND d.attempt = 1 AND d.reason LIKE '%PhoneNumberInBlacklist%'`, src))
}
