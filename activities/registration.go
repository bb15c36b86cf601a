package activities

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Flags the automated checks raise for the reviewer (C2.1, C3.2).
const (
	FlagBlocked           = "blocked_false_data" // the ID number was cancelled for false data (C2.2)
	FlagMobileInUse       = "mobile_in_use"      // another live account has this mobile number
	FlagAlreadyRegistered = "already_registered" // the person already holds an account
)

// ReasonAlreadyRegistered closes an application of a person who already
// holds an account.
const ReasonAlreadyRegistered = "already_registered"

// AdmitResult is what the automated checks found.
type AdmitResult struct {
	Flags             []string `json:"flags"`
	AlreadyRegistered bool     `json:"already_registered"`
}

func appEvent(ctx context.Context, tx *sqlx.Tx, appID, key, kind, actor string, detail any) error {
	d, err := json.Marshal(orEmpty(detail))
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO application_events (application_id, event_key, kind, actor, detail)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (application_id, event_key) DO NOTHING`,
		appID, key, kind, actor, d)
	return err
}

// AdmitApplication runs the automated checks on a submitted application
// and puts it in the review queue: duplicates (an account already held),
// the block list, and a mobile number shared with another live account.
func (a *Activities) AdmitApplication(ctx context.Context, applicationID string) (AdmitResult, error) {
	var res AdmitResult
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		var app struct {
			Status   string `db:"status"`
			IDNumber string `db:"id_number"`
			Mobile   string `db:"mobile"`
		}
		if err := tx.GetContext(ctx, &app, `SELECT status, id_number, mobile FROM applications WHERE id = $1 FOR UPDATE`, applicationID); err != nil {
			if isNoRows(err) {
				return conflictf("application %s does not exist", applicationID)
			}
			return err
		}
		var flags []string
		var registered, blocked, mobileInUse bool
		if err := tx.QueryRowContext(ctx, `
			SELECT EXISTS (SELECT 1 FROM accounts a JOIN people p ON p.id = a.person_id
			               WHERE p.id_number = $1 AND a.status IN ('active', 'suspended')),
			       EXISTS (SELECT 1 FROM registration_blocks WHERE id_number = $1),
			       EXISTS (SELECT 1 FROM accounts a JOIN people p ON p.id = a.person_id
			               WHERE p.mobile = $2 AND p.id_number <> $1 AND a.status IN ('active', 'suspended'))`,
			app.IDNumber, app.Mobile).Scan(&registered, &blocked, &mobileInUse); err != nil {
			return err
		}
		if registered {
			flags = append(flags, FlagAlreadyRegistered)
		}
		if blocked {
			flags = append(flags, FlagBlocked)
		}
		if mobileInUse {
			flags = append(flags, FlagMobileInUse)
		}
		res = AdmitResult{Flags: flags, AlreadyRegistered: registered}
		if app.Status != "submitted" {
			return nil // admitted before: a retry
		}
		if _, err := tx.ExecContext(ctx, `UPDATE applications SET status = 'pending', queued_at = now(), flags = $2 WHERE id = $1`,
			applicationID, pq.Array(nonNil(flags))); err != nil {
			return err
		}
		if err := appEvent(ctx, tx, applicationID, "checked", "checked", "system", map[string]any{"flags": nonNil(flags)}); err != nil {
			return err
		}
		return writeAudit(ctx, tx, AuditEntry{OperationKey: "registration/" + applicationID + "/checked", ActorKind: "system",
			Action: "application.checked", RecordKind: "application", RecordID: applicationID, Detail: map[string]any{"flags": nonNil(flags)}})
	})
	return res, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ServiceLevelEvent is a reminder or an escalation of a waiting application.
type ServiceLevelEvent struct {
	ApplicationID string `json:"application_id"`
	Kind          string `json:"kind"` // reminder | escalation
	Round         int    `json:"round"`
}

// RecordServiceLevel notifies reviewers (reminder) or supervisors
// (escalation) that an application has waited too long (C2.1).
func (a *Activities) RecordServiceLevel(ctx context.Context, ev ServiceLevelEvent) error {
	role, titleZH, titleEN := "reviewer", "注册申请等待审核已超时，请尽快处理", "A registration application is waiting too long for review"
	if ev.Kind == "escalation" {
		role, titleZH, titleEN = "supervisor", "注册申请长时间未审核，已上报主管", "A registration application has been escalated: it waits far too long"
	} else if ev.Kind != "reminder" {
		return conflictf("unknown service-level event %q", ev.Kind)
	}
	key := fmt.Sprintf("registration/%s/%s/%d", ev.ApplicationID, ev.Kind, ev.Round)
	return a.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := writeNotice(ctx, tx, Notice{OperationKey: key, StaffRole: role, Kind: "registration_" + ev.Kind,
			TitleZH: titleZH, TitleEN: titleEN, BodyZH: "申请编号 " + ev.ApplicationID, BodyEN: "Application " + ev.ApplicationID}); err != nil {
			return err
		}
		if err := appEvent(ctx, tx, ev.ApplicationID, fmt.Sprintf("%s/%d", ev.Kind, ev.Round), ev.Kind, "system", map[string]any{"notified_role": role}); err != nil {
			return err
		}
		return writeAudit(ctx, tx, AuditEntry{OperationKey: key, ActorKind: "system", Action: "application." + ev.Kind,
			RecordKind: "application", RecordID: ev.ApplicationID, Detail: map[string]any{"notified_role": role}})
	})
}

// CloseInput ends an application without an account: rejected by a
// reviewer (or automatically when the person already holds an account),
// expired, or withdrawn by the applicant.
type CloseInput struct {
	ApplicationID string `json:"application_id"`
	Status        string `json:"status"` // rejected | expired | withdrawn
	Reason        string `json:"reason,omitempty"`
	ActorKind     string `json:"actor_kind"` // staff | applicant | system
	ActorID       string `json:"actor_id,omitempty"`
}

// CloseApplication closes an open application once.
func (a *Activities) CloseApplication(ctx context.Context, in CloseInput) error {
	err := a.inTx(ctx, func(tx *sqlx.Tx) error { return closeApplication(ctx, tx, in) })
	if err == nil && in.Status == "rejected" {
		a.sendQueued(ctx, ApplicantNoticeSource(in.ApplicationID))
	}
	return err
}

var closeNotices = map[string][2]string{
	"rejected":  {"您的注册申请未获通过", "Your registration application was rejected"},
	"expired":   {"您的注册申请已过期，如需办理请重新申请", "Your registration application has expired; apply again if you still need the services"},
	"withdrawn": {"您已撤回注册申请", "You withdrew your registration application"},
}

func closeApplication(ctx context.Context, tx *sqlx.Tx, in CloseInput) error {
	titles, ok := closeNotices[in.Status]
	if !ok {
		return conflictf("cannot close an application as %q", in.Status)
	}
	var status string
	if err := tx.GetContext(ctx, &status, `SELECT status FROM applications WHERE id = $1 FOR UPDATE`, in.ApplicationID); err != nil {
		if isNoRows(err) {
			return conflictf("application %s does not exist", in.ApplicationID)
		}
		return err
	}
	if status == in.Status {
		return nil // closed before: a retry
	}
	if status != "pending" && status != "info_requested" && status != "submitted" {
		return conflictf("application %s is already %s", in.ApplicationID, status)
	}
	decision := map[string]string{"rejected": "reject", "expired": "", "withdrawn": ""}[in.Status]
	var decidedBy any
	if in.ActorKind == "staff" {
		decidedBy = in.ActorID
	}
	if _, err := tx.ExecContext(ctx, `
		UPDATE applications SET status = $2, decision = nullif($3, ''), decision_reason = nullif($4, ''),
			decided_by = $5, decided_at = CASE WHEN $3 <> '' THEN now() END, closed_at = now(), queued_at = NULL
		WHERE id = $1`, in.ApplicationID, in.Status, decision, in.Reason, decidedBy); err != nil {
		return err
	}
	actor := actorLabel(in.ActorKind, in.ActorID)
	detail := map[string]any{"reason": in.Reason}
	if err := appEvent(ctx, tx, in.ApplicationID, "closed", in.Status, actor, detail); err != nil {
		return err
	}
	if err := writeNotice(ctx, tx, Notice{OperationKey: "registration/" + in.ApplicationID + "/closed", ApplicationID: in.ApplicationID,
		Kind: "application_" + in.Status, TitleZH: titles[0], TitleEN: titles[1], BodyZH: in.Reason, BodyEN: in.Reason}); err != nil {
		return err
	}
	if in.Status == "rejected" {
		// By SMS (and e-mail): the reason stays on the follow page.
		if _, err := queueApplicationNotice(ctx, tx, in.ApplicationID, refRejected, "rejected"); err != nil {
			return err
		}
	}
	return writeAudit(ctx, tx, AuditEntry{OperationKey: "registration/" + in.ApplicationID + "/closed", ActorKind: in.ActorKind,
		ActorID: in.ActorID, Action: "application." + in.Status, RecordKind: "application", RecordID: in.ApplicationID, Detail: detail})
}

func actorLabel(kind, id string) string {
	if id == "" {
		return kind
	}
	return kind + ":" + id
}

// RequestInfoInput asks the applicant for more data.
type RequestInfoInput struct {
	ApplicationID string `json:"application_id"`
	ReviewerID    string `json:"reviewer_id"`
	What          string `json:"what"`
	Round         int    `json:"round"`
}

// RequestInfo takes the application out of the queue until the applicant
// supplements it.
func (a *Activities) RequestInfo(ctx context.Context, in RequestInfoInput) error {
	key := fmt.Sprintf("registration/%s/request-info/%d", in.ApplicationID, in.Round)
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		var status string
		if err := tx.GetContext(ctx, &status, `SELECT status FROM applications WHERE id = $1 FOR UPDATE`, in.ApplicationID); err != nil {
			return err
		}
		if status == "info_requested" {
			return nil // a retry
		}
		if status != "pending" {
			return conflictf("application %s is %s, not pending", in.ApplicationID, status)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE applications SET status = 'info_requested', info_requested = $2, queued_at = NULL
			WHERE id = $1`, in.ApplicationID, in.What); err != nil {
			return err
		}
		detail := map[string]any{"what": in.What}
		if err := appEvent(ctx, tx, in.ApplicationID, fmt.Sprintf("request_info/%d", in.Round), "info_requested", "staff:"+in.ReviewerID, detail); err != nil {
			return err
		}
		if err := writeNotice(ctx, tx, Notice{OperationKey: key, ApplicationID: in.ApplicationID, Kind: "application_info_requested",
			TitleZH: "请补充注册资料", TitleEN: "Please supplement your application", BodyZH: in.What, BodyEN: in.What}); err != nil {
			return err
		}
		// By SMS (and e-mail), once per round: what is missing stays on
		// the follow page.
		if _, err := queueApplicationNotice(ctx, tx, in.ApplicationID, refInfoRequested, fmt.Sprintf("info_requested/%d", in.Round)); err != nil {
			return err
		}
		return writeAudit(ctx, tx, AuditEntry{OperationKey: key, ActorKind: "staff", ActorID: in.ReviewerID,
			Action: "application.info_requested", RecordKind: "application", RecordID: in.ApplicationID, Detail: detail})
	})
	if err == nil {
		a.sendQueued(ctx, ApplicantNoticeSource(in.ApplicationID))
	}
	return err
}

