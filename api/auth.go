package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/lib/pq"

	"hrss-backoffice/internal/passwords"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/workflows"
)

// principal is the authenticated caller.
type principal struct {
	Kind       string // user | staff
	AccountID  string
	StaffID    string
	Username   string
	Roles      []string
	MustChange bool
	TokenHash  []byte
}

func (p *principal) actor() workflows.Actor {
	if p.Kind == "staff" {
		return workflows.Actor{Kind: "staff", ID: p.StaffID, Roles: p.Roles}
	}
	return workflows.Actor{Kind: "user", ID: p.AccountID}
}

func (p *principal) hasRole(roles ...string) bool { return p.actor().HasRole(roles...) }

const principalKey = "principal"

func caller(c echo.Context) *principal {
	p, _ := c.Get(principalKey).(*principal)
	return p
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// authenticate resolves a Bearer token to its session. A missing header
// leaves the caller anonymous; a bad or ended session is refused at once.
// A caller who must change the password may do only that (C3.3(2)).
func (s *server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		if h == "" {
			return next(c)
		}
		if s.codecTokenMatches(c, h) {
			return next(c) // an operator tool with CODEC_TOKEN (api/codec.go)
		}
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || token == "" {
			return errUnauthenticated()
		}
		var row struct {
			Kind      string         `db:"subject_kind"`
			AccountID sql.NullString `db:"account_id"`
			StaffID   sql.NullString `db:"staff_id"`
			Username  string         `db:"username"`
			Roles     pq.StringArray `db:"roles"`
			Must      bool           `db:"must_change_password"`
		}
		th := hashToken(token)
		err := s.DB.GetContext(c.Request().Context(), &row, `
			SELECT s.subject_kind, s.account_id, s.staff_id,
			       coalesce(a.username, st.username) AS username,
			       coalesce(st.roles, '{}') AS roles,
			       coalesce(a.must_change_password, st.must_change_password) AS must_change_password
			FROM sessions s
			LEFT JOIN accounts a ON a.id = s.account_id AND a.status = 'active' AND a.compromise_locked_at IS NULL
			LEFT JOIN staff st ON st.id = s.staff_id AND st.active
			WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
			  AND (a.id IS NOT NULL OR st.id IS NOT NULL)`, th)
		if errors.Is(err, sql.ErrNoRows) {
			return errUnauthenticated()
		}
		if err != nil {
			return err
		}
		p := &principal{Kind: row.Kind, AccountID: row.AccountID.String, StaffID: row.StaffID.String,
			Username: row.Username, Roles: row.Roles, MustChange: row.Must, TokenHash: th}
		c.Set(principalKey, p)
		if p.MustChange && !(c.Request().Method == http.MethodPut && c.Path() == "/v1/me/password") &&
			!(c.Request().Method == http.MethodDelete && c.Path() == "/v1/sessions/current") {
			return newError(http.StatusForbidden, "password_change_required",
				"请先修改初始密码", "change your initial password first (PUT /v1/me/password)")
		}
		if err := s.secondFactorGate(c, p); err != nil { // api/secondfactor.go
			return err
		}
		s.recordDeemedAcceptance(c, p)
		return next(c)
	}
}

func (s *server) requireSignedIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if caller(c) == nil {
			return errUnauthenticated()
		}
		return next(c)
	}
}

func (s *server) requireStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := caller(c)
		if p == nil {
			return errUnauthenticated()
		}
		if p.Kind != "staff" {
			return errForbidden("staff only", "仅限工作人员")
		}
		return next(c)
	}
}

// requireUser admits signed-in users (not staff).
func (s *server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := caller(c)
		if p == nil {
			return errUnauthenticated()
		}
		if p.Kind != "user" {
			return errForbidden("for users only", "仅限个人用户")
		}
		return next(c)
	}
}

