package activities_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/testenv"
)

// stallingSender is a provider that never answers: each call waits until
// the caller gives up.
type stallingSender struct{ calls atomic.Int32 }

func (*stallingSender) Name() string { return "stalling" }

func (s *stallingSender) Send(ctx context.Context, msgs []activities.Message) []error {
	s.calls.Add(1)
	<-ctx.Done()
	errs := make([]error, len(msgs))
	for i := range errs {
		errs[i] = ctx.Err()
	}
	return errs
}

// A provider that hangs past the dispatch's deadline (issue 18, C1.5,
// C2.7): the provider calls end inside the send window, before the
// caller's deadline, and the attempts are recorded (failed, to retry), so
// a retry of the activity neither loses the record nor sends again what
// the provider took; before, the deadline rolled the record back.
func TestOutboxRecordsAttemptsWhenTheProviderHangs_C1_5_C2_7(t *testing.T) {
	acts, db := newActivities(t)
	stall := &stallingSender{}
	defer activities.SetSender("sms", stall)()
	defer activities.SetSender("email", stall)()
	seed(t, db, 3, testenv.SeedOptions{EmailEvery: 3})
	src := queueTermsMessages(t, acts, db, "2026-10")
	total := count(t, db, `SELECT count(*) FROM notification_outbox WHERE source = $1`, src)
	require.Equal(t, 4, total) // 3 SMS, 1 e-mail

	// The caller's deadline (an activity's timeout) leaves a send window of
	// about two seconds after the margin kept for the record.
	ctx, cancel := context.WithTimeout(context.Background(), 7*time.Second)
	defer cancel()
	r, err := acts.DispatchOutbox(ctx, activities.DispatchInput{Source: src, Batch: 100})
	require.NoError(t, err, "the dispatch records its attempts before the deadline")
	require.Equal(t, total, r.Failed)
	require.Equal(t, int32(2), stall.calls.Load(), "one call per channel")
	require.Equal(t, total, count(t, db, `SELECT count(*) FROM notification_outbox WHERE source = $1 AND status = 'failed' AND attempts = 1`, src))
	require.Equal(t, total, count(t, db, `SELECT count(*) FROM message_deliveries d JOIN notification_outbox o ON o.id = d.message_id
		WHERE o.source = $1 AND d.status = 'retrying' AND d.attempt = 1`, src))
}
