package store

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Staff members (table staff) are written by the staff-change workflow
// (activities/staff_change.go) and, for the first administrator and a
// member's own password, by the API.

// StaffForSignIn reads the active staff member with this username for a
// sign-in; ErrNotFound when there is none.
func StaffForSignIn(ctx context.Context, q Q, username string) (SignInSubject, error) {
	var subj SignInSubject
	err := getOne(ctx, q, &subj, `SELECT id, password_hash, must_change_password, roles, NULL::timestamptz AS compromise_locked_at, password_changed_at,
			false AS initial_expired FROM staff WHERE username = $1 AND active`, username)
	return subj, err
}

// StaffPasswordHolder reads a member's password hash and name.
func StaffPasswordHolder(ctx context.Context, q Q, id string) (PasswordHolder, error) {
	var h PasswordHolder
	err := getOne(ctx, q, &h, `SELECT password_hash, name, '' AS mobile, password_changed_at FROM staff WHERE id = $1`, id)
	return h, err
}

// ChangeStaffPassword stores the password the member chose; the first
// password no longer needs changing.
func ChangeStaffPassword(ctx context.Context, q Q, id, hash string) error {
	_, err := q.ExecContext(ctx, `UPDATE staff SET password_hash = $2, must_change_password = false,
			password_changed_at = now() WHERE id = $1`, id, hash)
	return err
}

// StaffSessionSubject reads an active member for a new session;
// ErrNotFound otherwise.
func StaffSessionSubject(ctx context.Context, q Q, id string) (SessionSubject, error) {
	var s SessionSubject
	err := getOne(ctx, q, &s, `SELECT must_change_password, roles FROM staff WHERE id = $1 AND active`, id)
	return s, err
}

// StaffMember is a staff member as the API shows it (never the password
// hash).
type StaffMember struct {
	ID         string         `db:"id"`
	Username   string         `db:"username"`
	Name       string         `db:"name"`
	Roles      pq.StringArray `db:"roles"`
	Office     string         `db:"office"`
	Active     bool           `db:"active"`
	MustChange bool           `db:"must_change_password"`
}

const staffColumns = `id, username, name, roles, office, active, must_change_password`

// StaffUsernameTaken tells whether a member (active or not) has this
// username.
func StaffUsernameTaken(ctx context.Context, q Q, username string) (bool, error) {
	var taken bool
	err := getOne(ctx, q, &taken, `SELECT EXISTS (SELECT 1 FROM staff WHERE username = $1)`, username)
	return taken, err
}

// ListStaff lists every member by username.
func ListStaff(ctx context.Context, q Q) ([]StaffMember, error) {
	rows := []StaffMember{}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+staffColumns+` FROM staff ORDER BY username`)
	return rows, err
}

// StaffMemberByID reads one member; ErrNotFound when there is none.
func StaffMemberByID(ctx context.Context, q Q, id string) (StaffMember, error) {
	var m StaffMember
	err := getOne(ctx, q, &m, `SELECT `+staffColumns+` FROM staff WHERE id = $1`, id)
	return m, err
}

// ActiveAdministrators lists the IDs of the active administrators.
func ActiveAdministrators(ctx context.Context, q Q) ([]string, error) {
	var admins []string
	err := sqlx.SelectContext(ctx, q, &admins, `SELECT id FROM staff WHERE active AND 'administrator' = ANY(roles)`)
	return admins, err
}

// ActiveAdministratorsForShare lists the IDs of the active administrators
// in ID order, their rows locked against change until the transaction
// ends.
func ActiveAdministratorsForShare(ctx context.Context, q Q) ([]string, error) {
	var admins []string
	err := sqlx.SelectContext(ctx, q, &admins, `SELECT id FROM staff WHERE active AND 'administrator' = ANY(roles)
			ORDER BY id FOR SHARE`)
	return admins, err
}

// StaffStanding is a member's roles and active flag.
type StaffStanding struct {
	Roles  pq.StringArray `db:"roles"`
	Active bool           `db:"active"`
}

// StaffStandingByID reads a member's roles and active flag; ErrNotFound
// when there is none.
func StaffStandingByID(ctx context.Context, q Q, id string) (StaffStanding, error) {
	var st StaffStanding
	err := getOne(ctx, q, &st, `SELECT roles, active FROM staff WHERE id = $1`, id)
	return st, err
}

// StaffOffice reads a member's service office ("" for none).
func StaffOffice(ctx context.Context, q Q, id string) (string, error) {
	var office string
	err := getOne(ctx, q, &office, `SELECT office FROM staff WHERE id = $1`, id)
	return office, err
}

// StaffUsername reads a member's username; ErrNotFound when there is none.
func StaffUsername(ctx context.Context, q Q, id string) (string, error) {
	var username string
	err := getOne(ctx, q, &username, `SELECT username FROM staff WHERE id = $1`, id)
	return username, err
}

// StaffProfile is what a member sees of themselves.
type StaffProfile struct {
	ID       string         `db:"id"`
	Username string         `db:"username"`
	Name     string         `db:"name"`
	Roles    pq.StringArray `db:"roles"`
	Office   string         `db:"office"`
}

// StaffProfileByID reads a member's own profile.
func StaffProfileByID(ctx context.Context, q Q, id string) (StaffProfile, error) {
	var p StaffProfile
	err := getOne(ctx, q, &p, `SELECT id, username, name, roles, office FROM staff WHERE id = $1`, id)
	return p, err
}

// AddBootstrapAdministrator adds the first administrator (name
// Administrator, a password to change at first sign-in) unless a member
// has the username already.
func AddBootstrapAdministrator(ctx context.Context, q Q, id, username, hash string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO staff (id, username, name, roles, password_hash) VALUES ($1, $2, 'Administrator', '{administrator}', $3)
		ON CONFLICT (username) DO NOTHING`, id, username, hash)
	return err
}
