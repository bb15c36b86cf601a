package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"
)

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

// Accounts: the registration workflow opens them, the account processes
// change them. Reads and row locks the API needs are here.

// AccountStatus reads an account's status, or ErrNotFound.
func AccountStatus(ctx context.Context, q Q, id string) (string, error) {
	var status string
	err := getOne(ctx, q, &status, `SELECT status FROM accounts WHERE id = $1`, id)
	return status, err
}

// ClosedAccountCandidate is a suspended or cancelled account a restricted
// sign-in may be for.
type ClosedAccountCandidate struct {
	ID     string `db:"id"`
	Hash   string `db:"password_hash"`
	Status string `db:"status"`
}

// ClosedAccountsByUsername lists, newest first, up to three suspended or
// cancelled accounts under the (normalised) username.
func ClosedAccountsByUsername(ctx context.Context, q Q, username string) ([]ClosedAccountCandidate, error) {
	var out []ClosedAccountCandidate
	err := sqlx.SelectContext(ctx, q, &out, `SELECT id, password_hash, status FROM accounts
		WHERE username = $1 AND status IN ('suspended', 'cancelled') ORDER BY opened_at DESC LIMIT 3`, username)
	return out, err
}

// LockAccountRow takes the account's row lock for the transaction q, which
// serialises one user's requests of a kind (exports).
func LockAccountRow(ctx context.Context, q Q, id string) error {
	_, err := q.ExecContext(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, id)
	return err
}

// AccountApplicationID reads the application an account came from (not
// valid when none). A missing account is sql.ErrNoRows.
func AccountApplicationID(ctx context.Context, q Q, id string) (sql.NullString, error) {
	var appID sql.NullString
	err := sqlx.GetContext(ctx, q, &appID, `SELECT application_id::text FROM accounts WHERE id = $1`, id)
	return appID, err
}

// AccountPasswordState is what staff see of an account beside its activity.
type AccountPasswordState struct {
	Status     string       `db:"status" json:"status"`
	MustChange bool         `db:"must_change_password" json:"must_change_password"`
	ChangedAt  time.Time    `db:"password_changed_at" json:"password_changed_at"`
	LockedAt   sql.NullTime `db:"compromise_locked_at" json:"-"`
}

// AccountPasswordStateByID reads it, or ErrNotFound.
func AccountPasswordStateByID(ctx context.Context, q Q, id string) (AccountPasswordState, error) {
	var acct AccountPasswordState
	err := getOne(ctx, q, &acct, `SELECT status, must_change_password, password_changed_at, compromise_locked_at FROM accounts WHERE id = $1`, id)
	return acct, err
}

// Accounts (table accounts, with the person's data in people) are written
// by the processes that own them (registration, password, deregistration);
// the API's sign-in reads them and changes only a password its owner
// changed.

// AccountForSignIn reads the active account with this username (the ID
// number) for a sign-in; Expired tells whether its initial password is
// older than initialTTL. ErrNotFound when there is none.
func AccountForSignIn(ctx context.Context, q Q, username string, initialTTL time.Duration) (SignInSubject, error) {
	var subj SignInSubject
	err := getOne(ctx, q, &subj, `SELECT id, password_hash, must_change_password, '{}'::text[] AS roles, compromise_locked_at, password_changed_at,
			must_change_password AND password_changed_at < now() - $2::interval AS initial_expired
			FROM accounts WHERE username = $1 AND status = 'active'`, username, initialTTL.String())
	return subj, err
}

// AccountPasswordHolder reads an account's password hash with the
// person's name and mobile number.
func AccountPasswordHolder(ctx context.Context, q Q, id string) (PasswordHolder, error) {
	var h PasswordHolder
	err := getOne(ctx, q, &h, `SELECT a.password_hash, pe.name, pe.mobile, a.password_changed_at FROM accounts a JOIN people pe ON pe.id = a.person_id WHERE a.id = $1`, id)
	return h, err
}

// ChangeAccountPassword stores the password its owner chose; the initial
// password no longer needs changing.
func ChangeAccountPassword(ctx context.Context, q Q, id, hash string) error {
	_, err := q.ExecContext(ctx, `UPDATE accounts SET password_hash = $2, must_change_password = false,
			password_changed_at = now() WHERE id = $1`, id, hash)
	return err
}

// AccountSessionSubject reads an active, unlocked account for a new
// session; ErrNotFound otherwise.
func AccountSessionSubject(ctx context.Context, q Q, id string) (SessionSubject, error) {
	var s SessionSubject
	err := getOne(ctx, q, &s, `SELECT must_change_password, '{}'::text[] AS roles FROM accounts WHERE id = $1 AND status = 'active' AND compromise_locked_at IS NULL`, id)
	return s, err
}

// AccountLock is an account's status and compromise lock.
type AccountLock struct {
	Status   string       `db:"status"`
	LockedAt sql.NullTime `db:"compromise_locked_at"`
}

