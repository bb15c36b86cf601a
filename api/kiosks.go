package api

import (
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
)

// Kiosks (issue 18, C1.5): a self-service kiosk is a registered device.
// An administrator registers it with the office it stands in and receives
// its credential once; the kiosk sends it as X-Kiosk-Credential with every
// registration it submits, which makes the application's channel "kiosk".
// Issuing a new credential (rotation) ends the old one at once; revoking
// ends the kiosk. Only the credential's SHA-256 is stored.

// KioskHeader carries a kiosk's device credential.
const KioskHeader = "X-Kiosk-Credential"

// kioskCredentialPattern is what newToken makes (base64url of 32 bytes).
var kioskCredentialPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func (s *server) kioskRoutes(v1 *echo.Group) {
	v1.GET("/kiosks", s.listKiosks, s.allow(authz.Console))
	v1.POST("/kiosks", s.registerKiosk, s.allow(authz.Console), s.requireReauth)
	v1.POST("/kiosks/:id/credential", s.rotateKiosk, s.allow(authz.Console), s.requireReauth)
	v1.DELETE("/kiosks/:id", s.revokeKiosk, s.allow(authz.Console), s.requireReauth)
}

type kioskRow store.Kiosk

func (k kioskRow) view() map[string]any {
	return map[string]any{"id": k.ID, "name": k.Name, "office": k.Office, "created_at": k.CreatedAt, "rotated_at": k.RotatedAt,
		"revoked_at": nullable(k.RevokedAt.Time, k.RevokedAt.Valid)}
}

func (s *server) listKiosks(c echo.Context) error {
	if err := authorize(c, authz.KioskManage); err != nil {
		return err
	}
	rows, err := store.Kiosks(c.Request().Context(), s.DB)
	if err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(rows))
	for _, k := range rows {
		items = append(items, kioskRow(k).view())
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

func (s *server) registerKiosk(c echo.Context) error {
	if err := authorize(c, authz.KioskManage); err != nil {
		return err
	}
	var req struct {
		Name   string `json:"name"`
		Office string `json:"office"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	var details []validate.FieldError
	for _, fe := range []*validate.FieldError{validate.Text("name", req.Name, true, 1, 100), validate.Text("office", req.Office, true, 1, 100)} {
		if fe != nil {
			details = append(details, *fe)
		}
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	cred, err := newToken()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	id := uuid.NewString()
	var k kioskRow
	err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		row, err := store.RegisterKiosk(ctx, tx, id, strings.TrimSpace(req.Name), strings.TrimSpace(req.Office), hashToken(cred), caller(c).StaffID)
		if err != nil {
			return err
		}
		k = kioskRow(row)
		return audit(ctx, tx, c, "kiosk.registered", "kiosk", id, map[string]any{"office": k.Office})
	})
	if err != nil {
		return err
	}
	out := k.view()
	out["credential"] = cred
	return c.JSON(http.StatusCreated, out)
}

// kioskByID locks an active kiosk for a change.
func kioskByID(c echo.Context, tx *sqlx.Tx) (kioskRow, error) {
	var k kioskRow
	id := c.Param("id")
	if uuid.Validate(id) != nil {
		return k, errNotFound()
	}
	row, err := store.LockKiosk(c.Request().Context(), tx, id)
	if err != nil {
		return k, err
	}
	k = kioskRow(row)
	if k.RevokedAt.Valid {
		return k, newError(http.StatusConflict, "kiosk_revoked", "该自助终端已停用", "the kiosk is revoked")
	}
	return k, nil
}

func (s *server) rotateKiosk(c echo.Context) error {
	if err := authorize(c, authz.KioskManage); err != nil {
		return err
	}
	cred, err := newToken()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var k kioskRow
	err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var err error
		if k, err = kioskByID(c, tx); err != nil {
			return err
		}
		row, err := store.RotateKioskCredential(ctx, tx, k.ID, hashToken(cred))
		if err != nil {
			return err
		}
		k = kioskRow(row)
		return audit(ctx, tx, c, "kiosk.credential_rotated", "kiosk", k.ID, map[string]any{"office": k.Office})
	})
	if err != nil {
		return err
	}
	out := k.view()
	out["credential"] = cred
	return c.JSON(http.StatusOK, out)
}

func (s *server) revokeKiosk(c echo.Context) error {
	if err := authorize(c, authz.KioskManage); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var k kioskRow
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var err error
		if k, err = kioskByID(c, tx); err != nil {
			return err
		}
		row, err := store.RevokeKiosk(ctx, tx, k.ID, caller(c).StaffID)
		if err != nil {
			return err
		}
		k = kioskRow(row)
		return audit(ctx, tx, c, "kiosk.revoked", "kiosk", k.ID, map[string]any{"office": k.Office})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, k.view())
}

// entry is how an application came in: its channel as a fact, and who
// entered it (a reviewer at a counter, or a kiosk and its office).
type entry struct {
	Channel   string
	EnteredBy string // staff ID, counter only
	KioskID   string
	Office    string
	// MobileVerified: the applicant answered a code sent to the mobile.
	MobileVerified bool
}

// registrationEntry decides the channel from the caller, never from the
// body: a kiosk's valid credential makes "kiosk", a reviewer's or
// supervisor's session "counter", anything else (anonymous, users, other
// staff) "online". A claimed channel that differs is refused with a field
// error, as is an unknown or revoked kiosk credential.
func (s *server) registrationEntry(c echo.Context, claimed string) (entry, error) {
	p := caller(c)
	cred := c.Request().Header.Get(KioskHeader)
	var e entry
	switch {
	case cred != "":
		if p != nil {
			return e, errValidation(validate.FieldError{Field: KioskHeader, Code: "not_with_session",
				MessageZH: "自助终端凭证不能与登录会话同时使用", MessageEN: "a kiosk credential is not sent with a session"})
		}
		bad := errValidation(validate.FieldError{Field: KioskHeader, Code: "invalid_kiosk_credential",
			MessageZH: "自助终端凭证无效或已停用", MessageEN: "the kiosk credential is unknown or revoked"})
		if !kioskCredentialPattern.MatchString(cred) {
			return e, bad
		}
		k, err := store.KioskByCredential(c.Request().Context(), s.DB, hashToken(cred))
		if errors.Is(err, store.ErrNotFound) {
			return e, bad
		}
		if err != nil {
			return e, err
		}
		e = entry{Channel: "kiosk", KioskID: k.ID, Office: k.Office}
	case may(c, authz.CounterEntry):
		office, err := store.StaffOffice(c.Request().Context(), s.DB, p.StaffID)
		if err != nil {
			return e, err
		}
		e = entry{Channel: "counter", EnteredBy: p.StaffID, Office: office}
	default:
		e = entry{Channel: "online"}
	}
	if claimed != "" && claimed != e.Channel {
		return e, errValidation(validate.FieldError{Field: "channel", Code: "channel_not_allowed",
			MessageZH: "申请渠道由办理方式决定：网上申请为 online，柜台申请须由审核人员录入，自助终端申请须由已登记的终端提交",
			MessageEN: "the channel follows from who submits: anonymous intake is online, counter needs a reviewer's session, kiosk a registered kiosk's credential"})
	}
	return e, nil
}