// requireRole admits staff holding one of roles.
func requireRole(c echo.Context, roles ...string) error {
	p := caller(c)
	if p == nil {
		return errUnauthenticated()
	}
	if !p.hasRole(roles...) {
		return errForbidden(fmt.Sprintf("only %v may do this", roles), "您的角色无权执行此操作")
	}
	return nil
}

// Sign-in throttling (C3.4(8)): this many failures for one username within
// the window lock further attempts until the window passes, whether or not
// the username has an account; the failure that locks a user's account
// leaves a notice for the user. A source address that fails this often
// across usernames is throttled too.
const (
	maxFailures          = 5
	maxFailuresPerSource = 50
	failureWindow        = 15 * time.Minute
	signInGenericZ       = "用户名或密码错误"
	signInGenericE       = "wrong username or password"
)

// failureOutcomes are the attempts that count towards a lock.
const failureOutcomes = `('failed', 'wrong_old_password')`

func usernameHash(username string) []byte {
	h := sha256.Sum256([]byte("sign-in:" + strings.ToUpper(strings.TrimSpace(username))))
	return h[:]
}

var staffUsername = regexp.MustCompile(`^[a-z][a-z0-9._-]{2,31}$`)

func errTooManyAttempts(c echo.Context) *Error {
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(failureWindow.Seconds())))
	return newError(http.StatusTooManyRequests, "too_many_attempts", "登录失败次数过多，请稍后再试", "too many failed attempts; try again later")
}

