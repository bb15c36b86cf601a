package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Disclosure requests (disclosure_requests): entered and delivered by the
// API (api/disclosure.go); the disclosure workflow's activities record
// consent, decision and closure.

// NewDisclosure is a disclosure request as entered.
type NewDisclosure struct {
	ID             string
	AccountID      string
	Requester      string
	Basis          string
	LegalReference string
	Department     string
	ServiceCode    string
	Purpose        string
	Fields         []string
	SecrecyOrder   any // the order's reference, or nil
	SecrecyUntil   any // when it ends, or nil
	EnteredBy      string
	EnteredRoles   []string
	EnteredAt      time.Time
	SourceIP       string
	RequestID      string
}

// EnterDisclosure stores a request as received.
func EnterDisclosure(ctx context.Context, q Q, d NewDisclosure) error {
	_, err := q.ExecContext(ctx, `INSERT INTO disclosure_requests (id, account_id, requester, basis, legal_reference, department,
			service_code, purpose, fields, secrecy_order, secrecy_until, entered_by, entered_roles, entered_at, source_ip, request_id, status)
			VALUES ($1, $2, $3, $4, nullif($5, ''), nullif($6, ''), nullif($7, ''), $8, $9, $10, $11, $12, $13, $14, $15, $16, 'received')`,
		d.ID, d.AccountID, d.Requester, d.Basis, d.LegalReference, d.Department,
		d.ServiceCode, d.Purpose, pq.Array(d.Fields), d.SecrecyOrder, d.SecrecyUntil, d.EnteredBy, pq.Array(d.EnteredRoles),
		d.EnteredAt, d.SourceIP, d.RequestID)
	return err
}

// Disclosure is a disclosure request as the register shows it.
type Disclosure struct {
	ID                string         `db:"id" json:"id"`
	AccountID         string         `db:"account_id" json:"account_id"`
	Requester         string         `db:"requester" json:"requester"`
	Basis             string         `db:"basis" json:"basis"`
	LegalReference    *string        `db:"legal_reference" json:"legal_reference"`
	Department        *string        `db:"department" json:"department"`
	ServiceCode       *string        `db:"service_code" json:"service_code"`
	Purpose           string         `db:"purpose" json:"purpose"`
	Fields            pq.StringArray `db:"fields" json:"fields"`
	SecrecyOrder      *string        `db:"secrecy_order" json:"secrecy_order"`
	SecrecyUntil      *time.Time     `db:"secrecy_until" json:"secrecy_until"`
	EnteredBy         string         `db:"entered_by" json:"entered_by"`
	EnteredRoles      pq.StringArray `db:"entered_roles" json:"entered_roles"`
	EnteredAt         time.Time      `db:"entered_at" json:"entered_at"`
	Status            string         `db:"status" json:"status"`
	Deadline          *time.Time     `db:"deadline" json:"deadline"`
	ConsentDecision   *string        `db:"consent_decision" json:"consent_decision"`
	ConsentAt         *time.Time     `db:"consent_at" json:"consent_at"`
	ApprovedBy        *string        `db:"approved_by" json:"approved_by"`
	ApproverRoles     pq.StringArray `db:"approver_roles" json:"approver_roles"`
	DecidedAt         *time.Time     `db:"decided_at" json:"decided_at"`
	DecisionReason    *string        `db:"decision_reason" json:"decision_reason"`
	ApprovedFields    pq.StringArray `db:"approved_fields" json:"approved_fields"`
	DeliveryExpiresAt *time.Time     `db:"delivery_expires_at" json:"delivery_expires_at"`
	DeliveredAt       *time.Time     `db:"delivered_at" json:"delivered_at"`
	DeliveredTo       *string        `db:"delivered_to" json:"delivered_to"`
	ClosedAt          *time.Time     `db:"closed_at" json:"closed_at"`
}

