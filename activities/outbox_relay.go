package activities

import (
	"context"
)

// The outbox relay retries the messages that no campaign run dispatches:
// the notices to applicants (ApplicantNoticeSource), sent at once after the
// transaction that queued them and, when that send failed, again when their
// next attempt is due, until sent or abandoned (the outbox's backoff and
// maximum attempts). A campaign's own run keeps dispatching its source.

// RelayedSourcePrefix names the outbox sources the relay dispatches.
const RelayedSourcePrefix = "registration/"

// RelayInput bounds one pass: the sources' prefix, how many sources and
// how many messages per source.
type RelayInput struct {
	Prefix  string `json:"prefix"`
	Sources int    `json:"sources"`
	Batch   int    `json:"batch"`
}

// RelayResult counts one pass's outcomes.
type RelayResult struct {
	Sources   int `json:"sources"`
	Sent      int `json:"sent"`
	Failed    int `json:"failed"`
	Abandoned int `json:"abandoned"`
}

// RelayOutbox dispatches the due messages of the sources under a prefix.
// Dispatching claims messages with SKIP LOCKED, so a send right after
// queueing and the relay never send one message twice.
func (a *Activities) RelayOutbox(ctx context.Context, in RelayInput) (RelayResult, error) {
	if in.Prefix == "" {
		in.Prefix = RelayedSourcePrefix
	}
	if in.Sources <= 0 {
		in.Sources = 100
	}
	var res RelayResult
	var sources []string
	if err := a.DB.SelectContext(ctx, &sources, `SELECT DISTINCT source FROM notification_outbox
		WHERE status IN ('queued', 'failed') AND next_attempt_at <= now() AND starts_with(source, $1) LIMIT $2`,
		in.Prefix, in.Sources); err != nil {
		return res, err
	}
	for _, src := range sources {
		r, err := a.DispatchOutbox(ctx, DispatchInput{Source: src, Batch: in.Batch})
		if err != nil {
			return res, err
		}
		res.Sources++
		res.Sent, res.Failed, res.Abandoned = res.Sent+r.Sent, res.Failed+r.Failed, res.Abandoned+r.Abandoned
	}
	return res, nil
}
