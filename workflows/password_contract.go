package workflows

import "time"

// ---- Password lifecycle (C3.3), compromise reports (C3.3(3)) and
// registration data changes (C3.2). IDs and codes only, as everywhere in
// this package: never a password, hash, token, name, ID number or mobile.

// HrssKind values of these processes.
const (
	KindCompromise    = "compromise"
	KindPasswordReset = "password_reset"
	KindPasswordAge   = "password_age"
	KindDataChange    = "data_change"
)

// HrssStatus values of these processes (data changes use pending, approved
// and rejected from the registration review).
const (
	StatusLocked   = "locked"   // compromise: waiting for the in-person reset
	StatusReset    = "reset"    // compromise: the reset lifted the lock
	StatusIssuing  = "issuing"  // password reset: not yet issued
	StatusIssued   = "issued"   // password reset: new initial password waiting for pickup
	StatusRefused  = "refused"  // password reset: the account's state did not allow it
	StatusSweeping = "sweeping" // password age: a sweep is running
	StatusIdle     = "idle"     // password age: between sweeps
)

// Update, signal and query names.
const (
	// UpdateReport adds a security report to the account's compromise
	// workflow (sent with start); it completes once the account is locked.
	UpdateReport = "report"
	// UpdateReset is the in-person reset that lifts a compromise lock.
	UpdateReset = "reset"
	// UpdateAwaitIssued completes when a password reset has issued the new
	// initial password (sent with start).
	UpdateAwaitIssued = "await_issued"
	// UpdateDecideDataChange is a reviewer's decision on a name or ID
	// number change.
	UpdateDecideDataChange = "decide"
	// SignalPasswordAgeSettings replaces the reminder settings of the
	// running password-age workflow.
	SignalPasswordAgeSettings = "settings"
)

// PasswordResetWorkflowID is the business ID of one in-person reset.
func PasswordResetWorkflowID(resetID string) string { return "password-reset/" + resetID }

// DataChangeWorkflowID is the business ID of a name or ID number change.
func DataChangeWorkflowID(changeID string) string { return "data-change/" + changeID }

// PasswordAgeWorkflowID names the one password-age workflow of a task
// queue (one per deployment; tests run their own on their own queue).
func PasswordAgeWorkflowID(taskQueue string) string { return "password-age/" + taskQueue }

// PasswordSettings configure the reminders (C3.3(2)) and the compromise
// wait (C3.3(3)). Zero fields take the defaults.
type PasswordSettings struct {
	// MaxAge: a password older than this gets a reminder to change it.
	MaxAge time.Duration `json:"max_age"`
	// RemindEvery: the reminder repeats at this interval until a change.
	RemindEvery time.Duration `json:"remind_every"`
	// SweepEvery: how often the one password-age workflow sweeps.
	SweepEvery time.Duration `json:"sweep_every"`
	// PageSize: accounts per sweep activity (set-based SQL per page).
	PageSize int `json:"page_size"`
	// CompromiseRemindEvery: reminders to a user whose account is locked
	// after a report, until the in-person reset.
	CompromiseRemindEvery time.Duration `json:"compromise_remind_every"`
}

// DefaultPasswordSettings: remind after 180 days, then every 30 days;
// sweep daily in pages of 500; remind a locked user every 3 days.
var DefaultPasswordSettings = PasswordSettings{
	MaxAge:                180 * 24 * time.Hour,
	RemindEvery:           30 * 24 * time.Hour,
	SweepEvery:            24 * time.Hour,
	PageSize:              500,
	CompromiseRemindEvery: 72 * time.Hour,
}

// WithDefaults fills zero fields from DefaultPasswordSettings.
func (p PasswordSettings) WithDefaults() PasswordSettings {
	d := DefaultPasswordSettings
	if p.MaxAge <= 0 {
		p.MaxAge = d.MaxAge
	}
	if p.RemindEvery <= 0 {
		p.RemindEvery = d.RemindEvery
	}
	if p.SweepEvery <= 0 {
		p.SweepEvery = d.SweepEvery
	}
	if p.PageSize <= 0 {
		p.PageSize = d.PageSize
	}
	if p.CompromiseRemindEvery <= 0 {
		p.CompromiseRemindEvery = d.CompromiseRemindEvery
	}
	return p
}

