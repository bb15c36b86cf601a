package main

import (
	"fmt"
	"log/slog"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/config"
	"hrss-backoffice/internal/messages"
	"hrss-backoffice/internal/smtpmail"
	"hrss-backoffice/internal/tencentsms"
)

// installSenders chooses the senders from the settings (issue 18,
// config.LoadSenders): SMS_SENDER=log (the default: nothing leaves,
// notification_log shows what would have), tencent (Tencent Cloud SMS,
// TENCENT_SMS_* settings; the templates as kind=templateID pairs) or mail
// (each SMS as a mail to <mobile>@sms.invalid through SMTP_*: development,
// a local mailbox); EMAIL_SENDER=log or smtp. Both the API (verification
// codes) and the worker (the outbox) use them.
func installSenders() error {
	set, err := config.LoadSenders()
	if err != nil {
		return err
	}
	if set.UsesSMTP() {
		mc, err := smtpmail.New(set.SMTP)
		if err != nil {
			return err
		}
		if set.Email == "smtp" {
			activities.SetSender("email", activities.MailSender{Client: mc})
		}
		if set.SMS == "mail" {
			activities.SetSender("sms", activities.MailSender{Client: mc, SMSDomain: activities.SMSMailDomain})
		}
	}
	switch v := set.SMS; v {
	case "log", "mail":
		return nil
	case "tencent":
		// The kinds are internal/messages' one list.
		missing, err := messages.CheckProviderTemplates(set.Tencent.Templates)
		if err != nil {
			return fmt.Errorf("TENCENT_SMS_TEMPLATES: %w", err)
		}
		if len(missing) > 0 {
			slog.Warn("TENCENT_SMS_TEMPLATES: kinds without a template ID are not sent by SMS", "kinds", missing)
		}
		c, err := tencentsms.New(set.Tencent)
		if err != nil {
			return err
		}
		activities.SetSender("sms", activities.TencentSMS{Client: c})
		return nil
	default:
		return fmt.Errorf("SMS_SENDER: want log, tencent or mail, got %q", v)
	}
}
