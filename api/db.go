package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/store"
)

// inTx runs fn in a transaction.
var inTx = store.InTx

// audit appends an entry for an action the API itself performs, with the
// caller, source address and request ID.
func audit(ctx context.Context, tx *sqlx.Tx, c echo.Context, action, recordKind, recordID string, detail any) error {
	kind, id, roles := "applicant", "", []string{}
	if p := caller(c); p != nil {
		kind, roles = p.Kind, p.Roles
		id = p.AccountID
		if p.Kind == "staff" {
			id = p.StaffID
		}
	}
	if roles == nil {
		roles = []string{}
	}
	if detail == nil {
		detail = map[string]any{}
	}
	_, err := store.AppendAudit(ctx, tx, store.AuditEntry{ActorKind: kind, ActorID: id, ActorRoles: roles,
		Action: action, RecordKind: recordKind, RecordID: recordID, Detail: detail,
		SourceIP: c.RealIP(), RequestID: c.Response().Header().Get(echo.HeaderXRequestID)})
	return err
}

// isUniqueViolation tells whether err is a unique violation.
var isUniqueViolation = store.IsUniqueViolation

// violatesUnique tells whether err is a unique violation of the named
// constraint or index.
var violatesUnique = store.ViolatesUnique

// discardIntake takes back an intake document that no workflow took up (its
// start or Update failed or was refused), so that the caller can file it
// again. discard is the store's function for the kind of document
// (store.DiscardApplication, ...); it runs in one transaction, even when
// the request was cancelled. Audit rows of the attempt stay.
func (s *server) discardIntake(ctx context.Context, id string, discard func(ctx context.Context, q store.Q, id string) error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		return discard(ctx, tx, id)
	})
	if err != nil {
		slog.Error("discard an intake document", "id", id, "error", err)
	}
}
