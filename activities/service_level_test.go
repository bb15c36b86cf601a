package activities_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/activities"
)

// C3.2 / C2.2: a service-level step of a decision waiting for staff places
// one notice to the role and one audit row, however often it is retried;
// an unknown step is refused without retries.
func TestStaffServiceLevelStepIsWrittenOnce_C3_2_C2_2(t *testing.T) {
	acts, db := newActivities(t)
	ctx := context.Background()
	id := uuid.NewString()
	in := activities.StaffServiceLevelInput{RecordKind: "data_change", RecordID: id, Step: "escalation", Role: "supervisor", Round: 1}
	for range 2 {
		require.NoError(t, acts.RecordStaffServiceLevel(ctx, in))
	}
	var notices, audits int
	require.NoError(t, db.Get(&notices, `SELECT count(*) FROM notices WHERE staff_role = 'supervisor' AND kind = 'data_change_escalation' AND body_en LIKE '%'||$1`, id))
	require.NoError(t, db.Get(&audits, `SELECT count(*) FROM audit_log WHERE record_kind = 'data_change' AND record_id = $1
		AND action = 'data_change.service_level_escalation' AND detail->>'notified_role' = 'supervisor'`, id))
	require.Equal(t, 1, notices)
	require.Equal(t, 1, audits)

	err := acts.RecordStaffServiceLevel(ctx, activities.StaffServiceLevelInput{RecordKind: "data_change", RecordID: id, Step: "nagging", Role: "reviewer"})
	require.Error(t, err)
	require.Contains(t, err.Error(), "no service level step")
}
