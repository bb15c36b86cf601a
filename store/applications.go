package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Applications: the registration documents (applications), their timeline
// (application_events) and the applicants' supplements
// (application_supplements). The API files an application and a
// supplement; the registration workflow's activities write the rest.

// NewApplication is an application as the API files it.
type NewApplication struct {
	ID              string
	Name            string
	IDNumber        string
	BirthDate       time.Time
	Mobile          string
	Email           string
	Address         string
	Channel         string
	Services        []string
	TermsVersion    string
	SubmittedAt     time.Time
	FollowTokenHash []byte
	EnteredBy       string // staff ID, counter only
	KioskID         string
	Office          string
	MobileVerified  bool
	Language        string // zh | en: the language of the messages to the applicant
	// EventDetail is the JSON detail of the "submitted" timeline event.
	EventDetail []byte
}

// FileApplication stores a submitted application and the first event of
// its timeline. An open application of the same ID number is a unique
// violation.
func FileApplication(ctx context.Context, q Q, a NewApplication) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO applications (id, status, name, id_number, birth_date, mobile, email, address,
			channel, services, terms_version, agreed_at, follow_token_hash, submitted_at, entered_by, kiosk_id, office, mobile_verified_at, language)
			VALUES ($1, 'submitted', $2, $3, $4, $5, nullif($6, ''), $7, $8, $9, $10, $11, $12, $11,
				nullif($13, '')::uuid, nullif($14, '')::uuid, nullif($15, ''), CASE WHEN $16 THEN now() END, coalesce(nullif($17, ''), 'zh'))`,
		a.ID, a.Name, a.IDNumber, a.BirthDate, a.Mobile, a.Email, a.Address, a.Channel, pq.Array(a.Services),
		a.TermsVersion, a.SubmittedAt, a.FollowTokenHash, a.EnteredBy, a.KioskID, a.Office, a.MobileVerified, a.Language); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `INSERT INTO application_events (application_id, event_key, kind, actor, detail)
			VALUES ($1, 'submitted', 'submitted', 'applicant', $2)`, a.ID, a.EventDetail)
	return err
}

// ApplicationExists tells whether an application with this ID is stored.
func ApplicationExists(ctx context.Context, q Q, id string) (bool, error) {
	var exists bool
	err := getOne(ctx, q, &exists, `SELECT EXISTS (SELECT 1 FROM applications WHERE id = $1)`, id)
	return exists, err
}

// ApplicationStatus reads an application's status.
func ApplicationStatus(ctx context.Context, q Q, id string) (string, error) {
	var status string
	err := getOne(ctx, q, &status, `SELECT status FROM applications WHERE id = $1`, id)
	return status, err
}

// FollowTokenHash reads the hash of an application's follow token.
func FollowTokenHash(ctx context.Context, q Q, id string) ([]byte, error) {
	var stored []byte
	err := getOne(ctx, q, &stored, `SELECT follow_token_hash FROM applications WHERE id = $1`, id)
	return stored, err
}

// Application is an application as staff and its applicant read it.
type Application struct {
	ID             string         `db:"id"`
	Status         string         `db:"status"`
	Name           string         `db:"name"`
	IDNumber       string         `db:"id_number"`
	Mobile         string         `db:"mobile"`
	Email          sql.NullString `db:"email"`
	Address        string         `db:"address"`
	Channel        string         `db:"channel"`
	Services       pq.StringArray `db:"services"`
	TermsVersion   string         `db:"terms_version"`
	Flags          pq.StringArray `db:"flags"`
	InfoRequested  sql.NullString `db:"info_requested"`
	Decision       sql.NullString `db:"decision"`
	DecisionReason sql.NullString `db:"decision_reason"`
	SubmittedAt    time.Time      `db:"submitted_at"`
	QueuedAt       sql.NullTime   `db:"queued_at"`
	ClosedAt       sql.NullTime   `db:"closed_at"`
	EnteredBy      sql.NullString `db:"entered_by"`
	KioskID        sql.NullString `db:"kiosk_id"`
	Office         sql.NullString `db:"office"`
}

// ApplicationByID reads one application.
func ApplicationByID(ctx context.Context, q Q, id string) (Application, error) {
	var app Application
	err := getOne(ctx, q, &app, `SELECT id, status, name, id_number, mobile, email, address, channel, services,
		terms_version, flags, info_requested, decision, decision_reason, submitted_at, queued_at, closed_at,
		entered_by, kiosk_id, office FROM applications WHERE id = $1`, id)
	return app, err
}

// TimelineEvent is one event of a record's timeline.
type TimelineEvent struct {
	Kind   string          `db:"kind" json:"kind"`
	At     time.Time       `db:"at" json:"at"`
	Actor  string          `db:"actor" json:"actor"`
	Detail json.RawMessage `db:"detail" json:"detail"`
}

// ApplicationTimeline reads an application's events in order.
func ApplicationTimeline(ctx context.Context, q Q, id string) ([]TimelineEvent, error) {
	events := []TimelineEvent{}
	err := sqlx.SelectContext(ctx, q, &events, `SELECT kind, at, actor, detail FROM application_events
		WHERE application_id = $1 ORDER BY at, event_key`, id)
	return events, err
}

// QueuedApplication is a pending application in the review queue.
type QueuedApplication struct {
	ID          string         `db:"id"`
	Name        string         `db:"name"`
	IDNumber    string         `db:"id_number"`
	Channel     string         `db:"channel"`
	Services    pq.StringArray `db:"services"`
	Flags       pq.StringArray `db:"flags"`
	SubmittedAt time.Time      `db:"submitted_at"`
	QueuedAt    time.Time      `db:"queued_at"`
}

// ReviewQueue lists pending applications queued after (after, afterID),
// oldest first, at most limit.
func ReviewQueue(ctx context.Context, q Q, after time.Time, afterID string, limit int) ([]QueuedApplication, error) {
	var rows []QueuedApplication
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT id, name, id_number, channel, services, flags, submitted_at, queued_at
		FROM applications WHERE status = 'pending' AND (queued_at, id) > ($1, $2::uuid)
		ORDER BY queued_at, id LIMIT $3`, after, afterID, limit)
	return rows, err
}