// AccountLockOf reads an account's status and compromise lock;
// ErrNotFound when there is none.
func AccountLockOf(ctx context.Context, q Q, id string) (AccountLock, error) {
	var a AccountLock
	err := getOne(ctx, q, &a, `SELECT status, compromise_locked_at FROM accounts WHERE id = $1`, id)
	return a, err
}

// OpenAccountByIDNumberAndMobile finds the active or suspended account of
// this ID number whose person has this mobile number; ErrNotFound when
// there is none.
func OpenAccountByIDNumberAndMobile(ctx context.Context, q Q, idNumber, mobile string) (string, error) {
	var id string
	err := getOne(ctx, q, &id, `SELECT a.id FROM accounts a JOIN people p ON p.id = a.person_id
		WHERE a.username = $1 AND p.mobile = $2 AND a.status IN ('active', 'suspended')`, idNumber, mobile)
	return id, err
}

// OwnAccount is what a user sees of their own account.
type OwnAccount struct {
	ID                string         `db:"id"`
	Username          string         `db:"username"`
	Status            string         `db:"status"`
	Name              string         `db:"name"`
	Mobile            string         `db:"mobile"`
	Email             sql.NullString `db:"email"`
	Address           string         `db:"address"`
	OpenedAt          time.Time      `db:"opened_at"`
	PasswordChangedAt time.Time      `db:"password_changed_at"`
}

// OwnAccountByID reads an account with its person's contact data.
func OwnAccountByID(ctx context.Context, q Q, id string) (OwnAccount, error) {
	var a OwnAccount
	err := getOne(ctx, q, &a, `SELECT a.id, a.username, a.status, p.name, p.mobile, p.email, p.address, a.opened_at, a.password_changed_at
		FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.id = $1`, id)
	return a, err
}

// AccountService is a service open to an account.
type AccountService struct {
	Code     string    `db:"service_code"`
	NameZH   string    `db:"name_zh"`
	NameEN   string    `db:"name_en"`
	Status   string    `db:"status"`
	OpenedAt time.Time `db:"opened_at"`
	// InterruptedUntil is the end of a planned interruption in effect
	// (C2.7), nil when there is none.
	InterruptedUntil *time.Time `db:"interrupted_until"`
}

// AccountServices lists an account's services by code.
func AccountServices(ctx context.Context, q Q, accountID string) ([]AccountService, error) {
	services := []AccountService{}
	err := sqlx.SelectContext(ctx, q, &services, `SELECT s.service_code, c.name_zh, c.name_en, s.status, s.opened_at,
		(SELECT max(ends_at) FROM service_pauses sp WHERE sp.service_code = s.service_code AND sp.status = 'in_effect') AS interrupted_until
		FROM account_services s JOIN services c ON c.code = s.service_code WHERE s.account_id = $1 ORDER BY s.service_code`, accountID)
	return services, err
}

// Agreement is an account's user agreement (C4).
type Agreement struct {
	TermsVersion   string         `db:"terms_version"`
	Channel        string         `db:"channel"`
	AcceptedAt     time.Time      `db:"accepted_at"`
	EffectiveFrom  time.Time      `db:"effective_from"`
	EffectiveUntil sql.NullTime   `db:"effective_until"`
	EndReason      sql.NullString `db:"end_reason"`
}

// AgreementOf reads an account's agreement.
func AgreementOf(ctx context.Context, q Q, accountID string) (Agreement, error) {
	var a Agreement
	err := getOne(ctx, q, &a, `SELECT terms_version, channel, accepted_at, effective_from, effective_until, end_reason
		FROM agreements WHERE account_id = $1`, accountID)
	return a, err
}

// FoundAccount is an account found by its person's ID number.
type FoundAccount struct {
	ID       string     `db:"id"`
	Status   string     `db:"status"`
	Name     string     `db:"name"`
	IDNumber string     `db:"id_number"`
	OpenedAt time.Time  `db:"opened_at"`
	ClosedAt *time.Time `db:"closed_at"`
}

// AccountsByIDNumber lists the accounts of the person with this ID
// number, newest first.
func AccountsByIDNumber(ctx context.Context, q Q, idNumber string) ([]FoundAccount, error) {
	items := []FoundAccount{}
	err := sqlx.SelectContext(ctx, q, &items, `SELECT a.id, a.status, p.name, p.id_number, a.opened_at, a.closed_at
			FROM accounts a JOIN people p ON p.id = a.person_id
			WHERE p.id_number = $1 ORDER BY a.opened_at DESC`, idNumber)
	return items, err
}

// AccountLanguage reads the language of the messages to an account's user
// (zh | en).
func AccountLanguage(ctx context.Context, q Q, accountID string) (string, error) {
	var lang string
	err := getOne(ctx, q, &lang, `SELECT language FROM accounts WHERE id = $1`, accountID)
	return lang, err
}

// SetAccountLanguage changes the language of the messages to a user; it
// tells whether it changed.
func SetAccountLanguage(ctx context.Context, q Q, accountID, lang string) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE accounts SET language = $2 WHERE id = $1 AND language <> $2`, accountID, lang)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
