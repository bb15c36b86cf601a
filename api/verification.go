package api

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/messages"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
)

// Verification codes (issue 18, C1.5): a 6-digit code sent by SMS proves
// that the applicant holds the mobile number. POST /v1/verification-codes
// sends one; POST /v1/registrations takes it as mobile_code for online and
// kiosk applications (at the counter the reviewer's in-person check
// replaces it). A code expires after CodeTTL, allows MaxTries wrong answers
// and is used once; a newer code for the same number and purpose replaces
// older ones. Only an HMAC of the code under a key derived from PICKUP_KEY
// is stored (a plain hash of six digits is reversed by trying all of them);
// the code itself goes only into the SMS. Sending is limited per mobile
// number and per source address, counted under advisory locks in one
// transaction so that concurrent requests cannot pass the limit.

// MobileCodeSettings tune verification codes.
type MobileCodeSettings struct {
	// Off lets online and kiosk applications in without a code
	// (MOBILE_VERIFICATION=off: tests and load runs only).
	Off bool
	// TTL is a code's lifetime (10 minutes); MaxTries the wrong answers a
	// code allows (5).
	TTL      time.Duration
	MaxTries int
	// Gap is the least time between two codes to one number (60 s);
	// PerMobile and PerAddress the codes per Window (1 hour) to one number
	// and from one source address (5 and 20).
	Gap        time.Duration
	PerMobile  int
	PerAddress int
	Window     time.Duration
}

// DefaultMobileCodes are the production settings.
var DefaultMobileCodes = MobileCodeSettings{TTL: 10 * time.Minute, MaxTries: 5, Gap: time.Minute, PerMobile: 5, PerAddress: 20,
	Window: time.Hour}

func (m MobileCodeSettings) withDefaults() MobileCodeSettings {
	d := DefaultMobileCodes
	d.Off = m.Off
	if m.TTL > 0 {
		d.TTL = m.TTL
	}
	if m.MaxTries > 0 {
		d.MaxTries = m.MaxTries
	}
	if m.Gap != 0 {
		d.Gap = max(m.Gap, 0)
	}
	if m.PerMobile > 0 {
		d.PerMobile = m.PerMobile
	}
	if m.PerAddress > 0 {
		d.PerAddress = m.PerAddress
	}
	if m.Window > 0 {
		d.Window = m.Window
	}
	return d
}

// Purposes of a verification code.
const (
	PurposeRegistration  = "registration"
	PurposeContactChange = "contact_change"
	PurposePickup        = "pickup"
)

// codeKind is the message kind of each purpose (internal/messages: one SMS).
var codeKind = map[string]string{
	PurposeRegistration:  messages.CodeRegistration,
	PurposeContactChange: messages.CodeContactChange,
	PurposePickup:        messages.CodePickup,
}

func (s *server) smsSender() activities.Sender {
	if s.SMS != nil {
		return s.SMS
	}
	return activities.SenderFor("sms")
}

// codeMAC binds the code to its row, so a MAC copied to another row fails.
func (s *server) codeMAC(id, code string) []byte {
	return s.Box.MAC([]byte("verification-code\x00" + id + "\x00" + code))
}

func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

func errTooManyCodes(retryAfter time.Duration) *Error {
	e := newError(http.StatusTooManyRequests, "too_many_codes", "验证码发送过于频繁，请稍后再试", "too many codes requested; try again later")
	e.RetryAfter = max(int(retryAfter.Seconds()+0.999), 1)
	return e
}

