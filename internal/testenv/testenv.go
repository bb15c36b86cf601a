// Package testenv starts the back office for a test the way it runs in
// production, in-process: a throwaway Postgres database, the worker on its
// own task queue of the Temporal dev server that `make test` started, and
// the API behind a real HTTP listener. Tests drive it over HTTP.
package testenv

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
	"hrss-backoffice/api"
	"hrss-backoffice/internal/config"
	"hrss-backoffice/internal/observability"
	"hrss-backoffice/internal/passwords"
	"hrss-backoffice/internal/payloadcodec"
	"hrss-backoffice/internal/reqid"
	"hrss-backoffice/internal/sealed"
	"hrss-backoffice/internal/synthetic"
	"hrss-backoffice/internal/testdb"
	"hrss-backoffice/worker"
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

// Start brings a stack up and registers its teardown.
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
	appDB := testdb.App(t, dbURL)
	metrics, err := observability.New()
	if err != nil {
		t.Fatal(err)
	}
	codec, err := payloadcodec.Parse(payloadcodec.NewKey("test1"))
	if err != nil {
		t.Fatal(err)
	}
	codecToken := "codec-" + uuid.NewString()
	address := opts.TemporalAddress
	if address == "" {
		address = os.Getenv("TEMPORAL_ADDRESS")
	}
	c, err := client.Dial(client.Options{HostPort: address, Namespace: "default",
		Logger: sdkLogger, MetricsHandler: metrics.TemporalHandler(),
		DataConverter: payloadcodec.DataConverter(codec), FailureConverter: payloadcodec.FailureConverter(codec),
		ContextPropagators: []workflow.ContextPropagator{reqid.Propagator{}}})
	if err != nil {
		t.Fatalf("dial temporal: %v", err)
	}
	t.Cleanup(c.Close)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := sealed.NewBox(base64.StdEncoding.EncodeToString(key))
	if err != nil {
		t.Fatal(err)
	}
	tq := "test-" + uuid.NewString()
	w := worker.New(c, tq, &activities.Activities{DB: appDB, Box: box, Hash: FastHash, Temporal: c})
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(w.Stop)
	if err := api.BootstrapAdmin(appDB, AdminUsername, AdminPassword, FastHash); err != nil {
		t.Fatal(err)
	}
	gaugesCtx, stopGauges := context.WithCancel(context.Background())
	t.Cleanup(stopGauges)
	metrics.RegisterBusiness(gaugesCtx, appDB, 100*time.Millisecond)
	msrv := httptest.NewServer(metrics.Handler()) // as METRICS_ADDR, apart from the API
	t.Cleanup(msrv.Close)
	if opts.AnswerFloor == 0 {
		opts.AnswerFloor = -1
	}
	if opts.AnonLimits == nil {
		opts.AnonLimits = api.NoAnonLimits
	}
	if opts.UIURL == "" {
		opts.UIURL = "http://localhost:8233"
	}
	proxies, err := config.ParseTrustedProxies(opts.TrustedProxies)
	if err != nil {
		t.Fatal(err)
	}
	codecOrigin, err := api.CodecOrigin("", opts.UIURL)
	if err != nil {
		t.Fatal(err)
	}
	codes := opts.MobileCodes
	if codes == (api.MobileCodeSettings{}) {
		// Like the anonymous limits: none unless the test is about them
		// (tests request many codes from one address, some to one number).
		codes = api.MobileCodeSettings{Gap: -1, PerMobile: 1 << 20, PerAddress: 1 << 30}
	}
	codes.Off = !opts.RequireMobileCode
	sms := NewSMSBox(t)
	apiClient := c
	if opts.WrapTemporal != nil {
		apiClient = opts.WrapTemporal(c)
	}
	e, err := api.New(api.Deps{DB: appDB, Temporal: apiClient, IntakeSettleWait: opts.IntakeSettleWait, Box: box, TaskQueue: tq, Namespace: "default",
		UIURL: opts.UIURL, ServiceLevel: opts.ServiceLevel, Hash: FastHash, Now: opts.Now,
		Password: opts.Password, Metrics: metrics, SessionTTL: opts.SessionTTL, Codec: codec, CodecToken: codecToken,
		TrustedProxies: proxies, HashSlots: opts.HashSlots, HashWait: opts.HashWait,
		AnonLimits: opts.AnonLimits, AnswerFloor: opts.AnswerFloor, CodecOrigin: codecOrigin,
		StaffSecondFactorOff: opts.StaffSecondFactorOff, StaffIdleTimeout: opts.StaffIdleTimeout, MobileCodes: codes, SMS: sms})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &Stack{T: t, DB: db, Temporal: c, TaskQueue: tq, URL: srv.URL, Box: box, Worker: w, Codec: codec, CodecToken: codecToken,
		MetricsURL: msrv.URL, now: opts.Now, SMS: sms, requireCode: opts.RequireMobileCode}
}

