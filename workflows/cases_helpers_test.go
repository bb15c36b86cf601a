package workflows

import (
	"time"

	"go.temporal.io/sdk/testsuite"
)

// upd records the outcome of an Update sent by a test.
type upd[T any] struct {
	accepted, rejected, completed bool
	err                           error
	result                        T
}

// sendUpdate sends an Update after delay.
func sendUpdate[T any](env *testsuite.TestWorkflowEnvironment, delay time.Duration, name string, arg any) *upd[T] {
	o := &upd[T]{}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept: func() { o.accepted = true },
			OnReject: func(err error) { o.rejected, o.err = true, err },
			OnComplete: func(res interface{}, err error) {
				o.completed = true
				if err != nil {
					o.err = err
					return
				}
				if r, ok := res.(T); ok {
					o.result = r
				}
			},
		}, arg)
	}, delay)
	return o
}

const (
	caseID     = "c0000000-0000-4000-8000-000000000001"
	accountID  = "a0000000-0000-4000-8000-000000000001"
	otherAcct  = "a0000000-0000-4000-8000-000000000002"
	openerID   = "staff-investigator"
	supervisor = "staff-supervisor"
)

var (
	investigator  = Actor{Kind: "staff", ID: openerID, Roles: []string{RoleInvestigator}}
	investigator2 = Actor{Kind: "staff", ID: "staff-investigator-2", Roles: []string{RoleInvestigator}}
	super         = Actor{Kind: "staff", ID: supervisor, Roles: []string{RoleSupervisor}}
	user          = Actor{Kind: "user", ID: accountID}
	otherUser     = Actor{Kind: "user", ID: otherAcct}
)
