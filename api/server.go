// Package api is the HTTP API (Echo): it validates requests against the
// OpenAPI document, authenticates callers, starts, updates and queries the
// workflows, and reads lists and details from Postgres. Workflow-owned
// state is never written here; the API writes only what it owns: intake
// documents (applications, supplements) before their workflow starts,
// sessions, sign-in records, a staff-change request before its workflow
// starts, and the single pickup of an initial password.
package api

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/observability"
	"hrss-backoffice/internal/passwords"
	"hrss-backoffice/internal/payloadcodec"
	"hrss-backoffice/internal/reqid"
	"hrss-backoffice/internal/sealed"
	"hrss-backoffice/web"
	"hrss-backoffice/workflows"
)

// DefaultStaffIdleTimeout ends an unused staff session.
const DefaultStaffIdleTimeout = 15 * time.Minute

// DefaultInitialPasswordTTL ends an initial password never changed.
const DefaultInitialPasswordTTL = 7 * 24 * time.Hour

// Deps are what the API needs.
type Deps struct {
	DB           *sqlx.DB
	Temporal     client.Client
	Box          *sealed.Box
	TaskQueue    string
	Namespace    string
	UIURL        string
	ServiceLevel workflows.ServiceLevel
	SessionTTL   time.Duration
	// StaffIdleTimeout ends a staff session unused this long (default 15
	// minutes), besides SessionTTL.
	StaffIdleTimeout time.Duration
	// InitialPasswordTTL: a user's initial password (from registration or
	// a counter reset) that was never changed stops working this long
	// after it was issued (default 7 days).
	InitialPasswordTTL time.Duration
	Hash               passwords.Params
	// Metrics, when set, records HTTP metrics; the process serves them on
	// an address of its own (METRICS_ADDR), never on the API port.
	Metrics  *observability.Metrics
	Password workflows.PasswordSettings
	// Now is the clock, for tests; nil means time.Now.
	Now func() time.Time
	// Codec encrypts Temporal payloads; with it, /codec/encode and
	// /codec/decode serve the web UI's remote codec protocol to
	// operators, administrators, auditors and holders of CodecToken
	// (api/codec.go).
	Codec      *payloadcodec.Codec
	CodecToken string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Real-IP headers name the client (TRUSTED_PROXIES); none by default,
	// so that the client address is the peer of the connection.
	TrustedProxies []*net.IPNet
	// HashSlots bounds the argon2id verifications that run at once (0: the
	// number of cores); HashWait is how long a request waits for a slot
	// before it is refused with 503 (0: 2 seconds).
	HashSlots int
	HashWait  time.Duration
	// AnonLimits are the per-address limits of anonymous routes (nil: the
	// defaults; NoAnonLimits: none), api/anonlimit.go.
	AnonLimits AnonLimits
	// AnswerFloor is the least time an answer of registration and of the
	// anonymous security report takes, match or miss (0: the default
	// DefaultAnswerFloor; negative: none), api/evenanswer.go.
	AnswerFloor time.Duration
	// CodecOrigin is the one browser origin (the web UI's) that may call
	// /codec/* with credentials; see CodecOrigin in api/codec.go.
	CodecOrigin string
	// StaffSecondFactorOff turns off the second factor that staff need by
	// default (STAFF_SECOND_FACTOR=off; api/secondfactor.go).
	StaffSecondFactorOff bool
	// StaffChangeTTL is how long a staff-change request waits for a
	// second administrator before it expires (STAFF_CHANGE_TTL; default
	// 24 h; api/staffchange.go).
	StaffChangeTTL time.Duration
	// IntakeSettleWait bounds how long a request waits to learn what
	// became of a workflow call whose outcome is unknown (api/intake.go);
	// default 10s.
	IntakeSettleWait time.Duration
	// EagerStart asks Temporal for eager workflow start of the registration
	// review (the first workflow task handed back in the start's answer to
	// a worker of the same client). It applies only when a worker on
	// TaskQueue runs in this process on the same client (cmd/bench), never
	// to `hrss api`, whose workers are other processes; off by default
	// (docs/benchmarks.md, "Eager workflow start").
	EagerStart bool
	// RegistrationRevision is the Revision the registration reviews this
	// API starts carry (REGISTRATION_REVISION; workflows.RegistrationInput).
	// Zero, the old behaviour, is what any worker replays.
	RegistrationRevision int
	// MobileCodes: verification codes sent by SMS (api/verification.go).
	MobileCodes MobileCodeSettings
	// SMS sends verification codes; nil means the outbox's SMS sender
	// (activities.SenderFor("sms")).
	SMS activities.Sender
	// CheckAnswers, when set (tests), receives every answer of a documented
	// route that the OpenAPI document does not allow (api/answercheck.go).
	CheckAnswers func(AnswerMismatch)
	// CaseServiceLevel: when investigators are reminded and cases escalate
	// (CASE_REMIND_AFTER, CASE_ESCALATE_AFTER); zero fields take the
	// workflow's defaults.
	CaseServiceLevel workflows.CaseServiceLevel
	// Campaign tunes the terms and announcement campaigns
	// (TERMS_CAMPAIGN_*); zero fields take the workflow's defaults.
	Campaign workflows.CampaignSettings
}

type server struct {
	Deps
	slots *hashSlots
	// dummyHash is verified against when a name has no account, with the
	// configured cost, so that a miss takes as long as a wrong password.
	dummyHash string
}

