package api

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// C2.2: a stored detail reaches a user only through the listed keys; a key
// nobody listed (a later addition to a staff-side record) stays staff-only,
// and a detail that is not an object becomes {}.
func TestUserDetailKeepsOnlyListedKeys_C2_2(t *testing.T) {
	got := userDetail(json.RawMessage(`{"flags":["mobile_in_use"],"findings":["mobile_shared"],"evidence":["doc:1"],
		"source":"automated_check","summary":"x","notified_role":"supervisor","new_staff_only_key":1,
		"reason_code":"false_address","clause":"C2.2","corrections":["address"]}`))
	require.JSONEq(t, `{"reason_code":"false_address","clause":"C2.2","corrections":["address"]}`, string(got))
	for _, raw := range []string{``, `null`, `[1]`, `"text"`, `{bad`} {
		require.JSONEq(t, `{}`, string(userDetail(json.RawMessage(raw))), raw)
	}
	e := userEvent(timelineEvent{Kind: "closed", At: time.Now(), Actor: "staff:0b7f", Detail: json.RawMessage(`{"evidence":["doc:2"]}`)})
	require.Equal(t, "staff", e.Actor)
	require.JSONEq(t, `{}`, string(e.Detail))
	a := userActivity(activityEntry{Source: "audit", Action: "account.looked_up", ActorKind: "staff", ActorID: "0b7f", SourceIP: "10.0.0.9",
		Detail: json.RawMessage(`{}`)}, "acct")
	require.Empty(t, a.ActorID)
	require.Empty(t, a.SourceIP, "a staff member's address is not the user's to read")
	own := userActivity(activityEntry{Source: "audit", Action: "password.changed", ActorKind: "user", ActorID: "acct", SourceIP: "192.0.2.1",
		Detail: json.RawMessage(`{"forced":false}`)}, "acct")
	require.Equal(t, "192.0.2.1", own.SourceIP)
	require.JSONEq(t, `{"forced":false}`, string(own.Detail))
}
