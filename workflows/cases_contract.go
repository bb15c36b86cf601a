package workflows

import (
	"time"

	"github.com/google/uuid"
)

// ---- Fraud verification (C2.2), violations (C2.5, C3.4), sanctions ----
//
// Everything below travels through histories: IDs, codes, times and
// staff IDs only. The user's answers, correction reports and appeals are
// stored by the API and reach the workflows by submission ID.

// HrssKind values of the case and sanction workflows.
const (
	KindFraud     = "fraud"
	KindViolation = "violation"
	KindSanction  = "sanction"
)

// Case states, also the HrssStatus values of case runs. A case is open
// until it reaches one of the closed states.
const (
	CaseReported           = "reported"
	CaseAwaitingAnswer     = "awaiting_answer"
	CaseAwaitingDecision   = "awaiting_decision"
	CaseAwaitingCorrection = "awaiting_correction"
	CaseCorrectionReported = "correction_reported"
	CaseCleared            = "cleared"
	CaseCorrected          = "corrected"
	CaseSuspended          = "suspended"
	CaseCancelled          = "cancelled"
)

// CaseClosed reports whether a case state is final.
func CaseClosed(state string) bool {
	switch state {
	case CaseCleared, CaseCorrected, CaseSuspended, CaseCancelled:
		return true
	}
	return false
}

// Update and query names of the case workflows.
const (
	UpdateCaseAnswer        = "answer"            // fraud: the user answers
	UpdateCaseDecide        = "decide"            // fraud: the investigator decides
	UpdateReportCorrection  = "report_correction" // violation / sanction: the user reports a correction
	UpdateReviewCorrection  = "review_correction" // violation / sanction: staff confirm or reject it
	UpdateSanctionAppeal    = "appeal"            // sanction: the user appeals
	UpdateSanctionAppealDec = "decide_appeal"     // sanction: another staff member decides the appeal
	UpdateSanctionLift      = "lift"              // sanction: a supervisor lifts a suspension
	QueryCaseStatus         = "case_status"       // fraud / violation
	QuerySanctionStatus     = "sanction_status"   // sanction
	ClauseFraud             = "C2.2"              // false registration data
	ClauseViolation         = "C2.5"              // breaking the site's rules
	ReasonNotCorrected      = "not_corrected_in_time"
)

// Fraud decisions.
const (
	FraudCleared = "cleared"
	FraudSuspend = "suspend"
	FraudCancel  = "cancel"
)

// Violation actions.
const (
	ViolationCorrect = "correct"
	ViolationSuspend = "suspend"
	ViolationCancel  = "cancel"
)

// Sanction kinds and states (HrssStatus of sanction runs: in_force, final,
// lifted, overturned).
const (
	SanctionSuspension   = "suspension"
	SanctionCancellation = "cancellation"
	SanctionInForce      = "in_force"
	SanctionFinal        = "final"
	SanctionLifted       = "lifted"
	SanctionOverturned   = "overturned"
)

// Appeal decisions.
const (
	AppealUpheld     = "upheld"
	AppealOverturned = "overturned"
)

// Correction review results.
const (
	CorrectionConfirmed = "confirmed"
	CorrectionRejected  = "rejected"
)

// AppealWindow: a suspension or cancellation may be appealed within 15 days.
const AppealWindow = 15 * 24 * time.Hour

// FraudReasonCodes are the reasons an adverse fraud decision may give.
var FraudReasonCodes = []string{"false_identity", "false_contact_data", "false_address", "duplicate_identity", "other_false_data"}

// ViolationRules are the conduct rules of C3.4 a violation may name.
var ViolationRules = []string{"C3.4(1)", "C3.4(2)", "C3.4(3)", "C3.4(4)", "C3.4(5)", "C3.4(6)", "C3.4(7)", "C3.4(8)"}

// LiftReasonCodes are the reasons a supervisor may give to lift a suspension.
var LiftReasonCodes = []string{"conditions_met", "supervisor_review", "error_in_decision"}

// AppealReasonCodes are the reasons an appeal decision may give.
var AppealReasonCodes = []string{"evidence_insufficient", "procedure_error", "new_evidence", "decision_confirmed"}

// CaseServiceLevel is the clock of a case: the investigator is reminded,
// then the case escalates to a supervisor if it is not decided (or, for a
// reported correction, confirmed) in time. Zero fields take the defaults.
type CaseServiceLevel struct {
	RemindAfter   time.Duration `json:"remind_after"`
	EscalateAfter time.Duration `json:"escalate_after"`
}

// DefaultCaseServiceLevel: remind after 3 days, escalate after 7 days.
var DefaultCaseServiceLevel = CaseServiceLevel{RemindAfter: 3 * 24 * time.Hour, EscalateAfter: 7 * 24 * time.Hour}

// WithDefaults fills zero fields.
func (s CaseServiceLevel) WithDefaults() CaseServiceLevel {
	return s.orDefaults(DefaultCaseServiceLevel)
}

func (s CaseServiceLevel) orDefaults(def CaseServiceLevel) CaseServiceLevel {
	if s.RemindAfter <= 0 {
		s.RemindAfter = def.RemindAfter
	}
	if s.EscalateAfter <= 0 {
		s.EscalateAfter = def.EscalateAfter
	}
	return s
}

// SanctionIDFor is the sanction a case leads to: one per case, derived from
// the case ID so that retries and replays name the same sanction.
func SanctionIDFor(caseID string) string {
	return uuid.NewSHA1(sanctionNamespace, []byte("sanction/"+caseID)).String()
}

