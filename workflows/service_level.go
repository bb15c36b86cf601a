package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
)

// versionStaffServiceLevel guards the service level added to data changes
// and sanction appeals: runs started before it replay without timers.
const versionStaffServiceLevel = "staff-service-level"

// staffClock is the service level of a decision waiting for staff, counted
// from when it started waiting: a reminder to the role that decides, then
// an escalation to the supervisors. Each step fires once.
type staffClock struct {
	recordKind, recordID, role string
	from                       time.Time
	sl                         CaseServiceLevel
	reminded, escalated        bool
}

// next is the step due first; zero when both have fired.
func (k *staffClock) next() deadline {
	var ds []deadline
	if !k.reminded && k.sl.RemindAfter < k.sl.EscalateAfter {
		ds = append(ds, deadline{k.from.Add(k.sl.RemindAfter), "reminder"})
	}
	if !k.escalated {
		ds = append(ds, deadline{k.from.Add(k.sl.EscalateAfter), "escalation"})
	}
	return earliest(ds...)
}

// fire records the step (notice to the role, audit row) and marks it done;
// an escalation makes a later reminder pointless.
func (k *staffClock) fire(ctx workflow.Context, step string) error {
	role := k.role
	if step == "escalation" {
		role = RoleSupervisor
	}
	in := activities.StaffServiceLevelInput{RecordKind: k.recordKind, RecordID: k.recordID, Step: step, Role: role, Round: 1}
	if err := workflow.ExecuteActivity(ctx, a.RecordStaffServiceLevel, in).Get(ctx, nil); err != nil {
		return err
	}
	k.reminded = true
	if step == "escalation" {
		k.escalated = true
	}
	return nil
}
