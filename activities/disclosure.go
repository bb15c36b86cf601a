package activities

import (
	"context"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Data-disclosure requests (C2.3). The disclosed data itself never passes
// through an activity or a workflow: the API hands it out once, on export.

// DisclosableFields are the field codes a request may name. A password or
// its hash is not among them, and the database refuses any other code.
var DisclosableFields = []string{"name", "id_number", "birth_date", "mobile", "email", "address",
	"account_status", "registered_at", "services", "agreement"}

// DisclosurePlan is what the workflow needs to run a request.
type DisclosurePlan struct {
	AccountID      string        `json:"account_id"`
	Basis          string        `json:"basis"`
	EnteredBy      string        `json:"entered_by"`
	Fields         []string      `json:"fields"`
	Status         string        `json:"status"` // awaiting_consent | awaiting_approval
	Deadline       time.Time     `json:"deadline"`
	DeliveryWindow time.Duration `json:"delivery_window"`
}

// DisclosureOutcome is a request's state after a step.
type DisclosureOutcome struct {
	Status            string    `json:"status"`
	ApprovedFields    []string  `json:"approved_fields,omitempty"`
	DeliveryExpiresAt time.Time `json:"delivery_expires_at,omitzero"`
}

type disclosureRow struct {
	AccountID         string         `db:"account_id"`
	Basis             string         `db:"basis"`
	EnteredBy         string         `db:"entered_by"`
	Fields            pq.StringArray `db:"fields"`
	Status            string         `db:"status"`
	Deadline          *time.Time     `db:"deadline"`
	ApprovedFields    pq.StringArray `db:"approved_fields"`
	DeliveryExpiresAt *time.Time     `db:"delivery_expires_at"`
	Secret            bool           `db:"secret"`
}

func lockDisclosure(ctx context.Context, tx *sqlx.Tx, id string) (disclosureRow, error) {
	var r disclosureRow
	err := tx.GetContext(ctx, &r, `SELECT account_id, basis, entered_by, fields, status, deadline, approved_fields, delivery_expires_at,
		secrecy_until IS NOT NULL AS secret FROM disclosure_requests WHERE id = $1 FOR UPDATE`, id)
	if isNoRows(err) {
		return r, conflictf("disclosure request %s does not exist", id)
	}
	return r, err
}

func (r disclosureRow) outcome() DisclosureOutcome {
	o := DisclosureOutcome{Status: r.Status, ApprovedFields: r.ApprovedFields}
	if r.DeliveryExpiresAt != nil {
		o.DeliveryExpiresAt = r.DeliveryExpiresAt.UTC()
	}
	return o
}

// disclosureAudit writes the event on the request and, unless a secrecy
// order covers the request, on the account too, so that the user's activity
// record shows it. A secret request names the account in its detail only
// (auditors filter record_kind=disclosure); the user learns of it from
// GET /v1/me/disclosures once the order ends.
func disclosureAudit(ctx context.Context, tx *sqlx.Tx, r disclosureRow, key, actorKind, actorID string, roles []string, httpRequestID, action, requestID string, detail map[string]any) error {
	detail["disclosure_id"], detail["account_id"] = requestID, r.AccountID
	accountID := r.AccountID
	if err := auditAs(ctx, tx, AuditEntry{OperationKey: key, ActorKind: actorKind, ActorID: actorID, Action: "disclosure." + action,
		RecordKind: "disclosure", RecordID: requestID, Detail: detail}, roles, httpRequestID); err != nil {
		return err
	}
	if r.Secret {
		return nil
	}
	return auditAs(ctx, tx, AuditEntry{OperationKey: key + "/account", ActorKind: actorKind, ActorID: actorID, Action: "account.disclosure_" + action,
		RecordKind: "account", RecordID: accountID, Detail: detail}, roles, httpRequestID)
}

// AdmitDisclosure starts the wait: for the user's consent (user_authorised,
// with a notice to the user) or for a second staff member's approval.
func (a *Activities) AdmitDisclosure(ctx context.Context, requestID string) (DisclosurePlan, error) {
	var plan DisclosurePlan
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		r, err := lockDisclosure(ctx, tx, requestID)
		if err != nil {
			return err
		}
		window, err := setting(ctx, tx, "disclosure.delivery_window")
		if err != nil {
			return err
		}
		plan = DisclosurePlan{AccountID: r.AccountID, Basis: r.Basis, EnteredBy: r.EnteredBy, Fields: r.Fields, DeliveryWindow: window}
		if r.Status != "received" {
			// Admitted before: a retry.
			plan.Status = r.Status
			if r.Deadline != nil {
				plan.Deadline = r.Deadline.UTC()
			}
			return nil
		}
		plan.Status = "awaiting_approval"
		wait := "disclosure.approval_deadline"
		if r.Basis == "user_authorised" {
			plan.Status, wait = "awaiting_consent", "disclosure.consent_deadline"
		}
		d, err := setting(ctx, tx, wait)
		if err != nil {
			return err
		}
		plan.Deadline = a.now().Add(d).UTC().Truncate(time.Microsecond) // as Postgres stores it
		if _, err := tx.ExecContext(ctx, `UPDATE disclosure_requests SET status = $2, deadline = $3 WHERE id = $1`,
			requestID, plan.Status, plan.Deadline); err != nil {
			return err
		}
		key := "disclosure/" + requestID + "/admitted"
		if r.Basis == "user_authorised" {
			if err := writeNotice(ctx, tx, Notice{OperationKey: key, AccountID: r.AccountID, Kind: "consent_requested",
				TitleZH: "有部门请求获取您的注册资料，需要您的授权", TitleEN: "A department asks for your registration data and needs your consent",
				BodyZH: "请在期限内于“我的授权”中同意或拒绝；逾期未答复视为拒绝。",
				BodyEN: "Accept or refuse under your consents before the deadline; no answer counts as refusal."}); err != nil {
				return err
			}
		}
		return disclosureAudit(ctx, tx, r, key, "system", "", nil, "", plan.Status, requestID,
			map[string]any{"basis": r.Basis, "fields": []string(r.Fields), "deadline": plan.Deadline})
	})
	return plan, err
}

