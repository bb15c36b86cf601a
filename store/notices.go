package store

import "context"

// Notice is a site notice to an account, an applicant (by application) or
// a staff role; exactly one of the three is set.
type Notice struct {
	// OperationKey makes the notice once-only (one per event).
	OperationKey  string
	AccountID     string
	ApplicationID string
	StaffRole     string
	Kind          string
	TitleZH       string
	TitleEN       string
	BodyZH        string
	BodyEN        string
}

// PlaceNotice is the one writer of new notices. It reports whether the
// notice was placed (false: its operation key was there already).
func PlaceNotice(ctx context.Context, q Q, n Notice) (bool, error) {
	res, err := q.ExecContext(ctx, `
		INSERT INTO notices (id, operation_key, account_id, application_id, staff_role, kind, title_zh, title_en, body_zh, body_en)
		VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (operation_key) DO NOTHING`,
		n.OperationKey, nullString(n.AccountID), nullString(n.ApplicationID), nullString(n.StaffRole),
		n.Kind, n.TitleZH, n.TitleEN, n.BodyZH, n.BodyEN)
	if err != nil {
		return false, err
	}
	k, err := res.RowsAffected()
	return k == 1, err
}
