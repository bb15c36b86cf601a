// Package worker runs the Temporal worker: it registers every workflow and
// the activities on the task queue and polls until stopped.
package worker

import (
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/observability"
	"hrss-backoffice/workflows"
)

// New builds a worker with every workflow and activity registered.
func New(c client.Client, taskQueue string, acts *activities.Activities) sdkworker.Worker {
	w := sdkworker.New(c, taskQueue, sdkworker.Options{
		Interceptors: []interceptor.WorkerInterceptor{&observability.ActivityLogging{}},
	})
	RegisterWorkflows(w)
	w.RegisterActivity(acts)
	return w
}

// WorkflowRegistry is what workflows are registered on: a worker or a
// replayer.
type WorkflowRegistry interface {
	RegisterWorkflow(w interface{})
}

// RegisterWorkflows registers every workflow type; the replay tests use the
// same list, so a new workflow is replayed as soon as it is registered.
func RegisterWorkflows(r WorkflowRegistry) {
	r.RegisterWorkflow(workflows.RegistrationReview)
	r.RegisterWorkflow(workflows.FraudVerification)
	r.RegisterWorkflow(workflows.ViolationCase)
	r.RegisterWorkflow(workflows.Sanction)
	r.RegisterWorkflow(workflows.CompromiseLock)
	r.RegisterWorkflow(workflows.PasswordReset)
	r.RegisterWorkflow(workflows.PasswordAgeReminder)
	r.RegisterWorkflow(workflows.IntakeSweeper)
	r.RegisterWorkflow(workflows.OutboxRelay)
	r.RegisterWorkflow(workflows.DataChangeReview)
	r.RegisterWorkflow(workflows.Deregistration)
	r.RegisterWorkflow(workflows.ServiceCancellation)
	r.RegisterWorkflow(workflows.DisclosureRequest)
	r.RegisterWorkflow(workflows.StaffChange)
	r.RegisterWorkflow(workflows.TermsCampaign)
	r.RegisterWorkflow(workflows.Announcement)
	r.RegisterWorkflow(workflows.ServiceChange)
}
