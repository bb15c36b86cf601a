package api

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/internal/passwords"
	"hrss-backoffice/store"
)

// Sign-in limits (C3.4(8); docs/security.md, "Sign-in limits and
// lockout"). Every check of a password — sign-in, the restricted sign-in,
// the old password of a password change, the password that confirms a
// signed request — goes through beginPasswordCheck, which counts the
// attempt as a failure before any hashing, atomically per username and per
// address, and refuses it when a limit is reached:
//
//   - maxFailuresPerPair failures of one username from one address hold
//     that address back for that username (the owner elsewhere is not
//     affected);
//   - maxFailuresPerName failures of one username from anywhere lock the
//     username everywhere: with the pair limit that takes failures from at
//     least four addresses;
//   - maxFailuresPerSource failures from one address across usernames hold
//     the address back.
//
// Failures before the subject's last password change do not count, so the
// in-person reset (users) or a password set by another administrator
// (staff) lets the owner in at once.
const (
	maxFailuresPerPair   = 5
	maxFailuresPerName   = 20
	maxFailuresPerSource = 50
	failureWindow        = 15 * time.Minute
	defaultHashWait      = 2 * time.Second
)

func errTooManyAttempts(c echo.Context) *Error {
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(failureWindow.Seconds())))
	return newError(http.StatusTooManyRequests, "too_many_attempts", "登录失败次数过多，请稍后再试", "too many failed attempts; try again later")
}

// errSignInUnavailable: the attempt could not be recorded, so it is not
// checked (the limits fail closed).
func errSignInUnavailable(c echo.Context) *Error {
	c.Response().Header().Set("Retry-After", "5")
	return newError(http.StatusServiceUnavailable, "sign_in_unavailable", "暂时无法核验密码，请稍后再试",
		"passwords cannot be checked just now; try again shortly")
}

func errBusy(c echo.Context) *Error {
	c.Response().Header().Set("Retry-After", "1")
	return newError(http.StatusServiceUnavailable, "busy", "系统繁忙，请稍后再试", "too many passwords are being checked; try again in a moment")
}

// hashSlots bounds the argon2id verifications that run at once: each one
// holds its memory cost (19 MiB with the production settings) for its
// duration, so a burst of sign-ins queues here instead of growing the heap.
type hashSlots struct {
	ch   chan struct{}
	wait time.Duration
}

func newHashSlots(n int, wait time.Duration) *hashSlots {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	if wait <= 0 {
		wait = defaultHashWait
	}
	return &hashSlots{ch: make(chan struct{}, n), wait: wait}
}

// acquire takes a slot, waiting at most h.wait; ok is false when none
// came free in time.
func (h *hashSlots) acquire(ctx context.Context) (release func(), ok bool) {
	var once sync.Once
	release = func() { once.Do(func() { <-h.ch }) }
	select {
	case h.ch <- struct{}{}:
		return release, true
	default:
	}
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case h.ch <- struct{}{}:
		return release, true
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, false
}

// passwordCheck describes one attempt to prove a password.
type passwordCheck struct {
	// Username is the name given (or the caller's): its hash keys the
	// per-username counters, whether or not the name has an account.
	Username string
	// UsernameHash, when set, stands for Username (a second-factor code
	// answers a challenge that keeps only the hash).
	UsernameHash []byte
	// AccountID or StaffID is the subject, "" when the name has none.
	AccountID, StaffID string
	// ChangedAt is the subject's last password change: failures before it
	// do not count. Zero when there is no subject.
	ChangedAt time.Time
	// Failure is the outcome recorded for a wrong password: failed,
	// wrong_old_password or wrong_confirmation.
	Failure string
}

// passwordAttempt is a counted attempt: begun by beginPasswordCheck, ended
// by succeeded or failed (a wrong password, a wrong second factor).
type passwordAttempt struct {
	s       *server
	c       echo.Context
	chk     passwordCheck
	id      int64
	byPair  int // failures of the pair before this one
	byName  int // failures of the username before this one
	release func()
}

