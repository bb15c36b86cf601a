package config

import "testing"

// The sender settings (issue 18, C1.5): a sender that needs SMTP refuses
// to start without a usable server, and unknown senders are refused.
func TestSenderSettings_C1_5(t *testing.T) {
	for _, k := range []string{"EMAIL_SENDER", "SMS_SENDER", "SMTP_HOST", "SMTP_PORT", "SMTP_FROM", "SMTP_TLS", "SMTP_USER", "SMTP_PASSWORD"} {
		t.Setenv(k, "")
	}
	s, err := LoadSenders()
	if err != nil || s.Email != "log" || s.SMS != "log" || s.UsesSMTP() {
		t.Fatalf("defaults: %+v, %v", s, err)
	}
	t.Setenv("SMS_SENDER", "mail")
	if _, err := LoadSenders(); err == nil {
		t.Fatal("SMS_SENDER=mail without SMTP_HOST accepted")
	}
	t.Setenv("SMTP_HOST", "localhost")
	t.Setenv("SMTP_PORT", "1025")
	t.Setenv("SMTP_FROM", "noreply@hrss.invalid")
	t.Setenv("SMTP_TLS", "none")
	t.Setenv("EMAIL_SENDER", "smtp")
	s, err = LoadSenders()
	if err != nil || s.SMTP.Port != 1025 || s.SMTP.TLS != "none" || !s.UsesSMTP() {
		t.Fatalf("mailbox settings: %+v, %v", s, err)
	}
	for k, bad := range map[string]string{"EMAIL_SENDER": "carrier-pigeon", "SMS_SENDER": "fax", "SMTP_TLS": "sometimes",
		"SMTP_PORT": "lots", "SMTP_FROM": "nobody"} {
		t.Run(k, func(t *testing.T) {
			t.Setenv(k, bad)
			if _, err := LoadSenders(); err == nil {
				t.Errorf("%s=%q accepted", k, bad)
			}
		})
	}
}

// The Tencent sender's settings come from internal/config (issue 16), and a
// real SMS sender needs the public address its messages link to (issue 18,
// C1.5): the development default would send users to localhost.
func TestTencentSenderSettings_C1_5(t *testing.T) {
	t.Setenv("EMAIL_SENDER", "log")
	t.Setenv("SMS_SENDER", "tencent")
	t.Setenv("PUBLIC_BASE_URL", "")
	if _, err := LoadSenders(); err == nil {
		t.Fatal("SMS_SENDER=tencent without PUBLIC_BASE_URL accepted")
	}
	t.Setenv("PUBLIC_BASE_URL", "https://hrss.example.cn")
	t.Setenv("TENCENT_SMS_SECRET_ID", "id-1")
	t.Setenv("TENCENT_SMS_TEMPLATES", "registration_approved=101, verification_code_pickup=102")
	s, err := LoadSenders()
	if err != nil {
		t.Fatal(err)
	}
	if s.Tencent.SecretID != "id-1" || s.Tencent.Templates["registration_approved"] != "101" || s.Tencent.Templates["verification_code_pickup"] != "102" {
		t.Fatalf("tencent settings: %+v", s.Tencent)
	}
}
