package api

import (
	"encoding/json"
	"strings"
)

// Answers to users and applicants are built from explicit lists of fields
// (docs/security.md, issue 13 item 7). Staff-side records (timelines, audit
// entries) carry a free-form `detail` that holds staff-only findings: the
// automated-check flags of an application (mobile_in_use tells whether a
// mobile belongs to a live account, blocked_false_data about an ID number),
// a case's cross-check findings, evidence references, the source of a
// report and its summary, the staff role notified. None of it may reach the
// applicant or the person under suspicion. Nothing is passed through: a
// key that is not listed here is left out, so a later addition to a
// staff-side record stays staff-only until someone lists it.

// userDetailKeys are the keys of an event's or an audit entry's detail
// that the user or applicant concerned may read.
var userDetailKeys = map[string]bool{
	// registration
	"channel": true, "terms_version": true, "opened_services": true, "refused_services": true,
	"pickup_expires_at": true, "what": true, "supplement_id": true, "changed_fields": true,
	// cases and sanctions: the decision as the user is told it
	"case_id": true, "case_kind": true, "sanction_id": true, "kind": true, "state": true, "deadline": true,
	"decided_on": true, "submission_id": true, "outcome": true, "reason_code": true, "clause": true,
	"corrections": true, "conditions": true, "appeal_until": true, "account_status": true, "via": true,
	// the user's own requests
	"forced": true, "fields": true, "services": true, "scope": true, "status": true, "choice": true,
	"request_route": true, "deregistration_request_id": true, "rejection_id": true, "request_id": true,
	"content_sha256": true, "change_id": true, "report_id": true, "reset_id": true, "office": true, "sessions_ended": true,
	// disclosures of the user's data (C2.3: who received what)
	"disclosure_id": true, "basis": true, "decision": true,
}

// userDetail keeps the listed keys of a stored detail object; anything
// else, and a detail that is not an object, becomes {}.
func userDetail(raw json.RawMessage) json.RawMessage {
	var m map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &m) != nil {
		return json.RawMessage(`{}`)
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		if userDetailKeys[k] {
			out[k] = v
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return b
}

// userEvent is a timeline event as the user or applicant sees it: staff as
// a role, the detail reduced to the listed keys.
func userEvent(e timelineEvent) timelineEvent {
	actor := e.Actor
	if strings.HasPrefix(actor, "staff:") {
		actor = "staff"
	}
	return timelineEvent{Kind: e.Kind, At: e.At, Actor: actor, Detail: userDetail(e.Detail)}
}

// userHiddenActions are audit actions on an account that its user does not
// read in the activity record: the intake and cross-check of a case happen
// before the user is told of it (the case shows in GET /v1/me/cases, and
// its user_notified step in the record, from then on). Disclosures under a
// secrecy order are not written on the account at all
// (activities.disclosureAudit).
var userHiddenActions = []string{"case.fraud_opened", "case.violation_opened", "case.cross_checked"}

// userActivity is an activity entry as the user sees it: staff, the
// system and anonymous callers without identity or address, the detail
// reduced to the listed keys. The address shown is the user's own: a
// sign-in attempt, a request the user sent signed in, the application the
// person submitted.
func userActivity(e activityEntry, accountID string) activityEntry {
	out := activityEntry{Source: e.Source, ID: e.ID, At: e.At, Action: e.Action, ActorKind: e.ActorKind,
		Detail: userDetail(e.Detail)}
	own := e.ActorKind == "user" && e.ActorID == accountID
	if own {
		out.ActorID = e.ActorID
	}
	if e.Source == "sign_in" || own || e.Action == "application.submitted" {
		out.SourceIP = e.SourceIP
	}
	return out
}
