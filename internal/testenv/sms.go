package testenv

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/smtpmail"
	"hrss-backoffice/internal/smtptest"
)

// SMSBox is the test stacks' SMS sender (the API's Deps.SMS) on the real
// path of development (SMS_SENDER=mail): each SMS goes through the SMTP
// sender to an in-process SMTP server as a mail to <mobile>@sms.invalid,
// and To reads the messages back from that mailbox.
type SMSBox struct {
	once   sync.Once
	srv    *smtptest.Server
	sender activities.MailSender
	err    error
}

// NewSMSBox starts the box's SMTP server, stopped when the test ends.
func NewSMSBox(t testing.TB) *SMSBox {
	b := &SMSBox{}
	if err := b.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.srv.Close() })
	return b
}

func (b *SMSBox) start() error {
	b.once.Do(func() {
		if b.srv, b.err = smtptest.Start(); b.err != nil {
			return
		}
		var c *smtpmail.Client
		c, b.err = smtpmail.New(smtpmail.Config{Host: b.srv.Host(), Port: b.srv.Port(), From: "noreply@hrss.invalid",
			TLS: smtpmail.TLSNone, Timeout: 10 * time.Second})
		b.sender = activities.MailSender{Client: c, SMSDomain: activities.SMSMailDomain}
	})
	return b.err
}

// Name is the sender's name in delivery records.
func (b *SMSBox) Name() string { return b.sender.Name() }

// Send delivers the messages to the box's mailbox.
func (b *SMSBox) Send(ctx context.Context, msgs []activities.Message) []error {
	rs := b.SendReceipts(ctx, msgs)
	return activities.ReceiptErrors(rs)
}

// SendReceipts delivers the messages and reports their Message-IDs.
func (b *SMSBox) SendReceipts(ctx context.Context, msgs []activities.Message) []activities.Receipt {
	if err := b.start(); err != nil {
		out := make([]activities.Receipt, len(msgs))
		for i := range out {
			out[i].Err = err
		}
		return out
	}
	return b.sender.SendReceipts(ctx, msgs)
}

// Mailbox is the SMTP server the SMS arrive at (a test may make it refuse).
func (b *SMSBox) Mailbox() *smtptest.Server {
	_ = b.start()
	return b.srv
}

// To returns the texts sent to a number, oldest first, as read from the
// mailbox.
func (b *SMSBox) To(mobile string) []string {
	if b.start() != nil {
		return nil
	}
	var out []string
	for _, m := range b.srv.To(mobile + "@" + activities.SMSMailDomain) {
		out = append(out, strings.TrimRight(m.Body, "\r\n"))
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

// SixDigits is the first 6-digit code in a text ("" when none).
func SixDigits(text string) string { return sixDigits.FindString(text) }
