package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"hrss-backoffice/internal/passwords"
	"hrss-backoffice/store"
)

// ---- Sealed initial passwords, shared by registration approval and the
// in-person reset: generated here, stored as an argon2id hash, the plain
// text sealed for one pickup and never returned from an activity.

// newSealedPassword generates an initial password and returns its hash and
// its plain text sealed under the pickup's operation key.
func (a *Activities) newSealedPassword(pickupKey string) (hash string, sealedPw []byte, err error) {
	plain, err := passwords.GenerateInitial()
	if err != nil {
		return "", nil, err
	}
	if hash, err = passwords.Hash(plain, a.Hash); err != nil {
		return "", nil, err
	}
	sealedPw, err = a.Box.Seal([]byte(plain), []byte(pickupKey))
	return hash, sealedPw, err
}

// newPendingPassword generates an initial password that takes effect when
// it is picked up: only its plain text sealed under the pickup's operation
// key. The account waits with passwords.AwaitingPickup, which no password
// matches, and the pickup stores the argon2id hash as it hands the
// password out (store.ActivateInitialPassword). So a registration's
// approval spends no hashing time (about 45 ms of a core at the OWASP
// cost), and a password nobody picks up is never valid.
func (a *Activities) newPendingPassword(pickupKey string) (sealedPw []byte, err error) {
	plain, err := passwords.GenerateInitial()
	if err != nil {
		return nil, err
	}
	return a.Box.Seal([]byte(plain), []byte(pickupKey))
}

// storePickup keeps a sealed password for one pickup by staffID until
// expires (then the owning workflow destroys it with DestroyPickup).
func storePickup(ctx context.Context, tx *sqlx.Tx, pickupKey, accountID, staffID string, sealedPw []byte, now, expires time.Time) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO credential_pickups (operation_key, account_id, issued_to, ciphertext, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, pickupKey, accountID, staffID, sealedPw, now, expires)
	return err
}

// PasswordResetPickupKey names the credential pickup of an in-person reset.
func PasswordResetPickupKey(resetID string) string { return "password-reset/" + resetID }

// revokeSessions ends every session of an account.
func revokeSessions(ctx context.Context, tx *sqlx.Tx, accountID string) (int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = now() WHERE account_id = $1 AND revoked_at IS NULL`, accountID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ---- Compromise lock (C3.3(3)) ----

// LockInput locks an account for a stored security report.
type LockInput struct {
	AccountID string `json:"account_id"`
	ReportID  string `json:"report_id"`
}

// LockResult says when the account was locked.
type LockResult struct {
	LockedAt time.Time `json:"locked_at"`
}

// LockForCompromise locks the account (if it is not locked already), ends
// all its sessions and tells the user, once per report. A second report
// while locked is recorded and ends any session again.
func (a *Activities) LockForCompromise(ctx context.Context, in LockInput) (LockResult, error) {
	var res LockResult
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		var acct struct {
			LockedAt *time.Time `db:"compromise_locked_at"`
		}
		if err := tx.GetContext(ctx, &acct, `SELECT compromise_locked_at FROM accounts WHERE id = $1 FOR UPDATE`, in.AccountID); err != nil {
			if isNoRows(err) {
				return conflictf("account %s does not exist", in.AccountID)
			}
			return err
		}
		var rep struct {
			AccountID *string    `db:"account_id"`
			Channel   string     `db:"channel"`
			StaffID   *string    `db:"staff_id"`
			Office    string     `db:"office"`
			LockedAt  *time.Time `db:"locked_at"`
		}
		if err := tx.GetContext(ctx, &rep, `SELECT account_id, channel, staff_id, office, locked_at FROM security_reports WHERE id = $1 FOR UPDATE`, in.ReportID); err != nil {
			if isNoRows(err) {
				return conflictf("security report %s does not exist", in.ReportID)
			}
			return err
		}
		if rep.AccountID == nil || *rep.AccountID != in.AccountID {
			return conflictf("security report %s concerns another account", in.ReportID)
		}
		if rep.LockedAt != nil {
			res.LockedAt = *rep.LockedAt
			if acct.LockedAt != nil {
				res.LockedAt = *acct.LockedAt
			}
			return nil // a retry
		}
		now := a.now().UTC().Truncate(time.Microsecond) // as Postgres stores it
		already := acct.LockedAt != nil
		if already {
			res.LockedAt = *acct.LockedAt
		} else {
			res.LockedAt = now
			if _, err := tx.ExecContext(ctx, `UPDATE accounts SET compromise_locked_at = $2, compromise_report_id = $3 WHERE id = $1`,
				in.AccountID, now, in.ReportID); err != nil {
				return err
			}
		}
		ended, err := revokeSessions(ctx, tx, in.AccountID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE security_reports SET locked_at = $2 WHERE id = $1`, in.ReportID, now); err != nil {
			return err
		}
		key := "compromise/" + in.ReportID + "/locked"
		action := "account.locked_for_compromise"
		if already {
			action = "account.compromise_reported_again"
		}
		actorKind, actorID := "system", ""
		switch rep.Channel {
		case "online":
			actorKind, actorID = "user", in.AccountID
		case "staff":
			actorKind, actorID = "staff", deref(rep.StaffID)
		}
		if err := writeNotice(ctx, tx, Notice{OperationKey: key, AccountID: in.AccountID, Kind: "compromise_locked",
			TitleZH: "您的账户已因安全报告被锁定", TitleEN: "Your account is locked after a security report",
			BodyZH: "所有登录会话已结束。请携带本人有效身份证件，亲自到任一经办服务机构重置密码，重置后账户解锁。",
			BodyEN: "Every session has ended. Bring your identity document to a service office in person to reset the password; the reset unlocks the account."}); err != nil {
			return err
		}
		return writeAudit(ctx, tx, AuditEntry{OperationKey: key, ActorKind: actorKind, ActorID: actorID, Action: action,
			RecordKind: "account", RecordID: in.AccountID,
			Detail: map[string]any{"report_id": in.ReportID, "channel": rep.Channel, "office": rep.Office, "sessions_ended": ended}})
	})
	return res, err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// CompromiseReminder is the n-th reminder to a locked user.
