// Package workflows holds the back office's long-running processes and the
// contract the API uses to reach them: task queue, workflow IDs, update and
// query names, and the input, request and status types. Everything here
// travels through Temporal histories that operators read in the web UI, so
// it carries IDs and codes only: never a name, ID number, mobile number,
// password, hash or token.
package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"

	"hrss-backoffice/internal/authz"
)

// DefaultTaskQueue is the task queue the worker polls unless configured.
const DefaultTaskQueue = "hrss-backoffice"

// Typed search attributes, registered on the Temporal server, so operators
// can filter runs by process kind and state. Values are codes, never
// personal data.
var (
	SearchKind   = temporal.NewSearchAttributeKeyKeyword("HrssKind")
	SearchStatus = temporal.NewSearchAttributeKeyKeyword("HrssStatus")
)

// Staff roles (C1.4). The policy (internal/authz) owns the names; what
// each role may do is its table.
const (
	RoleReviewer      = authz.RoleReviewer
	RoleSupervisor    = authz.RoleSupervisor
	RoleAdministrator = authz.RoleAdministrator
	RoleInvestigator  = authz.RoleInvestigator
	RoleTermsEditor   = authz.RoleTermsEditor
	RoleAuditor       = authz.RoleAuditor
	// RoleOperator runs the system: reads runs in the Temporal web UI
	// (decoding their payloads) and the operations pages (docs/operations.md).
	RoleOperator = authz.RoleOperator
)

// AllRoles lists every staff role the system knows.
var AllRoles = []string{RoleReviewer, RoleSupervisor, RoleAdministrator, RoleInvestigator, RoleTermsEditor, RoleAuditor, RoleOperator}

// Actor says who asks for a change: a staff member (by ID and roles), the
// applicant holding the follow token, or the system. The API fills it from
// the authenticated caller.
type Actor struct {
	Kind  string   `json:"kind"` // staff | applicant | user | system
	ID    string   `json:"id,omitempty"`
	Roles []string `json:"roles,omitempty"`
}

// May reports whether the actor may do a under the authorization policy
// (internal/authz); the object rule, if any, is the caller's to check.
func (a Actor) May(x authz.Action) bool { return authz.Allows(a.Roles, a.Kind, x) }

// Error types carried by update rejections and workflow failures; the API
// maps them to HTTP status codes.
const (
	ErrTypeForbidden = "Forbidden" // 403
	ErrTypeConflict  = "Conflict"  // 409
	ErrTypeInvalid   = "Invalid"   // 422
)

func forbidden(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeForbidden, nil)
}

func conflict(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeConflict, nil)
}

func invalid(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeInvalid, nil)
}

// Workflow IDs are business IDs, one helper per process.
func FraudWorkflowID(caseID string) string             { return "fraud/" + caseID }
func ViolationWorkflowID(caseID string) string         { return "violation/" + caseID }
func SanctionWorkflowID(sanctionID string) string      { return "sanction/" + sanctionID }
func CompromiseWorkflowID(accountID string) string     { return "compromise/" + accountID }
func TermsCampaignWorkflowID(version string) string    { return "terms/" + version }
func DeregistrationWorkflowID(accountID string) string { return "deregistration/" + accountID }
func DisclosureWorkflowID(requestID string) string     { return "disclosure/" + requestID }

// SignalCaseClosed is sent (best effort) by a fraud or violation case to the
// account's deregistration workflow when the case closes, so a
// deregistration blocked by open cases re-checks at once.
const SignalCaseClosed = "case_closed"

// ---- Registration review (C1.5, C2.1, C3.1, C3.2, C4) ----

// Registration statuses, also the HrssStatus search attribute values.
const (
	StatusPending       = "pending"
	StatusInfoRequested = "info_requested"
	StatusApproved      = "approved"
	StatusRejected      = "rejected"
	StatusExpired       = "expired"
	StatusWithdrawn     = "withdrawn"
)

// KindRegistration is the HrssKind of registration reviews.
const KindRegistration = "registration"

// Update and query names of the registration workflow.
const (
	UpdateDecide     = "decide"
	UpdateSupplement = "supplement"
	UpdateWithdraw   = "withdraw"
	QueryStatus      = "status"
)

// Decisions a reviewer can take.
const (
	DecisionApprove     = "approve"
	DecisionReject      = "reject"
	DecisionRequestInfo = "request_info"
)

// RegistrationWorkflowID is the business ID of an application's review.
func RegistrationWorkflowID(applicationID string) string {
	return "registration/" + applicationID
}

// ServiceLevel sets the "on the spot" review clock (C2.1). Zero fields take
// the defaults below.
type ServiceLevel struct {
	RemindAfter   time.Duration `json:"remind_after"`
	EscalateAfter time.Duration `json:"escalate_after"`
	ExpireAfter   time.Duration `json:"expire_after"`
	PickupWindow  time.Duration `json:"pickup_window"`
	// ApplicantPickupWindow: how long the applicant of an online or kiosk
	// application may pick the initial password up (issue 18).
	ApplicantPickupWindow time.Duration `json:"applicant_pickup_window,omitempty"`
}