// ConsentInput records the user's answer, or the silence that counts as
// refusal (no_answer).
type ConsentInput struct {
	RequestID     string `json:"request_id"`
	Decision      string `json:"decision"` // accepted | refused | no_answer
	HTTPRequestID string `json:"http_request_id,omitempty"`
}

// RecordConsent approves exactly the requested fields on acceptance, or
// refuses the request.
func (a *Activities) RecordConsent(ctx context.Context, in ConsentInput) (DisclosureOutcome, error) {
	var out DisclosureOutcome
	if !slices.Contains([]string{"accepted", "refused", "no_answer"}, in.Decision) {
		return out, conflictf("unknown consent decision %q", in.Decision)
	}
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		r, err := lockDisclosure(ctx, tx, in.RequestID)
		if err != nil {
			return err
		}
		if r.Status != "awaiting_consent" {
			var prior string
			_ = tx.GetContext(ctx, &prior, `SELECT coalesce(consent_decision, '') FROM disclosure_requests WHERE id = $1`, in.RequestID)
			if prior == in.Decision {
				out = r.outcome() // a retry
				return nil
			}
			return conflictf("disclosure request %s is %s", in.RequestID, r.Status)
		}
		now := a.now().UTC().Truncate(time.Microsecond)
		if in.Decision == "accepted" {
			window, err := setting(ctx, tx, "disclosure.delivery_window")
			if err != nil {
				return err
			}
			exp := now.Add(window)
			if _, err := tx.ExecContext(ctx, `UPDATE disclosure_requests SET status = 'approved', consent_decision = 'accepted',
				consent_at = $2, approved_fields = fields, decided_at = $2, delivery_expires_at = $3 WHERE id = $1`,
				in.RequestID, now, exp); err != nil {
				return err
			}
			out = DisclosureOutcome{Status: "approved", ApprovedFields: r.Fields, DeliveryExpiresAt: exp}
		} else {
			reason := "refused_by_user"
			if in.Decision == "no_answer" {
				reason = "no_answer_by_deadline"
			}
			if _, err := tx.ExecContext(ctx, `UPDATE disclosure_requests SET status = 'refused', consent_decision = $2,
				consent_at = $3, decided_at = $3, decision_reason = $4, closed_at = $3 WHERE id = $1`,
				in.RequestID, in.Decision, now, reason); err != nil {
				return err
			}
			out = DisclosureOutcome{Status: "refused"}
		}
		actorKind, actorID := "user", r.AccountID
		if in.Decision == "no_answer" {
			actorKind, actorID = "system", ""
		}
		return disclosureAudit(ctx, tx, r, "disclosure/"+in.RequestID+"/consent", actorKind, actorID, nil, in.HTTPRequestID,
			"consent_"+in.Decision, in.RequestID, map[string]any{"status": out.Status, "approved_fields": nonNil(out.ApprovedFields)})
	})
	return out, err
}

