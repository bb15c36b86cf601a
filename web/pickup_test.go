package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testenv"
	"hrss-backoffice/workflows"
)

var sixDigits = regexp.MustCompile(`\d{6}`)

// C1.5, C2.1 (issue 18): the applicant of an approved online application
// picks the initial password up on the follow page: a code to the verified
// mobile, then the password once, on a page that answers the POST (never in
// a URL, not cached); a wrong code, a second pickup and a pickup after the
// window are refused on the follow page with clear words.
func TestApplicantPicksUpThePasswordOnTheFollowPage_C1_5_C2_1(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	reviewer, _ := s.Staff(workflows.RoleReviewer)
	approved := func() (testenv.Person, string, string) {
		p := testenv.NewPerson()
		id, follow := s.Register(p)
		s.WaitForStatus(id, "pending")
		s.Expect(s.Do("POST", "/v1/registrations/"+id+"/decision", map[string]string{"decision": "approve"}, testenv.Bearer(reviewer)), http.StatusOK)
		return p, id, follow
	}
	p, id, follow := approved()
	a := newAgent(t, s)
	a.get("/follow")
	require.Equal(t, http.StatusSeeOther, a.post("/follow", url.Values{"application_id": {id}, "follow_token": {follow}}).Status)
	page := a.get("/follow")
	require.Equal(t, http.StatusOK, page.Status)
	require.Contains(t, page.Body, `id="pickup"`, "the pickup step on the follow page")
	require.Contains(t, page.Body, `name="idem"`)

	// A wrong code is refused at the field.
	r := a.post("/follow/pickup", url.Values{"mobile_code": {"000000"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Contains(t, r.Body, `id="mobile_code-error"`)

	before := len(s.SMS.To(p.Mobile))
	r = a.post("/follow/pickup-code", nil)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	require.Equal(t, "/follow?notice=pickup_code#pickup", r.Location)
	texts := s.SMS.To(p.Mobile)
	require.Len(t, texts, before+1)
	code := sixDigits.FindString(texts[len(texts)-1])
	require.NotEmpty(t, code)
	require.Contains(t, a.get("/follow?notice=pickup_code").Body, `id="notice"`)

	r = a.post("/follow/pickup", url.Values{"mobile_code": {code}})
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	m := regexp.MustCompile(`id="initial-password">([^<]+)<`).FindStringSubmatch(r.Body)
	require.NotNil(t, m, r.Body)
	initial := m[1]
	require.Empty(t, r.Location)
	require.Contains(t, r.Body, p.IDNumber, "the username")
	tok := s.SignIn(p.IDNumber, initial)
	require.NotEmpty(t, tok)

	// Once only; the follow page says so.
	r = a.post("/follow/pickup", url.Values{"mobile_code": {code}})
	require.Equal(t, http.StatusGone, r.Status)
	require.Contains(t, r.Body, "初始密码已被领取")
	require.NotContains(t, r.Body, initial)

	// After the window: come to a counter.
	q, lateID, lateFollow := approved()
	_, err := s.DB.Exec(`UPDATE credential_pickups SET expires_at = now() - interval '1 minute' WHERE operation_key = 'registration/' || $1`, lateID)
	require.NoError(t, err)
	b := newAgent(t, s)
	b.get("/follow")
	b.post("/follow", url.Values{"application_id": {lateID}, "follow_token": {lateFollow}})
	b.get("/follow")
	r = b.post("/follow/pickup-code", nil)
	require.Equal(t, http.StatusGone, r.Status)
	require.Contains(t, r.Body, "到窗口", "sent to a counter")
	for _, text := range s.SMS.To(q.Mobile) {
		require.False(t, sixDigits.MatchString(text) && strings.Contains(text, "领取初始密码，验证码"), "no code after the window")
	}
}
