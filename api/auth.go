package api

import (
	"crypto/rand"
	"crypto/sha256"
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

	"hrss-backoffice/internal/passwords"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
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
		th := hashToken(token)
		row, err := store.SessionByToken(c.Request().Context(), s.DB, th, s.StaffIdleTimeout)
		if errors.Is(err, store.ErrNotFound) {
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
	return store.TouchSession(c.Request().Context(), s.DB, p.TokenHash, s.idleGrain())
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
	var subj store.SignInSubject
	kind := "staff"
	var err error
	if username := validate.NormalizeIDNumber(req.Username); len(username) == 18 && !staffUsername.MatchString(req.Username) {
		kind = "user"
		subj, err = store.AccountForSignIn(ctx, s.DB, username, s.InitialPasswordTTL)
	} else {
		subj, err = store.StaffForSignIn(ctx, s.DB, strings.TrimSpace(req.Username))
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
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
	roles := []string(subj.Roles)
	// A confirmed second factor turns the answer into a challenge
	// (api/secondfactor_signin.go).
	return s.afterPassword(c, kind, subj.ID, usernameHash(req.Username), subj.Must, roles)
}

func (s *server) signOut(c echo.Context) error {
	if err := store.EndSession(c.Request().Context(), s.DB, caller(c).TokenHash); err != nil {
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
	holder, change := store.AccountPasswordHolder, store.ChangeAccountPassword
	if p.Kind == "staff" {
		holder, change = store.StaffPasswordHolder, store.ChangeStaffPassword
	}
	cur, err := holder(ctx, s.DB, id)
	if err != nil {
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
		if err := change(ctx, tx, id, hash); err != nil {
			return err
		}
		if err := store.EndOtherSessions(ctx, tx, p.Kind, id, p.TokenHash); err != nil {
			return err
		}
		if p.Kind == "user" {
			if _, err := store.PlaceNotice(ctx, tx, store.Notice{OperationKey: "password-changed/" + uuid.NewString(), AccountID: id,
				Kind: "password_changed", TitleZH: "您的密码已修改", TitleEN: "Your password was changed",
				BodyZH: "其他登录会话均已结束。如非本人操作，请立即提交安全报告。",
				BodyEN: "Every other session has ended. If this was not you, report it at once."}); err != nil {
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
