package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hrss-backoffice/internal/validate"
)

// Cross-check findings of a fraud case (C2.2): codes only.
const (
	FindingIDNumberBlocked   = "id_number_blocked"      // the ID number was cancelled for false data before
	FindingMobileShared      = "mobile_shared"          // another live account uses the mobile number
	FindingNameDiffers       = "name_differs_elsewhere" // another application under the ID number gives another name
	FindingBirthDateMismatch = "birth_date_mismatch"    // the recorded birth date contradicts the ID number
	FindingIDNumberInvalid   = "id_number_check_failed" // the ID number fails its check digit
	FindingNone              = "no_automated_findings"
)

func caseEvent(ctx context.Context, tx *sqlx.Tx, caseID, key, kind, actor string, detail any) error {
	d, err := jsonOf(detail)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO case_events (case_id, event_key, kind, actor, detail)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_id, event_key) DO NOTHING`, caseID, key, kind, actor, d)
	return err
}

// caseRow is what the case activities need to know about a case.
type caseRow struct {
	ID            string     `db:"id"`
	Kind          string     `db:"kind"`
	State         string     `db:"state"`
	AccountID     *string    `db:"account_id"`
	ApplicationID *string    `db:"application_id"`
	ClosedAt      *time.Time `db:"closed_at"`
	Instructions  string     `db:"instructions"`
	Rule          *string    `db:"rule"`
}

func loadCase(ctx context.Context, tx *sqlx.Tx, caseID string) (caseRow, error) {
	var c caseRow
	err := tx.GetContext(ctx, &c, `SELECT id, kind, state, account_id, application_id, closed_at, instructions, rule
		FROM cases WHERE id = $1 FOR UPDATE`, caseID)
	if isNoRows(err) {
		return c, conflictf("case %s does not exist", caseID)
	}
	return c, err
}

// caseAudit writes the audit entry of a case step on the case and on the
// account (or application) it concerns, so the user's activity record
// shows it (C3.3(4)).
func caseAudit(ctx context.Context, tx *sqlx.Tx, c caseRow, key, actorKind, actorID, action string, detail any) error {
	if err := writeAudit(ctx, tx, AuditEntry{OperationKey: key, ActorKind: actorKind, ActorID: actorID, Action: action,
		RecordKind: "case", RecordID: c.ID, Detail: detail}); err != nil {
		return err
	}
	d := map[string]any{"case_id": c.ID, "case_kind": c.Kind}
	if m, ok := detail.(map[string]any); ok {
		for k, v := range m {
			d[k] = v
		}
	}
	if c.AccountID != nil {
		return writeAudit(ctx, tx, AuditEntry{OperationKey: key + "/account", ActorKind: actorKind, ActorID: actorID, Action: action,
			RecordKind: "account", RecordID: *c.AccountID, Detail: d})
	}
	if c.ApplicationID != nil {
		return writeAudit(ctx, tx, AuditEntry{OperationKey: key + "/application", ActorKind: actorKind, ActorID: actorID, Action: action,
			RecordKind: "application", RecordID: *c.ApplicationID, Detail: d})
	}
	return nil
}

// caseNotice sends a site notice to the user the case concerns: the
// account's inbox, or the applicant's application.
func caseNotice(ctx context.Context, tx *sqlx.Tx, c caseRow, key, kind, titleZH, titleEN, bodyZH, bodyEN string) error {
	n := Notice{OperationKey: key, Kind: kind, TitleZH: titleZH, TitleEN: titleEN, BodyZH: bodyZH, BodyEN: bodyEN}
	if c.AccountID != nil {
		n.AccountID = *c.AccountID
	} else if c.ApplicationID != nil {
		n.ApplicationID = *c.ApplicationID
	}
	return writeNotice(ctx, tx, n)
}

// CrossCheckCase runs the automated cross-checks of a fraud case against
// the registration data of its account or application and records the
// findings (codes) on the case. Running it again finds and records the
// same.
func (a *Activities) CrossCheckCase(ctx context.Context, caseID string) ([]string, error) {
	findings := []string{}
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := loadCase(ctx, tx, caseID)
		if err != nil {
			return err
		}
		var data struct {
			IDNumber  string    `db:"id_number"`
			Name      string    `db:"name"`
			Mobile    string    `db:"mobile"`
			BirthDate time.Time `db:"birth_date"`
			AccountID string    `db:"account_id"`
		}
		if c.AccountID != nil {
			err = tx.GetContext(ctx, &data, `SELECT p.id_number, p.name, p.mobile, p.birth_date, a.id::text AS account_id
				FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.id = $1`, *c.AccountID)
		} else {
			err = tx.GetContext(ctx, &data, `SELECT id_number, name, mobile, birth_date, '' AS account_id
				FROM applications WHERE id = $1`, *c.ApplicationID)
		}
		if err != nil {
			return err
		}
		var blocked, mobileShared, nameDiffers bool
		if err := tx.QueryRowContext(ctx, `
			SELECT EXISTS (SELECT 1 FROM registration_blocks WHERE id_number = $1),
			       EXISTS (SELECT 1 FROM accounts a JOIN people p ON p.id = a.person_id
			               WHERE p.mobile = $2 AND p.id_number <> $1 AND a.status IN ('active', 'suspended')),
			       EXISTS (SELECT 1 FROM applications WHERE id_number = $1 AND name <> $3)`,
			data.IDNumber, data.Mobile, data.Name).Scan(&blocked, &mobileShared, &nameDiffers); err != nil {
			return err
		}
		if blocked {
			findings = append(findings, FindingIDNumberBlocked)
		}
		if mobileShared {
			findings = append(findings, FindingMobileShared)
		}
		if nameDiffers {
			findings = append(findings, FindingNameDiffers)
		}
		birth, fe := validate.ResidentID("id_number", data.IDNumber, a.now())
		switch {
		case fe != nil:
			findings = append(findings, FindingIDNumberInvalid)
		case birth.Format("2006-01-02") != data.BirthDate.Format("2006-01-02"):
			findings = append(findings, FindingBirthDateMismatch)
		}
		if len(findings) == 0 {
			findings = append(findings, FindingNone)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET findings = $2 WHERE id = $1`, caseID, pq.Array(findings)); err != nil {
			return err
		}
		detail := map[string]any{"findings": findings}
		if err := caseEvent(ctx, tx, caseID, "cross_checked", "cross_checked", "system", detail); err != nil {
			return err
		}
		return caseAudit(ctx, tx, c, "case/"+caseID+"/cross-checked", "system", "", "case.cross_checked", detail)
	})
	return findings, err
}