func (s *server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// New builds the Echo server with every route.
func New(d Deps) (*echo.Echo, error) {
	if d.SessionTTL <= 0 {
		d.SessionTTL = 8 * time.Hour
	}
	d.ServiceLevel = d.ServiceLevel.WithDefaults()
	d.Password = d.Password.WithDefaults()
	if d.Hash.MemoryKiB == 0 || d.Hash.Time == 0 {
		d.Hash = passwords.OWASP
	}
	if d.AnonLimits == nil {
		d.AnonLimits = DefaultAnonLimits
	}
	if d.InitialPasswordTTL <= 0 {
		d.InitialPasswordTTL = DefaultInitialPasswordTTL
	}
	if d.StaffIdleTimeout <= 0 {
		d.StaffIdleTimeout = DefaultStaffIdleTimeout
	}
	d.MobileCodes = d.MobileCodes.withDefaults()
	if d.AnswerFloor == 0 {
		d.AnswerFloor = DefaultAnswerFloor
	}
	dummy, err := passwords.Hash(uuid.NewString(), d.Hash)
	if err != nil {
		return nil, err
	}
	s := &server{Deps: d, slots: newHashSlots(d.HashSlots, d.HashWait), dummyHash: dummy}
	_, router, err := loadOpenAPI()
	if err != nil {
		return nil, err
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = handleError
	e.IPExtractor = clientAddress(d.TrustedProxies)
	if d.CheckAnswers != nil {
		e.Use(checkAnswers(router, d.CheckAnswers))
	}
	e.Use(requestIDs)
	e.Use(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		// Method, route pattern, status and latency only: no query strings or
		// bodies, which could carry personal data.
		HandleError: true, LogMethod: true, LogRoutePath: true, LogStatus: true, LogLatency: true, LogRequestID: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			slog.Info("http", "method", v.Method, "route", v.RoutePath, "status", v.Status,
				"latency_ms", v.Latency.Milliseconds(), "request_id", v.RequestID)
			return nil
		},
	}))
	if d.Metrics != nil {
		e.Use(d.Metrics.Echo())
	}
	e.Use(middleware.Recover())
	e.Use(withRequestID)
	e.Use(middleware.BodyLimit("64K"))
	e.Use(noStore)

	e.GET("/healthz", s.health)
	e.GET("/readyz", s.health)
	web.Mount(e) // the pages under / and /console, calling the /v1 routes in-process (docs/web.md)

	// Validation and authentication wrap every route (not a group, whose
	// catch-all would turn a wrong method into 404). Routes outside the
	// OpenAPI document pass validation untouched; no header means anonymous.
	e.Use(validateRequests(router), s.authenticate, s.limitAnonymous)
	v1 := e.Group("/v1")
	v1.GET("/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", OpenAPIDocument)
	})
	v1.GET("/terms/current", s.currentTerms)

	v1.POST("/registrations", s.submitRegistration, s.evenAnswer("already_registered", "application_open"))
	v1.GET("/registrations/:id", s.getRegistration)
	v1.POST("/registrations/:id/decision", s.decide, s.allow(authz.Console))
	v1.POST("/registrations/:id/supplement", s.supplement)
	v1.POST("/registrations/:id/withdraw", s.withdraw)
	v1.POST("/registrations/:id/initial-password", s.pickUpInitialPassword)
	v1.GET("/review/queue", s.reviewQueue, s.allow(authz.Console))

	v1.POST("/sessions", s.signIn)
	s.secondFactorRoutes(v1)
	v1.DELETE("/sessions/current", s.signOut, s.allow(authz.SignedIn))
	v1.GET("/me", s.me, s.allow(authz.SignedIn))
	v1.PUT("/me/password", s.changePassword, s.allow(authz.SignedIn))

	v1.POST("/staff", s.createStaff, s.allow(authz.Console), s.requireReauth)
	v1.GET("/staff", s.listStaff, s.allow(authz.Console))
	v1.PATCH("/staff/:id", s.updateStaff, s.allow(authz.Console), s.requireReauth)
	v1.PUT("/staff/:id/password", s.setStaffPassword, s.allow(authz.Console), s.requireReauth)
	v1.GET("/staff/notices", s.staffNotices, s.allow(authz.Console))
	v1.POST("/accounts/search", s.searchAccounts, s.allow(authz.Console))

	// Each process registers its routes here, from its own file.
	s.caseRoutes(v1)
	s.passwordRoutes(v1)
	s.deregistrationRoutes(v1)
	s.disclosureRoutes(v1)
	s.auditRoutes(v1)
	s.exportRoutes(v1)
	s.termsRoutes(v1)
	s.catalogueRoutes(v1)
	s.kioskRoutes(v1)
	v1.POST("/verification-codes", s.sendVerificationCode)
	s.deliveryRoutes(v1)
	s.operationsRoutes(v1)
	s.staffChangeRoutes(v1)
	s.codecRoutes(e)
	return e, nil
}

// withRequestID puts the request ID into the request's context, from where
// the Temporal client copies it into workflow and update headers.
func withRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Response().Header().Get(echo.HeaderXRequestID)
		c.SetRequest(c.Request().WithContext(reqid.With(c.Request().Context(), id)))
		return next(c)
	}
}

// noStore keeps answers out of caches: they carry personal data and
// one-time secrets.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// health answers 200 when Postgres and Temporal both answer.
func (s *server) health(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{"postgres": "ok", "temporal": "ok"}
	status := http.StatusOK
	if err := s.DB.PingContext(ctx); err != nil {
		checks["postgres"], status = "unavailable", http.StatusServiceUnavailable
	}
	if _, err := s.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"], status = "unavailable", http.StatusServiceUnavailable
	}
	return c.JSON(status, checks)
}

// bind decodes a JSON body that the validator already checked.
func bind(c echo.Context, v any) error {
	if err := (&echo.DefaultBinder{}).BindBody(c, v); err != nil {
		return errValidation(detail("body", "malformed_json", "the body is not valid JSON of the expected shape"))
	}
	return nil
}
