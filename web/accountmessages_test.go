package web_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C1.5 (issue 18): the account page in the console shows what was sent to
// the person and what became of it: the pickup code of the registration,
// sent by SMS, with the provider's ID; never the code or the number.
func TestAccountPageShowsMessageDeliveries_C1_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewer)

	rev := newAgent(t, s)
	ru, rpw := staff(t, s, workflows.RoleReviewer)
	rev.signIn(ru, rpw, rpw+"-changed")
	page := rev.get("/console/accounts/" + u.AccountID)
	require.Equal(t, http.StatusOK, page.Status, page.Body)
	require.Contains(t, page.Body, `id="account-messages"`)
	require.Contains(t, page.Body, `data-status="sent" data-kind="verification_code_pickup"`)
	mails := s.SMS.Mailbox().To(u.Mobile + "@sms.invalid")
	require.NotEmpty(t, mails)
	require.Contains(t, page.Body, mails[len(mails)-1].MessageID, "the provider's ID")
	require.NotContains(t, page.Body, u.Mobile)
	require.NotContains(t, page.Body, testenv.SixDigits(mails[len(mails)-1].Body), "never the code")
}
