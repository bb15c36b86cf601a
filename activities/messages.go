package activities

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"hrss-backoffice/internal/messages"
)

// The outbox stores a message as its template reference
// ("<kind>:<record ID>"): no address, no text, no secret. The dispatcher
// turns the reference into the kind and parameters of internal/messages
// (what a provider's template receives) and the text, at send time.

// Outbox template references.
const (
	refTermsRevision = "terms_revision"
	refServiceChange = "service_change"
	refApproved      = "registration_approved"
	refRejected      = "registration_rejected"
	refInfoRequested = "registration_info_requested"
)

// ApplicantNoticeSource is the outbox source of the notices to an
// application's applicant (approved, rejected, more information requested;
// their SMS and e-mail): one per application.
func ApplicantNoticeSource(applicationID string) string { return "registration/" + applicationID }

// outboxMessage is a stored reference resolved into a kind and parameters.
type outboxMessage struct {
	Kind   string
	Params []string
}

// text renders the message in a language.
func (m outboxMessage) text(lang string) (string, error) {
	return messages.Render(m.Kind, lang, m.Params)
}

// resolveTemplate turns a stored reference into its kind and parameters.
func (a *Activities) resolveTemplate(ctx context.Context, tx *sqlx.Tx, template string) (outboxMessage, error) {
	kind, ref, _ := strings.Cut(template, ":")
	switch kind {
	case refTermsRevision:
		var eff time.Time
		if err := tx.GetContext(ctx, &eff, `SELECT effective_at FROM terms_versions WHERE version = $1`, ref); err != nil {
			return outboxMessage{}, err
		}
		return outboxMessage{Kind: messages.TermsRevision, Params: []string{ref, eff.In(shanghai).Format("2006-01-02")}}, nil
	case refServiceChange:
		return serviceChangeMessage(ctx, tx, ref)
	case refApproved:
		// The follow page (no token: the applicant opens it with the
		// application number and follow code) and the pickup deadline.
		var expires time.Time
		if err := tx.GetContext(ctx, &expires, `SELECT expires_at FROM credential_pickups WHERE operation_key = $1`,
			RegistrationPickupKey(ref)); err != nil {
			return outboxMessage{}, err
		}
		return outboxMessage{Kind: messages.Approved, Params: []string{a.publicBaseURL() + "/follow",
			expires.In(shanghai).Format("2006-01-02 15:04")}}, nil
	case refRejected:
		return outboxMessage{Kind: messages.Rejected, Params: []string{a.publicBaseURL() + "/follow"}}, nil
	case refInfoRequested:
		return outboxMessage{Kind: messages.InfoRequested, Params: []string{a.publicBaseURL() + "/follow"}}, nil
	}
	return outboxMessage{}, conflictf("unknown message template %q", template)
}

func (a *Activities) publicBaseURL() string {
	if a.PublicBaseURL != "" {
		return a.PublicBaseURL
	}
	return messages.DefaultBaseURL
}

// queueApprovedNotice queues the approval's notice to the applicant (SMS,
// and e-mail when the application gave one) in the approval's
// transaction, once per application and channel. The stored copy is the
// reference only; the text (with the follow link, never the password) is
// made at dispatch.
func queueApprovedNotice(ctx context.Context, tx *sqlx.Tx, applicationID, accountID string, email bool) error {
	return queueToApplicant(ctx, tx, applicationID, accountID, refApproved, "approved", email)
}

// queueToApplicant queues an SMS, and an e-mail when the applicant gave an
// address, under the application's source (ApplicantNoticeSource), once per
// application, event (key) and channel: to the account (accountID) once
// there is one, else to the application. The rows hold the template
// reference only; the text is made at dispatch.
func queueToApplicant(ctx context.Context, tx *sqlx.Tx, applicationID, accountID, ref, key string, email bool) error {
	src := ApplicantNoticeSource(applicationID)
	chans := []string{"sms"}
	if email {
		chans = append(chans, "email")
	}
	for _, ch := range chans {
		if _, err := tx.ExecContext(ctx, `INSERT INTO notification_outbox (operation_key, source, account_id, application_id, channel, template)
			VALUES ($1, $2, nullif($3, '')::uuid, CASE WHEN $3 = '' THEN $4::uuid END, $5, $6) ON CONFLICT (operation_key) DO NOTHING`,
			src+"/"+key+"/"+ch, src, accountID, applicationID, ch, ref+":"+applicationID); err != nil {
			return err
		}
	}
	return nil
}

// sendQueued sends the due messages of a source right after the
// transaction that queued them (a retried activity sends only what is
// still due). A failed send stays in the outbox as failed, with its next
// attempt recorded; the follow page and the site notice say the same.
func (a *Activities) sendQueued(ctx context.Context, source string) {
	if _, err := a.DispatchOutbox(ctx, DispatchInput{Source: source, Batch: 10}); err != nil {
		slog.Warn("outbox: sending after queueing failed; the relay retries", "source", source, "error", err)
	}
}

// queueApplicationNotice queues a notice to the applicant of an online or
// kiosk application that has no account (rejected, more information
// requested) in the transaction that closes or holds the application, once
// per application, event (key) and channel: an outbox row for the
// application holding the template reference only; the address is read
// from the application and the text made at dispatch, in the applicant's
// language. A counter application's applicant hears it at the counter.
func queueApplicationNotice(ctx context.Context, tx *sqlx.Tx, applicationID, ref, key string) (bool, error) {
	var app struct {
		Channel string  `db:"channel"`
		Email   *string `db:"email"`
	}
	if err := tx.GetContext(ctx, &app, `SELECT channel, email FROM applications WHERE id = $1`, applicationID); err != nil {
		return false, err
	}
	if app.Channel == "counter" {
		return false, nil
	}
	return true, queueToApplicant(ctx, tx, applicationID, "", ref, key, app.Email != nil && *app.Email != "")
}
