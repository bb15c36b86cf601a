package workflows

import "time"

// ---- Disclosure requests (C2.3) ----

// KindDisclosure is the HrssKind of disclosure requests.
const KindDisclosure = "disclosure"

// Legal bases of a disclosure.
const (
	BasisLaw            = "law"
	BasisUserAuthorised = "user_authorised"
	BasisServiceNeed    = "service_need"
)

// Disclosure statuses, also HrssStatus values.
const (
	DisclosureAwaitingConsent  = "awaiting_consent"
	DisclosureAwaitingApproval = "awaiting_approval"
	DisclosureApproved         = "approved"
	DisclosureDelivered        = "delivered"
	DisclosureRefused          = "refused"
	DisclosureExpired          = "expired"
)

// Update and signal names of the disclosure workflow.
const (
	UpdateConsent             = "consent"
	UpdateDecideDisclosure    = "decide_disclosure"
	SignalDisclosureDelivered = "disclosure_delivered"
)

// DisclosureInput starts a disclosure request; its content is in Postgres.
type DisclosureInput struct {
	RequestID string `json:"request_id"`
}

// ConsentAnswer is the user's answer to a user_authorised request.
type ConsentAnswer struct {
	Actor         Actor  `json:"actor"`
	Decision      string `json:"decision"` // accept | refuse
	HTTPRequestID string `json:"http_request_id,omitempty"`
}

// DisclosureDecision is a second staff member's decision on a law or
// service_need request. Fields is the approved subset of the requested
// field codes (empty: all requested).
type DisclosureDecision struct {
	Actor         Actor    `json:"actor"`
	Decision      string   `json:"decision"` // approve | refuse
	Fields        []string `json:"fields,omitempty"`
	Reason        string   `json:"reason,omitempty"`
	HTTPRequestID string   `json:"http_request_id,omitempty"`
}

// DisclosureStatus is what the status query returns and what updates
// answer.
type DisclosureStatus struct {
	RequestID         string    `json:"request_id"`
	Status            string    `json:"status"`
	Basis             string    `json:"basis,omitempty"`
	Deadline          time.Time `json:"deadline,omitzero"`
	ApprovedFields    []string  `json:"approved_fields,omitempty"`
	DeliveryExpiresAt time.Time `json:"delivery_expires_at,omitzero"`
}
