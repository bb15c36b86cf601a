package activities_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/smtpmail"
	"hrss-backoffice/internal/smtptest"
)

func mailClient(t *testing.T, srv *smtptest.Server) *smtpmail.Client {
	t.Helper()
	c, err := smtpmail.New(smtpmail.Config{Host: srv.Host(), Port: srv.Port(), From: "noreply@hrss.invalid", TLS: smtpmail.TLSNone})
	require.NoError(t, err)
	return c
}

// The SMTP sender through a real SMTP server (issue 18, C1.5): each message
// arrives once with its recipient, subject and body, Chinese intact, and
// its Message-ID is the delivery record's provider ID; SMS sent as mail
// arrive at <mobile>@sms.invalid with the text as subject and body.
func TestSMTPSenderDelivers_C1_5(t *testing.T) {
	srv, err := smtptest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	c := mailClient(t, srv)

	notice := "【上海人社】用户承诺书已修订（版本 2026-07），请登录网站查看并选择接受或拒绝。"
	email := activities.MailSender{Client: c}
	rs := activities.Deliver(context.Background(), email, []activities.Message{
		{Channel: "email", Address: "张三@example.cn", Text: notice, Kind: "terms_revision"},
		{Channel: "email", Address: "li.si@example.cn", Text: "第二封 second", Kind: "unknown"},
	})
	require.Len(t, rs, 2)
	for _, r := range rs {
		require.NoError(t, r.Err)
		require.NotEmpty(t, r.ProviderID)
	}
	require.NotEqual(t, rs[0].ProviderID, rs[1].ProviderID)
	got := srv.To("张三@example.cn")
	require.Len(t, got, 1)
	require.Equal(t, "noreply@hrss.invalid", got[0].From)
	require.Equal(t, "【上海人社】用户承诺书修订通知", got[0].Subject)
	require.Equal(t, notice, strings.TrimRight(got[0].Body, "\r\n"))
	require.Equal(t, rs[0].ProviderID, got[0].MessageID)
	require.Len(t, srv.To("li.si@example.cn"), 1)
	require.Equal(t, "smtp", email.Name())

	sms := activities.MailSender{Client: c, SMSDomain: activities.SMSMailDomain}
	code := "【上海人社】您的注册验证码为123456，10分钟内有效。如非本人操作请忽略，请勿告诉他人。"
	errs := sms.Send(context.Background(), []activities.Message{{Channel: "sms", Address: "13800138000", Text: code}})
	require.NoError(t, errs[0])
	got = srv.To("13800138000@sms.invalid")
	require.Len(t, got, 1)
	require.Contains(t, got[0].Subject, "123456")
	require.Equal(t, code, strings.TrimRight(got[0].Body, "\r\n"))
	require.Equal(t, "smtp-sms", sms.Name())
	require.Len(t, srv.Messages(), 3, "each message once")
}

// The server's refusals (issue 18, C1.5): 4xx and an unreachable server are
// retried (a plain error), 5xx is final (PermanentError, abandoned at once).
func TestSMTPSenderErrors_C1_5(t *testing.T) {
	srv, err := smtptest.Start()
	require.NoError(t, err)
	c := mailClient(t, srv)
	s := activities.MailSender{Client: c}
	msg := []activities.Message{{Channel: "email", Address: "a@example.cn", Text: "x"}}

	srv.Refuse("451 4.3.0 mailbox busy, try later")
	r := activities.Deliver(context.Background(), s, msg)[0]
	require.Error(t, r.Err)
	require.False(t, errors.As(r.Err, new(activities.PermanentError)), "4xx is retried: %v", r.Err)
	require.Empty(t, r.ProviderID)

	srv.Refuse("550 5.1.1 no such user")
	r = activities.Deliver(context.Background(), s, msg)[0]
	require.True(t, errors.As(r.Err, new(activities.PermanentError)), "5xx is final: %v", r.Err)
	require.Contains(t, r.Err.Error(), "550")

	require.NoError(t, srv.Close())
	r = activities.Deliver(context.Background(), s, msg)[0]
	require.Error(t, r.Err)
	require.False(t, errors.As(r.Err, new(activities.PermanentError)), "no server is retried: %v", r.Err)
	require.Empty(t, srv.Messages())
}
