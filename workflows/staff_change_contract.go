package workflows

import (
	"time"

	"hrss-backoffice/activities"
)

// ---- Dual control of staff changes (C1.4, issue 15) ----

// KindStaffChange is the HrssKind of staff-change requests.
const KindStaffChange = "staff_change"

// Staff-change statuses, also HrssStatus values.
const (
	StaffChangePending = "pending"
	StaffChangeApplied = "applied"
	StaffChangeRefused = "refused"
	StaffChangeExpired = "expired"
	StaffChangeFailed  = "failed"
)

// UpdateDecideStaffChange approves or refuses a staff-change request.
const UpdateDecideStaffChange = "decide_staff_change"

// DefaultStaffChangeTTL is how long a request waits for a second
// administrator (STAFF_CHANGE_TTL).
const DefaultStaffChangeTTL = 24 * time.Hour

// StaffPickupWindow is how long a generated first password waits, sealed,
// for the single pickup by the administrator who made the change effective
// (the API takes it in the same answer); then it is destroyed.
const StaffPickupWindow = activities.StaffPickupWindow

// StaffChangeWorkflowID names the workflow of one request.
func StaffChangeWorkflowID(requestID string) string { return "staff-change/" + requestID }

// StaffChangeInput starts a request; its content (names, roles, reason) is
// in Postgres. IDs and flags only.
type StaffChangeInput struct {
	RequestID   string `json:"request_id"`
	RequestedBy string `json:"requested_by"`
	TargetID    string `json:"target_id"`
	// SoleAdmin: the requester was the only active administrator when the
	// request was made (the bootstrap); the requester's own approval then
	// makes the change effective at once.
	SoleAdmin bool      `json:"sole_admin"`
	ExpiresAt time.Time `json:"expires_at"`
}

// StaffChangeDecision is an administrator's decision on a request.
type StaffChangeDecision struct {
	Actor         Actor  `json:"actor"`
	Decision      string `json:"decision"` // approve | refuse
	HTTPRequestID string `json:"http_request_id,omitempty"`
}

// StaffChangeStatus is what the status query returns and the update
// answers. Code names why an approved change could not be applied
// (username_taken, last_administrator, …).
type StaffChangeStatus struct {
	RequestID string `json:"request_id"`
	Status    string `json:"status"`
	Code      string `json:"code,omitempty"`
	// Pickup: a generated first password waits for its single pickup.
	Pickup bool `json:"pickup,omitempty"`
}
