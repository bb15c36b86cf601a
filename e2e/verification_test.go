package e2e

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/api"
	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C1.5 (issue 18): online and kiosk applicants prove the mobile number with
// a 6-digit code sent by SMS; a counter application needs none (the
// reviewer checks in person). A code is stored only as an HMAC, is used
// once, expires, and allows 5 wrong answers; a changed mobile number of a
// user needs a code sent to the new number.
func TestVerifiedMobile_C1_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{RequireMobileCode: true, MobileCodes: api.MobileCodeSettings{Gap: -1}})
	reviewerTok, _ := s.Staff(workflows.RoleReviewer)

	// Without a code: a field error, nothing stored.
	p := testenv.NewPerson()
	requireFieldError(t, s.Do("POST", "/v1/registrations", p.Registration()), "mobile_code", "required")
	body := p.Registration()
	body["mobile_code"] = "123456"
	requireFieldError(t, s.Do("POST", "/v1/registrations", body), "mobile_code", "no_valid_code")

	// The code arrives by SMS and is stored only as an HMAC.
	code := s.MobileCode(p.Mobile, "registration")
	require.Regexp(t, `^\d{6}$`, code)
	require.Contains(t, s.SMS.To(p.Mobile)[0], "验证码")
	var rows []string
	require.NoError(t, s.DB.Select(&rows, `SELECT row_to_json(v)::text FROM verification_codes v WHERE mobile = $1`, p.Mobile))
	require.Len(t, rows, 1)
	require.NotContains(t, rows[0], code, "the code is not stored in clear")
	require.Contains(t, rows[0], "sent via smtp-sms", "the delivery is recorded")
	// The delivery record (issue 18): sent, with the mail's Message-ID as
	// the provider's ID; never the code or the text.
	var rec []string
	require.NoError(t, s.DB.Select(&rec, `SELECT row_to_json(d)::text FROM message_deliveries d JOIN verification_codes v ON v.id = d.code_id
		WHERE v.mobile = $1`, p.Mobile))
	require.Len(t, rec, 1)
	mails := s.SMS.Mailbox().To(p.Mobile + "@sms.invalid")
	require.Len(t, mails, 1)
	require.Contains(t, rec[0], `"status":"sent"`)
	require.Contains(t, rec[0], `"provider_id":"`+mails[0].MessageID+`"`)
	require.NotContains(t, rec[0], code)
	require.NotContains(t, rec[0], p.Mobile)

	// A wrong answer counts; the right one is accepted once.
	body["mobile_code"] = wrongCode(code)
	requireFieldError(t, s.Do("POST", "/v1/registrations", body), "mobile_code", "wrong_code")
	body["mobile_code"] = code
	id := s.Expect(s.Do("POST", "/v1/registrations", body), http.StatusAccepted).Str("id")
	var verified bool
	require.NoError(t, s.DB.Get(&verified, `SELECT mobile_verified_at IS NOT NULL FROM applications WHERE id = $1`, id))
	require.True(t, verified)
	q := testenv.NewPerson()
	again := q.Registration()
	again["mobile"], again["mobile_code"] = p.Mobile, code
	requireFieldError(t, s.Do("POST", "/v1/registrations", again), "mobile_code", "no_valid_code")

	// Five wrong answers end a code, even the right one is refused then.
	p = testenv.NewPerson()
	code = s.MobileCode(p.Mobile, "registration")
	body = p.Registration()
	for i := 0; i < 5; i++ {
		body["mobile_code"] = wrongCode(code)
		requireFieldError(t, s.Do("POST", "/v1/registrations", body), "mobile_code", "wrong_code")
	}
	body["mobile_code"] = code
	requireFieldError(t, s.Do("POST", "/v1/registrations", body), "mobile_code", "too_many_tries")

	// An expired code is refused; a newer code replaces an older one.
	code = s.MobileCode(p.Mobile, "registration")
	_, err := s.DB.Exec(`UPDATE verification_codes SET expires_at = now() - interval '1 second' WHERE mobile = $1 AND used_at IS NULL`, p.Mobile)
	require.NoError(t, err)
	body["mobile_code"] = code
	requireFieldError(t, s.Do("POST", "/v1/registrations", body), "mobile_code", "no_valid_code")
	old := s.MobileCode(p.Mobile, "registration")
	fresh := s.MobileCode(p.Mobile, "registration")
	if old != fresh {
		body["mobile_code"] = old // replaced: only the newest code counts
		requireFieldError(t, s.Do("POST", "/v1/registrations", body), "mobile_code", "wrong_code")
	}
	body["mobile_code"] = fresh
	s.Expect(s.Do("POST", "/v1/registrations", body), http.StatusAccepted)

	// Kiosk applications need a code too; counter applications do not.
	k := s.Expect(s.Do("POST", "/v1/kiosks", map[string]any{"name": "1 号机", "office": "徐汇"}, testenv.Bearer(s.Admin())), http.StatusCreated)
	p = testenv.NewPerson()
	requireFieldError(t, s.Do("POST", "/v1/registrations", p.Registration(), kioskHeader(k.Str("credential"))), "mobile_code", "required")
	body = p.Registration()
	body["mobile_code"] = s.MobileCode(p.Mobile, "registration", kioskHeader(k.Str("credential")))
	s.Expect(s.Do("POST", "/v1/registrations", body, kioskHeader(k.Str("credential"))), http.StatusAccepted)
	s.Expect(s.Do("POST", "/v1/registrations", testenv.NewPerson().Registration(), testenv.Bearer(reviewerTok)), http.StatusAccepted)

	// A user's new mobile number needs a code sent to that number.
	u := s.NewUser(reviewerTok)
	newMobile := testenv.NewPerson().Mobile
	requireFieldError(t, s.Do("PATCH", "/v1/me", map[string]any{"mobile": newMobile}, testenv.Bearer(u.Token)), "mobile_code", "required")
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/verification-codes", map[string]any{"mobile": newMobile, "purpose": "contact_change"}).Status,
		"a contact-change code is for a signed-in user")
	otherCode := s.MobileCode(newMobile, "registration")
	requireFieldError(t, s.Do("PATCH", "/v1/me", map[string]any{"mobile": newMobile, "mobile_code": otherCode}, testenv.Bearer(u.Token)),
		"mobile_code", "no_valid_code")
	code = s.MobileCode(newMobile, "contact_change", testenv.Bearer(u.Token))
	s.Expect(s.Do("PATCH", "/v1/me", map[string]any{"mobile": newMobile, "mobile_code": code}, testenv.Bearer(u.Token)), http.StatusOK)
	// The address and e-mail change without a code.
	s.Expect(s.Do("PATCH", "/v1/me", map[string]any{"address": "上海市徐汇区漕溪北路1号"}, testenv.Bearer(u.Token)), http.StatusOK)

	// Bad input: field errors.
	requireFieldError(t, s.Do("POST", "/v1/verification-codes", map[string]any{"mobile": "12", "purpose": "registration"}), "mobile", "mobile_format")
	requireFieldError(t, s.Do("POST", "/v1/verification-codes", map[string]any{"mobile": p.Mobile, "purpose": "x"}), "purpose", "unknown_purpose")
}