const disclosureColumns = `id, account_id, requester, basis, legal_reference, department, service_code, purpose, fields,
	secrecy_order, secrecy_until, entered_by, entered_roles, entered_at, status, deadline, consent_decision, consent_at,
	approved_by, approver_roles, decided_at, decision_reason, approved_fields, delivery_expires_at, delivered_at, delivered_to, closed_at`

// DisclosureByID reads one request.
func DisclosureByID(ctx context.Context, q Q, id string) (Disclosure, error) {
	var v Disclosure
	err := getOne(ctx, q, &v, `SELECT `+disclosureColumns+` FROM disclosure_requests WHERE id = $1`, id)
	return v, err
}

// DisclosureFilter selects requests of the register ("" matches any).
type DisclosureFilter struct {
	After     time.Time
	AfterID   string
	Status    string
	Basis     string
	AccountID string
	EnteredBy string
	Limit     int
}

// DisclosureRegister lists requests entered after (After, AfterID), oldest
// first.
func DisclosureRegister(ctx context.Context, q Q, f DisclosureFilter) ([]Disclosure, error) {
	rows := []Disclosure{}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+disclosureColumns+` FROM disclosure_requests
		WHERE (entered_at, id) > ($1, $2::uuid)
		  AND ($3 = '' OR status = $3) AND ($4 = '' OR basis = $4) AND ($5 = '' OR account_id::text = $5)
		  AND ($7 = '' OR entered_by::text = $7)
		ORDER BY entered_at, id LIMIT $6`, f.After, f.AfterID, f.Status, f.Basis, f.AccountID, f.Limit, f.EnteredBy)
	return rows, err
}

// DisclosureForExport is what the export of a request checks.
type DisclosureForExport struct {
	AccountID      string         `db:"account_id"`
	EnteredBy      string         `db:"entered_by"`
	Status         string         `db:"status"`
	ApprovedFields pq.StringArray `db:"approved_fields"`
	Expires        *time.Time     `db:"delivery_expires_at"`
	Secret         bool           `db:"secret"`
}

// LockDisclosureForExport locks a request for its export.
func LockDisclosureForExport(ctx context.Context, q Q, id string) (DisclosureForExport, error) {
	var r DisclosureForExport
	err := getOne(ctx, q, &r, `SELECT account_id, entered_by, status, approved_fields, delivery_expires_at,
			secrecy_until IS NOT NULL AS secret FROM disclosure_requests WHERE id = $1 FOR UPDATE`, id)
	return r, err
}

// MarkDisclosureDelivered records the delivery of a request's data to the
// staff member who entered it.
func MarkDisclosureDelivered(ctx context.Context, q Q, id string, at time.Time, to string) error {
	_, err := q.ExecContext(ctx, `UPDATE disclosure_requests SET status = 'delivered', delivered_at = $2, delivered_to = $3, closed_at = $2
			WHERE id = $1`, id, at, to)
	return err
}

// DisclosedPerson is the registration data a disclosure may read.
type DisclosedPerson struct {
	Name      string         `db:"name"`
	IDNumber  string         `db:"id_number"`
	BirthDate time.Time      `db:"birth_date"`
	Mobile    string         `db:"mobile"`
	Email     sql.NullString `db:"email"`
	Address   string         `db:"address"`
	Status    string         `db:"status"`
	OpenedAt  time.Time      `db:"opened_at"`
}

// DisclosedPersonOf reads the account's registration data for a
// disclosure.
func DisclosedPersonOf(ctx context.Context, q Q, accountID string) (DisclosedPerson, error) {
	var row DisclosedPerson
	err := getOne(ctx, q, &row, `SELECT p.name, p.id_number, p.birth_date, p.mobile, p.email, p.address, a.status, a.opened_at
		FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.id = $1`, accountID)
	return row, err
}

// OpenServiceCodes lists the codes of the account's open services.
func OpenServiceCodes(ctx context.Context, q Q, accountID string) ([]string, error) {
	services := []string{}
	err := sqlx.SelectContext(ctx, q, &services, `SELECT service_code FROM account_services WHERE account_id = $1 AND status = 'open'
				ORDER BY service_code`, accountID)
	return services, err
}

