package activities

import (
	"context"
	"errors"
	"unicode/utf8"

	"hrss-backoffice/internal/messages"
	"hrss-backoffice/internal/smtpmail"
)

// Receipt is a sender's answer about one message: the provider's ID for it
// (the e-mail's Message-ID, the SMS serial number) when it was accepted,
// or the error.
type Receipt struct {
	ProviderID string
	Err        error
}

// ReceiptSender is a Sender that also reports the provider's ID of each
// message, for the delivery records.
type ReceiptSender interface {
	Sender
	SendReceipts(ctx context.Context, msgs []Message) []Receipt
}

// Deliver sends msgs through s and returns one Receipt per message (an
// empty provider ID from a sender that has none).
func Deliver(ctx context.Context, s Sender, msgs []Message) []Receipt {
	if rs, ok := s.(ReceiptSender); ok {
		out := rs.SendReceipts(ctx, msgs)
		for len(out) < len(msgs) {
			out = append(out, Receipt{Err: errors.New("sender gave no answer for this message")})
		}
		return out
	}
	errs := s.Send(ctx, msgs)
	out := make([]Receipt, len(msgs))
	for i := range out {
		if i < len(errs) {
			out[i].Err = errs[i]
		}
	}
	return out
}

// ReceiptErrors is the error of each receipt (a Sender's answer).
func ReceiptErrors(rs []Receipt) []error {
	errs := make([]error, len(rs))
	for i, r := range rs {
		errs[i] = r.Err
	}
	return errs
}

// MailSender sends a channel as e-mail through SMTP (EMAIL_SENDER=smtp).
// With SMSDomain set it carries the SMS channel instead (SMS_SENDER=mail,
// development): each SMS becomes a mail to <mobile>@<SMSDomain>
// ("sms.invalid"), so that one local mailbox shows codes and notices.
// The server's final refusals become PermanentError.
type MailSender struct {
	Client    *smtpmail.Client
	SMSDomain string
}

// SMSMailDomain is the domain of SMS delivered as mail.
const SMSMailDomain = "sms.invalid"

// Name is the sender's name in delivery records.
func (m MailSender) Name() string {
	if m.SMSDomain != "" {
		return "smtp-sms"
	}
	return "smtp"
}

// Send implements Sender.
func (m MailSender) Send(ctx context.Context, msgs []Message) []error {
	rs := m.SendReceipts(ctx, msgs)
	return ReceiptErrors(rs)
}

// SendReceipts implements ReceiptSender: the provider ID is the Message-ID.
func (m MailSender) SendReceipts(ctx context.Context, msgs []Message) []Receipt {
	mails := make([]smtpmail.Mail, len(msgs))
	for i, msg := range msgs {
		mails[i] = smtpmail.Mail{To: msg.Address, Subject: mailSubject(msg), Body: msg.Text}
		if m.SMSDomain != "" {
			mails[i].To = msg.Address + "@" + m.SMSDomain
			// The SMS is its own subject, so the inbox's list shows it.
			mails[i].Subject = "短信 SMS " + msg.Address + ": " + clip(msg.Text, 60)
		}
	}
	out := make([]Receipt, len(msgs))
	for i, r := range m.Client.Send(ctx, mails) {
		out[i] = Receipt{ProviderID: r.MessageID, Err: r.Err}
		var perm smtpmail.Permanent
		if errors.As(r.Err, &perm) {
			out[i].Err = PermanentError{r.Err}
		}
	}
	return out
}

// mailSubject is the subject of an e-mail notice.
func mailSubject(msg Message) string {
	if s, ok := mailSubjects[msg.Kind]; ok {
		return s
	}
	return "【上海人社】通知 Notice"
}

// mailSubjects are the subjects of e-mail notices by kind (Message.Kind).
var mailSubjects = map[string]string{
	messages.TermsRevision:  "【上海人社】用户承诺书修订通知",
	messages.ServiceRules:   "【上海人社】服务变更通知",
	messages.ServiceRetired: "【上海人社】服务停办通知",
	messages.Approved:       "【上海人社】注册申请已批准",
	messages.Rejected:       "【上海人社】注册申请未获批准",
	messages.InfoRequested:  "【上海人社】注册申请需补充资料",
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