// CaseOpenedInput tells the user about a case: a fraud case with the
// deadline to answer, or a violation with what to correct and by when.
type CaseOpenedInput struct {
	CaseID   string    `json:"case_id"`
	State    string    `json:"state"`              // awaiting_answer | awaiting_correction
	Deadline time.Time `json:"deadline"`           // answer or correction deadline
	DueAt    time.Time `json:"due_at,omitzero"`    // the case's service level
	Kind     string    `json:"kind"`               // fraud | violation
	Rule     string    `json:"rule,omitempty"`     // violation
	ActorID  string    `json:"actor_id,omitempty"` // the staff member who opened the case
}

// NotifyCaseOpened moves a reported case into its waiting state and sends
// the user a site notice with the deadline.
func (a *Activities) NotifyCaseOpened(ctx context.Context, in CaseOpenedInput) error {
	return a.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := loadCase(ctx, tx, in.CaseID)
		if err != nil {
			return err
		}
		key := "case/" + in.CaseID + "/opened"
		if c.State != "reported" {
			return nil // done before: a retry
		}
		col := "answer_due_at"
		if in.Kind == "violation" {
			col = "correct_by"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET state = $2, `+col+` = $3, due_at = $4 WHERE id = $1`,
			in.CaseID, in.State, in.Deadline, nullTime(in.DueAt)); err != nil {
			return err
		}
		deadline := in.Deadline.In(shanghai).Format("2006-01-02 15:04")
		var titleZH, titleEN, bodyZH, bodyEN string
		if in.Kind == "fraud" {
			titleZH, titleEN = "您的注册资料正在核实中，请答复", "Your registration data is being verified: please answer"
			bodyZH = fmt.Sprintf("依据用户承诺书第二条第2款，我们正在核实您提供的注册资料（案件编号 %s）。请于 %s 前在网站上答复并提供说明；逾期未答复的，将依据已有证据作出决定。", in.CaseID, deadline)
			bodyEN = fmt.Sprintf("Under clause C2.2 we are verifying your registration data (case %s). Answer on the website by %s; without an answer the case is decided on the evidence.", in.CaseID, deadline)
		} else {
			titleZH, titleEN = "请按要求改正违规行为", "Please correct a breach of the site's rules"
			bodyZH = fmt.Sprintf("您违反了网站规定（%s，用户承诺书第二条第5款，案件编号 %s）。须改正的内容：%s。请于 %s 前改正并在网站上报告；逾期未改正的，将暂停您的用户资格。", in.Rule, in.CaseID, c.Instructions, deadline)
			bodyEN = fmt.Sprintf("You broke the site's rules (%s, clause C2.5, case %s). To correct: %s. Correct it and report on the website by %s; otherwise your account will be suspended.", in.Rule, in.CaseID, c.Instructions, deadline)
		}
		if err := caseNotice(ctx, tx, c, key, "case_opened", titleZH, titleEN, bodyZH, bodyEN); err != nil {
			return err
		}
		detail := map[string]any{"state": in.State, "deadline": in.Deadline.UTC()}
		if err := caseEvent(ctx, tx, in.CaseID, "opened", "user_notified", "system", detail); err != nil {
			return err
		}
		return caseAudit(ctx, tx, c, key, "system", "", "case.user_notified", detail)
	})
}

// CaseStepInput is a deadline step of a case.
type CaseStepInput struct {
	CaseID string `json:"case_id"`
	// Kind: answer_reminder (to the user), answer_deadline (the user did not
	// answer: decide on the evidence), correction_reminder (to the user),
	// reminder (to investigators), escalation (to supervisors),
	// correction_rejected (staff found the correction insufficient).
	Kind    string `json:"kind"`
	Round   int    `json:"round,omitempty"`
	ActorID string `json:"actor_id,omitempty"`
}

// CaseStep records a deadline step or a rejected correction: the event, a
// state change where the step implies one, a notice, and the audit entry.
func (a *Activities) CaseStep(ctx context.Context, in CaseStepInput) error {
	return a.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := loadCase(ctx, tx, in.CaseID)
		if err != nil {
			return err
		}
		key := fmt.Sprintf("case/%s/%s/%d", in.CaseID, in.Kind, in.Round)
		var done bool
		if err := tx.GetContext(ctx, &done, `SELECT EXISTS (SELECT 1 FROM case_events WHERE case_id = $1 AND event_key = $2)`,
			in.CaseID, fmt.Sprintf("%s/%d", in.Kind, in.Round)); err != nil {
			return err
		}
		if done {
			return nil
		}
		if c.ClosedAt != nil {
			return conflictf("case %s is closed", in.CaseID)
		}
		actorKind, actor := "system", "system"
		if in.ActorID != "" {
			actorKind, actor = "staff", "staff:"+in.ActorID
		}
		detail := map[string]any{}
		switch in.Kind {
		case "answer_reminder":
			err = caseNotice(ctx, tx, c, key, "case_answer_reminder", "提醒：请尽快答复注册资料核实", "Reminder: please answer the verification of your data",
				"案件编号 "+in.CaseID+"，答复期限即将届满。", "Case "+in.CaseID+": the time to answer ends soon.")
		case "correction_reminder":
			err = caseNotice(ctx, tx, c, key, "case_correction_reminder", "提醒：请尽快改正并报告", "Reminder: correct the breach and report it",
				"案件编号 "+in.CaseID+"，改正期限即将届满，逾期将暂停您的用户资格。", "Case "+in.CaseID+": the correction deadline is near; after it the account is suspended.")
		case "answer_deadline":
			_, err = tx.ExecContext(ctx, `UPDATE cases SET state = 'awaiting_decision' WHERE id = $1 AND state = 'awaiting_answer'`, in.CaseID)
			detail["decided_on"] = "evidence"
		case "reminder", "escalation":
			role := "investigator"
			titleZH, titleEN := "案件待处理已超时，请尽快决定", "A case is waiting too long for a decision"
			if in.Kind == "escalation" {
				role = "supervisor"
				titleZH, titleEN = "案件长时间未决定，已上报主管", "A case has been escalated: it waits far too long"
				if _, err := tx.ExecContext(ctx, `UPDATE cases SET escalated_at = coalesce(escalated_at, now()) WHERE id = $1`, in.CaseID); err != nil {
					return err
				}
			}
			detail["notified_role"] = role
			err = writeNotice(ctx, tx, Notice{OperationKey: key, StaffRole: role, Kind: "case_" + in.Kind, TitleZH: titleZH, TitleEN: titleEN,
				BodyZH: "案件编号 " + in.CaseID, BodyEN: "Case " + in.CaseID})
		case "correction_rejected":
			_, err = tx.ExecContext(ctx, `UPDATE cases SET state = 'awaiting_correction' WHERE id = $1`, in.CaseID)
			if err == nil {
				err = caseNotice(ctx, tx, c, key, "case_correction_rejected", "您报告的改正未获确认", "Your reported correction was not confirmed",
					"案件编号 "+in.CaseID+"，请在期限内按要求改正后再次报告。", "Case "+in.CaseID+": correct as required and report again before the deadline.")
			}
		default:
			return conflictf("unknown case step %q", in.Kind)
		}
		if err != nil {
			return err
		}
		if err := caseEvent(ctx, tx, in.CaseID, fmt.Sprintf("%s/%d", in.Kind, in.Round), in.Kind, actor, detail); err != nil {
			return err
		}
		return caseAudit(ctx, tx, c, key, actorKind, in.ActorID, "case."+in.Kind, detail)
	})
}

// CaseSubmissionInput accepts what the user sent to a case: an answer
// (fraud) or a correction report (violation).
type CaseSubmissionInput struct {
	CaseID       string `json:"case_id"`
	SubmissionID string `json:"submission_id"`
	Kind         string `json:"kind"`  // answer | correction
	State        string `json:"state"` // the case's new state
	ActorKind    string `json:"actor_kind"`
}

// AcceptCaseSubmission marks a stored submission accepted and moves the
// case on.
func (a *Activities) AcceptCaseSubmission(ctx context.Context, in CaseSubmissionInput) error {
	return a.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := loadCase(ctx, tx, in.CaseID)
		if err != nil {
			return err
		}
		var sub struct {
			CaseID   *string    `db:"case_id"`
			Kind     string     `db:"kind"`
			Accepted *time.Time `db:"accepted_at"`
		}
		if err := tx.GetContext(ctx, &sub, `SELECT case_id, kind, accepted_at FROM case_submissions WHERE id = $1 FOR UPDATE`, in.SubmissionID); err != nil {
			if isNoRows(err) {
				return conflictf("submission %s does not exist", in.SubmissionID)
			}
			return err
		}
		if sub.CaseID == nil || *sub.CaseID != in.CaseID || sub.Kind != in.Kind {
			return conflictf("submission %s does not belong to case %s", in.SubmissionID, in.CaseID)
		}
		if sub.Accepted != nil {
			return nil // a retry
		}
		if c.ClosedAt != nil {
			return conflictf("case %s is closed", in.CaseID)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE case_submissions SET accepted_at = now() WHERE id = $1`, in.SubmissionID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET state = $2 WHERE id = $1`, in.CaseID, in.State); err != nil {
			return err
		}
		detail := map[string]any{"submission_id": in.SubmissionID}
		kind := map[string]string{"answer": "answered", "correction": "correction_reported"}[in.Kind]
		if err := caseEvent(ctx, tx, in.CaseID, "submission/"+in.SubmissionID, kind, in.ActorKind, detail); err != nil {
			return err
		}
		key := "case/" + in.CaseID + "/submission/" + in.SubmissionID
		if err := writeNotice(ctx, tx, Notice{OperationKey: key, StaffRole: "investigator", Kind: "case_" + kind,
			TitleZH: "用户已就案件作出答复或报告", TitleEN: "The user answered or reported on a case",
			BodyZH: "案件编号 " + in.CaseID, BodyEN: "Case " + in.CaseID}); err != nil {
			return err
		}
		actorID := ""
		if in.ActorKind == "user" && c.AccountID != nil {
			actorID = *c.AccountID
		}
		return caseAudit(ctx, tx, c, key, in.ActorKind, actorID, "case."+kind, detail)
	})
}

// CloseCaseInput closes a case with its outcome. For an adverse outcome the
// sanction (started by the workflow) carries the notice to the user.
type CloseCaseInput struct {
	CaseID      string   `json:"case_id"`
	State       string   `json:"state"`   // cleared | corrected | suspended | cancelled
	Outcome     string   `json:"outcome"` // cleared | corrected | suspend | cancel | escalated
	DecidedBy   string   `json:"decided_by,omitempty"`
	DecidedKind string   `json:"decided_kind"` // staff | system
	ReasonCode  string   `json:"reason_code,omitempty"`
	Clause      string   `json:"clause"`
	Evidence    []string `json:"evidence,omitempty"`
	Corrections []string `json:"corrections,omitempty"`
	SanctionID  string   `json:"sanction_id,omitempty"`
}

// CloseCase records the decision and closes the case (closed_at), once.
func (a *Activities) CloseCase(ctx context.Context, in CloseCaseInput) error {
	return a.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := loadCase(ctx, tx, in.CaseID)
		if err != nil {
			return err
		}
		if c.ClosedAt != nil {
			if c.State == in.State {
				return nil // a retry
			}
			return conflictf("case %s is already %s", in.CaseID, c.State)
		}
		var decidedBy any
		if in.DecidedBy != "" {
			decidedBy = in.DecidedBy
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET state = $2, outcome = $3, decided_by = $4, decided_by_kind = $5,
			decided_at = now(), reason_code = nullif($6, ''), clause = $7, decision_evidence = $8, sanction_id = $9,
			corrections = CASE WHEN cardinality($10::text[]) > 0 THEN $10 ELSE corrections END, closed_at = now()
			WHERE id = $1`, in.CaseID, in.State, in.Outcome, decidedBy, in.DecidedKind, in.ReasonCode, in.Clause,
			pq.Array(nonNil(in.Evidence)), nullString(in.SanctionID), pq.Array(nonNil(in.Corrections))); err != nil {
			return err
		}
		if in.State == "cancelled" && c.AccountID == nil && c.ApplicationID != nil {
			// C2.2: an application cancelled for false data: the ID number
			// may not register again (the approval refuses it).
			if _, err := tx.ExecContext(ctx, `INSERT INTO registration_blocks (id_number, reason)
				SELECT id_number, $2 FROM applications WHERE id = $1 ON CONFLICT (id_number) DO NOTHING`,
				*c.ApplicationID, "false_data:case/"+in.CaseID); err != nil {
				return err
			}
		}
		detail := map[string]any{"outcome": in.Outcome, "reason_code": in.ReasonCode, "clause": in.Clause,
			"evidence": nonNil(in.Evidence), "corrections": nonNil(in.Corrections)}
		if in.SanctionID != "" {
			detail["sanction_id"] = in.SanctionID
		}
		actor := actorLabel(in.DecidedKind, in.DecidedBy)
		if err := caseEvent(ctx, tx, in.CaseID, "closed", in.State, actor, detail); err != nil {
			return err
		}
		key := "case/" + in.CaseID + "/closed"
		switch in.State {
		case "cleared":
			err = caseNotice(ctx, tx, c, key, "case_cleared", "核实完毕：您的注册资料无误", "Verification closed: your data was found correct",
				"案件编号 "+in.CaseID+" 已结案，无需采取任何措施。", "Case "+in.CaseID+" is closed; nothing is required of you.")
		case "corrected":
			err = caseNotice(ctx, tx, c, key, "case_corrected", "您的改正已确认", "Your correction was confirmed",
				"案件编号 "+in.CaseID+" 已结案。违规记录保留在您的账户中。", "Case "+in.CaseID+" is closed. The record of the breach stays on your account.")
		}
		if err != nil {
			return err
		}
		return caseAudit(ctx, tx, c, key, in.DecidedKind, in.DecidedBy, "case."+in.State, detail)
	})
}

func jsonOf(v any) ([]byte, error) { return json.Marshal(orEmpty(v)) }