// sendVerificationCode is POST /v1/verification-codes.
func (s *server) sendVerificationCode(c echo.Context) error {
	var req struct {
		Mobile        string `json:"mobile"`
		Purpose       string `json:"purpose"`
		ApplicationID string `json:"application_id"`
		// Language of the SMS of a registration code (zh|en, default zh).
		Language string `json:"language"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	req.Mobile = strings.TrimSpace(req.Mobile)
	var details []validate.FieldError
	if fe := validate.Mobile("mobile", req.Mobile); fe != nil {
		details = append(details, *fe)
	}
	if _, fe := messageLanguage("language", req.Language); fe != nil {
		details = append(details, *fe)
	}
	p := caller(c)
	switch req.Purpose {
	case PurposeRegistration:
	case PurposeContactChange:
		if !may(c, authz.UserArea) {
			return errForbidden("a code to change the mobile number is for a signed-in user", "仅登录的个人用户可以申请更换手机号的验证码")
		}
	case PurposePickup:
		// The applicant of an approved online or kiosk application, with
		// the follow token; the code goes to the verified mobile only.
		if len(details) > 0 {
			return errValidation(details...)
		}
		if err := s.pickupCodeAllowed(c, req.ApplicationID, req.Mobile); err != nil {
			return err
		}
	default:
		details = append(details, validate.FieldError{Field: "purpose", Code: "unknown_purpose",
			MessageZH: "用途须为 registration、pickup 或 contact_change", MessageEN: "purpose is registration, pickup or contact_change"})
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	var applicationID any
	if req.Purpose == PurposePickup {
		applicationID = req.ApplicationID
	}
	var accountID any
	if req.Purpose == PurposeContactChange {
		accountID = p.AccountID
	}
	code, err := newCode()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	id := uuid.NewString()
	addr := limitAddress(c.RealIP())
	set := s.MobileCodes
	var expires time.Time
	err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		// One lock per number, then one per address, always in this order.
		if err := store.LockCodeSending(ctx, tx, req.Mobile, addr); err != nil {
			return err
		}
		m, err := store.CodesToMobile(ctx, tx, req.Mobile, req.Purpose, set.Window)
		if err != nil {
			return err
		}
		if m.Last.Valid && m.Last.Float64 < set.Gap.Seconds() {
			return errTooManyCodes(set.Gap - time.Duration(m.Last.Float64*float64(time.Second)))
		}
		if m.N >= set.PerMobile {
			return errTooManyCodes(set.Window / 4)
		}
		n, err := store.CodesFromAddress(ctx, tx, addr, set.Window)
		if err != nil {
			return err
		}
		if n >= set.PerAddress {
			return errTooManyCodes(set.Window / 4)
		}
		// A new code replaces the older ones of the same number and purpose.
		expires, err = store.IssueCode(ctx, tx, store.NewCode{ID: id, Mobile: req.Mobile, Purpose: req.Purpose, AccountID: accountID,
			ApplicationID: applicationID, CodeMAC: s.codeMAC(id, code), SourceAddr: addr, TTL: set.TTL})
		return err
	})
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			retryAfter(c, e)
		}
		return err
	}
	sender := s.smsSender()
	params := []string{code, strconv.Itoa(max(1, int((set.TTL+time.Minute-1)/time.Minute)))}
	acct, _ := accountID.(string) // contact change only (an anonymous caller has none)
	lang, err := s.codeLanguage(ctx, req.Purpose, acct, req.ApplicationID, req.Language)
	if err != nil {
		return err
	}
	text, err := messages.Render(codeKind[req.Purpose], lang, params)
	if err != nil {
		return err
	}
	msg := activities.Message{Channel: "sms", Address: req.Mobile, Text: text, Attempt: 1,
		Kind: codeKind[req.Purpose], Params: params}
	receipt := activities.Deliver(ctx, sender, []activities.Message{msg})[0]
	s.recordCodeDelivery(ctx, id, req.Purpose, accountID, applicationID, msg, sender.Name(), receipt)
	errs := []error{receipt.Err}
	result := "sent via " + sender.Name()
	if len(errs) > 0 && errs[0] != nil {
		result = "failed via " + sender.Name() + ": " + errs[0].Error()
	}
	// The delivery record, never the code.
	if err := store.RecordCodeSent(context.WithoutCancel(ctx), s.DB, id, result); err != nil {
		return err
	}
	if len(errs) > 0 && errs[0] != nil {
		slog.Warn("verification code not sent", "code_id", id, "sender", sender.Name(), "error", errs[0])
		return errUnavailable()
	}
	return c.JSON(http.StatusAccepted, map[string]any{"expires_at": expires, "mobile_masked": maskMobile(req.Mobile)})
}

func maskMobile(m string) string {
	if len(m) < 7 {
		return "****"
	}
	return m[:3] + strings.Repeat("*", len(m)-7) + m[len(m)-4:]
}

func codeError(code, zh, en string) *Error {
	return errValidation(validate.FieldError{Field: "mobile_code", Code: code, MessageZH: zh, MessageEN: en})
}

// checkMobileCode uses the newest code of the number and purpose: a right answer
// marks it used; a wrong one counts (committed even though the request is
// refused); the fifth wrong answer ends the code. boundTo, when given,
// must be the code's account (contact change) or application (pickup).
func (s *server) checkMobileCode(ctx context.Context, mobile, purpose, boundTo, answer string) error {
	_, err := s.useMobileCode(ctx, mobile, purpose, boundTo, answer)
	return err
}

// useMobileCode is checkMobileCode that also answers the used code's ID.
func (s *server) useMobileCode(ctx context.Context, mobile, purpose, boundTo, answer string) (string, error) {
	answer = strings.TrimSpace(answer)
	if answer == "" {
		return "", codeError("required", "请填写发送到该手机号的验证码", "enter the code sent to this mobile number")
	}
	var refusal error
	var used string
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		row, err := store.LockNewestCode(ctx, tx, mobile, purpose)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (row.Expired || (boundTo != "" && row.BoundTo.String != boundTo))) {
			refusal = codeError("no_valid_code", "验证码已失效或未申请，请重新获取", "no valid code for this number: request a new one")
			return nil
		}
		if err != nil {
			return err
		}
		if row.Attempts >= s.MobileCodes.MaxTries {
			refusal = codeError("too_many_tries", "验证码错误次数过多，请重新获取", "too many wrong codes: request a new one")
			return nil
		}
		if subtle.ConstantTimeCompare(row.MAC, s.codeMAC(row.ID, answer)) != 1 {
			err := store.CountWrongCode(ctx, tx, row.ID)
			refusal = codeError("wrong_code", "验证码不正确", "the code is not right")
			return err
		}
		used = row.ID
		return store.UseCode(ctx, tx, row.ID)
	})
	if err != nil {
		return "", err
	}
	if refusal != nil {
		return "", refusal
	}
	return used, nil
}

// pickupCodeAllowed checks a pickup code request: the follow token of an
// approved application whose initial password waits for its applicant, and
// the application's verified mobile number.
func (s *server) pickupCodeAllowed(c echo.Context, applicationID, mobile string) error {
	if uuid.Validate(applicationID) != nil {
		return errValidation(validate.FieldError{Field: "application_id", Code: "required",
			MessageZH: "请填写申请编号", MessageEN: "application_id is required for a pickup code"})
	}
	c.SetParamNames("id")
	c.SetParamValues(applicationID)
	if _, err := s.applicantOnly(c); err != nil {
		return err
	}
	appMobile, verified, err := store.ApplicationMobile(c.Request().Context(), s.DB, applicationID)
	if err != nil {
		return err
	}
	if _, err := s.waitingPickup(c.Request().Context(), s.DB, applicationID, false); err != nil {
		return err
	}
	// A number changed by a supplement (follow token only) was never
	// verified: the code would reach whoever holds the token, so the
	// applicant comes to a counter instead. Without mobile verification
	// (MOBILE_VERIFICATION=off) no number is verified.
	if !verified && !s.MobileCodes.Off {
		return newError(http.StatusConflict, "mobile_not_verified", "申请中的手机号未经验证，请携带身份证件到服务网点领取初始密码",
			"the mobile number of the application is not verified; pick the initial password up at a service counter with your ID card")
	}
	if subtle.ConstantTimeCompare([]byte(appMobile), []byte(mobile)) != 1 {
		return errValidation(validate.FieldError{Field: "mobile", Code: "not_the_verified_mobile",
			MessageZH: "验证码只能发送到申请时验证的手机号", MessageEN: "the code goes only to the mobile number verified with the application"})
	}
	return nil
}
