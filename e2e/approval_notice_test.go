package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
)

// requireApprovalSMS waits for the approval notice of an online or kiosk
// application in the stack's SMS box and checks it: the follow page's link
// without any token, the pickup deadline, no follow token. It returns the
// text.
func requireApprovalSMS(t *testing.T, s *testenv.Stack, mobile, followToken string) string {
	t.Helper()
	var text string
	testenv.Eventually(t, 10*time.Second, "the approval SMS", func() bool {
		for _, m := range s.SMS.To(mobile) {
			if strings.Contains(m, "注册申请已批准") {
				text = m
			}
		}
		return text != ""
	})
	require.Contains(t, text, "http://localhost:8080/follow", "the link to the follow page")
	require.NotContains(t, text, "/follow?", "no token or anything else in the link")
	require.NotContains(t, text, followToken)
	require.Regexp(t, `\d{4}-\d{2}-\d{2} \d{2}:\d{2}前`, text, "the pickup deadline")
	return text
}
