package store

import (
	"context"
	"database/sql"
)

// People (people): a person's registration data, written by the
// registration workflow, by the data-change review and by the user's own
// contact changes (api/datachange.go).

// Person is a person's registration data.
type Person struct {
	Name     string         `db:"name"`
	IDNumber string         `db:"id_number"`
	Mobile   string         `db:"mobile"`
	Email    sql.NullString `db:"email"`
	Address  string         `db:"address"`
}

// PersonOfAccount reads the person of an account (locked for update when
// forUpdate) and the person's ID.
func PersonOfAccount(ctx context.Context, q Q, accountID string, forUpdate bool) (string, Person, error) {
	var row struct {
		PersonID string `db:"person_id"`
		Person
	}
	lock := ""
	if forUpdate {
		lock = " FOR UPDATE OF p"
	}
	err := getOne(ctx, q, &row, `SELECT p.id AS person_id, p.name, p.id_number, p.mobile, p.email, p.address
		FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.id = $1`+lock, accountID)
	return row.PersonID, row.Person, err
}

// MobileOfAccount reads the mobile number of an account's person.
func MobileOfAccount(ctx context.Context, q Q, accountID string) (string, error) {
	var current string
	err := getOne(ctx, q, &current, `SELECT p.mobile FROM people p JOIN accounts a ON a.person_id = p.id WHERE a.id = $1`, accountID)
	return current, err
}

// ChangeContact sets a person's contact data; nil leaves a field as it is,
// an empty e-mail removes it.
func ChangeContact(ctx context.Context, q Q, personID string, mobile, email, address any) error {
	_, err := q.ExecContext(ctx, `UPDATE people SET
			mobile = coalesce($2, mobile),
			email = CASE WHEN $3::text IS NULL THEN email ELSE nullif($3, '') END,
			address = coalesce($4, address), updated_at = now() WHERE id = $1`,
		personID, mobile, email, address)
	return err
}
