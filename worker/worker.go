// Package worker runs the Temporal worker: it registers every workflow and
// the activities on the task queue and polls until stopped.
package worker

import (
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"hrss-backoffice/activities"
	"hrss-backoffice/workflows"
)

// New builds a worker with every workflow and activity registered.
func New(c client.Client, taskQueue string, acts *activities.Activities) sdkworker.Worker {
	w := sdkworker.New(c, taskQueue, sdkworker.Options{})
	Register(w, acts)
	return w
}

// Registry is what workflows and activities are registered on: a worker,
// a replayer or a test environment.
type Registry interface {
	RegisterWorkflow(w interface{})
	RegisterActivity(a interface{})
}

// Register puts every workflow and activity on r.
func Register(r Registry, acts *activities.Activities) {
	r.RegisterWorkflow(workflows.RegistrationReview)
	r.RegisterActivity(acts)
}