type CompromiseReminder struct {
	AccountID string `json:"account_id"`
	ReportID  string `json:"report_id"`
	N         int    `json:"n"`
}

// RemindCompromised reminds a user whose account waits for the in-person
// reset, once per reminder number.
func (a *Activities) RemindCompromised(ctx context.Context, in CompromiseReminder) error {
	key := fmt.Sprintf("compromise/%s/reminder/%d", in.ReportID, in.N)
	return a.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := writeNotice(ctx, tx, Notice{OperationKey: key, AccountID: in.AccountID, Kind: "compromise_reminder",
			TitleZH: "您的账户仍处于锁定状态", TitleEN: "Your account is still locked",
			BodyZH: "请携带本人有效身份证件到经办服务机构重置密码。", BodyEN: "Reset the password in person at a service office, with your identity document."}); err != nil {
			return err
		}
		return writeAudit(ctx, tx, AuditEntry{OperationKey: key, ActorKind: "system", Action: "account.compromise_reminder",
			RecordKind: "account", RecordID: in.AccountID, Detail: map[string]any{"report_id": in.ReportID, "n": in.N}})
	})
}

// ---- In-person reset at a counter (C3.3(2), C3.3(3)) ----

// ResetInput carries out a stored reset document.
type ResetInput struct {
	ResetID string `json:"reset_id"`
	// LiftCompromise is set by the compromise workflow: only its reset may
	// lift a compromise lock.
	LiftCompromise bool          `json:"lift_compromise"`
	PickupWindow   time.Duration `json:"pickup_window"`
}

// ResetOutcome reports the reset: issued (the new initial password waits
// for pickup) or refused with a code. IDs and codes only.
type ResetOutcome struct {
	Status          string    `json:"status"` // issued | refused
	Refusal         string    `json:"refusal,omitempty"`
	AccountID       string    `json:"account_id"`
	PickupExpiresAt time.Time `json:"pickup_expires_at,omitzero"`
}

// Refusals of a reset.
const (
	RefusalCompromiseLocked = "compromise_locked"  // a plain reset of a locked account
	RefusalAccountNotActive = "account_not_active" // suspended, cancelled or deregistered
)

