package e2e

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// kioskHeader sends a kiosk's device credential.
func kioskHeader(cred string) testenv.Header {
	return testenv.Header{Name: "X-Kiosk-Credential", Value: cred}
}

// applicationEntry reads how an application came in.
func applicationEntry(t *testing.T, s *testenv.Stack, id string) (channel, enteredBy, kioskID, office string) {
	t.Helper()
	var row struct {
		Channel   string  `db:"channel"`
		EnteredBy *string `db:"entered_by"`
		KioskID   *string `db:"kiosk_id"`
		Office    *string `db:"office"`
	}
	require.NoError(t, s.DB.Get(&row, `SELECT channel, entered_by::text, kiosk_id::text, office FROM applications WHERE id = $1`, id))
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	return row.Channel, deref(row.EnteredBy), deref(row.KioskID), deref(row.Office)
}

func requireFieldError(t *testing.T, r testenv.Response, field, code string) {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Raw)
	require.Equal(t, "validation_failed", r.ErrorCode())
	found := false
	for _, d := range r.Body["error"].(map[string]any)["details"].([]any) {
		m := d.(map[string]any)
		if m["field"] == field && m["code"] == code {
			found = true
		}
	}
	require.True(t, found, "want %s/%s in %s", field, code, r.Raw)
}

// C1.5 (issue 18): the channel is a fact of who submits, not a claim.
// Anonymous intake is online; an anonymous claim of counter or kiosk is
// refused with a field error and stores nothing; a reviewer's session enters
// a counter application with the reviewer recorded; a registered kiosk's
// credential makes a kiosk application with its office, and an unknown,
// rotated-out or revoked credential is refused.
func TestChannelIsAFact_C1_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewerTok, reviewerID := s.Staff(workflows.RoleReviewer)

	// Forged channels from an anonymous caller.
	for _, claim := range []string{"counter", "kiosk"} {
		p := testenv.NewPerson()
		body := p.Registration()
		body["channel"] = claim
		requireFieldError(t, s.Do("POST", "/v1/registrations", body), "channel", "channel_not_allowed")
		var n int
		require.NoError(t, s.DB.Get(&n, `SELECT count(*) FROM applications WHERE id_number = $1`, p.IDNumber))
		require.Zero(t, n, "a refused claim stores nothing")
	}

	// Anonymous intake is online, with or without saying so.
	body := testenv.NewPerson().Registration()
	body["channel"] = "online"
	id := s.Expect(s.Do("POST", "/v1/registrations", body), http.StatusAccepted).Str("id")
	ch, by, kiosk, _ := applicationEntry(t, s, id)
	require.Equal(t, []string{"online", "", ""}, []string{ch, by, kiosk})
	id, _ = s.Register(testenv.NewPerson())
	ch, _, _, _ = applicationEntry(t, s, id)
	require.Equal(t, "online", ch)

	// A reviewer's session enters a counter application; the reviewer is
	// recorded, in the application and in the audit log.
	id = s.Expect(s.Do("POST", "/v1/registrations", testenv.NewPerson().Registration(), testenv.Bearer(reviewerTok)), http.StatusAccepted).Str("id")
	ch, by, _, _ = applicationEntry(t, s, id)
	require.Equal(t, []string{"counter", reviewerID}, []string{ch, by})
	var auditBy string
	require.NoError(t, s.DB.Get(&auditBy, `SELECT detail->>'entered_by' FROM audit_log WHERE action = 'application.submitted' AND record_id = $1`, id))
	require.Equal(t, reviewerID, auditBy)
	staffView := s.Expect(s.Do("GET", "/v1/registrations/"+id, nil, testenv.Bearer(reviewerTok)), http.StatusOK)
	require.Equal(t, reviewerID, staffView.Str("entered_by"))
	body = testenv.NewPerson().Registration()
	body["channel"] = "kiosk"
	requireFieldError(t, s.Do("POST", "/v1/registrations", body, testenv.Bearer(reviewerTok)), "channel", "channel_not_allowed")

	// Kiosks: only an administrator registers one.
	admin := s.Admin()
	require.Equal(t, http.StatusForbidden, s.Do("POST", "/v1/kiosks", map[string]any{"name": "大厅 1 号机", "office": "黄浦"},
		testenv.Bearer(reviewerTok)).Status)
	k := s.Expect(s.Do("POST", "/v1/kiosks", map[string]any{"name": "大厅 1 号机", "office": "黄浦区社保中心"}, testenv.Bearer(admin)), http.StatusCreated)
	kioskID, cred := k.Str("id"), k.Str("credential")
	require.Len(t, cred, 43)
	list := s.Expect(s.Do("GET", "/v1/kiosks", nil, testenv.Bearer(admin)), http.StatusOK)
	require.NotContains(t, string(list.Raw), cred, "the credential is shown only once")

	id = s.Expect(s.Do("POST", "/v1/registrations", testenv.NewPerson().Registration(), kioskHeader(cred)), http.StatusAccepted).Str("id")
	ch, _, kiosk, office := applicationEntry(t, s, id)
	require.Equal(t, []string{"kiosk", kioskID, "黄浦区社保中心"}, []string{ch, kiosk, office})

	// Without a valid credential: refused, nothing stored.
	for _, bad := range []string{"x", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		requireFieldError(t, s.Do("POST", "/v1/registrations", testenv.NewPerson().Registration(), kioskHeader(bad)),
			"X-Kiosk-Credential", "invalid_kiosk_credential")
	}
	// A kiosk credential with a session is refused too.
	requireFieldError(t, s.Do("POST", "/v1/registrations", testenv.NewPerson().Registration(), kioskHeader(cred), testenv.Bearer(reviewerTok)),
		"X-Kiosk-Credential", "not_with_session")

	// Rotation ends the old credential at once.
	rotated := s.Expect(s.Do("POST", "/v1/kiosks/"+kioskID+"/credential", nil, testenv.Bearer(admin)), http.StatusOK).Str("credential")
	require.NotEqual(t, cred, rotated)
	requireFieldError(t, s.Do("POST", "/v1/registrations", testenv.NewPerson().Registration(), kioskHeader(cred)),
		"X-Kiosk-Credential", "invalid_kiosk_credential")
	s.Expect(s.Do("POST", "/v1/registrations", testenv.NewPerson().Registration(), kioskHeader(rotated)), http.StatusAccepted)

	// Revocation ends the kiosk.
	s.Expect(s.Do("DELETE", "/v1/kiosks/"+kioskID, nil, testenv.Bearer(admin)), http.StatusOK)
	requireFieldError(t, s.Do("POST", "/v1/registrations", testenv.NewPerson().Registration(), kioskHeader(rotated)),
		"X-Kiosk-Credential", "invalid_kiosk_credential")
	require.Equal(t, http.StatusConflict, s.Do("POST", "/v1/kiosks/"+kioskID+"/credential", nil, testenv.Bearer(admin)).Status)
	var actions []string
	require.NoError(t, s.DB.Select(&actions, `SELECT action FROM audit_log WHERE record_kind = 'kiosk' AND record_id = $1 ORDER BY at, id`, kioskID))
	require.Equal(t, []string{"kiosk.registered", "kiosk.credential_rotated", "kiosk.revoked"}, actions)
}
