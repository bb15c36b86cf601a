package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/passwords"
)

// C1.4 (issue 15): applying an approved staff creation is idempotent, keyed
// by the request ID: a retry writes no second member, pickup or audit row
// and answers the same outcome; the first password is generated, stored as
// a hash and sealed for one pickup by the approver; an expired request
// leaves a notice to the administrators once.
func TestApplyStaffChangeIsIdempotentAndSealsTheFirstPassword_C1_4(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	requester, approver := staffID(t, db), staffID(t, db)
	newID, reqID := uuid.NewString(), uuid.NewString()
	_, err := db.Exec(`INSERT INTO staff_change_requests (id, kind, target_id, requested_by, sole_admin, detail, expires_at)
		VALUES ($1, 'create', $2, $3, false, '{"username":"new.member","name":"新成员","roles":["reviewer"],"office":""}', now() + interval '1 day')`,
		reqID, newID, requester)
	require.NoError(t, err)
	in := activities.StaffChangeDecisionInput{RequestID: reqID, DeciderID: approver}
	first, err := acts.ApplyStaffChange(ctx, in)
	require.NoError(t, err)
	require.Equal(t, activities.StaffChangeOutcome{Status: "applied", Pickup: true}, first)
	again, err := acts.ApplyStaffChange(ctx, in)
	require.NoError(t, err)
	require.Equal(t, first, again)
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM staff WHERE username = 'new.member' AND must_change_password`))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM staff_credential_pickups WHERE issued_to = $1 AND ciphertext IS NOT NULL`, approver))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'staff.created' AND record_id = $1 AND actor_id = $2
		AND detail->>'approved_by' = $3`, newID, requester, approver))

	var hash string
	var sealedPw []byte
	require.NoError(t, db.Get(&hash, `SELECT password_hash FROM staff WHERE id = $1`, newID))
	require.NoError(t, db.Get(&sealedPw, `SELECT ciphertext FROM staff_credential_pickups WHERE operation_key = $1`, activities.StaffPickupKey(reqID)))
	plain, err := acts.Box.Open(sealedPw, []byte(activities.StaffPickupKey(reqID)))
	require.NoError(t, err)
	ok, err := passwords.Verify(string(plain), hash)
	require.NoError(t, err)
	require.True(t, ok, "the sealed password is the member's")

	require.NoError(t, acts.DestroyStaffPickup(ctx, reqID))
	require.Equal(t, 0, count(t, db, `SELECT count(*) FROM staff_credential_pickups WHERE ciphertext IS NOT NULL`))

	expiring := uuid.NewString()
	_, err = db.Exec(`INSERT INTO staff_change_requests (id, kind, target_id, requested_by, sole_admin, expires_at)
		VALUES ($1, 'second_factor', $2, $3, false, $4)`, expiring, approver, requester, time.Now())
	require.NoError(t, err)
	for range 2 {
		out, err := acts.ExpireStaffChange(ctx, expiring)
		require.NoError(t, err)
		require.Equal(t, "expired", out.Status)
	}
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM notices WHERE staff_role = 'administrator' AND kind = 'staff_change_expired'`))
}