// ResetPassword issues a new initial password: stored as a hash, to be
// changed at next sign-in, sealed for one pickup by the reviewer at the
// counter; every session ends; a compromise lock is lifted when the
// compromise workflow asks. A retry returns the first outcome.
func (a *Activities) ResetPassword(ctx context.Context, in ResetInput) (ResetOutcome, error) {
	var out ResetOutcome
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		var r struct {
			AccountID string     `db:"account_id"`
			StaffID   string     `db:"staff_id"`
			Office    string     `db:"office"`
			Document  string     `db:"identity_document"`
			Status    string     `db:"status"`
			Refusal   *string    `db:"refusal"`
			Expires   *time.Time `db:"pickup_expires_at"`
		}
		if err := tx.GetContext(ctx, &r, `SELECT account_id, staff_id, office, identity_document, status, refusal, pickup_expires_at
			FROM password_resets WHERE id = $1 FOR UPDATE`, in.ResetID); err != nil {
			if isNoRows(err) {
				return conflictf("password reset %s does not exist", in.ResetID)
			}
			return err
		}
		out.AccountID = r.AccountID
		switch r.Status {
		case "issued":
			out.Status, out.PickupExpiresAt = "issued", r.Expires.UTC()
			return nil
		case "refused":
			out.Status, out.Refusal = "refused", deref(r.Refusal)
			return nil
		}
		var acct struct {
			Status   string     `db:"status"`
			LockedAt *time.Time `db:"compromise_locked_at"`
		}
		if err := tx.GetContext(ctx, &acct, `SELECT status, compromise_locked_at FROM accounts WHERE id = $1 FOR UPDATE`, r.AccountID); err != nil {
			return err
		}
		refuse := ""
		switch {
		case acct.Status != "active":
			refuse = RefusalAccountNotActive
		case acct.LockedAt != nil && !in.LiftCompromise:
			refuse = RefusalCompromiseLocked
		}
		if refuse != "" {
			out.Status, out.Refusal = "refused", refuse
			if _, err := tx.ExecContext(ctx, `UPDATE password_resets SET status = 'refused', refusal = $2 WHERE id = $1`, in.ResetID, refuse); err != nil {
				return err
			}
			return writeAudit(ctx, tx, AuditEntry{OperationKey: "password-reset/" + in.ResetID + "/refused", ActorKind: "staff", ActorID: r.StaffID,
				Action: "password.reset_refused", RecordKind: "account", RecordID: r.AccountID,
				Detail: map[string]any{"reset_id": in.ResetID, "refusal": refuse, "office": r.Office}})
		}

		now := a.now().UTC().Truncate(time.Microsecond) // as Postgres stores it
		key := PasswordResetPickupKey(in.ResetID)
		hash, sealedPw, err := a.newSealedPassword(key)
		if err != nil {
			return err
		}
		lifted := acct.LockedAt != nil
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET password_hash = $2, must_change_password = true, password_changed_at = $3,
			password_reminded_at = NULL, compromise_locked_at = NULL, compromise_report_id = NULL WHERE id = $1`, r.AccountID, hash, now); err != nil {
			return err
		}
		ended, err := revokeSessions(ctx, tx, r.AccountID)
		if err != nil {
			return err
		}
		// The in-person check replaces the account's second factor too (its
		// recovery codes go with it): one set up from a stolen session, or
		// on a lost phone, must not outlive the owner's visit to the counter.
		res, err := tx.ExecContext(ctx, `DELETE FROM second_factors WHERE subject_kind = 'user' AND subject_id = $1`, r.AccountID)
		if err != nil {
			return err
		}
		factorRemoved, _ := res.RowsAffected()
		out.Status, out.PickupExpiresAt = "issued", now.Add(in.PickupWindow)
		if err := storePickup(ctx, tx, key, r.AccountID, r.StaffID, sealedPw, now, out.PickupExpiresAt); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE password_resets SET status = 'issued', issued_at = $2, pickup_expires_at = $3,
			lifted_compromise = $4 WHERE id = $1`, in.ResetID, now, out.PickupExpiresAt, lifted); err != nil {
			return err
		}
		if err := writeNotice(ctx, tx, Notice{OperationKey: "password-reset/" + in.ResetID + "/issued", AccountID: r.AccountID,
			Kind: "password_reset", TitleZH: "您的密码已在经办服务机构重置", TitleEN: "Your password was reset at a service office",
			BodyZH: "请使用新的初始密码登录，并在登录后立即修改密码。", BodyEN: "Sign in with the new initial password and change it at once."}); err != nil {
			return err
		}
		detail := map[string]any{"reset_id": in.ResetID, "office": r.Office, "identity_document": r.Document,
			"pickup_expires_at": out.PickupExpiresAt, "sessions_ended": ended, "lifted_compromise": lifted,
			"second_factor_removed": factorRemoved > 0}
		if err := writeAudit(ctx, tx, AuditEntry{OperationKey: "password-reset/" + in.ResetID + "/issued", ActorKind: "staff", ActorID: r.StaffID,
			Action: "password.reset_in_person", RecordKind: "account", RecordID: r.AccountID, Detail: detail}); err != nil {
			return err
		}
		if !lifted {
			return nil
		}
		return writeAudit(ctx, tx, AuditEntry{OperationKey: "password-reset/" + in.ResetID + "/unlocked", ActorKind: "staff", ActorID: r.StaffID,
			Action: "account.compromise_lock_lifted", RecordKind: "account", RecordID: r.AccountID,
			Detail: map[string]any{"reset_id": in.ResetID, "office": r.Office}})
	})
	return out, err
}

