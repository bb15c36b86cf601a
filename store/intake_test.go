package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"hrss-backoffice/internal/testdb"
	"hrss-backoffice/store"
)

// The discards run only when a start or Update failed, which the HTTP
// suites reach only through fault injection: this checks them on their
// own. A discard takes back what no workflow touched yet and nothing else.
func TestDiscardTakesBackOnlyUntouchedIntakes_C2_1_C2_7(t *testing.T) {
	db, _ := testdb.New(t)
	ctx := context.Background()
	terms, err := store.CurrentTermsVersion(ctx, db)
	require.NoError(t, err)
	file := func(idNumber string) string {
		id := uuid.NewString()
		require.NoError(t, store.FileApplication(ctx, db, store.NewApplication{ID: id, Name: "张三", IDNumber: idNumber,
			BirthDate: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), Mobile: "13800138000", Address: "上海市黄浦区人民大道 200 号",
			Channel: "online", Services: []string{}, TermsVersion: terms, SubmittedAt: time.Now(), FollowTokenHash: []byte{1},
			EventDetail: []byte(`{"channel": "online"}`)}))
		return id
	}

	// A submitted application goes, with its timeline.
	taken := file("310101199001010011")
	events, err := store.ApplicationTimeline(ctx, db, taken)
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.NoError(t, store.InTx(ctx, db, func(tx *sqlx.Tx) error { return store.DiscardApplication(ctx, tx, taken) }))
	exists, err := store.ApplicationExists(ctx, db, taken)
	require.NoError(t, err)
	require.False(t, exists)
	events, err = store.ApplicationTimeline(ctx, db, taken)
	require.NoError(t, err)
	require.Empty(t, events)

	// One the review took up stays.
	admitted := file("310101199001010011")
	_, err = db.Exec(`UPDATE applications SET status = 'info_requested' WHERE id = $1`, admitted)
	require.NoError(t, err)
	require.NoError(t, store.DiscardApplication(ctx, db, admitted))
	status, err := store.ApplicationStatus(ctx, db, admitted)
	require.NoError(t, err)
	require.Equal(t, "info_requested", status)

	// A supplement goes until it is applied.
	sup := uuid.NewString()
	require.NoError(t, store.FileSupplement(ctx, db, sup, admitted, []byte(`{"name": "李四"}`), ""))
	require.NoError(t, store.DiscardSupplement(ctx, db, sup))
	exists, err = store.SupplementExists(ctx, db, sup, admitted)
	require.NoError(t, err)
	require.False(t, exists)
	require.NoError(t, store.FileSupplement(ctx, db, sup, admitted, []byte(`{"name": "李四"}`), ""))
	_, err = db.Exec(`UPDATE application_supplements SET applied_at = now() WHERE id = $1`, sup)
	require.NoError(t, err)
	require.NoError(t, store.DiscardSupplement(ctx, db, sup))
	exists, err = store.SupplementExists(ctx, db, sup, admitted)
	require.NoError(t, err)
	require.True(t, exists)

	// A service change: one open per service; a discarded one frees the
	// service for the next.
	created, err := store.CreateService(ctx, db, store.NewService{Code: "discard_test", NameZH: "测试服务", NameEN: "Test service",
		Rules: []byte(`[]`)})
	require.NoError(t, err)
	require.True(t, created)
	created, err = store.CreateService(ctx, db, store.NewService{Code: "discard_test", NameZH: "测试服务", NameEN: "Test service",
		Rules: []byte(`[]`)})
	require.NoError(t, err)
	require.False(t, created)
	staff := uuid.NewString()
	_, err = db.Exec(`INSERT INTO staff (id, username, name, roles, password_hash) VALUES ($1, $2, 'Editor', '{terms_editor}', 'x')`,
		staff, "ed"+staff[:8])
	require.NoError(t, err)
	change := func() error {
		return store.FileServiceChange(ctx, db, store.NewServiceChange{ID: uuid.NewString(), ServiceCode: "discard_test", Kind: "retire",
			CreatedBy: staff})
	}
	first := uuid.NewString()
	require.NoError(t, store.FileServiceChange(ctx, db, store.NewServiceChange{ID: first, ServiceCode: "discard_test", Kind: "retire",
		CreatedBy: staff}))
	require.True(t, store.ViolatesUnique(change(), store.OneOpenServiceChange))
	require.NoError(t, store.DiscardServiceChange(ctx, db, first))
	require.NoError(t, change())
}
