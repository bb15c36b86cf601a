package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

// C3.5: once a revision is in force, a user who comes only to read (the
// account, the inbox, the terms, the requests, cases and activity record,
// as the site does at every sign-in) is not deemed to accept it and can
// still reject it in writing. Use of the services is the listed routes: a
// change of contact data counts, and a refused one does not.
func TestReadingIsNotUseAndARevisionInForceCanBeRejected_C3_5(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	reader := s.NewUser(reviewer, "social_insurance_query", "employment_registration")
	user := s.NewUser(reviewer)
	v := s.PublishRevisionInForce(reader.AccountID, user.AccountID)
	position := func(account string) string {
		var p []string
		require.NoError(t, s.DB.Select(&p, `SELECT position FROM terms_acceptances WHERE account_id = $1 AND terms_version = $2`, account, v))
		if len(p) == 0 {
			return ""
		}
		return p[0]
	}

	for _, path := range []string{"/v1/me", "/v1/me/notices", "/v1/me/terms", "/v1/me/terms/" + v, "/v1/me/activity",
		"/v1/me/data-changes", "/v1/me/deregistration", "/v1/me/consents", "/v1/me/disclosures", "/v1/me/cases",
		"/v1/me/sanctions", "/v1/terms/current", "/v1/terms", "/v1/announcements", "/v1/services"} {
		s.Expect(s.Do("GET", path, nil, testenv.Bearer(reader.Token)), http.StatusOK)
		require.Empty(t, position(reader.AccountID), "reading %s is not use of the services", path)
	}
	// A refused change changes nothing, not the position either.
	bad := s.Do("PATCH", "/v1/me", map[string]any{"mobile": "12"}, testenv.Bearer(reader.Token))
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, string(bad.Raw))
	require.Empty(t, position(reader.AccountID))

	rej := s.Do("POST", "/v1/me/terms/"+v+"/reject", map[string]any{"choice": "cancel_services",
		"services": []string{"employment_registration"}, "password": reader.Password}, testenv.Bearer(reader.Token))
	require.Equal(t, http.StatusAccepted, rej.Status, string(rej.Raw))
	require.Equal(t, "rejected", position(reader.AccountID))

	// Changing one's contact data is use: deemed acceptance, with the request.
	use := s.Expect(s.Do("PATCH", "/v1/me", map[string]any{"email": "deemed.use@example.org"}, testenv.Bearer(user.Token)), http.StatusOK)
	require.Equal(t, "deemed_accepted", position(user.AccountID))
	mine := s.Expect(s.Do("GET", "/v1/me/terms/"+v, nil, testenv.Bearer(user.Token)), http.StatusOK)
	pos := mine.Body["position"].(map[string]any)
	require.Equal(t, "PATCH /v1/me", pos["request_route"])
	require.Equal(t, use.Header.Get("X-Request-Id"), pos["request_id"])
	late := s.Do("POST", "/v1/me/terms/"+v+"/reject", map[string]any{"choice": "deregister", "password": user.Password}, testenv.Bearer(user.Token))
	require.Equal(t, http.StatusConflict, late.Status)
	require.Equal(t, "already_deemed_accepted", late.ErrorCode())
}
