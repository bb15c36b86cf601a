package e2e

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"hrss-backoffice/api"
	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

var regexpSix = regexp.MustCompile(`\d{6}`)

// C1.5, C2.1 (issue 18): an online applicant verifies the mobile, applies,
// is approved, and picks the initial password up once with the follow token
// and a code sent to the verified mobile; staff never see it. A second
// pickup, and a pickup after the window (the workflow's timer destroys the
// sealed copy), are refused; a counter registration keeps the reviewer's
// slip. No code, password or token enters the workflow history.
func TestApplicantPickup_C1_5_C2_1(t *testing.T) {
	s := testenv.Start(t, testenv.Options{RequireMobileCode: true, MobileCodes: api.MobileCodeSettings{Gap: -1},
		ServiceLevel: workflows.ServiceLevel{ApplicantPickupWindow: 10 * time.Second}})
	reviewerTok, _ := s.Staff(workflows.RoleReviewer)
	p := testenv.NewPerson()

	// Verify the mobile, apply.
	regCode := s.MobileCode(p.Mobile, "registration")
	body := p.Registration("social_insurance_query")
	body["mobile_code"] = regCode
	r := s.Expect(s.Do("POST", "/v1/registrations", body), http.StatusAccepted)
	id, follow := r.Str("id"), r.Str("follow_token")
	pickupCode := func(mobile string, h ...testenv.Header) testenv.Response {
		return s.Do("POST", "/v1/verification-codes", map[string]any{"mobile": mobile, "purpose": "pickup", "application_id": id}, h...)
	}
	s.WaitForStatus(id, "pending")
	require.Equal(t, "not_approved", pickupCode(p.Mobile, testenv.Follow(follow)).ErrorCode())

	// Approved: the reviewer cannot pick the password up.
	s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "approve"}, testenv.Bearer(reviewerTok)), http.StatusOK)
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/registrations/"+id+"/initial-password", nil, testenv.Bearer(reviewerTok)).Status)
	mine := s.Expect(s.Do("GET", "/v1/registrations/"+id, nil, testenv.Follow(follow)), http.StatusOK)
	require.Contains(t, string(mine.Raw), "approved_pickup", "the follow page says how to pick the password up")
	// The approval notice arrives by SMS with the link to the follow page
	// (no token in it) and the deadline, never the password.
	approvalSMS := requireApprovalSMS(t, s, p.Mobile, follow)

	// The code goes to the verified mobile only, with the follow token only.
	requireFieldError(t, pickupCode(testenv.NewPerson().Mobile, testenv.Follow(follow)), "mobile", "not_the_verified_mobile")
	require.Equal(t, http.StatusNotFound, pickupCode(p.Mobile).Status)
	require.Equal(t, http.StatusNotFound, pickupCode(p.Mobile, testenv.Follow("wrong")).Status)
	code := func() string {
		before := len(s.SMS.To(p.Mobile))
		s.Expect(pickupCode(p.Mobile, testenv.Follow(follow)), http.StatusAccepted)
		texts := s.SMS.To(p.Mobile)
		require.Len(t, texts, before+1)
		require.NotContains(t, texts[before], "密码为", "the SMS carries a code, never the password")
		return regexpSix.FindString(texts[before])
	}()
	pick := func(code string, h ...testenv.Header) testenv.Response {
		return s.Do("POST", "/v1/registrations/"+id+"/initial-password", map[string]any{"mobile_code": code}, h...)
	}
	// Issue 21: the initial password takes effect when it is picked up.
	// Before that, the account holds no hash a password could match, and
	// the sealed password itself does not sign in.
	var sealedPw []byte
	require.NoError(t, s.DB.Get(&sealedPw, `SELECT ciphertext FROM credential_pickups WHERE operation_key = 'registration/' || $1`, id))
	early, err := s.Box.Open(sealedPw, []byte("registration/"+id))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, s.Do("POST", "/v1/sessions", map[string]string{"username": p.IDNumber, "password": string(early)}).Status,
		"an initial password not yet picked up does not sign in")
	requireFieldError(t, pick(wrongCode(code), testenv.Follow(follow)), "mobile_code", "wrong_code")
	require.Equal(t, http.StatusNotFound, pick(code, testenv.Follow("wrong")).Status)
	got := s.Expect(pick(code, testenv.Follow(follow)), http.StatusOK)
	initial := got.Str("initial_password")
	require.GreaterOrEqual(t, len(initial), 12)
	require.Equal(t, p.IDNumber, got.Str("username"))
	var by string
	require.NoError(t, s.DB.Get(&by, `SELECT actor_kind FROM audit_log WHERE action = 'account.initial_password_picked_up' AND detail->>'application_id' = $1`, id))
	require.Equal(t, "applicant", by)

	require.NotContains(t, approvalSMS, initial, "the approval SMS never carries the password")
	require.Equal(t, string(early), initial)
	var stored string
	require.NoError(t, s.DB.Get(&stored, `SELECT password_hash FROM accounts WHERE application_id = $1`, id))
	require.True(t, strings.HasPrefix(stored, "$argon2id$"), "the pickup stored the password's argon2id hash")

	// Once only.
	require.Equal(t, "already_picked_up", pickupCode(p.Mobile, testenv.Follow(follow)).ErrorCode())
	second := pick(code, testenv.Follow(follow))
	require.Equal(t, http.StatusGone, second.Status)
	require.Equal(t, "already_picked_up", second.ErrorCode())

	// The applicant becomes a user: signs in and changes the password.
	tok := s.SignIn(p.IDNumber, initial)
	newPw := "Online-Applicant-Pass-1"
	s.ChangePassword(tok, initial, newPw)
	me := s.Expect(s.Do("GET", "/v1/me", nil, testenv.Bearer(tok)), http.StatusOK)
	require.Equal(t, "online", me.Body["agreement"].(map[string]any)["channel"])

	// After the window the sealed copy is destroyed by the workflow's timer;
	// the applicant must come to a counter.
	q := testenv.NewPerson()
	lateID, lateFollow := s.Register(q)
	s.WaitForStatus(lateID, "pending")
	s.Expect(s.Do("POST", "/v1/registrations/"+lateID+"/decision", map[string]string{"decision": "approve"}, testenv.Bearer(reviewerTok)), http.StatusOK)
	testenv.Eventually(t, 40*time.Second, "the workflow to destroy the unclaimed password", func() bool {
		var destroyed bool
		_ = s.DB.Get(&destroyed, `SELECT destroyed_at IS NOT NULL FROM credential_pickups WHERE operation_key = 'registration/' || $1`, lateID)
		return destroyed
	})
	late := s.Do("POST", "/v1/verification-codes", map[string]any{"mobile": q.Mobile, "purpose": "pickup", "application_id": lateID},
		testenv.Follow(lateFollow))
	require.Equal(t, http.StatusGone, late.Status)
	require.Equal(t, "pickup_expired", late.ErrorCode())
	// Issue 21: the approval takes the applicant's pickup from its input,
	// not from a version marker, so the run records neither the marker nor
	// the search attribute upsert the SDK makes with it.
	upserts := 0
	for _, ev := range history(t, s, workflows.RegistrationWorkflowID(lateID)).Events {
		require.NotEqual(t, enumspb.EVENT_TYPE_MARKER_RECORDED, ev.GetEventType(), "a version marker in the review's history")
		if ev.GetEventType() == enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES {
			upserts++
		}
	}
	require.Equal(t, 1, upserts, "one search attribute upsert: the approval's status")
	SaveHistory(t, s, workflows.RegistrationWorkflowID(lateID), "registration_applicant_pickup_expired")

	// A counter registration keeps the reviewer's slip.
	c := testenv.NewPerson()
	cr := s.Expect(s.Do("POST", "/v1/registrations", c.Registration(), testenv.Bearer(reviewerTok)), http.StatusAccepted)
	s.WaitForStatus(cr.Str("id"), "pending")
	s.Expect(s.Do("POST", "/v1/registrations/"+cr.Str("id")+"/decision", map[string]string{"decision": "approve"}, testenv.Bearer(reviewerTok)), http.StatusOK)
	counterCode := s.Do("POST", "/v1/verification-codes", map[string]any{"mobile": c.Mobile, "purpose": "pickup", "application_id": cr.Str("id")},
		testenv.Follow(cr.Str("follow_token")))
	require.Equal(t, http.StatusForbidden, counterCode.Status)
	s.Expect(s.Do("POST", "/v1/registrations/"+cr.Str("id")+"/initial-password", nil, testenv.Bearer(reviewerTok)), http.StatusOK)

	AssertNoSecretsInHistory(t, s, []string{workflows.RegistrationWorkflowID(id)}, initial, newPw, follow, code, regCode, p.Mobile, p.IDNumber)
}