// SupplementExists tells whether a supplement with this ID is stored for
// the application.
func SupplementExists(ctx context.Context, q Q, supplementID, applicationID string) (bool, error) {
	var exists bool
	err := getOne(ctx, q, &exists, `SELECT EXISTS (SELECT 1 FROM application_supplements WHERE id = $1 AND application_id = $2)`,
		supplementID, applicationID)
	return exists, err
}

// FileSupplement stores an applicant's supplement (changes as JSON) for
// the workflow to apply.
func FileSupplement(ctx context.Context, q Q, supplementID, applicationID string, changes []byte, note string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO application_supplements (id, application_id, changes, note) VALUES ($1, $2, $3, $4)`,
		supplementID, applicationID, changes, note)
	return err
}

// ApplicationMobile reads the mobile number of an application and whether
// it was verified with a code.
func ApplicationMobile(ctx context.Context, q Q, id string) (mobile string, verified bool, err error) {
	var app struct {
		Mobile   string `db:"mobile"`
		Verified bool   `db:"verified"`
	}
	err = getOne(ctx, q, &app, `SELECT mobile, mobile_verified_at IS NOT NULL AS verified FROM applications WHERE id = $1`, id)
	return app.Mobile, app.Verified, err
}

// ApplicantNotice is a notice to an applicant as the application shows it.
type ApplicantNotice struct {
	Kind    string    `db:"kind" json:"kind"`
	TitleZH string    `db:"title_zh" json:"title_zh"`
	TitleEN string    `db:"title_en" json:"title_en"`
	BodyZH  string    `db:"body_zh" json:"body_zh"`
	BodyEN  string    `db:"body_en" json:"body_en"`
	At      time.Time `db:"created_at" json:"at"`
}

// ApplicationNotices reads the notices to an application's applicant
// (request for information, rejection, expiry), oldest first. (Notices are
// placed only through PlaceNotice.)
func ApplicationNotices(ctx context.Context, q Q, applicationID string) ([]ApplicantNotice, error) {
	notices := []ApplicantNotice{}
	err := sqlx.SelectContext(ctx, q, &notices, `SELECT kind, title_zh, title_en, body_zh, body_en, created_at
		FROM notices WHERE application_id = $1 ORDER BY created_at, id`, applicationID)
	return notices, err
}

// Applications: the registration workflow owns them. Reads the API needs
// are here.

// ApplicationFollowTokenHash reads the hash of an application's follow
// token. A missing application is sql.ErrNoRows.
func ApplicationFollowTokenHash(ctx context.Context, q Q, id string) ([]byte, error) {
	var stored []byte
	err := sqlx.GetContext(ctx, q, &stored, `SELECT follow_token_hash FROM applications WHERE id = $1`, id)
	return stored, err
}

// ApplicationLanguage reads the language of the messages to an
// application's applicant (zh | en).
func ApplicationLanguage(ctx context.Context, q Q, id string) (string, error) {
	var lang string
	err := getOne(ctx, q, &lang, `SELECT language FROM applications WHERE id = $1`, id)
	return lang, err
}

// LinkCodeDelivery ties the delivery record of the registration code an
// application was filed with to the application, so that the account page
// lists it (in the filing's transaction).
func LinkCodeDelivery(ctx context.Context, q Q, codeID, applicationID string) error {
	_, err := q.ExecContext(ctx, `UPDATE message_deliveries SET application_id = $2
		WHERE code_id = $1 AND application_id IS NULL AND account_id IS NULL`, codeID, applicationID)
	return err
}

// RegistrationFacts is what a new registration is checked against, read
// in one round trip: the terms version in effect, which of the requested
// service codes are active, and whether the ID number already holds a
// live account.
type RegistrationFacts struct {
	CurrentTerms    string
	KnownServices   []string
	IDNumberHolding bool
}

// ReadRegistrationFacts reads the facts for a registration of idNumber
// asking for services.
func ReadRegistrationFacts(ctx context.Context, q Q, idNumber string, services []string) (RegistrationFacts, error) {
	var f RegistrationFacts
	var current sql.NullString
	var known pq.StringArray
	err := q.QueryRowxContext(ctx, `SELECT
		(`+currentTermsSQL+`),
		ARRAY(SELECT code FROM services WHERE active AND code = ANY($1)),
		EXISTS (SELECT 1 FROM accounts a JOIN people p ON p.id = a.person_id
			WHERE p.id_number = $2 AND a.status IN ('active', 'suspended'))`, pq.Array(services), idNumber).
		Scan(&current, &known, &f.IDNumberHolding)
	f.CurrentTerms, f.KnownServices = current.String, known
	return f, err
}