// ---- Password age reminders (C3.3(2)) ----

// SweepPage is one page of a password-age sweep: accounts after After (by
// ID) whose password is older than MaxAge and who were not reminded within
// RemindEvery (or since the last change), at most Limit of them.
type SweepPage struct {
	SweepID     string        `json:"sweep_id"`
	AsOf        time.Time     `json:"as_of"`
	MaxAge      time.Duration `json:"max_age"`
	RemindEvery time.Duration `json:"remind_every"`
	After       string        `json:"after,omitempty"`
	Limit       int           `json:"limit"`
}

// SweepPageResult says how many were reminded and where the next page
// starts.
type SweepPageResult struct {
	Reminded int    `json:"reminded"`
	Last     string `json:"last,omitempty"`
	Done     bool   `json:"done"`
}

// RemindOldPasswords reminds one page of accounts with set-based SQL: one
// statement marks them, places their notices and appends their audit rows.
// A retry finds them marked (reminded at AsOf) and moves on.
func (a *Activities) RemindOldPasswords(ctx context.Context, in SweepPage) (SweepPageResult, error) {
	var res SweepPageResult
	if in.Limit <= 0 {
		return res, conflictf("page size must be positive")
	}
	var after any
	if in.After != "" {
		after = in.After
	}
	detail, _ := json.Marshal(map[string]any{"sweep": in.SweepID})
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		row, err := store.RemindOldPasswords(ctx, tx, store.PasswordAgeSweep{SweepID: in.SweepID, AsOf: in.AsOf, After: after,
			MaxAge: int64(in.MaxAge.Seconds()), RemindEvery: int64(in.RemindEvery.Seconds()), Limit: in.Limit, Detail: detail})
		if err != nil {
			return err
		}
		res.Reminded, res.Last, res.Done = row.Reminded, deref(row.Last), row.Due < in.Limit
		return nil
	})
	return res, err
}

// ---- Registration data change (C3.2) ----

// DataChangeDecisionInput applies a reviewer's decision on a name or ID
// number change.
type DataChangeDecisionInput struct {
	ChangeID string `json:"change_id"`
	Decision string `json:"decision"` // approve | reject
	StaffID  string `json:"staff_id"`
	Reason   string `json:"reason,omitempty"`
}