// AgreementTerms is the account's agreement as a disclosure shows it: the terms version and when it is
// in effect.
type AgreementTerms struct {
	TermsVersion   string     `db:"terms_version" json:"terms_version"`
	EffectiveFrom  time.Time  `db:"effective_from" json:"effective_from"`
	EffectiveUntil *time.Time `db:"effective_until" json:"effective_until"`
}

// AgreementTermsOf reads the account's agreement (terms version and when it is in effect).
func AgreementTermsOf(ctx context.Context, q Q, accountID string) (AgreementTerms, error) {
	var agr AgreementTerms
	err := getOne(ctx, q, &agr, `SELECT terms_version, effective_from, effective_until FROM agreements WHERE account_id = $1`,
		accountID)
	return agr, err
}

// Consent is a request that asks for the user's consent.
type Consent struct {
	ID         string         `db:"id" json:"id"`
	Requester  string         `db:"requester" json:"requester"`
	Purpose    string         `db:"purpose" json:"purpose"`
	Fields     pq.StringArray `db:"fields" json:"fields"`
	Status     string         `db:"status" json:"status"`
	Deadline   *time.Time     `db:"deadline" json:"deadline"`
	Decision   *string        `db:"consent_decision" json:"decision"`
	AnsweredAt *time.Time     `db:"consent_at" json:"answered_at"`
	EnteredAt  time.Time      `db:"entered_at" json:"requested_at"`
}

// ConsentsOf lists the requests that ask for the account's consent, open
// and answered, newest first.
func ConsentsOf(ctx context.Context, q Q, accountID string) ([]Consent, error) {
	rows := []Consent{}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT id, requester, purpose, fields, status, deadline, consent_decision,
		consent_at, entered_at FROM disclosure_requests WHERE account_id = $1 AND basis = 'user_authorised' AND status <> 'received'
		ORDER BY entered_at DESC, id`, accountID)
	return rows, err
}

// AsksConsentOf tells whether the request asks for this account's consent.
func AsksConsentOf(ctx context.Context, q Q, id, accountID string) (bool, error) {
	var found bool
	err := getOne(ctx, q, &found, `SELECT EXISTS (SELECT 1 FROM disclosure_requests WHERE id = $1 AND account_id = $2
		AND basis = 'user_authorised')`, id, accountID)
	return found, err
}

// DisclosureToUser is a disclosure as its subject sees it.
type DisclosureToUser struct {
	ID             string         `db:"id" json:"id"`
	Requester      string         `db:"requester" json:"requester"`
	Basis          string         `db:"basis" json:"basis"`
	LegalReference *string        `db:"legal_reference" json:"legal_reference"`
	Department     *string        `db:"department" json:"department"`
	ServiceCode    *string        `db:"service_code" json:"service_code"`
	Purpose        string         `db:"purpose" json:"purpose"`
	Fields         pq.StringArray `db:"approved_fields" json:"fields"`
	ApproverRoles  pq.StringArray `db:"approver_roles" json:"approver_roles"`
	ConsentedAt    *time.Time     `db:"consent_at" json:"consented_at"`
	DeliveredAt    time.Time      `db:"delivered_at" json:"delivered_at"`
}

// DisclosuresTo lists the delivered disclosures of the account's data,
// newest first, leaving out those under a secrecy order still in force at
// now.
func DisclosuresTo(ctx context.Context, q Q, accountID string, now time.Time) ([]DisclosureToUser, error) {
	rows := []DisclosureToUser{}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT id, requester, basis, legal_reference, department, service_code,
		purpose, approved_fields, coalesce(approver_roles, '{}') AS approver_roles, consent_at, delivered_at
		FROM disclosure_requests WHERE account_id = $1 AND status = 'delivered' AND (secrecy_until IS NULL OR secrecy_until <= $2)
		ORDER BY delivered_at DESC, id`, accountID, now)
	return rows, err
}