// DefaultServiceLevel: remind after 30 minutes, escalate after 2 hours,
// expire after 30 days; the initial password waits 15 minutes for pickup.
var DefaultServiceLevel = ServiceLevel{
	RemindAfter:   30 * time.Minute,
	EscalateAfter: 2 * time.Hour,
	ExpireAfter:   30 * 24 * time.Hour,
	PickupWindow:  15 * time.Minute,
	// The applicant's own pickup of an online or kiosk application: 72 h.
	ApplicantPickupWindow: 72 * time.Hour,
}

// WithDefaults fills zero fields from DefaultServiceLevel.
func (s ServiceLevel) WithDefaults() ServiceLevel {
	if s.RemindAfter <= 0 {
		s.RemindAfter = DefaultServiceLevel.RemindAfter
	}
	if s.EscalateAfter <= 0 {
		s.EscalateAfter = DefaultServiceLevel.EscalateAfter
	}
	if s.ExpireAfter <= 0 {
		s.ExpireAfter = DefaultServiceLevel.ExpireAfter
	}
	if s.PickupWindow <= 0 {
		s.PickupWindow = DefaultServiceLevel.PickupWindow
	}
	if s.ApplicantPickupWindow <= 0 {
		s.ApplicantPickupWindow = DefaultServiceLevel.ApplicantPickupWindow
	}
	return s
}

// RegistrationRevision is the Revision of reviews started today. From 1:
// an online or kiosk applicant picks the initial password up (issue 18)
// without the "applicant-pickup" marker, and a decision already waiting
// when a round of review begins (an on-the-spot decision that arrived
// during the checks) is carried out without starting a service-level
// timer first (and so before a service-level deadline that falls due at
// that moment, where revision 0 lets the deadline go first).
const RegistrationRevision = 1

// RegistrationInput starts a review. The application's personal data is in
// Postgres; the workflow carries only its ID.
type RegistrationInput struct {
	ApplicationID string       `json:"application_id"`
	ServiceLevel  ServiceLevel `json:"service_level"`
	// Channel (online, counter, kiosk) is a code, there for the operator
	// reading the run; it decides who picks the initial password up.
	Channel string `json:"channel,omitempty"`
	// StartedPending: the start's search attributes already say the run is
	// pending, so the first round of review does not upsert them again (one
	// visibility write less per registration, issue 21). A start without it
	// (every run begun before it existed) upserts as before: the workflow
	// branches on its input, so replay stays deterministic without a
	// version marker.
	StartedPending bool `json:"started_pending,omitempty"`
	// Revision is the review's own version, fixed by its starter (the
	// API), in place of workflow.GetVersion markers: a marker costs a
	// history event and a TemporalChangeVersion search attribute upsert (a
	// visibility write) in every run that reaches it (issue 21). The workflow branches on
	// its input, so replay takes the same branch; a run begun before the
	// field existed has 0 and keeps its markers. New runs get
	// RegistrationRevision.
	Revision int `json:"revision,omitempty"`
}

// DecisionRequest is a reviewer's decision, sent as the decide Update.
// Reason is staff prose (a rejection reason or what is missing); staff are
// told not to write personal data there.
type DecisionRequest struct {
	Actor    Actor  `json:"actor"`
	Decision string `json:"decision"`
	Reason   string `json:"reason,omitempty"`
	// Qualifications the reviewer confirmed on documents (residence
	// permit, insurance record) for the services' rules (C3.4(6)).
	Qualifications []string `json:"qualifications,omitempty"`
}

// ServiceRefusal says why a requested service was not opened.
type ServiceRefusal struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

// DecisionResult is what the decide Update returns.
type DecisionResult struct {
	Status          string           `json:"status"`
	AccountID       string           `json:"account_id,omitempty"`
	OpenedServices  []string         `json:"opened_services,omitempty"`
	RefusedServices []ServiceRefusal `json:"refused_services,omitempty"`
	PickupExpiresAt time.Time        `json:"pickup_expires_at,omitzero"`
}

// SupplementRequest tells the workflow that the applicant stored a
// supplement (by ID) answering a request for information.
type SupplementRequest struct {
	SupplementID string `json:"supplement_id"`
}

// WithdrawRequest is the applicant's withdrawal.
type WithdrawRequest struct {
	Actor Actor `json:"actor"`
}

// RegistrationStatus is the live state the status query returns.
type RegistrationStatus struct {
	ApplicationID string    `json:"application_id"`
	Status        string    `json:"status"`
	Flags         []string  `json:"flags"`
	QueuedAt      time.Time `json:"queued_at,omitzero"`
	Reminded      bool      `json:"reminded"`
	Escalated     bool      `json:"escalated"`
	ExpiresAt     time.Time `json:"expires_at,omitzero"`
	AccountID     string    `json:"account_id,omitempty"`
	DecidedBy     string    `json:"decided_by,omitempty"`
}

// RegistrationResult is the workflow's result.
type RegistrationResult struct {
	Status    string `json:"status"`
	AccountID string `json:"account_id,omitempty"`
}
