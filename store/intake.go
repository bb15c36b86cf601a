package store

import "context"

// Discarding an intake document: when no workflow took a stored document
// up (its start or Update failed or was refused), the API takes it back so
// that the caller can file it again. Each function deletes by the
// document's ID, only rows no workflow has touched yet; the API runs it in
// a transaction of its own. Audit rows of the attempt stay.

// DiscardApplication takes back a submitted application and its timeline.
func DiscardApplication(ctx context.Context, q Q, id string) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM application_events WHERE application_id = $1`, id); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `DELETE FROM applications WHERE id = $1 AND status = 'submitted'`, id)
	return err
}

// DiscardSupplement takes back an applicant's supplement not yet applied.
func DiscardSupplement(ctx context.Context, q Q, id string) error {
	_, err := q.ExecContext(ctx, `DELETE FROM application_supplements WHERE id = $1 AND applied_at IS NULL`, id)
	return err
}

// DiscardDataChange withdraws a pending change of name or ID number.
func DiscardDataChange(ctx context.Context, q Q, id string) error {
	_, err := q.ExecContext(ctx, `DELETE FROM data_changes WHERE id = $1 AND status = 'pending'`, id)
	return err
}

// DiscardDeregistration takes back a written request still as received.
func DiscardDeregistration(ctx context.Context, q Q, id string) error {
	_, err := q.ExecContext(ctx, `DELETE FROM deregistration_requests WHERE id = $1 AND status = 'received'`, id)
	return err
}

// DiscardDisclosureRequest takes back a disclosure request still as
// received.
func DiscardDisclosureRequest(ctx context.Context, q Q, id string) error {
	_, err := q.ExecContext(ctx, `DELETE FROM disclosure_requests WHERE id = $1 AND status = 'received'`, id)
	return err
}

// DiscardCaseReport takes back a reported case and its timeline.
func DiscardCaseReport(ctx context.Context, q Q, id string) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM case_events WHERE case_id = $1`, id); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `DELETE FROM cases WHERE id = $1 AND state = 'reported'`, id)
	return err
}

// DiscardCaseSubmission takes back a submission to a case not yet
// accepted.
func DiscardCaseSubmission(ctx context.Context, q Q, id string) error {
	_, err := q.ExecContext(ctx, `DELETE FROM case_submissions WHERE id = $1 AND accepted_at IS NULL`, id)
	return err
}

// DiscardPasswordReset takes back a requested password reset.
func DiscardPasswordReset(ctx context.Context, q Q, id string) error {
	_, err := q.ExecContext(ctx, `DELETE FROM password_resets WHERE id = $1 AND status = 'requested'`, id)
	return err
}