// ---- Compromise (compromise/<account>) ----

// CompromiseInput starts the lock of an account after a report. Reminders
// carries the count over a continue-as-new.
type CompromiseInput struct {
	AccountID    string        `json:"account_id"`
	ReportID     string        `json:"report_id"`
	RemindEvery  time.Duration `json:"remind_every"`
	PickupWindow time.Duration `json:"pickup_window"`
	Reminders    int           `json:"reminders,omitempty"`
	Reports      int           `json:"reports,omitempty"`
}

// ReportRequest names a stored security report.
type ReportRequest struct {
	ReportID string `json:"report_id"`
}

// ResetRequest is the in-person reset of a locked account by a reviewer
// at a counter; the reset document (staff, office, identity document) is
// stored under ResetID.
type ResetRequest struct {
	Actor   Actor  `json:"actor"`
	ResetID string `json:"reset_id"`
}

// ResetResult says whether a new initial password waits for pickup.
type ResetResult struct {
	Status          string    `json:"status"` // issued | refused
	ResetID         string    `json:"reset_id"`
	Refusal         string    `json:"refusal,omitempty"`
	PickupExpiresAt time.Time `json:"pickup_expires_at,omitzero"`
}

// CompromiseStatus is the live state of a compromise workflow.
type CompromiseStatus struct {
	AccountID string    `json:"account_id"`
	Status    string    `json:"status"`
	LockedAt  time.Time `json:"locked_at,omitzero"`
	Reports   int       `json:"reports"`
	Reminders int       `json:"reminders"`
	ResetID   string    `json:"reset_id,omitempty"`
}

// CompromiseResult is the workflow's result.
type CompromiseResult struct {
	Status  string `json:"status"`
	ResetID string `json:"reset_id,omitempty"`
}

// ---- In-person password reset (password-reset/<reset>) ----

// PasswordResetInput starts an in-person reset of an account that is not
// locked by a compromise report.
type PasswordResetInput struct {
	ResetID      string        `json:"reset_id"`
	PickupWindow time.Duration `json:"pickup_window"`
}

// ---- Password age (password-age/<task queue>) ----

// PasswordAgeInput starts (or continues) the one password-age workflow.
type PasswordAgeInput struct {
	Settings PasswordSettings `json:"settings"`
	// Carried over a continue-as-new.
	Sweeps        int `json:"sweeps,omitempty"`
	TotalReminded int `json:"total_reminded,omitempty"`
}

// PasswordAgeStatus is the live state of the password-age workflow.
type PasswordAgeStatus struct {
	Status        string           `json:"status"`
	Settings      PasswordSettings `json:"settings"`
	Sweeps        int              `json:"sweeps"`
	LastSweepAt   time.Time        `json:"last_sweep_at,omitzero"`
	LastReminded  int              `json:"last_reminded"`
	TotalReminded int              `json:"total_reminded"`
	Pages         int              `json:"pages"`
	NextSweepAt   time.Time        `json:"next_sweep_at,omitzero"`
}

// ---- Registration data change (data-change/<change>) ----

// DataChangeInput starts the review of a name or ID number change.
type DataChangeInput struct {
	ChangeID string `json:"change_id"`
	// ServiceLevel: the reviewers are reminded, then the supervisors told,
	// while the change waits; zero fields take DefaultDataChangeServiceLevel.
	ServiceLevel CaseServiceLevel `json:"service_level,omitzero"`
}

// DefaultDataChangeServiceLevel: remind the reviewers after 2 days,
// escalate to the supervisors after 5 days.
var DefaultDataChangeServiceLevel = CaseServiceLevel{RemindAfter: 2 * 24 * time.Hour, EscalateAfter: 5 * 24 * time.Hour}

// DataChangeDecision is a reviewer's decision on a data change.
type DataChangeDecision struct {
	Actor    Actor  `json:"actor"`
	Decision string `json:"decision"` // approve | reject
	Reason   string `json:"reason,omitempty"`
}

// DataChangeResult is the outcome of the decision and of the workflow.
type DataChangeResult struct {
	Status string `json:"status"`
}
