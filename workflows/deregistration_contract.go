package workflows

import "time"

// ---- Deregistration and cancellation of services (C3.5, C4) ----

// HrssKind values of these processes.
const (
	KindDeregistration      = "deregistration"
	KindServiceCancellation = "service_cancellation"
)

// Deregistration statuses, also HrssStatus values.
const (
	DeregCoolingOff = "cooling_off" // the user may still withdraw
	DeregBlocked    = "blocked"     // a fraud or violation case is open
	DeregWithdrawn  = "withdrawn"
	DeregSuperseded = "superseded" // the account was cancelled meanwhile
	DeregClosed     = "closed"     // agreement ended; data kept per the retention schedule
	DeregErased     = "erased"     // every retention step done
)

// Update and query names of the deregistration workflow (QueryStatus is
// shared).
const UpdateWithdrawDeregistration = "withdraw_deregistration"

// ServiceCancellationWorkflowID is the business ID of a request to cancel
// single services.
func ServiceCancellationWorkflowID(requestID string) string {
	return "service-cancellation/" + requestID
}

// DeregistrationInput starts a deregistration. The written request is in
// Postgres; the workflow carries IDs only.
type DeregistrationInput struct {
	RequestID string `json:"request_id"`
	AccountID string `json:"account_id"`
}

// DeregistrationWithdrawal is the user's withdrawal during the cooling-off
// period (or while blocked). HTTPRequestID links the audit rows.
type DeregistrationWithdrawal struct {
	Actor         Actor  `json:"actor"`
	HTTPRequestID string `json:"http_request_id,omitempty"`
}

// RetentionStep is one category's fate after the agreement ends.
type RetentionStep struct {
	Category string    `json:"category"`
	Action   string    `json:"action"` // deidentify | erase
	DueAt    time.Time `json:"due_at"`
	Done     bool      `json:"done"`
}

// DeregistrationStatus is what the status query returns.
type DeregistrationStatus struct {
	RequestID       string          `json:"request_id"`
	AccountID       string          `json:"account_id"`
	Status          string          `json:"status"`
	CoolingOffUntil time.Time       `json:"cooling_off_until,omitzero"`
	BlockedByCase   bool            `json:"blocked_by_case"`
	ClosedAt        time.Time       `json:"closed_at,omitzero"`
	Retention       []RetentionStep `json:"retention,omitempty"`
}

// DeregistrationResult is the workflow's result.
type DeregistrationResult struct {
	Status string `json:"status"`
}

// ServiceCancellationInput closes single services of an account.
type ServiceCancellationInput struct {
	RequestID string `json:"request_id"`
	AccountID string `json:"account_id"`
}
