package config

import (
	"fmt"
	"os"
	"strings"

	"hrss-backoffice/internal/smtpmail"
	"hrss-backoffice/internal/tencentsms"
)

// Senders are the settings of the message senders (issue 18): which sender
// carries each channel, and the SMTP server of the e-mail sender (and of
// SMS sent as mail in development).
type Senders struct {
	// Email is EMAIL_SENDER: log (nothing leaves) or smtp.
	Email string
	// SMS is SMS_SENDER: log, tencent (Tencent Cloud SMS, TENCENT_SMS_*)
	// or mail (each SMS as a mail to <mobile>@sms.invalid through SMTP_*).
	SMS string
	// SMTP is the server: SMTP_HOST, SMTP_PORT (587), SMTP_FROM,
	// SMTP_USER and SMTP_PASSWORD (optional), SMTP_TLS (mandatory,
	// opportunistic or none), SMTP_TIMEOUT (15s).
	SMTP smtpmail.Config
	// Tencent is the Tencent Cloud SMS account of SMS_SENDER=tencent:
	// TENCENT_SMS_SECRET_ID, _SECRET_KEY, _ENDPOINT, _REGION, _SDK_APP_ID,
	// _SIGN_NAME, and _TEMPLATES as kind=templateID pairs.
	Tencent tencentsms.Config
}

// UsesSMTP tells whether a sender needs the SMTP settings.
func (s Senders) UsesSMTP() bool { return s.Email == "smtp" || s.SMS == "mail" }

// LoadSenders reads the sender settings; the SMTP settings are checked only
// when a sender uses them.
func LoadSenders() (Senders, error) {
	s := Senders{Email: env("EMAIL_SENDER", "log"), SMS: env("SMS_SENDER", "log")}
	switch s.Email {
	case "log", "smtp":
	default:
		return s, fmt.Errorf("EMAIL_SENDER: want log or smtp, got %q", s.Email)
	}
	switch s.SMS {
	case "log", "tencent", "mail":
	default:
		return s, fmt.Errorf("SMS_SENDER: want log, tencent or mail, got %q", s.SMS)
	}
	port, err := IntEnv("SMTP_PORT", 587)
	if err != nil {
		return s, err
	}
	timeout, err := durationEnv("SMTP_TIMEOUT", 0)
	if err != nil {
		return s, err
	}
	s.SMTP = smtpmail.Config{Host: os.Getenv("SMTP_HOST"), Port: port, From: os.Getenv("SMTP_FROM"),
		Username: os.Getenv("SMTP_USER"), Password: os.Getenv("SMTP_PASSWORD"), TLS: env("SMTP_TLS", smtpmail.TLSMandatory),
		Timeout: timeout}
	if s.UsesSMTP() {
		if _, err := smtpmail.New(s.SMTP); err != nil {
			return s, err
		}
	}
	if s.SMS == "tencent" && strings.TrimSpace(os.Getenv("PUBLIC_BASE_URL")) == "" {
		// Real messages link to the site: never to the development default.
		return s, fmt.Errorf("PUBLIC_BASE_URL must be set with SMS_SENDER=tencent: messages link to the public site")
	}
	templates := map[string]string{}
	for _, pair := range strings.Split(os.Getenv("TENCENT_SMS_TEMPLATES"), ",") {
		if k, id, ok := strings.Cut(strings.TrimSpace(pair), "="); ok {
			templates[k] = id
		}
	}
	s.Tencent = tencentsms.Config{SecretID: os.Getenv("TENCENT_SMS_SECRET_ID"),
		SecretKey: os.Getenv("TENCENT_SMS_SECRET_KEY"), Endpoint: os.Getenv("TENCENT_SMS_ENDPOINT"),
		Region: os.Getenv("TENCENT_SMS_REGION"), SDKAppID: os.Getenv("TENCENT_SMS_SDK_APP_ID"),
		SignName: os.Getenv("TENCENT_SMS_SIGN_NAME"), Templates: templates}
	return s, nil
}