// DisclosureDecisionInput is a second staff member's decision.
type DisclosureDecisionInput struct {
	RequestID     string   `json:"request_id"`
	Decision      string   `json:"decision"` // approve | refuse
	ApproverID    string   `json:"approver_id"`
	ApproverRoles []string `json:"approver_roles"`
	Fields        []string `json:"fields,omitempty"`
	Reason        string   `json:"reason,omitempty"`
	HTTPRequestID string   `json:"http_request_id,omitempty"`
}

// DecideDisclosure approves the named subset of the requested fields (all
// of them when none is named) or refuses. The one who entered the request
// never decides it (checked here and by the database).
func (a *Activities) DecideDisclosure(ctx context.Context, in DisclosureDecisionInput) (DisclosureOutcome, error) {
	var out DisclosureOutcome
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		r, err := lockDisclosure(ctx, tx, in.RequestID)
		if err != nil {
			return err
		}
		if r.Status != "awaiting_approval" {
			var by string
			_ = tx.GetContext(ctx, &by, `SELECT coalesce(approved_by::text, '') FROM disclosure_requests WHERE id = $1`, in.RequestID)
			if by == in.ApproverID && (r.Status == "approved" || r.Status == "refused") {
				out = r.outcome() // a retry
				return nil
			}
			return conflictf("disclosure request %s is %s", in.RequestID, r.Status)
		}
		if r.EnteredBy == in.ApproverID {
			return conflictf("the staff member who entered disclosure request %s may not decide it", in.RequestID)
		}
		now := a.now().UTC().Truncate(time.Microsecond)
		switch in.Decision {
		case "approve":
			fields := in.Fields
			if len(fields) == 0 {
				fields = r.Fields
			}
			for _, f := range fields {
				if !slices.Contains(r.Fields, f) {
					return conflictf("field %q was not requested", f)
				}
			}
			window, err := setting(ctx, tx, "disclosure.delivery_window")
			if err != nil {
				return err
			}
			exp := now.Add(window)
			if _, err := tx.ExecContext(ctx, `UPDATE disclosure_requests SET status = 'approved', approved_by = $2, approver_roles = $3,
				decided_at = $4, decision_reason = nullif($5, ''), approved_fields = $6, delivery_expires_at = $7 WHERE id = $1`,
				in.RequestID, in.ApproverID, pq.Array(nonNil(in.ApproverRoles)), now, in.Reason, pq.Array(fields), exp); err != nil {
				return err
			}
			out = DisclosureOutcome{Status: "approved", ApprovedFields: fields, DeliveryExpiresAt: exp}
		case "refuse":
			if _, err := tx.ExecContext(ctx, `UPDATE disclosure_requests SET status = 'refused', approved_by = $2, approver_roles = $3,
				decided_at = $4, decision_reason = $5, closed_at = $4 WHERE id = $1`,
				in.RequestID, in.ApproverID, pq.Array(nonNil(in.ApproverRoles)), now, in.Reason); err != nil {
				return err
			}
			out = DisclosureOutcome{Status: "refused"}
		default:
			return conflictf("unknown decision %q", in.Decision)
		}
		return disclosureAudit(ctx, tx, r, "disclosure/"+in.RequestID+"/decision", "staff", in.ApproverID, in.ApproverRoles, in.HTTPRequestID,
			out.Status, in.RequestID, map[string]any{"approved_fields": nonNil(out.ApprovedFields), "reason": in.Reason})
	})
	return out, err
}

// ExpireDisclosureInput ends a request whose time ran out: no second
// approver in time (stage approval), or the approved data not exported in
// its delivery window (stage delivery).
type ExpireDisclosureInput struct {
	RequestID string `json:"request_id"`
	Stage     string `json:"stage"` // approval | delivery
}

// ExpireDisclosure returns the request's final status: a delivered
// request stays delivered.
func (a *Activities) ExpireDisclosure(ctx context.Context, in ExpireDisclosureInput) (string, error) {
	var status string
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		r, err := lockDisclosure(ctx, tx, in.RequestID)
		if err != nil {
			return err
		}
		status = r.Status
		want, reason := "awaiting_approval", "no_decision_in_time"
		if in.Stage == "delivery" {
			want, reason = "approved", "not_exported_in_time"
		}
		if r.Status != want {
			return nil // delivered, or expired before: nothing to do
		}
		if _, err := tx.ExecContext(ctx, `UPDATE disclosure_requests SET status = 'expired', closed_at = now(),
			decision_reason = coalesce(decision_reason, $2) WHERE id = $1`, in.RequestID, reason); err != nil {
			return err
		}
		status = "expired"
		return disclosureAudit(ctx, tx, r, "disclosure/"+in.RequestID+"/expired", "system", "", nil, "", "expired",
			in.RequestID, map[string]any{"stage": in.Stage, "reason": reason})
	})
	return status, err
}
