package store

import "context"

// StaffOffice reads the office a staff member works at.
func StaffOffice(ctx context.Context, q Q, staffID string) (string, error) {
	var office string
	err := getOne(ctx, q, &office, `SELECT office FROM staff WHERE id = $1`, staffID)
	return office, err
}