func lockKey(prefix string, b []byte) int64 {
	h := sha256.Sum256(append([]byte(prefix), b...))
	return int64(binary.BigEndian.Uint64(h[:8]))
}

// beginPasswordCheck checks the limits and records the attempt as a
// failure in a statement of its own, under transaction-scoped advisory
// locks on the username and the address, and then takes a hashing slot.
// It answers 429 (recorded as throttled) when a limit is reached, 503 when
// the attempt cannot be recorded or no slot comes free (the attempt is then
// taken back). The caller verifies the password and then calls succeeded
// or failed.
func (s *server) beginPasswordCheck(c echo.Context, chk passwordCheck) (*passwordAttempt, error) {
	ctx := c.Request().Context()
	a := &passwordAttempt{s: s, c: c, chk: chk, release: func() {}}
	uh := chk.UsernameHash
	if uh == nil {
		uh = usernameHash(chk.Username)
	}
	// Keyed like the anonymous limits: an IPv6 client counts by its /64,
	// so rotating addresses inside its own prefix buys no fresh budget.
	ip := limitAddress(c.RealIP())
	limited := false
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if err := store.LockSignInKey(ctx, tx, lockKey("sign-in-name:", uh)); err != nil {
			return err
		}
		if err := store.LockSignInKey(ctx, tx, lockKey("sign-in-source:", []byte(ip))); err != nil {
			return err
		}
		f, err := store.RecentSignInFailures(ctx, tx, uh, ip, failureWindow, chk.ChangedAt)
		if err != nil {
			return err
		}
		a.byName, a.byPair = f.ByName, f.ByPair
		outcome := chk.Failure
		if a.byPair >= maxFailuresPerPair || a.byName >= maxFailuresPerName || f.BySource >= maxFailuresPerSource {
			limited, outcome = true, "throttled"
		}
		a.id, err = store.RecordSignInAttempt(ctx, tx, store.SignInAttempt{UsernameHash: uh, AccountID: chk.AccountID,
			StaffID: chk.StaffID, SourceIP: ip, Outcome: outcome})
		return err
	})
	if err != nil {
		slog.Error("sign-in attempt not recorded: refused", "error", err)
		return nil, errSignInUnavailable(c)
	}
	if limited {
		return nil, errTooManyAttempts(c)
	}
	release, ok := s.slots.acquire(ctx)
	if !ok {
		// Not checked, so not a failure: taken back (if that fails, the
		// failure stays counted, which errs on the safe side).
		if err := store.TakeBackSignInAttempt(context.WithoutCancel(ctx), s.DB, a.id); err != nil {
			slog.Error("busy sign-in attempt not taken back", "error", err)
		}
		return nil, errBusy(c)
	}
	a.release = release
	return a, nil
}

// dummyVerifies counts the checks against the dummy hash (for tests).
var dummyVerifies atomic.Int64

// verify checks password against hash; an empty hash (no such subject)
// or one that no password matches (an initial password not yet picked up,
// a deregistered account) is checked against a dummy hash of the same
// cost, so a miss takes as long as a wrong password.
func (a *passwordAttempt) verify(password, hash string) bool {
	if !passwords.Usable(hash) {
		dummyVerifies.Add(1)
		_, _ = passwords.Verify(password, a.s.dummyHash)
		return false
	}
	ok, _ := passwords.Verify(password, hash)
	return ok
}

// succeeded turns the counted failure into outcome (success or locked for
// a sign-in); an empty outcome removes it (a confirmed password is not a
// sign-in). If that cannot be written the failure stays counted and the
// request is refused.
func (a *passwordAttempt) succeeded(outcome string) error {
	a.release()
	ctx := a.c.Request().Context()
	var err error
	if outcome == "" {
		err = store.TakeBackSignInAttempt(ctx, a.s.DB, a.id)
	} else {
		err = store.SettleSignInAttempt(ctx, a.s.DB, a.id, outcome, a.chk.AccountID)
	}
	if err != nil {
		slog.Error("sign-in attempt not settled: refused", "error", err)
		return errSignInUnavailable(a.c)
	}
	return nil
}

