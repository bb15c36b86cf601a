package activities

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// StaffServiceLevelInput is one step of the service level of a decision
// waiting for staff: a reminder to the role that decides, or an escalation
// to the supervisors.
type StaffServiceLevelInput struct {
	RecordKind string `json:"record_kind"` // data_change | sanction
	RecordID   string `json:"record_id"`
	Step       string `json:"step"` // reminder | escalation
	Role       string `json:"role"` // who is told
	Round      int    `json:"round,omitempty"`
}

// staffServiceLevelTexts are the notices per record kind and step.
var staffServiceLevelTexts = map[string]map[string][4]string{
	"data_change": {
		"reminder": {"姓名或身份证号码变更待审核已超时", "A name or ID number change is waiting too long for review",
			"变更编号 %s", "Change %s"},
		"escalation": {"姓名或身份证号码变更长时间未审核，已上报主管", "A name or ID number change has been escalated: it waits far too long",
			"变更编号 %s", "Change %s"},
	},
	"sanction": {
		"reminder": {"处分申诉待决定已超时", "An appeal against a sanction is waiting too long for a decision",
			"处分编号 %s", "Sanction %s"},
		"escalation": {"处分申诉长时间未决定，已上报主管", "An appeal against a sanction has been escalated: it waits far too long",
			"处分编号 %s", "Sanction %s"},
	},
}

// RecordStaffServiceLevel places the notice to the staff role and the
// audit row, once per record, step and round.
func (a *Activities) RecordStaffServiceLevel(ctx context.Context, in StaffServiceLevelInput) error {
	texts, ok := staffServiceLevelTexts[in.RecordKind][in.Step]
	if !ok || in.Role == "" || in.RecordID == "" {
		return conflictf("no service level step %q for %q", in.Step, in.RecordKind)
	}
	key := fmt.Sprintf("%s/%s/%s/%d", in.RecordKind, in.RecordID, in.Step, in.Round)
	return a.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := writeNotice(ctx, tx, Notice{OperationKey: key, StaffRole: in.Role, Kind: in.RecordKind + "_" + in.Step,
			TitleZH: texts[0], TitleEN: texts[1], BodyZH: fmt.Sprintf(texts[2], in.RecordID), BodyEN: fmt.Sprintf(texts[3], in.RecordID)}); err != nil {
			return err
		}
		return writeAudit(ctx, tx, AuditEntry{OperationKey: key, ActorKind: "system", ActorID: "system",
			Action: in.RecordKind + ".service_level_" + in.Step, RecordKind: in.RecordKind, RecordID: in.RecordID,
			Detail: map[string]any{"notified_role": in.Role, "round": in.Round}})
	})
}