// C1.5, C2.1: a supplement (follow token only) can change the mobile
// number, but a changed number was never verified: no pickup code goes to
// it (whoever holds the follow token could otherwise receive the initial
// password), and the applicant is sent to a counter.
func TestPickupCodeNeverGoesToANumberASupplementChanged_C1_5_C2_1(t *testing.T) {
	s := testenv.Start(t, testenv.Options{RequireMobileCode: true, MobileCodes: api.MobileCodeSettings{Gap: -1}})
	reviewerTok, _ := s.Staff(workflows.RoleReviewer)
	p := testenv.NewPerson()
	body := p.Registration("social_insurance_query")
	body["mobile_code"] = s.MobileCode(p.Mobile, "registration")
	r := s.Expect(s.Do("POST", "/v1/registrations", body), http.StatusAccepted)
	id, follow := r.Str("id"), r.Str("follow_token")
	s.WaitForStatus(id, "pending")
	s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "request_info", "reason": "请核对手机号"},
		testenv.Bearer(reviewerTok)), http.StatusOK)
	s.WaitForStatus(id, "info_requested")
	other := testenv.NewPerson().Mobile
	s.Expect(s.Do("POST", "/v1/registrations/"+id+"/supplement", map[string]any{"mobile": other, "note": "换了手机号"},
		testenv.Follow(follow)), http.StatusOK)
	s.WaitForStatus(id, "pending")
	s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "approve"}, testenv.Bearer(reviewerTok)), http.StatusOK)

	before := len(s.SMS.To(other))
	refused := s.Do("POST", "/v1/verification-codes", map[string]any{"mobile": other, "purpose": "pickup", "application_id": id},
		testenv.Follow(follow))
	require.Equal(t, http.StatusConflict, refused.Status, string(refused.Raw))
	require.Equal(t, "mobile_not_verified", refused.ErrorCode())
	require.Len(t, s.SMS.To(other), before, "no code went to the unverified number")
}
