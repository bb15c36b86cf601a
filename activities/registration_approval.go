package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"hrss-backoffice/internal/eligibility"
	"hrss-backoffice/internal/passwords"
	"hrss-backoffice/internal/validate"
)

// The approval of an application (C2.1): the account, its agreement and
// services, and the sealed initial password.

// ApproveInput opens the account of an approved application.
type ApproveInput struct {
	ApplicationID string        `json:"application_id"`
	ReviewerID    string        `json:"reviewer_id"`
	Reason        string        `json:"reason,omitempty"`
	PickupWindow  time.Duration `json:"pickup_window"`
	// Qualifications the reviewer confirmed on documents seen at the
	// decision (eligibility.Qualifications): codes, no personal data.
	Qualifications []string `json:"qualifications,omitempty"`
	// ApplicantPickupWindow, when set, makes the initial password of an
	// online or kiosk application the applicant's to pick up (follow token
	// and a code to the verified mobile) within this window; a counter
	// application keeps the reviewer's slip (PickupWindow).
	ApplicantPickupWindow time.Duration `json:"applicant_pickup_window,omitempty"`
}

// ServiceRefusal mirrors workflows.ServiceRefusal (activities cannot import
// workflows).
type ServiceRefusal struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

// ApproveResult reports the opened account. It carries IDs and codes only.
type ApproveResult struct {
	AlreadyRegistered bool             `json:"already_registered"`
	AccountID         string           `json:"account_id,omitempty"`
	OpenedServices    []string         `json:"opened_services"`
	RefusedServices   []ServiceRefusal `json:"refused_services"`
	PickupExpiresAt   time.Time        `json:"pickup_expires_at"`
	// ToApplicant: the applicant picks the initial password up.
	ToApplicant bool `json:"to_applicant,omitempty"`
}

// RegistrationPickupKey names the credential pickup of an approval.
func RegistrationPickupKey(applicationID string) string {
	return "registration/" + applicationID
}

type applicationRow struct {
	Status       string    `db:"status"`
	Name         string    `db:"name"`
	IDNumber     string    `db:"id_number"`
	BirthDate    time.Time `db:"birth_date"`
	Mobile       string    `db:"mobile"`
	Email        *string   `db:"email"`
	Address      string    `db:"address"`
	Channel      string    `db:"channel"`
	Services     []string  `db:"-"`
	TermsVersion string    `db:"terms_version"`
	AgreedAt     time.Time `db:"agreed_at"`
	AccountID    *string   `db:"account_id"`
}

