package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// smsContaining waits for an SMS to mobile that contains want and returns it.
func smsContaining(t *testing.T, s *testenv.Stack, mobile, want string) string {
	t.Helper()
	var text string
	testenv.Eventually(t, 15*time.Second, "an SMS with "+want, func() bool {
		for _, m := range s.SMS.To(mobile) {
			if strings.Contains(m, want) {
				text = m
			}
		}
		return text != ""
	})
	return text
}

// C1.5 (issue 18): messages go in the language the applicant chose. An
// applicant registering in English gets the registration code and the
// approval SMS in English, the account keeps the choice (changed with
// PATCH /v1/me), and the registration code's delivery record is on the
// account page; a Chinese applicant gets them in Chinese.
func TestMessagesInTheApplicantsLanguage_C1_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{RequireMobileCode: true})
	reviewer, _ := s.Staff(workflows.RoleReviewer)

	en := testenv.NewPerson()
	s.Expect(s.Do("POST", "/v1/verification-codes", map[string]any{"mobile": en.Mobile, "purpose": "registration", "language": "en"}), http.StatusAccepted)
	codeSMS := smsContaining(t, s, en.Mobile, "Your registration code is")
	body := en.Registration()
	body["language"], body["mobile_code"] = "en", testenv.SixDigits(codeSMS)
	r := s.Expect(s.Do("POST", "/v1/registrations", body), http.StatusAccepted)
	enID, enFollow := r.Str("id"), r.Str("follow_token")

	zh := testenv.NewPerson()
	zhID, zhFollow := s.Register(zh)

	for _, id := range []string{enID, zhID} {
		s.WaitForStatus(id, "pending")
		s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "approve"}, testenv.Bearer(reviewer)), http.StatusOK)
	}
	text := smsContaining(t, s, en.Mobile, "Your registration is approved")
	require.Contains(t, text, "http://localhost:8080/follow")
	require.NotContains(t, text, enFollow)
	require.NotRegexp(t, `\p{Han}`, text, "no Chinese in the English SMS")
	zhText := requireApprovalSMS(t, s, zh.Mobile, zhFollow)
	require.NotContains(t, zhText, "approved")

	// The account keeps the language; the registration code is on its page.
	var accountID, lang string
	require.NoError(t, s.DB.Get(&accountID, `SELECT account_id FROM applications WHERE id = $1`, enID))
	require.NoError(t, s.DB.Get(&lang, `SELECT language FROM accounts WHERE id = $1`, accountID))
	require.Equal(t, "en", lang)
	page := s.Do("GET", "/v1/accounts/"+accountID+"/messages", nil, testenv.Bearer(reviewer))
	require.Equal(t, http.StatusOK, page.Status, "%s", page.Raw)
	kinds := map[string]bool{}
	for _, it := range page.Body["items"].([]any) {
		kinds[it.(map[string]any)["kind"].(string)] = true
	}
	require.True(t, kinds["verification_code_registration"], "the registration code's delivery on the account page: %s", page.Raw)
	require.True(t, kinds["registration_approved"], "%s", page.Raw)
}

// C1.5 (issue 18): a user changes the language of the messages with
// PATCH /v1/me; a contact-change code then comes in it. A language other
// than zh or en is refused with a field error and changes nothing.
func TestUserChangesTheMessageLanguage_C1_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)
	bad := s.Do("PATCH", "/v1/me", map[string]any{"language": "fr"}, testenv.Bearer(u.Token))
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, "%s", bad.Raw)
	require.Contains(t, string(bad.Raw), `"language"`)
	res := s.Expect(s.Do("PATCH", "/v1/me", map[string]any{"language": "en"}, testenv.Bearer(u.Token)), http.StatusOK)
	require.Equal(t, []any{"language"}, res.Body["changed"])
	newMobile := testenv.NewPerson().Mobile
	s.Expect(s.Do("POST", "/v1/verification-codes", map[string]any{"mobile": newMobile, "purpose": "contact_change"}, testenv.Bearer(u.Token)),
		http.StatusAccepted)
	smsContaining(t, s, newMobile, "Your code to change the mobile number")
	res = s.Expect(s.Do("PATCH", "/v1/me", map[string]any{"language": "en"}, testenv.Bearer(u.Token)), http.StatusOK)
	require.Empty(t, res.Body["changed"], "the same language again changes nothing")

	badReg := testenv.NewPerson().Registration()
	badReg["language"] = "de"
	r := s.Do("POST", "/v1/registrations", badReg)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Raw)
	require.Contains(t, string(r.Raw), "unknown_language")
}

// C1.5 (issue 18): the rejection of an online application reaches its
// applicant by SMS: the follow page's link, nothing more (no reason, name,
// ID number or follow token).
func TestRejectionSMSReachesTheApplicant_C1_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	p := testenv.NewPerson()
	id, follow := s.Register(p)
	s.WaitForStatus(id, "pending")
	reason := "地址证明材料不全"
	s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "reject", "reason": reason},
		testenv.Bearer(reviewer)), http.StatusOK)
	text := smsContaining(t, s, p.Mobile, "未获批准")
	require.Contains(t, text, "http://localhost:8080/follow")
	for _, secret := range []string{reason, p.Name, p.IDNumber, follow, id} {
		require.NotContains(t, text, secret)
	}
	require.Len(t, s.SMS.To(p.Mobile), 1, "one message")
}