// wrongCode is a 6-digit code other than code.
func wrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

// C1.5, C3.4(8) (issue 18): codes are limited per number (one a minute,
// five an hour) and per source address, atomically under concurrency.
func TestVerificationCodeLimits_C1_5_C3_4_8(t *testing.T) {
	s := testenv.Start(t, testenv.Options{RequireMobileCode: true, MobileCodes: api.DefaultMobileCodes})
	send := func(mobile string) testenv.Response {
		return s.Do("POST", "/v1/verification-codes", map[string]any{"mobile": mobile, "purpose": "registration"})
	}
	m := testenv.NewPerson().Mobile
	s.Expect(send(m), http.StatusAccepted)
	r := s.Expect(send(m), http.StatusTooManyRequests)
	require.Equal(t, "too_many_codes", r.ErrorCode())
	require.NotEmpty(t, r.Header.Get("Retry-After"))

	// Without the minute's gap: at most PerMobile codes to one number, also
	// when the requests race; then the address's budget ends.
	s2 := testenv.Start(t, testenv.Options{RequireMobileCode: true, MobileCodes: api.MobileCodeSettings{Gap: -1, PerMobile: 3, PerAddress: 5}})
	m = testenv.NewPerson().Mobile
	var wg sync.WaitGroup
	statuses := make([]int, 10)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = s2.Do("POST", "/v1/verification-codes", map[string]any{"mobile": m, "purpose": "registration"}).Status
		}()
	}
	wg.Wait()
	counts := map[int]int{}
	for _, st := range statuses {
		counts[st]++
	}
	require.Equal(t, map[int]int{http.StatusAccepted: 3, http.StatusTooManyRequests: 7}, counts)
	send2 := func(mobile string) int {
		return s2.Do("POST", "/v1/verification-codes", map[string]any{"mobile": mobile, "purpose": "registration"}).Status
	}
	require.Equal(t, http.StatusAccepted, send2(testenv.NewPerson().Mobile))
	require.Equal(t, http.StatusAccepted, send2(testenv.NewPerson().Mobile))
	require.Equal(t, http.StatusTooManyRequests, send2(testenv.NewPerson().Mobile), "the address's budget is spent")
}