var sanctionNamespace = uuid.MustParse("5e1d2a40-7c3b-4f55-9b1e-2f3c4d5e6f70")

// FraudInput starts a fraud verification. The report itself (suspected
// fields, evidence, summary) is in Postgres.
type FraudInput struct {
	CaseID        string           `json:"case_id"`
	AccountID     string           `json:"account_id,omitempty"`
	ApplicationID string           `json:"application_id,omitempty"`
	OpenedBy      string           `json:"opened_by,omitempty"` // staff ID
	AnswerDueAt   time.Time        `json:"answer_due_at"`
	ServiceLevel  CaseServiceLevel `json:"service_level"`
}

// ViolationInput starts a violation case (C2.5).
type ViolationInput struct {
	CaseID       string           `json:"case_id"`
	AccountID    string           `json:"account_id"`
	Rule         string           `json:"rule"`
	Action       string           `json:"action"`
	CorrectBy    time.Time        `json:"correct_by,omitzero"`
	Corrections  []string         `json:"corrections,omitempty"` // lifting conditions of a direct suspension
	OpenedBy     string           `json:"opened_by"`
	ServiceLevel CaseServiceLevel `json:"service_level"`
}

// CaseAnswer tells the fraud workflow that the user's answer was stored.
type CaseAnswer struct {
	Actor        Actor  `json:"actor"`
	SubmissionID string `json:"submission_id"`
}

// FraudDecision is the investigator's decision (Update with validator).
type FraudDecision struct {
	Actor       Actor    `json:"actor"`
	Decision    string   `json:"decision"`              // cleared | suspend | cancel
	ReasonCode  string   `json:"reason_code,omitempty"` // required for suspend / cancel
	Corrections []string `json:"corrections,omitempty"` // suspend: the fields to correct
	Evidence    []string `json:"evidence,omitempty"`    // references, required for suspend / cancel
}

// CorrectionReport tells a workflow that the user's correction report was
// stored.
type CorrectionReport struct {
	Actor        Actor  `json:"actor"`
	SubmissionID string `json:"submission_id"`
}

// CorrectionReview is staff confirming or rejecting a reported correction.
type CorrectionReview struct {
	Actor  Actor  `json:"actor"`
	Result string `json:"result"` // confirmed | rejected
}

// CaseResult answers a case Update and is the case workflow's result.
type CaseResult struct {
	CaseID     string `json:"case_id"`
	State      string `json:"state"`
	SanctionID string `json:"sanction_id,omitempty"`
}

// CaseStatus is the live state of a case run.
type CaseStatus struct {
	CaseID      string    `json:"case_id"`
	Kind        string    `json:"kind"`
	State       string    `json:"state"`
	Findings    []string  `json:"findings"`
	AnswerDueAt time.Time `json:"answer_due_at,omitzero"`
	CorrectBy   time.Time `json:"correct_by,omitzero"`
	Answered    bool      `json:"answered"`
	Reminded    bool      `json:"reminded"`
	Escalated   bool      `json:"escalated"`
	SanctionID  string    `json:"sanction_id,omitempty"`
	DecidedBy   string    `json:"decided_by,omitempty"`
}

// SanctionInput starts a sanction's run; the case workflow starts it as a
// child that outlives the case.
type SanctionInput struct {
	SanctionID  string   `json:"sanction_id"`
	CaseID      string   `json:"case_id"`
	AccountID   string   `json:"account_id"`
	Kind        string   `json:"kind"` // suspension | cancellation
	ReasonCode  string   `json:"reason_code"`
	Clause      string   `json:"clause"`
	Evidence    []string `json:"evidence,omitempty"`
	Conditions  []string `json:"conditions,omitempty"` // corrections that lift a suspension once verified
	FalseData   bool     `json:"false_data"`           // C2.2: a cancellation blocks the ID number
	ImposedBy   string   `json:"imposed_by"`           // staff ID; for an escalation, the case's opener
	ImposedKind string   `json:"imposed_kind"`         // staff | system
	// OpenedBy is the investigator who opened the case (staff ID; empty in
	// runs started before it was passed): they do not decide its appeal.
	OpenedBy string `json:"opened_by,omitempty"`
	// AppealServiceLevel: while an appeal waits for its decision the
	// investigators are reminded, then the supervisors told; zero fields
	// take DefaultCaseServiceLevel.
	AppealServiceLevel CaseServiceLevel `json:"appeal_service_level,omitzero"`
}

// SanctionAppeal tells the sanction workflow the user's appeal was stored.
type SanctionAppeal struct {
	Actor        Actor  `json:"actor"`
	SubmissionID string `json:"submission_id"`
}

// AppealDecision is decided by a staff member other than the one who
// imposed the sanction.
type AppealDecision struct {
	Actor      Actor  `json:"actor"`
	Decision   string `json:"decision"` // upheld | overturned
	ReasonCode string `json:"reason_code"`
}

// LiftRequest is a supervisor's reinstatement decision.
type LiftRequest struct {
	Actor      Actor  `json:"actor"`
	ReasonCode string `json:"reason_code"`
}

// SanctionResult answers a sanction Update and is the run's result.
type SanctionResult struct {
	SanctionID  string `json:"sanction_id"`
	State       string `json:"state"`
	AppealState string `json:"appeal_state"`
}

// SanctionStatus is the live state of a sanction run.
type SanctionStatus struct {
	SanctionID      string    `json:"sanction_id"`
	Kind            string    `json:"kind"`
	State           string    `json:"state"`
	AppealUntil     time.Time `json:"appeal_until"`
	AppealState     string    `json:"appeal_state"`
	CorrectionState string    `json:"correction_state"`
}
