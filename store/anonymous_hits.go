package store

import (
	"context"
	"time"
)

// Counters of anonymous requests (table anonymous_hits, C3.4(8)): the
// API's limiter (api/anonlimit.go) raises and reads them in one upsert;
// the housekeeping deletes past windows.

// CountAnonymousHit adds one request of the address to its bucket's window
// and returns the window's count so far.
func CountAnonymousHit(ctx context.Context, q Q, bucket, address string, windowStart time.Time) (int, error) {
	var hits int
	err := getOne(ctx, q, &hits, `INSERT INTO anonymous_hits (bucket, address, window_start, hits)
			VALUES ($1, $2, $3, 1)
			ON CONFLICT (bucket, address, window_start) DO UPDATE SET hits = anonymous_hits.hits + 1
			RETURNING hits`, bucket, address, windowStart)
	return hits, err
}

// DeletePastAnonymousHits deletes the counters of windows that began more
// than 25 hours ago.
func DeletePastAnonymousHits(ctx context.Context, q Q) error {
	_, err := q.ExecContext(ctx, `DELETE FROM anonymous_hits WHERE window_start < now() - interval '25 hours'`)
	return err
}
