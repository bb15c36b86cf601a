package api

import (
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/lib/pq"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
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
			h = s.codecCookieBearer(c) // the web UI decoding for a console session (api/codec.go)
		}
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
			  AND (s.subject_kind <> 'staff' OR s.last_seen_at > now() - $2::interval)
			  AND (a.id IS NOT NULL OR st.id IS NOT NULL)`, th, s.StaffIdleTimeout.String())
		if errors.Is(err, sql.ErrNoRows) {
			return errUnauthenticated()
		}
		if err != nil {
			return err
		}
		p := &principal{Kind: row.Kind, AccountID: row.AccountID.String, StaffID: row.StaffID.String,
			Username: row.Username, Roles: row.Roles, MustChange: row.Must, TokenHash: th}
		c.Set(principalKey, p)
		if err := s.touchStaffSession(c, p); err != nil {
			return err
		}
		if p.MustChange && !(c.Request().Method == http.MethodPut && c.Path() == "/v1/me/password") &&
			!(c.Request().Method == http.MethodDelete && c.Path() == "/v1/sessions/current") {
			return newError(http.StatusForbidden, "password_change_required",
				"请先修改初始密码", "change your initial password first (PUT /v1/me/password)")
		}
		if err := s.secondFactorGate(c, p); err != nil { // api/secondfactor.go
			return err
		}
		if err := next(c); err != nil {
			return err
		}
		s.recordDeemedAcceptance(c, p) // after the request: only a use that succeeded counts
		return nil
	}
}

// touchStaffSession notes that a staff session is in use, at most every
// idleGrain: a staff session unused for StaffIdleTimeout ends (C3.3(1);
// counter tablets are shared).
func (s *server) touchStaffSession(c echo.Context, p *principal) error {
	if p.Kind != "staff" {
		return nil
	}
	_, err := s.DB.ExecContext(c.Request().Context(), `UPDATE sessions SET last_seen_at = now()
		WHERE token_hash = $1 AND last_seen_at < now() - $2::interval`, p.TokenHash, s.idleGrain().String())
	return err
}

// idleGrain is how often a staff session's use is noted: every half
// minute, more often under a short idle timeout (tests). The pages use the
// same rule (web/idle.go, IdleGrain) to warn before the earliest idle end.
func (s *server) idleGrain() time.Duration { return min(30*time.Second, s.StaffIdleTimeout/6) }

const (
	signInGenericZ = "用户名或密码错误"
	signInGenericE = "wrong username or password"
)

func usernameHash(username string) []byte {
	h := sha256.Sum256([]byte("sign-in:" + strings.ToUpper(strings.TrimSpace(username))))
	return h[:]
}

var staffUsername = regexp.MustCompile(`^[a-z][a-z0-9._-]{2,31}$`)

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
	var subj struct {
		ID        string         `db:"id"`
		Hash      string         `db:"password_hash"`
		Must      bool           `db:"must_change_password"`
		Role      pq.StringArray `db:"roles"`
		LockedAt  sql.NullTime   `db:"compromise_locked_at"`
		ChangedAt time.Time      `db:"password_changed_at"`
		Expired   bool           `db:"initial_expired"`
	}
	kind := "staff"
	var err error
	if username := validate.NormalizeIDNumber(req.Username); len(username) == 18 && !staffUsername.MatchString(req.Username) {
		kind = "user"
		err = s.DB.GetContext(ctx, &subj, `SELECT id, password_hash, must_change_password, '{}'::text[] AS roles, compromise_locked_at, password_changed_at,
			must_change_password AND password_changed_at < now() - $2::interval AS initial_expired
			FROM accounts WHERE username = $1 AND status = 'active'`, username, s.InitialPasswordTTL.String())
	} else {
		err = s.DB.GetContext(ctx, &subj, `SELECT id, password_hash, must_change_password, roles, NULL::timestamptz AS compromise_locked_at, password_changed_at,
			false AS initial_expired FROM staff WHERE username = $1 AND active`, strings.TrimSpace(req.Username))
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	found := err == nil
	chk := passwordCheck{Username: req.Username, ChangedAt: subj.ChangedAt, Failure: "failed"}
	if found && kind == "user" {
		chk.AccountID = subj.ID
	} else if found {
		chk.StaffID = subj.ID
	}

	// The attempt is counted (and the limits checked) before the password
	// is hashed; an unknown name is hashed against a dummy of the same cost.
	attempt, err := s.beginPasswordCheck(c, chk)
	if err != nil {
		return err
	}
	defer attempt.release()
	if !attempt.verify(req.Password, subj.Hash) {
		attempt.failed()
		return newError(http.StatusUnauthorized, "sign_in_failed", signInGenericZ, signInGenericE)
	}
	if subj.LockedAt.Valid {
		if err := attempt.succeeded("locked"); err != nil {
			return err
		}
		// Only the right password gets here: the owner (or whoever holds the
		// password) learns why and what to do (C3.3(3)).
		return newError(http.StatusForbidden, "account_locked", "账户已因安全报告被锁定，请携带身份证件到经办服务机构重置密码",
			"the account is locked after a security report; reset the password in person at a service office")
	}
	if subj.Expired {
		if err := attempt.succeeded("initial_expired"); err != nil {
			return err
		}
		// Only the right password gets here (C3.3(2)).
		return newError(http.StatusForbidden, "initial_password_expired", "初始密码已过期，请携带身份证件到经办服务机构重置密码",
			"the initial password has expired unused; get a new one in person at a service office")
	}
	if err := attempt.succeeded("success"); err != nil {
		return err
	}
	roles := []string(subj.Role)
	// A confirmed second factor turns the answer into a challenge
	// (api/secondfactor.go).
	return s.afterPassword(c, kind, subj.ID, usernameHash(req.Username), subj.Must, roles)
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
		Hash      string    `db:"password_hash"`
		Name      string    `db:"name"`
		Mobile    string    `db:"mobile"`
		ChangedAt time.Time `db:"password_changed_at"`
	}
	q := `SELECT a.password_hash, pe.name, pe.mobile, a.password_changed_at FROM accounts a JOIN people pe ON pe.id = a.person_id WHERE a.id = $1`
	if p.Kind == "staff" {
		q = `SELECT password_hash, name, '' AS mobile, password_changed_at FROM staff WHERE id = $1`
	}
	if err := s.DB.GetContext(ctx, &cur, q, id); err != nil {
		return err
	}
	// Guessing the old password with a stolen session counts as failed
	// sign-ins of the name and is limited the same way.
	chk := passwordCheck{Username: p.Username, AccountID: p.AccountID, StaffID: p.StaffID, ChangedAt: cur.ChangedAt, Failure: "wrong_old_password"}
	if ok, err := s.checkPassword(c, chk, req.Old, cur.Hash, ""); err != nil {
		return err
	} else if !ok {
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

// createStaff adds a staff member (POST /v1/staff; administrator). The
// first password is generated, never chosen (api/staffchange.go): the sole
// administrator gets 201 with the member and initial_password, once; with
// two or more active administrators the answer is 202 with the request,
// and the approving administrator gets the password.
func (s *server) createStaff(c echo.Context) error {
	if !may(c, authz.StaffCreate) {
		return errForbidden("only an administrator may create staff", "仅管理员可以创建工作人员")
	}
	var req struct {
		Username string   `json:"username"`
		Name     string   `json:"name"`
		Roles    []string `json:"roles"`
		Office   string   `json:"office"`
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
	if len(details) > 0 {
		return errValidation(details...)
	}
	roles := dedupe(req.Roles)
	ctx := c.Request().Context()
	var taken bool
	if err := s.DB.GetContext(ctx, &taken, `SELECT EXISTS (SELECT 1 FROM staff WHERE username = $1)`, req.Username); err != nil {
		return err
	}
	if taken {
		return newError(http.StatusConflict, "username_taken", "该用户名已被使用", "the username is taken")
	}
	id := uuid.NewString()
	office := strings.TrimSpace(req.Office)
	res, err := s.requestStaffChange(c, "create", id, activities.StaffChangeDetail{Username: req.Username,
		Name: strings.TrimSpace(req.Name), Roles: &roles, Office: &office})
	if err != nil {
		return err
	}
	if res.Pending {
		return s.pendingAnswer(c, res.ID)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/staff/"+id)
	return c.JSON(http.StatusCreated, map[string]any{"id": id, "username": req.Username, "name": strings.TrimSpace(req.Name),
		"roles": roles, "office": office, "active": true, "must_change_password": true,
		"initial_password": res.InitialPassword, "sole_administrator": true, "staff_change_id": res.ID})
}

func (s *server) listStaff(c echo.Context) error {
	if !may(c, authz.StaffList) {
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
