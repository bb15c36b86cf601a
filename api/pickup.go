package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/passwords"
	"hrss-backoffice/store"
)

// pickUpCredential hands out a sealed initial password (registration
// approval or in-person reset) exactly once, to the staff member it was
// issued to, within its pickup window. The sealed copy is destroyed in the
// same transaction and the pickup is written to the audit log of the
// account. The answer carries initial_password, username and account_id.
func (s *server) pickUpCredential(c echo.Context, key, auditAction string, auditDetail map[string]any) (map[string]any, error) {
	p := caller(c)
	ctx := c.Request().Context()
	var plain []byte
	var out map[string]any
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		row, err := store.LockStaffPickup(ctx, tx, key)
		if err != nil {
			return err
		}
		if !row.IssuedTo.Valid || row.IssuedTo.String != p.StaffID {
			return errForbidden("the initial password is issued to the staff member who approved or reset", "初始密码仅发放给办理审批或重置的工作人员")
		}
		if row.Ciphertext == nil || !s.now().Before(row.ExpiresAt) {
			if row.PickedUpAt.Valid {
				return newError(http.StatusGone, "already_picked_up", "初始密码已被领取", "the initial password was already picked up")
			}
			return newError(http.StatusGone, "pickup_expired", "领取时限已过，请为用户重置密码", "the pickup window has passed; reset the password at the counter")
		}
		plain, err = s.Box.Open(row.Ciphertext, []byte(key))
		if err != nil {
			return fmt.Errorf("open sealed password: %w", err)
		}
		if err := s.handOut(c, tx, key, row.AccountID, plain); err != nil {
			return err
		}
		out = map[string]any{"username": row.Username, "account_id": row.AccountID}
		return audit(ctx, tx, c, auditAction, "account", row.AccountID, auditDetail)
	})
	if err != nil {
		return nil, err
	}
	out["initial_password"] = string(plain)
	return out, nil
}

// handOut destroys the sealed copy of an initial password as it is handed
// out and, where the password takes effect at its pickup (a registration's
// approval), stores its argon2id hash in the same transaction: the
// password works from the moment its holder has it, and the sealed copy
// and the hash never both outlive the pickup.
//
// The account's row is locked first, so that a counter reset cannot slip
// in between, and the hash takes one of the slots that bound concurrent
// argon2id work (hashSlots): busy, the pickup answers 503 and changes
// nothing.
func (s *server) handOut(c echo.Context, tx *sqlx.Tx, key, accountID string, plain []byte) error {
	ctx := c.Request().Context()
	waits, err := store.AwaitsPickup(ctx, tx, accountID)
	if err != nil {
		return err
	}
	if waits {
		release, ok := s.slots.acquire(ctx)
		if !ok {
			return errBusy(c)
		}
		hash, err := passwords.Hash(string(plain), s.Hash)
		release()
		if err != nil {
			return err
		}
		if err := store.ActivateInitialPassword(ctx, tx, accountID, hash); err != nil {
			return err
		}
	}
	return store.MarkPickedUp(ctx, tx, key)
}

// pickupRow is the sealed initial password of an approval.
type pickupRow = store.ApplicantPickup

// waitingPickup finds the applicant's initial password of an application
// (locked when lock) and refuses when there is none to hand out: not
// approved yet (409), a counter registration's slip (403), picked up or
// past the window (410: a counter resets it).
func (s *server) waitingPickup(ctx context.Context, q store.Q, applicationID string, lock bool) (pickupRow, error) {
	row, err := store.ApplicantPickupByKey(ctx, q, activities.RegistrationPickupKey(applicationID), lock)
	if errors.Is(err, store.ErrNotFound) {
		return row, newError(http.StatusConflict, "not_approved", "申请尚未批准，暂无初始密码", "the application is not approved: there is no initial password yet")
	}
	if err != nil {
		return row, err
	}
	if !row.ToApplicant {
		return row, errForbidden("the initial password of a counter registration is handed over at the counter",
			"柜台办理的注册，初始密码由窗口工作人员当面交付")
	}
	if row.Ciphertext == nil || row.Expired {
		if row.PickedUpAt.Valid {
			return row, newError(http.StatusGone, "already_picked_up", "初始密码已被领取", "the initial password was already picked up")
		}
		return row, newError(http.StatusGone, "pickup_expired", "领取时限已过，请持身份证到窗口重置密码",
			"the pickup window has passed; come to a counter to reset the password")
	}
	return row, nil
}

// applicantPickUp hands the initial password of an online or kiosk
// application to its applicant once (issue 18): the follow token, and a
// code sent to the verified mobile (purpose pickup) as mobile_code.
func (s *server) applicantPickUp(c echo.Context) error {
	id, err := s.applicantOnly(c)
	if err != nil {
		return err
	}
	var req struct {
		MobileCode string `json:"mobile_code"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := s.waitingPickup(ctx, s.DB, id, false); err != nil {
		return err
	}
	mobile, _, err := store.ApplicationMobile(ctx, s.DB, id)
	if err != nil {
		return err
	}
	if err := s.checkMobileCode(ctx, mobile, PurposePickup, id, req.MobileCode); err != nil {
		return err
	}
	key := activities.RegistrationPickupKey(id)
	var plain []byte
	var row pickupRow
	err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var err error
		if row, err = s.waitingPickup(ctx, tx, id, true); err != nil {
			return err
		}
		if plain, err = s.Box.Open(row.Ciphertext, []byte(key)); err != nil {
			return fmt.Errorf("open sealed password: %w", err)
		}
		if err := s.handOut(c, tx, key, row.AccountID, plain); err != nil {
			return err
		}
		return audit(ctx, tx, c, "account.initial_password_picked_up", "account", row.AccountID,
			map[string]any{"application_id": id, "by": "applicant"})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"initial_password": string(plain), "username": row.Username})
}
