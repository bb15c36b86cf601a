package store

import "context"

// One-time codes sent to a mobile number (table verification_codes).

// DeletePastVerificationCodes deletes the codes created more than 25 hours
// ago: the per-number limits look back one hour; the number itself is kept
// no longer than a day (docs/data-protection.md).
func DeletePastVerificationCodes(ctx context.Context, q Q) error {
	_, err := q.ExecContext(ctx, `DELETE FROM verification_codes WHERE created_at < now() - interval '25 hours'`)
	return err
}