// ApproveApplication makes the applicant a formal user (C1.5, C2.1, C4):
// the person record, the account (username = ID number) with a generated
// initial password sealed for one pickup (by the deciding reviewer, or by
// an online or kiosk applicant), which takes effect, stored only as an
// argon2id hash, when it is picked up, the services the applicant
// qualifies for, and the agreement in force from now. One transaction; a
// retry finds the account and returns the same result without issuing a
// second password.
func (a *Activities) ApproveApplication(ctx context.Context, in ApproveInput) (ApproveResult, error) {
	var res ApproveResult
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		var app applicationRow
		var services pq.StringArray
		if err := tx.QueryRowxContext(ctx, `
			SELECT status, name, id_number, birth_date, mobile, email, address, channel, services, terms_version, agreed_at, account_id
			FROM applications WHERE id = $1 FOR UPDATE`, in.ApplicationID).Scan(
			&app.Status, &app.Name, &app.IDNumber, &app.BirthDate, &app.Mobile, &app.Email, &app.Address,
			&app.Channel, &services, &app.TermsVersion, &app.AgreedAt, &app.AccountID); err != nil {
			if isNoRows(err) {
				return conflictf("application %s does not exist", in.ApplicationID)
			}
			return err
		}
		app.Services = services
		switch {
		case app.Status == "approved" && app.AccountID != nil:
			return loadApproval(ctx, tx, in.ApplicationID, &res)
		case app.Status == "rejected":
			var reason string
			_ = tx.GetContext(ctx, &reason, `SELECT coalesce(decision_reason, '') FROM applications WHERE id = $1`, in.ApplicationID)
			if reason == ReasonAlreadyRegistered {
				res.AlreadyRegistered = true
				return nil
			}
			return conflictf("application %s is rejected", in.ApplicationID)
		case app.Status != "pending":
			return conflictf("application %s is %s, not pending", in.ApplicationID, app.Status)
		}

		// C2.2: an open fraud case against the application blocks its
		// approval until it is decided, and an ID number cancelled for false
		// data may not register again. Both leave the application pending.
		var openFraud, blocked bool
		if err := tx.QueryRowContext(ctx, `SELECT
			EXISTS (SELECT 1 FROM cases WHERE application_id = $1 AND kind = 'fraud' AND closed_at IS NULL),
			EXISTS (SELECT 1 FROM registration_blocks WHERE id_number = $2)`, in.ApplicationID, app.IDNumber).Scan(&openFraud, &blocked); err != nil {
			return err
		}
		if openFraud {
			return conflictf("an open fraud case blocks the approval of application %s until it is decided", in.ApplicationID)
		}
		if blocked {
			return conflictf("the applicant of application %s was cancelled for false data and may not register again", in.ApplicationID)
		}

		var live bool
		if err := tx.GetContext(ctx, &live, `SELECT EXISTS (SELECT 1 FROM accounts a JOIN people p ON p.id = a.person_id
			WHERE p.id_number = $1 AND a.status IN ('active', 'suspended'))`, app.IDNumber); err != nil {
			return err
		}
		if live {
			res.AlreadyRegistered = true
			return closeApplication(ctx, tx, CloseInput{ApplicationID: in.ApplicationID, Status: "rejected",
				Reason: ReasonAlreadyRegistered, ActorKind: "system"})
		}

		now := a.now()
		var personID string
		if err := tx.GetContext(ctx, &personID, `
			INSERT INTO people (id, id_number, name, birth_date, mobile, email, address)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (id_number) DO UPDATE SET name = EXCLUDED.name, birth_date = EXCLUDED.birth_date,
				mobile = EXCLUDED.mobile, email = EXCLUDED.email, address = EXCLUDED.address, updated_at = now()
			RETURNING id`, uuid.NewString(), app.IDNumber, app.Name, app.BirthDate, app.Mobile, app.Email, app.Address); err != nil {
			return err
		}

		pickupKey := RegistrationPickupKey(in.ApplicationID)
		sealedPw, err := a.newPendingPassword(pickupKey)
		if err != nil {
			return err
		}
		hash := passwords.AwaitingPickup
		accountID := uuid.NewString()
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO accounts (id, person_id, application_id, username, password_hash, must_change_password, password_changed_at, opened_at,
				language)
			VALUES ($1, $2, $3, $4, $5, true, $6, $6, (SELECT language FROM applications WHERE id = $3))`, accountID, personID, in.ApplicationID, app.IDNumber, hash, now); err != nil {
			return err
		}

		res.ToApplicant = in.ApplicantPickupWindow > 0 && app.Channel != "counter"
		if res.ToApplicant {
			res.PickupExpiresAt = now.Add(in.ApplicantPickupWindow).UTC()
			if _, err := tx.ExecContext(ctx, `INSERT INTO credential_pickups (operation_key, account_id, issued_to, to_applicant, ciphertext,
				created_at, expires_at) VALUES ($1, $2, NULL, true, $3, $4, $5)`, pickupKey, accountID, sealedPw, now, res.PickupExpiresAt); err != nil {
				return err
			}
		} else {
			res.PickupExpiresAt = now.Add(in.PickupWindow).UTC()
			if err := storePickup(ctx, tx, pickupKey, accountID, in.ReviewerID, sealedPw, now, res.PickupExpiresAt); err != nil {
				return err
			}
		}

		facts := eligibility.Facts{Age: validate.AgeOn(app.BirthDate, now), IDNumber: app.IDNumber, Address: app.Address,
			Qualifications: in.Qualifications}
		opened, refused, err := openServices(ctx, tx, accountID, app.Services, facts, now)
		if err != nil {
			return err
		}
		res.AccountID, res.OpenedServices, res.RefusedServices = accountID, opened, refused

		if _, err := tx.ExecContext(ctx, `
			INSERT INTO agreements (account_id, terms_version, channel, accepted_at, effective_from)
			VALUES ($1, $2, $3, $4, $5)`, accountID, app.TermsVersion, app.Channel, app.AgreedAt, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO terms_acceptances (account_id, terms_version, position, channel, recorded_at)
			VALUES ($1, $2, 'accepted', $3, $4)`, accountID, app.TermsVersion, app.Channel, app.AgreedAt); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE applications SET status = 'approved', decision = 'approve', decision_reason = nullif($2, ''),
				decided_by = $3, decided_at = $4, closed_at = $4, account_id = $5, queued_at = NULL
			WHERE id = $1`, in.ApplicationID, in.Reason, in.ReviewerID, now, accountID); err != nil {
			return err
		}
		detail := map[string]any{"account_id": accountID, "opened_services": opened, "refused_services": refused,
			"pickup_expires_at": res.PickupExpiresAt}
		if res.ToApplicant {
			detail["pickup_by"] = "applicant"
		}
		if err := appEvent(ctx, tx, in.ApplicationID, "decision", "approved", "staff:"+in.ReviewerID, detail); err != nil {
			return err
		}
		welcome := Notice{OperationKey: "registration/" + in.ApplicationID + "/welcome", AccountID: accountID,
			Kind: "welcome", TitleZH: "注册成功，欢迎使用网上办事服务", TitleEN: "Registration approved: welcome",
			BodyZH: "首次登录时请修改初始密码。", BodyEN: "Change the initial password when you first sign in."}
		if err := writeNotice(ctx, tx, welcome); err != nil {
			return err
		}
		if res.ToApplicant {
			// Said on the follow page, where the applicant picks the
			// password up; never the password itself.
			welcome = Notice{OperationKey: "registration/" + in.ApplicationID + "/pickup", ApplicationID: in.ApplicationID,
				Kind: "approved_pickup", TitleZH: "注册申请已批准", TitleEN: "Registration approved"}
			welcome.BodyZH = "请在申请进度页用发送到您手机的验证码领取初始密码（" + res.PickupExpiresAt.In(shanghai).Format("2006-01-02 15:04") +
				" 前有效，仅可领取一次），首次登录时须修改。逾期请持身份证到窗口重置。"
			welcome.BodyEN = "Pick up your initial password on the follow page with a code sent to your mobile (once, before " +
				res.PickupExpiresAt.In(shanghai).Format("2006-01-02 15:04") + "); change it at first sign-in. Later, reset it at a counter."
			if err := writeNotice(ctx, tx, welcome); err != nil {
				return err
			}
			if err := queueApprovedNotice(ctx, tx, in.ApplicationID, accountID, app.Email != nil && *app.Email != ""); err != nil {
				return err
			}
		}
		for _, e := range []AuditEntry{
			{OperationKey: "registration/" + in.ApplicationID + "/approved", ActorKind: "staff", ActorID: in.ReviewerID,
				Action: "application.approved", RecordKind: "application", RecordID: in.ApplicationID, Detail: detail},
			{OperationKey: "registration/" + in.ApplicationID + "/account", ActorKind: "staff", ActorID: in.ReviewerID,
				Action: "account.opened", RecordKind: "account", RecordID: accountID,
				Detail: map[string]any{"terms_version": app.TermsVersion, "channel": app.Channel, "opened_services": opened}},
			{OperationKey: "registration/" + in.ApplicationID + "/initial-password", ActorKind: "staff", ActorID: in.ReviewerID,
				Action: "account.initial_password_issued", RecordKind: "account", RecordID: accountID,
				Detail: map[string]any{"pickup_expires_at": res.PickupExpiresAt}},
		} {
			if err := writeAudit(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && (res.ToApplicant || res.AlreadyRegistered) {
		a.sendQueued(ctx, ApplicantNoticeSource(in.ApplicationID))
	}
	return res, err
}

// loadApproval rebuilds the result of an approval that already happened.
func loadApproval(ctx context.Context, tx *sqlx.Tx, applicationID string, res *ApproveResult) error {
	var detail []byte
	if err := tx.GetContext(ctx, &detail, `SELECT detail FROM application_events WHERE application_id = $1 AND event_key = 'decision'`, applicationID); err != nil {
		return err
	}
	var d struct {
		AccountID       string           `json:"account_id"`
		OpenedServices  []string         `json:"opened_services"`
		RefusedServices []ServiceRefusal `json:"refused_services"`
		PickupExpiresAt time.Time        `json:"pickup_expires_at"`
		PickupBy        string           `json:"pickup_by"`
	}
	if err := json.Unmarshal(detail, &d); err != nil {
		return err
	}
	res.ToApplicant = d.PickupBy == "applicant"
	res.AccountID, res.OpenedServices, res.RefusedServices, res.PickupExpiresAt = d.AccountID, d.OpenedServices, d.RefusedServices, d.PickupExpiresAt
	return nil
}

// openServices opens each requested service the person qualifies for
// under the service's rules (C3.4(6)) and reports the others with the
// reason.
func openServices(ctx context.Context, tx *sqlx.Tx, accountID string, codes []string, facts eligibility.Facts, now time.Time) ([]string, []ServiceRefusal, error) {
	opened, refused := []string{}, []ServiceRefusal{}
	for _, code := range codes {
		var svc struct {
			Rules  []byte `db:"rules"`
			Active bool   `db:"active"`
		}
		err := tx.GetContext(ctx, &svc, `SELECT rules, active FROM services WHERE code = $1`, code)
		switch {
		case isNoRows(err) || (err == nil && !svc.Active):
			refused = append(refused, ServiceRefusal{Code: code, Reason: "service_unavailable"})
			continue
		case err != nil:
			return nil, nil, err
		}
		rules, err := eligibility.Decode(svc.Rules)
		if err != nil {
			return nil, nil, fmt.Errorf("rules of service %s: %w", code, err)
		}
		if reason := eligibility.Check(rules, facts); reason != "" {
			refused = append(refused, ServiceRefusal{Code: code, Reason: reason})
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_services (account_id, service_code, opened_at) VALUES ($1, $2, $3)
			ON CONFLICT (account_id, service_code) DO NOTHING`, accountID, code, now); err != nil {
			return nil, nil, err
		}
		opened = append(opened, code)
	}
	return opened, refused, nil
}
