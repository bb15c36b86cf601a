// Package testenv starts the back office for a test the way it runs in
// production, in-process: a throwaway Postgres database, the worker on its
// own task queue of the Temporal dev server that `make test` started, and
// the API behind a real HTTP listener. Tests drive it over HTTP.
package testenv

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"hrss-backoffice/api"
	"hrss-backoffice/internal/app"
	"hrss-backoffice/internal/config"
	"hrss-backoffice/internal/passwords"
	"hrss-backoffice/internal/payloadcodec"
	"hrss-backoffice/internal/sealed"
	"hrss-backoffice/internal/synthetic"
	"hrss-backoffice/internal/testdb"
	"hrss-backoffice/workflows"
)

// FastHash keeps tests quick; production uses passwords.OWASP.
var FastHash = passwords.Params{MemoryKiB: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// AdminUsername and AdminPassword are the bootstrap administrator.
const (
	AdminUsername = "admin"
	AdminPassword = "Bootstrap-Admin-Pass-1"
)

// Stack is a running back office.
type Stack struct {
	T         testing.TB
	DB        *sqlx.DB
	Temporal  client.Client
	TaskQueue string
	URL       string
	// MetricsURL serves the API's /metrics (METRICS_ADDR in production).
	MetricsURL string
	Box        *sealed.Box
	Worker     sdkworker.Worker
	// Codec encrypts the payloads of the stack's client and worker (a
	// fresh key per stack); CodecToken opens /codec/* of its API.
	Codec      *payloadcodec.Codec
	CodecToken string
	// WorkflowIDs lists the workflows the test started, for history scans.
	admin     string
	adminUsed time.Time // when Admin last handed out admin
	// admins are the other administrators that Staff created, for the
	// approval of staff changes.
	admins []stackAdmin
	// now is the API's clock; secrets the second-factor secrets of the
	// members the stack enrolled (secondfactor.go).
	now     func() time.Time
	secrets secrets
	// SMS receives the API's verification codes.
	SMS *SMSBox
	// requireCode: registrations answer a verification code.
	requireCode bool
}

// Options tune a stack.
type Options struct {
	ServiceLevel workflows.ServiceLevel
	Now          func() time.Time
	// Password: reminder and compromise settings for the API.
	Password workflows.PasswordSettings
	// LogTo, when set, receives every log line at debug level (slog and
	// the Temporal SDK of client and worker), for tests that search logs.
	LogTo io.Writer
	// UIURL is the Temporal web UI that staff views link to.
	UIURL string
	// SessionTTL, when set, replaces the API's session lifetime (8 hours).
	SessionTTL time.Duration
	// StaffIdleTimeout, when set, replaces the API's STAFF_IDLE_TIMEOUT (15 minutes).
	StaffIdleTimeout time.Duration
	// TemporalAddress, when set, is used instead of TEMPORAL_ADDRESS (a
	// dev server the test started itself).
	TemporalAddress string
	// TrustedProxies is the API's TRUSTED_PROXIES (CIDRs, comma-separated):
	// "127.0.0.1" lets a test speak for many client addresses through
	// X-Forwarded-For.
	TrustedProxies string
	// HashSlots and HashWait bound the API's concurrent password checks
	// (api.Deps); zero means the API's defaults.
	HashSlots int
	HashWait  time.Duration
	// AnonLimits are the API's per-address limits of anonymous routes; nil
	// means none (tests make hundreds of anonymous requests from one
	// address), unlike production, whose default is api.DefaultAnonLimits.
	AnonLimits api.AnonLimits
	// AnswerFloor is the least time registration and anonymous report
	// answers take; 0 means none here (the API's default is 500ms).
	AnswerFloor time.Duration
	// StaffSecondFactorOff is STAFF_SECOND_FACTOR=off (tests run with
	// required, the default).
	StaffSecondFactorOff bool
	// WrapTemporal, when set, wraps the API's Temporal client (the worker
	// keeps the real one), for tests that fake a call's failure.
	WrapTemporal func(client.Client) client.Client
	// IntakeSettleWait replaces the API's bound on settling an unknown
	// outcome (api.Deps.IntakeSettleWait).
	IntakeSettleWait time.Duration
	// RequireMobileCode makes online and kiosk applications answer a
	// verification code, as in production; tests leave it off unless they
	// are about it (the codes arrive in Stack.SMS).
	RequireMobileCode bool
	// MobileCodes tunes the codes' limits; zero means no limits (unlike
	// production's api.DefaultMobileCodes).
	MobileCodes api.MobileCodeSettings
}

// Start brings a stack up and registers its teardown. The stack is
// assembled by internal/app, as cmd/hrss assembles the processes, from the
// settings of the environment (a test's t.Setenv applies) with the
// stack's own database, task queue, keys and opts (stackConfig).
func Start(t testing.TB, opts Options) *Stack {
	t.Helper()
	testdb.RequireServices(t, "DATABASE_URL", "TEMPORAL_ADDRESS")
	// Request logs only at warning level and above, to keep test output short.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	var sdkLogger sdklog.Logger = quietLogger{}
	if opts.LogTo != nil {
		slog.SetDefault(slog.New(slog.NewJSONHandler(opts.LogTo, &slog.HandlerOptions{Level: slog.LevelDebug})))
		sdkLogger = sdklog.NewStructuredLogger(slog.Default())
	}
	// The API and the worker use the application role; Stack.DB, the
	// tests' own view, is the owner's.
	db, dbURL := testdb.New(t)
	cfg := stackConfig(t, opts, testdb.AppURL(t, dbURL))
	if opts.AnonLimits == nil {
		opts.AnonLimits = api.NoAnonLimits
	}
	codes := opts.MobileCodes
	if codes == (api.MobileCodeSettings{}) {
		// Like the anonymous limits: none unless the test is about them
		// (tests request many codes from one address, some to one number).
		codes = api.MobileCodeSettings{Gap: -1, PerMobile: 1 << 20, PerAddress: 1 << 30}
	}
	codes.Off = !opts.RequireMobileCode
	sms := NewSMSBox(t)
	a, err := app.Open(context.Background(), cfg, app.Overrides{Now: opts.Now, SMS: sms, WrapTemporal: opts.WrapTemporal,
		TemporalLogger: sdkLogger, DBMaxOpenConns: -1, AnonLimits: opts.AnonLimits, MobileCodes: &codes,
		HashSlots: opts.HashSlots, HashWait: opts.HashWait, IntakeSettleWait: opts.IntakeSettleWait, CheckAnswers: CheckAnswers(t)})
	if err != nil {
		t.Fatalf("assemble the back office: %v", err)
	}
	t.Cleanup(a.Close)
	w := a.Worker()
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(w.Stop)
	gaugesCtx, stopGauges := context.WithCancel(context.Background())
	t.Cleanup(stopGauges)
	e, err := a.API(gaugesCtx)
	if err != nil {
		t.Fatal(err)
	}
	msrv := httptest.NewServer(a.Metrics.Handler()) // as METRICS_ADDR, apart from the API
	t.Cleanup(msrv.Close)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &Stack{T: t, DB: db, Temporal: a.Temporal, TaskQueue: cfg.TaskQueue, URL: srv.URL, Box: a.Box, Worker: w, Codec: a.Codec,
		CodecToken: cfg.CodecToken, MetricsURL: msrv.URL, now: opts.Now, SMS: sms, requireCode: opts.RequireMobileCode}
}

// stackConfig is a stack's settings: the environment's (config.Load), with
// the stack's database (appURL, the application role), a task queue, a
// pickup key, a payload key and a codec token of its own, the bootstrap
// administrator, the fast password hash, and what opts set.
func stackConfig(t testing.TB, opts Options, appURL string) config.Config {
	t.Helper()
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.DatabaseURL, cfg.TemporalNamespace, cfg.TaskQueue = appURL, "default", "test-"+uuid.NewString()
	if opts.TemporalAddress != "" {
		cfg.TemporalAddress = opts.TemporalAddress
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	cfg.PickupKey = base64.StdEncoding.EncodeToString(key)
	cfg.PayloadKeys, cfg.CodecToken, cfg.CodecAllowedOrigin = payloadcodec.NewKey("test1"), "codec-"+uuid.NewString(), ""
	cfg.BootstrapAdminUsername, cfg.BootstrapAdminPassword, cfg.Hash = AdminUsername, AdminPassword, FastHash
	cfg.MetricsRefresh = 100 * time.Millisecond
	cfg.ServiceLevel, cfg.Password, cfg.SessionTTL, cfg.StaffIdleTimeout = opts.ServiceLevel, opts.Password, opts.SessionTTL, opts.StaffIdleTimeout
	if cfg.TrustedProxies, err = config.ParseTrustedProxies(opts.TrustedProxies); err != nil {
		t.Fatal(err)
	}
	cfg.AnswerFloor = opts.AnswerFloor
	if cfg.AnswerFloor == 0 {
		cfg.AnswerFloor = -1
	}
	cfg.TemporalUIURL = opts.UIURL
	if cfg.TemporalUIURL == "" {
		cfg.TemporalUIURL = "http://localhost:8233"
	}
	cfg.StaffSecondFactor = "required"
	if opts.StaffSecondFactorOff {
		cfg.StaffSecondFactor = "off"
	}
	return cfg
}

// SignIn returns a session token. It answers the second-factor challenge
// with the next code of a remembered secret, and enrols a staff member who
// must (unless the initial password must be changed first: ChangePassword
// enrols then).
func (s *Stack) SignIn(username, password string) string {
	s.T.Helper()
	r := s.Do("POST", "/v1/sessions", map[string]string{"username": username, "password": password})
	if r.Status == http.StatusOK && r.Str("challenge") != "" {
		r = s.Do("POST", "/v1/sessions/second-factor", map[string]string{"challenge": r.Str("challenge"), "code": s.Code(username)})
	}
	s.Expect(r, http.StatusCreated)
	if must, _ := r.Body["must_enrol_second_factor"].(bool); must {
		if change, _ := r.Body["must_change_password"].(bool); !change {
			s.Enrol(r.Str("token"), username)
		}
	}
	return r.Str("token")
}

// ChangePassword changes a password with the given session, then enrols a
// staff member's second factor if the session must.
func (s *Stack) ChangePassword(token, old, new string) {
	s.T.Helper()
	s.Expect(s.Do("PUT", "/v1/me/password", map[string]string{"old_password": old, "new_password": new}, Bearer(token)), http.StatusNoContent)
	s.enrolIfAsked(token)
}

// Admin returns a session of the bootstrap administrator, password changed.
func (s *Stack) Admin() string {
	s.T.Helper()
	if s.admin == "" {
		tok := s.SignIn(AdminUsername, AdminPassword)
		s.ChangePassword(tok, AdminPassword, adminChangedPassword)
		s.admin = tok
	} else if time.Since(s.adminUsed) > 5*time.Minute &&
		s.Do("GET", "/v1/me", nil, Bearer(s.admin)).Status == http.StatusUnauthorized {
		// A long test (the fault run) can leave the session unused for
		// longer than the staff idle timeout: sign in again.
		s.admin = s.SignIn(AdminUsername, adminChangedPassword)
	}
	s.adminUsed = time.Now()
	return s.admin
}

// adminChangedPassword is the bootstrap administrator's password after the
// forced change.
const adminChangedPassword = "Strong-Changed-Passphrase-9"

// Person is unique, valid registration data; its fields are markers that
// tests look for in histories and logs.
type Person = synthetic.Person

// NewPerson makes a valid person (see synthetic.NewPerson).
var NewPerson = synthetic.NewPerson

// Register submits p's application and returns its ID and follow token.
func (s *Stack) Register(p Person, services ...string) (id, followToken string) {
	s.T.Helper()
	body := p.Registration(services...)
	if s.requireCode {
		body["mobile_code"] = s.MobileCode(p.Mobile, "registration")
	}
	r := s.Expect(s.Do("POST", "/v1/registrations", body), http.StatusAccepted)
	return r.Str("id"), r.Str("follow_token")
}

// Eventually polls cond until it holds or the deadline passes.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitForStatus waits until the application's status in Postgres is want
// (the workflow writes it through activities).
func (s *Stack) WaitForStatus(id, want string) {
	s.T.Helper()
	Eventually(s.T, 20*time.Second, "application "+id+" to be "+want, func() bool {
		var st string
		_ = s.DB.Get(&st, `SELECT status FROM applications WHERE id = $1`, id)
		return st == want
	})
}

// Context is a test context with a deadline.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// quietLogger drops the SDK's logs in tests.
type quietLogger struct{}

func (quietLogger) Debug(string, ...interface{}) {}
func (quietLogger) Info(string, ...interface{})  {}
func (quietLogger) Warn(string, ...interface{})  {}
func (quietLogger) Error(string, ...interface{}) {}

// CSRFToken is the form token the pages expect with the hrss_csrf cookie
// secret (web/security.go), for tests that post a page form themselves.
func CSRFToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("hrss-web-form"))
	return hex.EncodeToString(m.Sum(nil))
}
