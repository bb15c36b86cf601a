package deploy

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Issue 18 (C1.5): the compose stack has the same mailbox as `make run`: a
// pinned Mailpit whose web UI is published on the loopback interface only
// (it has no authentication) and whose SMTP port stays on the compose
// network; worker and api send e-mail by SMTP and SMS as mail to it unless
// the settings name a real server.
func TestComposeRunsMailpitAndSendsThroughIt_C1_5(t *testing.T) {
	c := loadCompose(t)
	m := mustService(t, c, "mailpit")
	repo, tag := imageRef(m.Image)
	require.Equal(t, "axllent/mailpit", repo)
	require.Equal(t, "v1.33.1", tag, "the same Mailpit as scripts/lib.sh")
	require.NotNil(t, m.Healthcheck)
	require.Contains(t, m.Healthcheck.Test.String(), "readyz")
	require.Contains(t, []string{"always", "unless-stopped"}, m.Restart)
	require.Len(t, m.Ports, 1)
	require.Equal(t, "127.0.0.1", m.Ports[0].HostIP, "the mailbox's UI has no authentication")
	require.Equal(t, "8025", resolve(m.Ports[0].Published))
	require.Equal(t, "8025", m.Ports[0].Target)
	for _, name := range []string{"worker", "api"} {
		env := mustService(t, c, name).Environment
		for k, want := range map[string]string{"EMAIL_SENDER": "smtp", "SMS_SENDER": "mail", "SMTP_HOST": "mailpit", "SMTP_PORT": "1025",
			"SMTP_TLS": "none"} {
			require.Equalf(t, want, resolve(env[k]), "service %s: %s", name, k)
		}
		require.NotEmpty(t, resolve(env["SMTP_FROM"]))
	}
}