// SupplementInput applies a stored supplement.
type SupplementInput struct {
	ApplicationID string `json:"application_id"`
	SupplementID  string `json:"supplement_id"`
}

// SupplementFields are the application fields a supplement may change.
var SupplementFields = []string{"name", "mobile", "email", "address"}

// ApplySupplement copies the supplement's changes into the application and
// returns it to the review queue.
func (a *Activities) ApplySupplement(ctx context.Context, in SupplementInput) error {
	return a.inTx(ctx, func(tx *sqlx.Tx) error {
		var sup struct {
			ApplicationID string  `db:"application_id"`
			Changes       []byte  `db:"changes"`
			AppliedAt     *string `db:"applied_at"`
		}
		if err := tx.GetContext(ctx, &sup, `SELECT application_id, changes, applied_at::text FROM application_supplements WHERE id = $1 FOR UPDATE`, in.SupplementID); err != nil {
			if isNoRows(err) {
				return conflictf("supplement %s does not exist", in.SupplementID)
			}
			return err
		}
		if sup.ApplicationID != in.ApplicationID {
			return conflictf("supplement %s belongs to another application", in.SupplementID)
		}
		if sup.AppliedAt != nil {
			return nil // a retry
		}
		var changes map[string]*string
		if err := json.Unmarshal(sup.Changes, &changes); err != nil {
			return conflictf("supplement %s is malformed", in.SupplementID)
		}
		// COALESCE keeps fields the supplement does not touch.
		if _, err := tx.ExecContext(ctx, `
			UPDATE applications SET
				name = coalesce($2, name), mobile = coalesce($3, mobile),
				-- a new number was never verified: the pickup code will
				-- not go to it (api/verification.go)
				mobile_verified_at = CASE WHEN $3::text IS NOT NULL AND $3 <> mobile THEN NULL ELSE mobile_verified_at END,
				email = CASE WHEN $4::text IS NULL THEN email ELSE nullif($4, '') END,
				address = coalesce($5, address),
				status = 'pending', info_requested = NULL, queued_at = now()
			WHERE id = $1 AND status = 'info_requested'`,
			in.ApplicationID, changes["name"], changes["mobile"], changes["email"], changes["address"]); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE application_supplements SET applied_at = now() WHERE id = $1`, in.SupplementID); err != nil {
			return err
		}
		fields := []string{}
		for _, f := range SupplementFields {
			if changes[f] != nil {
				fields = append(fields, f)
			}
		}
		detail := map[string]any{"supplement_id": in.SupplementID, "changed_fields": fields}
		if err := appEvent(ctx, tx, in.ApplicationID, "supplement/"+in.SupplementID, "supplemented", "applicant", detail); err != nil {
			return err
		}
		return writeAudit(ctx, tx, AuditEntry{OperationKey: "registration/" + in.ApplicationID + "/supplement/" + in.SupplementID,
			ActorKind: "applicant", Action: "application.supplemented", RecordKind: "application", RecordID: in.ApplicationID, Detail: detail})
	})
}

// DestroyPickup destroys an initial password's sealed plain text once the
// pickup window has passed, if nobody picked it up.
func (a *Activities) DestroyPickup(ctx context.Context, operationKey string) error {
	return a.inTx(ctx, func(tx *sqlx.Tx) error {
		var accountID string
		err := tx.GetContext(ctx, &accountID, `UPDATE credential_pickups SET ciphertext = NULL, destroyed_at = now()
			WHERE operation_key = $1 AND ciphertext IS NOT NULL RETURNING account_id`, operationKey)
		if isNoRows(err) {
			return nil // picked up, or destroyed before
		}
		if err != nil {
			return err
		}
		return writeAudit(ctx, tx, AuditEntry{OperationKey: operationKey + "/pickup-destroyed", ActorKind: "system",
			Action: "account.initial_password_destroyed", RecordKind: "account", RecordID: accountID})
	})
}
