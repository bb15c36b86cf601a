package testenv

import (
	"context"
	"regexp"
	"sync"
	"time"

	"hrss-backoffice/activities"
)

// SMSBox is an SMS sender that keeps every message it is given, for tests
// that read a code or notice back (the API's Deps.SMS).
type SMSBox struct {
	mu   sync.Mutex
	msgs []activities.Message
}

// Name is the sender's name in delivery records.
func (*SMSBox) Name() string { return "test-box" }

// Send keeps the messages and reports success.
func (b *SMSBox) Send(_ context.Context, msgs []activities.Message) []error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs = append(b.msgs, msgs...)
	return make([]error, len(msgs))
}

// To returns the texts sent to a number, oldest first.
func (b *SMSBox) To(mobile string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.msgs {
		if m.Address == mobile {
			out = append(out, m.Text)
		}
	}
	return out
}

var sixDigits = regexp.MustCompile(`\d{6}`)

// MobileCode asks for a verification code for mobile and purpose (through the
// API, as an applicant would) and returns it as read from the SMS.
func (s *Stack) MobileCode(mobile, purpose string, headers ...Header) string {
	s.T.Helper()
	before := len(s.SMS.To(mobile))
	s.Expect(s.Do("POST", "/v1/verification-codes", map[string]any{"mobile": mobile, "purpose": purpose}, headers...), 202)
	var code string
	Eventually(s.T, 10*time.Second, "the code's SMS", func() bool {
		texts := s.SMS.To(mobile)
		if len(texts) > before {
			code = sixDigits.FindString(texts[len(texts)-1])
		}
		return code != ""
	})
	return code
}

// PickUp is the applicant's own pickup of an online or kiosk
// application's initial password (issue 18): a pickup code to the
// verified mobile, then the password with the follow token and the code.
func (s *Stack) PickUp(applicationID, followToken, mobile string) string {
	s.T.Helper()
	before := len(s.SMS.To(mobile))
	s.Expect(s.Do("POST", "/v1/verification-codes", map[string]any{"mobile": mobile, "purpose": "pickup", "application_id": applicationID},
		Follow(followToken)), 202)
	var code string
	Eventually(s.T, 10*time.Second, "the pickup code's SMS", func() bool {
		texts := s.SMS.To(mobile)
		if len(texts) > before {
			code = sixDigits.FindString(texts[len(texts)-1])
		}
		return code != ""
	})
	return s.Expect(s.Do("POST", "/v1/registrations/"+applicationID+"/initial-password", map[string]any{"mobile_code": code},
		Follow(followToken)), 200).Str("initial_password")
}
