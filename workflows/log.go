package workflows

import (
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/internal/reqid"
)

// logger is the workflow's replay-safe logger with the request ID that
// started the run, so an operator can follow one HTTP request into it.
func logger(ctx workflow.Context) log.Logger {
	return log.With(workflow.GetLogger(ctx), "request_id", reqid.FromWorkflow(ctx))
}
