package observability

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"

	"hrss-backoffice/internal/reqid"
)

// ActivityLogging logs each activity execution as one structured line with
// the request ID that caused it. Activity inputs are never logged: they are
// IDs, but the rule is simpler to keep when no payload reaches a log.
type ActivityLogging struct {
	interceptor.WorkerInterceptorBase
}

// InterceptActivity wraps the activity inbound path.
func (*ActivityLogging) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &activityLogger{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

type activityLogger struct {
	interceptor.ActivityInboundInterceptorBase
}

func (a *activityLogger) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (interface{}, error) {
	start := time.Now()
	res, err := a.Next.ExecuteActivity(ctx, in)
	info := activity.GetInfo(ctx)
	attrs := []any{"activity", info.ActivityType.Name, "workflow_id", info.WorkflowExecution.ID,
		"attempt", info.Attempt, "duration_ms", time.Since(start).Milliseconds(), "request_id", reqid.From(ctx)}
	if err != nil {
		slog.Warn("activity failed", append(attrs, "error", err.Error())...)
	} else {
		slog.Info("activity completed", attrs...)
	}
	return res, err
}
