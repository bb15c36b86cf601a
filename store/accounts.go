package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// IDNumberRegistered tells whether the person with this ID number has an
// account in use (active or suspended).
func IDNumberRegistered(ctx context.Context, q Q, idNumber string) (bool, error) {
	var registered bool
	err := getOne(ctx, q, &registered, `SELECT EXISTS (SELECT 1 FROM accounts a JOIN people p ON p.id = a.person_id
		WHERE p.id_number = $1 AND a.status IN ('active', 'suspended'))`, idNumber)
	return registered, err
}

// AccountPassword is what confirms a written request: the password's hash
// and when it was set.
type AccountPassword struct {
	Hash      string    `db:"password_hash"`
	ChangedAt time.Time `db:"password_changed_at"`
}

// PasswordOfAccount reads an account's password hash.
func PasswordOfAccount(ctx context.Context, q Q, accountID string) (AccountPassword, error) {
	var acct AccountPassword
	err := getOne(ctx, q, &acct, `SELECT password_hash, password_changed_at FROM accounts WHERE id = $1`, accountID)
	return acct, err
}

// AccountIDByID reads the ID of an existing account (ErrNotFound: none).
func AccountIDByID(ctx context.Context, q Q, accountID string) (string, error) {
	var id string
	err := getOne(ctx, q, &id, `SELECT id FROM accounts WHERE id = $1`, accountID)
	return id, err
}

// LatestAccountOf reads the ID of the person's latest account by ID number
// (ErrNotFound: none).
func LatestAccountOf(ctx context.Context, q Q, idNumber string) (string, error) {
	var id string
	err := getOne(ctx, q, &id, `SELECT a.id FROM accounts a JOIN people p ON p.id = a.person_id
			WHERE p.id_number = $1 ORDER BY a.opened_at DESC LIMIT 1`, idNumber)
	return id, err
}

// HoldsActiveService tells whether the account holds the service (not
// closed) and the service is still on offer.
func HoldsActiveService(ctx context.Context, q Q, accountID, serviceCode string) (bool, error) {
	var held bool
	err := getOne(ctx, q, &held, `SELECT EXISTS (SELECT 1 FROM account_services s JOIN services c ON c.code = s.service_code
			WHERE s.account_id = $1 AND s.service_code = $2 AND s.status <> 'closed' AND c.active)`, accountID, serviceCode)
	return held, err
}

// UnclosedServiceCodes lists the codes of the account's services that are
// not closed.
func UnclosedServiceCodes(ctx context.Context, q Q, accountID string) ([]string, error) {
	var open []string
	err := sqlx.SelectContext(ctx, q, &open, `SELECT service_code FROM account_services WHERE account_id = $1 AND status <> 'closed'`,
		accountID)
	return open, err
}