// failed leaves the failure counted; when it is the one that reaches the
// pair or the username limit, the user gets a notice (one per window) and
// the lock goes to the audit log. Those writes come after the count and
// cannot undo it: if they fail, the lock holds all the same.
func (a *passwordAttempt) failed() {
	a.release()
	scope := ""
	switch {
	case a.byName+1 == maxFailuresPerName:
		scope = "account"
	case a.byPair+1 == maxFailuresPerPair:
		scope = "address"
	default:
		return
	}
	if a.chk.AccountID == "" && a.chk.StaffID == "" {
		return // no account: nobody to tell
	}
	if err := a.s.recordLock(a.c, a.chk, a.id, scope); err != nil {
		slog.Error("sign-in lock notice not written", "error", err)
	}
}

// recordLock writes the notice and the audit entry of a lock.
func (s *server) recordLock(c echo.Context, chk passwordCheck, attemptID int64, scope string) error {
	ctx := c.Request().Context()
	key := fmt.Sprintf("sign-in-lock/%d", attemptID)
	detail := map[string]any{"scope": scope, "locked_for_seconds": int(failureWindow.Seconds()), "source_ip": c.RealIP()}
	return inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		recordKind, recordID := "account", chk.AccountID
		if chk.AccountID == "" {
			recordKind, recordID = "staff", chk.StaffID
		} else {
			titleZH, titleEN := "来自某一地址的登录因多次失败被暂停", "Sign-in from one address is held back after repeated failures"
			bodyZH := "该地址15分钟内不能登录您的账户，其他地址不受影响。如非本人操作，请修改密码。"
			bodyEN := "That address cannot sign in to your account for 15 minutes; other addresses can. If this was not you, change your password."
			if scope == "account" {
				titleZH, titleEN = "您的账户因多次登录失败被暂时锁定", "Your account is locked for a while after repeated failed sign-ins"
				bodyZH = "15分钟内不能登录。如非本人操作，请到经办服务机构重置密码，重置后即可登录；如发现密码被盗用，请提交安全报告。"
				bodyEN = "Sign-in is refused for 15 minutes. If this was not you, reset your password in person at a service office, which lets you in at once; if it was stolen, report it."
			}
			// One notice per account, scope and window, however many
			// addresses fail.
			bucket := time.Now().Unix() / int64(failureWindow.Seconds())
			if _, err := store.PlaceNotice(ctx, tx, store.Notice{OperationKey: fmt.Sprintf("sign-in-lock/%s/%s/%d", chk.AccountID, scope, bucket),
				AccountID: chk.AccountID, Kind: "sign_in_locked", TitleZH: titleZH, TitleEN: titleEN, BodyZH: bodyZH, BodyEN: bodyEN}); err != nil {
				return err
			}
		}
		_, err := store.AppendAudit(ctx, tx, store.AuditEntry{OperationKey: key, ActorKind: "system", Action: "account.sign_in_locked",
			RecordKind: recordKind, RecordID: recordID, Detail: detail, SourceIP: c.RealIP(),
			RequestID: c.Response().Header().Get(echo.HeaderXRequestID)})
		return err
	})
}

// checkPassword is the whole check of one password against one stored hash
// ("" when there is no subject): it answers whether the password is right,
// or an error (429, 503) when the attempt may not be made. On success the
// attempt is settled with outcome (see succeeded).
func (s *server) checkPassword(c echo.Context, chk passwordCheck, password, hash, outcome string) (bool, error) {
	a, err := s.beginPasswordCheck(c, chk)
	if err != nil {
		return false, err
	}
	defer a.release()
	if !a.verify(password, hash) {
		a.failed()
		return false, nil
	}
	return true, a.succeeded(outcome)
}