// Response is a decoded answer.
type Response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// Str reads a string field by path ("error.code").
func (r Response) Str(path ...string) string {
	var v any = r.Body
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

// ErrorCode is the stable code of an error answer.
func (r Response) ErrorCode() string { return r.Str("error", "code") }

// DetailFields lists the fields named in an error's details.
func (r Response) DetailFields() []string {
	var out []string
	e, _ := r.Body["error"].(map[string]any)
	ds, _ := e["details"].([]any)
	for _, d := range ds {
		if m, ok := d.(map[string]any); ok {
			out = append(out, fmt.Sprint(m["field"]))
		}
	}
	return out
}

// Header is an extra request header.
type Header struct{ Name, Value string }

// Bearer is the Authorization header of a session token.
func Bearer(token string) Header { return Header{"Authorization", "Bearer " + token} }

// Follow is the applicant's follow-token header.
func Follow(token string) Header { return Header{"X-Follow-Token", token} }

// Do sends a request; body is marshalled as JSON unless it is a []byte.
func (s *Stack) Do(method, path string, body any, headers ...Header) Response {
	s.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.T.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		s.T.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		req.Header.Set(h.Name, h.Value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// Expect fails the test unless the answer has the status.
func (s *Stack) Expect(r Response, status int) Response {
	s.T.Helper()
	if r.Status != status {
		s.T.Fatalf("want status %d, got %d: %s", status, r.Status, r.Raw)
	}
	return r
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

var staffSeq atomic.Int64

// Staff creates a staff member with roles through the API, signs in with
// the generated first password and changes it; it returns the session token
// and staff ID. While two or more administrators are active the creation is
// a request: the stack asks with the newest administrator it created and
// approves with the bootstrap administrator, whose account nobody changed
// (the four-eyes rule refuses an approver that the requester created).
func (s *Stack) Staff(roles ...string) (token, id string) {
	s.T.Helper()
	username := fmt.Sprintf("staff%d.%s", staffSeq.Add(1), uuid.NewString()[:6])
	id, first := s.CreateStaff(s.requester(), username, roles...)
	tok := s.SignIn(username, first)
	s.ChangePassword(tok, first, first+"-changed")
	if slices.Contains(roles, workflows.RoleAdministrator) {
		s.admins = append(s.admins, stackAdmin{token: tok, username: username})
	}
	return tok, id
}

type stackAdmin struct{ token, username string }

// requester is the administrator that asks for the stack's staff changes:
// the newest one Staff created, else the bootstrap administrator.
func (s *Stack) requester() string {
	if n := len(s.admins); n > 0 {
		return s.admins[n-1].token
	}
	return s.Admin()
}

// NewStaff creates a staff member without signing in and returns the ID and
// the generated first password. Before a second administrator that the test
// signs in itself, the stack makes one of its own (Staff), so that later
// staff changes have a requester and an approver it holds sessions of.
func (s *Stack) NewStaff(username string, roles ...string) (id, initialPassword string) {
	s.T.Helper()
	if slices.Contains(roles, workflows.RoleAdministrator) && len(s.admins) == 0 {
		s.Staff(workflows.RoleAdministrator)
	}
	return s.CreateStaff(s.requester(), username, roles...)
}

// ResetStaffPassword gives a staff member a new generated first password
// (PUT /v1/staff/{id}/password, approved if need be) and returns it.
func (s *Stack) ResetStaffPassword(id, reason string) string {
	s.T.Helper()
	req := s.requester()
	r := s.AsAdmin(req, "PUT", "/v1/staff/"+id+"/password", map[string]any{"reason": reason})
	if r.Status == http.StatusOK {
		return r.Str("initial_password")
	}
	s.Expect(r, http.StatusAccepted)
	return s.ApproveStaffChange(r.Str("staff_change", "id"), req).Str("initial_password")
}

// CreateStaff creates a staff member as admin and returns its ID and the
// generated first password (initial_password): at once while admin is the
// sole active administrator, else through a request that another
// administrator of this stack approves (ApproveStaffChange).
func (s *Stack) CreateStaff(admin, username string, roles ...string) (id, initialPassword string) {
	s.T.Helper()
	r := s.AsAdmin(admin, "POST", "/v1/staff", map[string]any{"username": username, "name": "测试员", "roles": roles})
	if r.Status == http.StatusCreated {
		return r.Str("id"), r.Str("initial_password")
	}
	s.Expect(r, http.StatusAccepted)
	ok := s.ApproveStaffChange(r.Str("staff_change", "id"), admin)
	return r.Str("staff_change", "target_id"), ok.Str("initial_password")
}

// AsAdmin makes a call that needs a recent second-factor code with an
// administrator's session of this stack, re-authenticating once if asked.
func (s *Stack) AsAdmin(token, method, path string, body any) Response {
	s.T.Helper()
	r := s.Do(method, path, body, Bearer(token))
	if r.Status == http.StatusForbidden && r.ErrorCode() == "reauthentication_required" {
		if u := s.adminUsername(token); u != "" && s.Secret(u) != "" {
			s.Expect(s.Do("POST", "/v1/sessions/reauth", map[string]string{"code": s.Code(u)}, Bearer(token)), http.StatusOK)
			r = s.Do(method, path, body, Bearer(token))
		}
	}
	return r
}

func (s *Stack) adminUsername(token string) string {
	if token == s.admin {
		return AdminUsername
	}
	for _, a := range s.admins {
		if a.token == token {
			return a.username
		}
	}
	return ""
}

// ApproveStaffChange approves a pending staff-change request with an
// administrator of this stack other than the requester and returns the
// answer (with initial_password for a creation or a password reset).
func (s *Stack) ApproveStaffChange(requestID, requesterToken string) Response {
	s.T.Helper()
	candidates := []string{s.Admin()}
	for _, a := range s.admins {
		candidates = append(candidates, a.token)
	}
	var last Response
	for _, tok := range candidates {
		if tok == requesterToken {
			continue
		}
		last = s.AsAdmin(tok, "POST", "/v1/staff-changes/"+requestID+"/approve", nil)
		if last.Status == http.StatusOK {
			return last
		}
	}
	s.T.Fatalf("no other administrator of this stack could approve staff change %s: %d %s", requestID, last.Status, last.Raw)
	return Response{}
}

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