// DecideDataChange approves (the person's name or ID number, and the
// username with it, change; the old values stay in the change record, the
// audit log names the fields only) or rejects a pending change. A retry of the same decision
// changes nothing; another decision on a decided change is a conflict.
func (a *Activities) DecideDataChange(ctx context.Context, in DataChangeDecisionInput) (string, error) {
	want := map[string]string{"approve": "approved", "reject": "rejected"}[in.Decision]
	if want == "" {
		return "", conflictf("unknown decision %q", in.Decision)
	}
	err := a.inTx(ctx, func(tx *sqlx.Tx) error {
		var ch struct {
			AccountID string `db:"account_id"`
			Status    string `db:"status"`
			Kind      string `db:"kind"`
			New       []byte `db:"new_values"`
		}
		if err := tx.GetContext(ctx, &ch, `SELECT account_id, status, kind, new_values FROM data_changes WHERE id = $1 FOR UPDATE`, in.ChangeID); err != nil {
			if isNoRows(err) {
				return conflictf("data change %s does not exist", in.ChangeID)
			}
			return err
		}
		if ch.Status == want {
			return nil // a retry
		}
		if ch.Status != "pending" || ch.Kind != "identity" {
			return conflictf("data change %s is %s", in.ChangeID, ch.Status)
		}
		var newValues map[string]string
		if err := json.Unmarshal(ch.New, &newValues); err != nil {
			return conflictf("data change %s is malformed", in.ChangeID)
		}
		var cur struct {
			PersonID  string    `db:"person_id"`
			Name      string    `db:"name"`
			IDNumber  string    `db:"id_number"`
			BirthDate time.Time `db:"birth_date"`
		}
		if err := tx.GetContext(ctx, &cur, `SELECT p.id AS person_id, p.name, p.id_number, p.birth_date
			FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.id = $1 FOR UPDATE OF p`, ch.AccountID); err != nil {
			return err
		}
		old := map[string]string{}
		for f := range newValues {
			switch f {
			case "name":
				old[f] = cur.Name
			case "id_number":
				old[f] = cur.IDNumber
			}
		}
		if want == "approved" {
			if id, ok := newValues["id_number"]; ok && id != cur.IDNumber {
				var taken bool
				if err := tx.GetContext(ctx, &taken, `SELECT EXISTS (SELECT 1 FROM people WHERE id_number = $1 AND id <> $2)`, id, cur.PersonID); err != nil {
					return err
				}
				if taken {
					return conflictf("the new ID number belongs to another person")
				}
				birth, err := time.Parse("20060102", id[6:14])
				if err != nil {
					return conflictf("the new ID number has no valid birth date")
				}
				if _, err := tx.ExecContext(ctx, `UPDATE people SET id_number = $2, birth_date = $3, updated_at = now() WHERE id = $1`,
					cur.PersonID, id, birth); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `UPDATE accounts SET username = $2 WHERE id = $1`, ch.AccountID, id); err != nil {
					return err
				}
			}
			if name, ok := newValues["name"]; ok {
				if _, err := tx.ExecContext(ctx, `UPDATE people SET name = $2, updated_at = now() WHERE id = $1`, cur.PersonID, name); err != nil {
					return err
				}
			}
		}
		oldJSON, _ := json.Marshal(old)
		if _, err := tx.ExecContext(ctx, `UPDATE data_changes SET status = $2, old_values = $3, reason = nullif($4, ''),
			decided_by = $5, decided_at = now() WHERE id = $1`, in.ChangeID, want, oldJSON, in.Reason, in.StaffID); err != nil {
			return err
		}
		key := "data-change/" + in.ChangeID + "/" + want
		title := map[string][2]string{
			"approved": {"您的登记信息变更已核准", "Your change of registration data was approved"},
			"rejected": {"您的登记信息变更未获核准", "Your change of registration data was rejected"},
		}[want]
		if err := writeNotice(ctx, tx, Notice{OperationKey: key, AccountID: ch.AccountID, Kind: "data_change_" + want,
			TitleZH: title[0], TitleEN: title[1], BodyZH: in.Reason, BodyEN: in.Reason}); err != nil {
			return err
		}
		// Fields and references only, never values (docs/data-protection.md):
		// the old and new values and the reason stay in the change record,
		// under the retention schedule.
		detail := map[string]any{"change_id": in.ChangeID, "fields": keys(newValues), "reason_given": in.Reason != ""}
		return writeAudit(ctx, tx, AuditEntry{OperationKey: key, ActorKind: "staff", ActorID: in.StaffID,
			Action: "registration_data.change_" + want, RecordKind: "account", RecordID: ch.AccountID, Detail: detail})
	})
	return want, err
}

func keys(m map[string]string) []string {
	out := []string{}
	for _, k := range []string{"name", "id_number"} {
		if _, ok := m[k]; ok {
			out = append(out, k)
		}
	}
	return out
}
