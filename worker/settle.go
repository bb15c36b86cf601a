package worker

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
)

// EnsureSettled runs ensure (one of the Ensure… starts of the singleton
// runs) until it succeeds, ctx ends, or within has passed, while the
// Temporal cluster is still settling: a namespace or search attribute
// registered moments ago is not yet in every service's namespace cache
// (refreshed every few seconds), so a start naming the attribute is
// refused as invalid, or the namespace is not found, or the frontend is
// unavailable. Any other error ends it at once. `make cluster` met this
// on a fresh clone: the worker started before the frontend's cache knew
// HrssSince.
func EnsureSettled(ctx context.Context, what string, within time.Duration, ensure func(context.Context) error) error {
	deadline := time.Now().Add(within)
	for delay := 250 * time.Millisecond; ; delay = min(2*delay, 4*time.Second) {
		err := ensure(ctx)
		if err == nil || !settling(err) || time.Now().Add(delay).After(deadline) {
			return err
		}
		slog.Warn("Temporal is still settling: starting again shortly", "run", what, "error", err, "in", delay)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
	}
}

// settling tells the refusals that a cluster still filling its caches
// gives from those that trying again will not mend.
func settling(err error) bool {
	var invalid *serviceerror.InvalidArgument
	if errors.As(err, &invalid) {
		return strings.Contains(invalid.Error(), "search attribute")
	}
	var notFound *serviceerror.NamespaceNotFound
	var unavailable *serviceerror.Unavailable
	return errors.As(err, &notFound) || errors.As(err, &unavailable)
}
