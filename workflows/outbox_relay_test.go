package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
)

// C1.5 (issue 18): the outbox relay passes over the applicants' notices at
// its interval and continues as new after a bounded number of passes.
func TestOutboxRelayPassesAtItsInterval_C1_5(t *testing.T) {
	env := newEnv(t)
	var at []time.Time
	env.OnActivity(a.RelayOutbox, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RelayInput) (activities.RelayResult, error) {
		require.Equal(t, activities.RelayedSourcePrefix, in.Prefix)
		at = append(at, env.Now())
		return activities.RelayResult{Sent: 1}, nil
	})
	env.ExecuteWorkflow(OutboxRelay, OutboxRelayInput{Settings: OutboxRelaySettings{Every: 2 * time.Minute}})
	require.True(t, env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can))
	require.Len(t, at, relayPassesPerRun)
	require.Equal(t, 2*time.Minute, at[1].Sub(at[0]))
}
