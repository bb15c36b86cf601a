package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C1.5 (issue 18): every message sent to a person has a delivery record
// that staff read on the account page (GET /v1/accounts/{id}/messages):
// the verification codes the API sends (pickup, contact change) and the
// outbox's notices, each with its channel, kind, status, attempts, the
// provider's ID and the reason of a failure; never the text, a code or the
// address. Roles that may not read the activity record are refused, and
// the reading is recorded.
func TestAccountMessagesForStaff_C1_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewerTok, _ := s.Staff(workflows.RoleReviewer)
	u := s.NewUser(reviewerTok)
	newMobile := testenv.NewPerson().Mobile
	code := s.MobileCode(newMobile, "contact_change", testenv.Bearer(u.Token))

	// A notice by SMS (through the SMS box's mailbox, refusing the first
	// attempt) and by e-mail (the log sender).
	_, err := s.DB.Exec(`INSERT INTO notification_outbox (operation_key, source, account_id, channel, template)
		VALUES ('test-deliveries-sms', 'test:deliveries', $1, 'sms', 'terms_revision:2026-01'),
		       ('test-deliveries-email', 'test:deliveries', $1, 'email', 'terms_revision:2026-01')`, u.AccountID)
	require.NoError(t, err)
	defer activities.SetSender("sms", s.SMS)()
	acts := &activities.Activities{DB: s.DB}
	s.SMS.Mailbox().Refuse("451 4.3.0 mailbox busy for " + u.Mobile + "@sms.invalid")
	r, err := acts.DispatchOutbox(context.Background(), activities.DispatchInput{Source: "test:deliveries"})
	require.NoError(t, err)
	require.Equal(t, 1, r.Sent)
	require.Equal(t, 1, r.Failed)
	s.SMS.Mailbox().Refuse("")
	_, err = s.DB.Exec(`UPDATE notification_outbox SET next_attempt_at = now() WHERE source = 'test:deliveries'`)
	require.NoError(t, err)
	r, err = acts.DispatchOutbox(context.Background(), activities.DispatchInput{Source: "test:deliveries"})
	require.NoError(t, err)
	require.Equal(t, 1, r.Sent)

	res := s.Do("GET", "/v1/accounts/"+u.AccountID+"/messages", nil, testenv.Bearer(reviewerTok))
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Raw)
	for _, secret := range []string{code, newMobile, u.Mobile, "承诺书", "验证码"} {
		require.NotContains(t, string(res.Raw), secret, "the answer never carries the text, a code or an address")
	}
	items := res.Body["items"].([]any)
	byKind := map[string]map[string]any{}
	for _, it := range items {
		m := it.(map[string]any)
		byKind[m["kind"].(string)+"/"+m["channel"].(string)] = m
	}
	pickup := byKind["verification_code_pickup/sms"]
	require.NotNil(t, pickup, "%v", items)
	require.Equal(t, "sent", pickup["status"])
	require.NotEmpty(t, pickup["provider_id"])
	change := byKind["verification_code_contact_change/sms"]
	require.NotNil(t, change)
	require.Equal(t, "verification_code", change["source"])
	mails := s.SMS.Mailbox().To(newMobile + "@sms.invalid")
	require.Len(t, mails, 1)
	require.Equal(t, mails[0].MessageID, change["provider_id"])

	sms := byKind["terms_revision/sms"]
	require.NotNil(t, sms)
	require.Equal(t, "sent", sms["status"])
	require.EqualValues(t, 2, sms["attempts"])
	hist := sms["history"].([]any)
	require.Len(t, hist, 2)
	first, second := hist[0].(map[string]any), hist[1].(map[string]any)
	require.Equal(t, "retrying", first["status"])
	require.Contains(t, first["reason"], "451")
	require.Contains(t, first["reason"], "***", "the address is masked")
	require.Equal(t, "sent", second["status"])
	require.Equal(t, "smtp-sms", second["sender"])
	require.Equal(t, sms["provider_id"], second["provider_id"])
	var got int
	for _, m := range s.SMS.Mailbox().To(u.Mobile + "@sms.invalid") {
		if strings.Contains(m.Body, "2026-01") {
			got++
			require.Equal(t, sms["provider_id"], m.MessageID)
		}
	}
	require.Equal(t, 1, got, "the notice arrived once")
	email := byKind["terms_revision/email"]
	require.NotNil(t, email)
	require.Equal(t, "sent", email["status"])
	require.Equal(t, "log", email["history"].([]any)[0].(map[string]any)["sender"])

	var viewed int
	require.NoError(t, s.DB.Get(&viewed, `SELECT count(*) FROM audit_log WHERE action = 'account.messages_viewed' AND record_id = $1`, u.AccountID))
	require.Equal(t, 1, viewed, "the reading is recorded")

	editor, _ := s.Staff(workflows.RoleTermsEditor)
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/accounts/"+u.AccountID+"/messages", nil, testenv.Bearer(editor)).Status)
	require.Equal(t, http.StatusForbidden, s.Do("GET", "/v1/accounts/"+u.AccountID+"/messages", nil, testenv.Bearer(u.Token)).Status)
	bad := s.Do("GET", "/v1/accounts/"+u.AccountID+"/messages?limit=0", nil, testenv.Bearer(reviewerTok))
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, "%s", bad.Raw)
	require.Contains(t, string(bad.Raw), `"limit"`)
}