// throttled reports whether the username or the source address has failed
// too often within the window.
func (s *server) throttled(ctx context.Context, uh []byte, ip string) (bool, error) {
	var byName, bySource int
	err := s.DB.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM sign_in_attempts WHERE username_hash = $1 AND outcome IN `+failureOutcomes+` AND at > now() - $3::interval),
		(SELECT count(*) FROM sign_in_attempts WHERE source_ip = $2 AND outcome IN `+failureOutcomes+` AND at > now() - $3::interval)`,
		uh, ip, failureWindow.String()).Scan(&byName, &bySource)
	return byName >= maxFailures || bySource >= maxFailuresPerSource, err
}

// recordAttempt appends a sign-in record (the user's activity record shows
// it) and, when this failure is the one that locks an account, tells the
// user and writes the lock to the audit log.
func (s *server) recordAttempt(ctx context.Context, c echo.Context, uh []byte, accountID, staffID any, outcome string) error {
	return inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var id int64
		if err := tx.GetContext(ctx, &id, `INSERT INTO sign_in_attempts (username_hash, account_id, staff_id, success, source_ip, outcome)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, uh, accountID, staffID, outcome == "success", c.RealIP(), outcome); err != nil {
			return err
		}
		if outcome != "failed" && outcome != "wrong_old_password" {
			return nil
		}
		var nth int
		if err := tx.GetContext(ctx, &nth, `SELECT count(*) FROM sign_in_attempts WHERE username_hash = $1
			AND outcome IN `+failureOutcomes+` AND at > now() - $2::interval AND id <= $3`, uh, failureWindow.String(), id); err != nil {
			return err
		}
		if nth != maxFailures {
			return nil
		}
		key := fmt.Sprintf("sign-in-lock/%d", id)
		detail := mustJSON(map[string]any{"failures": nth, "locked_for_seconds": int(failureWindow.Seconds()), "source_ip": c.RealIP()})
		recordKind, recordID := "account", accountID
		if accountID == nil {
			if staffID == nil {
				return nil // no account: nobody to tell
			}
			recordKind, recordID = "staff", staffID
		} else if _, err := tx.ExecContext(ctx, `INSERT INTO notices (id, operation_key, account_id, kind, title_zh, title_en, body_zh, body_en)
			VALUES (gen_random_uuid(), $1, $2, 'sign_in_locked', '您的账户因多次登录失败被暂时锁定',
				'Your account is locked for a while after repeated failed sign-ins',
				'15分钟内不能登录。如非本人操作，请修改密码；如发现密码被盗用，请提交安全报告并到经办服务机构重置密码。',
				'Sign-in is refused for 15 minutes. If this was not you, change your password; if it was stolen, report it and reset it in person at a service office.')
			ON CONFLICT (operation_key) DO NOTHING`, key, accountID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (operation_key, actor_kind, action, record_kind, record_id, detail, source_ip, request_id)
			VALUES ($1, 'system', 'account.sign_in_locked', $2, $3, $4, $5, $6) ON CONFLICT (operation_key) DO NOTHING`,
			key, recordKind, recordID, detail, c.RealIP(), c.Response().Header().Get(echo.HeaderXRequestID))
		return err
	})
}

// signIn answers every failure the same way, whether or not the username
// exists, and spends the same hashing time on both. Every attempt is
// recorded with its outcome, against the account when there is one.
func (s *server) signIn(c echo.Context) error {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	uh := usernameHash(req.Username)

	var subj struct {
		ID       string         `db:"id"`
		Hash     string         `db:"password_hash"`
		Must     bool           `db:"must_change_password"`
		Role     pq.StringArray `db:"roles"`
		LockedAt sql.NullTime   `db:"compromise_locked_at"`
	}
	kind := "staff"
	var err error
	if username := validate.NormalizeIDNumber(req.Username); len(username) == 18 && !staffUsername.MatchString(req.Username) {
		kind = "user"
		err = s.DB.GetContext(ctx, &subj, `SELECT id, password_hash, must_change_password, '{}'::text[] AS roles, compromise_locked_at
			FROM accounts WHERE username = $1 AND status = 'active'`, username)
	} else {
		err = s.DB.GetContext(ctx, &subj, `SELECT id, password_hash, must_change_password, roles, NULL::timestamptz AS compromise_locked_at
			FROM staff WHERE username = $1 AND active`, strings.TrimSpace(req.Username))
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	found := err == nil
	var accountID, staffID any
	if found && kind == "user" {
		accountID = subj.ID
	} else if found {
		staffID = subj.ID
	}

	limited, err := s.throttled(ctx, uh, c.RealIP())
	if err != nil {
		return err
	}
	if limited {
		if err := s.recordAttempt(ctx, c, uh, accountID, staffID, "throttled"); err != nil {
			return err
		}
		return errTooManyAttempts(c)
	}

	ok := false
	if found {
		ok, _ = passwords.Verify(req.Password, subj.Hash)
	} else {
		passwords.BurnVerify(req.Password)
	}
	outcome := "failed"
	switch {
	case ok && subj.LockedAt.Valid:
		outcome = "locked"
	case ok:
		outcome = "success"
	}
	if err := s.recordAttempt(ctx, c, uh, accountID, staffID, outcome); err != nil {
		return err
	}
	switch outcome {
	case "failed":
		return newError(http.StatusUnauthorized, "sign_in_failed", signInGenericZ, signInGenericE)
	case "locked":
		// Only the right password gets here: the owner (or whoever holds the
		// password) learns why and what to do (C3.3(3)).
		return newError(http.StatusForbidden, "account_locked", "账户已因安全报告被锁定，请携带身份证件到经办服务机构重置密码",
			"the account is locked after a security report; reset the password in person at a service office")
	}
	roles := []string(subj.Role)
	// A confirmed second factor turns the answer into a challenge
	// (api/secondfactor.go).
	return s.afterPassword(c, kind, subj.ID, uh, subj.Must, roles)
}

func (s *server) signOut(c echo.Context) error {
	if _, err := s.DB.ExecContext(c.Request().Context(), `UPDATE sessions SET revoked_at = now()
		WHERE token_hash = $1 AND revoked_at IS NULL`, caller(c).TokenHash); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// passwordPolicy returns every problem of a new password (C3.3(1)): at
// least 10 characters (at most 128), none of the personal data given in
// forbidden (username, ID number, mobile number, name), and not on the
// project's list of common passwords (internal/passwords/common-passwords.txt).
func passwordPolicy(field, pw string, forbidden ...string) []validate.FieldError {
	var out []validate.FieldError
	n := utf8.RuneCountInString(pw)
	if n < 10 || n > 128 {
		out = append(out, validate.FieldError{Field: field, Code: "password_length",
			MessageZH: "密码长度应为10至128个字符", MessageEN: "the password must have 10 to 128 characters"})
	}
	lower := strings.ToLower(pw)
	for _, f := range forbidden {
		if f = strings.TrimSpace(f); f != "" && strings.Contains(lower, strings.ToLower(f)) {
			out = append(out, validate.FieldError{Field: field, Code: "password_contains_personal_data",
				MessageZH: "密码不能包含用户名、身份证号、手机号或姓名", MessageEN: "the password must not contain your username, ID number, mobile number or name"})
			break
		}
	}
	if passwords.IsCommon(pw) {
		out = append(out, validate.FieldError{Field: field, Code: "password_common",
			MessageZH: "该密码过于常见，容易被猜中，请换一个", MessageEN: "the password is too common and easy to guess; choose another"})
	}
	return out
}

// changePassword: the old password is required; the new one must meet the
// policy; every other session of the caller ends (C3.3(2)).
func (s *server) changePassword(c echo.Context) error {
	var req struct {
		Old string `json:"old_password"`
		New string `json:"new_password"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	p := caller(c)
	ctx := c.Request().Context()
	table, id := "accounts", p.AccountID
	if p.Kind == "staff" {
		table, id = "staff", p.StaffID
	}
	var cur struct {
		Hash   string `db:"password_hash"`
		Name   string `db:"name"`
		Mobile string `db:"mobile"`
	}
	q := `SELECT a.password_hash, pe.name, pe.mobile FROM accounts a JOIN people pe ON pe.id = a.person_id WHERE a.id = $1`
	if p.Kind == "staff" {
		q = `SELECT password_hash, name, '' AS mobile FROM staff WHERE id = $1`
	}
	if err := s.DB.GetContext(ctx, &cur, q, id); err != nil {
		return err
	}
	// Guessing the old password with a stolen session counts as failed
	// sign-ins of the name and is throttled the same way.
	uh := usernameHash(p.Username)
	var accountID, staffID any = p.AccountID, nil
	if p.Kind == "staff" {
		accountID, staffID = nil, p.StaffID
	}
	limited, err := s.throttled(ctx, uh, c.RealIP())
	if err != nil {
		return err
	}
	if limited {
		return errTooManyAttempts(c)
	}
	if ok, _ := passwords.Verify(req.Old, cur.Hash); !ok {
		if err := s.recordAttempt(ctx, c, uh, accountID, staffID, "wrong_old_password"); err != nil {
			return err
		}
		return newError(http.StatusUnauthorized, "wrong_password", "原密码不正确", "the old password is wrong")
	}
	details := passwordPolicy("new_password", req.New, p.Username, cur.Mobile, cur.Name)
	if req.New == req.Old {
		details = append(details, validate.FieldError{Field: "new_password", Code: "password_unchanged",
			MessageZH: "新密码不能与原密码相同", MessageEN: "the new password must differ from the old one"})
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	hash, err := passwords.Hash(req.New, s.Hash)
	if err != nil {
		return err
	}
	err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET password_hash = $2, must_change_password = false,
			password_changed_at = now() WHERE id = $1`, id, hash); err != nil {
			return err
		}
		col := "account_id"
		if p.Kind == "staff" {
			col = "staff_id"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = now()
			WHERE `+col+` = $1 AND token_hash <> $2 AND revoked_at IS NULL`, id, p.TokenHash); err != nil {
			return err
		}
		if p.Kind == "user" {
			if _, err := tx.ExecContext(ctx, `INSERT INTO notices (id, operation_key, account_id, kind, title_zh, title_en, body_zh, body_en)
				VALUES (gen_random_uuid(), $1, $2, 'password_changed', '您的密码已修改', 'Your password was changed',
					'其他登录会话均已结束。如非本人操作，请立即提交安全报告。', 'Every other session has ended. If this was not you, report it at once.')`,
				"password-changed/"+uuid.NewString(), id); err != nil {
				return err
			}
		}
		return audit(ctx, tx, c, "password.changed", table[:len(table)-1], id, map[string]any{"forced": p.MustChange})
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *server) createStaff(c echo.Context) error {
	p := caller(c)
	if !p.hasRole(workflows.RoleAdministrator) {
		return errForbidden("only an administrator may create staff", "仅管理员可以创建工作人员")
	}
	var req struct {
		Username string   `json:"username"`
		Name     string   `json:"name"`
		Roles    []string `json:"roles"`
		Office   string   `json:"office"`
		Password string   `json:"password"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	var details []validate.FieldError
	if !staffUsername.MatchString(req.Username) {
		details = append(details, validate.FieldError{Field: "username", Code: "username_format",
			MessageZH: "用户名应为3至32位小写字母、数字或 . _ -，以字母开头", MessageEN: "the username must be 3 to 32 lower-case letters, digits, '.', '_' or '-', starting with a letter"})
	}
	if fe := validate.Text("name", req.Name, true, 1, 100); fe != nil {
		details = append(details, *fe)
	}
	details = append(details, passwordPolicy("password", req.Password, req.Username)...)
	if len(details) > 0 {
		return errValidation(details...)
	}
	roles := dedupe(req.Roles)
	hash, err := passwords.Hash(req.Password, s.Hash)
	if err != nil {
		return err
	}
	id := uuid.NewString()
	ctx := c.Request().Context()
	err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO staff (id, username, name, roles, office, password_hash, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, req.Username, strings.TrimSpace(req.Name), pq.Array(roles), req.Office, hash, p.StaffID); err != nil {
			return err
		}
		return audit(ctx, tx, c, "staff.created", "staff", id, map[string]any{"roles": roles})
	})
	if isUniqueViolation(err) {
		return newError(http.StatusConflict, "username_taken", "该用户名已被使用", "the username is taken")
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/staff/"+id)
	return c.JSON(http.StatusCreated, map[string]any{"id": id, "username": req.Username, "name": strings.TrimSpace(req.Name),
		"roles": roles, "office": req.Office, "active": true, "must_change_password": true})
}

func (s *server) listStaff(c echo.Context) error {
	if !caller(c).hasRole(workflows.RoleAdministrator) {
		return errForbidden("only an administrator may list staff", "仅管理员可以查看工作人员")
	}
	rows := []staffRow{}
	if err := s.DB.SelectContext(c.Request().Context(), &rows, `SELECT `+staffColumns+` FROM staff ORDER BY username`); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"staff": rows})
}

// BootstrapAdmin creates the first administrator from the settings if no
// staff member has that username yet. Its password must be changed at first
// sign-in.
func BootstrapAdmin(db *sqlx.DB, username, password string, params passwords.Params) error {
	if username == "" || password == "" {
		return nil
	}
	var exists bool
	if err := db.Get(&exists, `SELECT EXISTS (SELECT 1 FROM staff WHERE username = $1)`, username); err != nil || exists {
		return err
	}
	hash, err := passwords.Hash(password, params)
	if err != nil {
		return err
	}
	id := uuid.NewString()
	_, err = db.Exec(`INSERT INTO staff (id, username, name, roles, password_hash) VALUES ($1, $2, 'Administrator', '{administrator}', $3)
		ON CONFLICT (username) DO NOTHING`, id, username, hash)
	if err == nil {
		_, err = db.Exec(`INSERT INTO audit_log (actor_kind, action, record_kind, record_id) VALUES ('system', 'staff.bootstrapped', 'staff', $1)`, id)
	}
	return err
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
