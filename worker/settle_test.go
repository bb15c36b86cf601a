package worker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
)

// Issue 21: a worker started right after the cluster registered its search
// attributes tries its singleton starts again until the caches know them;
// a refusal that trying again will not mend ends it at once.
func TestEnsureSettledWaitsForACacheThatIsFilling(t *testing.T) {
	ctx := context.Background()
	calls := 0
	err := EnsureSettled(ctx, "test", 10*time.Second, func(context.Context) error {
		calls++
		if calls < 3 {
			return serviceerror.NewInvalidArgument("Namespace default has no mapping defined for search attribute HrssSince")
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 3, calls)

	calls = 0
	bad := serviceerror.NewInvalidArgument("WorkflowId is not set")
	err = EnsureSettled(ctx, "test", 10*time.Second, func(context.Context) error { calls++; return bad })
	require.ErrorIs(t, err, bad)
	require.Equal(t, 1, calls, "not a settling cluster: no second try")

	calls = 0
	gone := serviceerror.NewUnavailable("frontend not ready")
	start := time.Now()
	err = EnsureSettled(ctx, "test", 600*time.Millisecond, func(context.Context) error { calls++; return gone })
	require.True(t, errors.Is(err, gone))
	require.Greater(t, calls, 1)
	require.Less(t, time.Since(start), 5*time.Second, "gives up after its time")
}
