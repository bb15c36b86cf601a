// Command hrss runs the back office: `hrss migrate` applies the database
// migrations, `hrss worker` runs the Temporal worker, `hrss api` serves the
// HTTP API. Settings come from the environment (see README).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/activities"
	"hrss-backoffice/api"
	"hrss-backoffice/internal/config"
	"hrss-backoffice/internal/observability"
	"hrss-backoffice/internal/payloadcodec"
	"hrss-backoffice/internal/reqid"
	"hrss-backoffice/internal/sealed"
	"hrss-backoffice/migrations"
	"hrss-backoffice/worker"
	"hrss-backoffice/workflows"
)

const usage = `usage: hrss <command>

commands:
  migrate   apply the database migrations as the owner role
            (MIGRATE_DATABASE_URL, or DATABASE_URL when unset) and grant
            the application role of DATABASE_URL what it needs
  worker    run the Temporal worker
  api       serve the HTTP API on HTTP_ADDR`

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	cfg, err := config.Load()
	if err != nil {
		fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch os.Args[1] {
	case "migrate":
		err = runMigrate(ctx, cfg)
	case "worker":
		err = runWorker(ctx, cfg)
	case "api":
		err = runAPI(ctx, cfg)
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	slog.Error("hrss failed", "error", err)
	os.Exit(1)
}

func openDB(ctx context.Context, cfg config.Config) (*sqlx.DB, error) {
	db, err := sqlx.Open("postgres", cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	db.SetConnMaxIdleTime(5 * time.Minute)
	// Wait for the database for a while: services may start together.
	deadline := time.Now().Add(30 * time.Second)
	for {
		err = db.PingContext(ctx)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return db, err
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// payloadCodec reads PAYLOAD_KEYS ("kid:base64key,...", newest first);
// unset means payloads are stored in clear, which is logged.
func payloadCodec() (*payloadcodec.Codec, error) {
	codec, err := payloadcodec.Parse(os.Getenv("PAYLOAD_KEYS"))
	if err == nil && codec == nil {
		slog.Warn("PAYLOAD_KEYS is not set: Temporal payloads are stored unencrypted")
	}
	return codec, err
}

func dialTemporal(ctx context.Context, cfg config.Config, metrics *observability.Metrics) (client.Client, error) {
	opts := client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace,
		Logger:             sdklog.NewStructuredLogger(slog.Default()),
		MetricsHandler:     metrics.TemporalHandler(),
		ContextPropagators: []workflow.ContextPropagator{reqid.Propagator{}}}
	// PAYLOAD_KEYS encrypts every payload (docs/reliability.md).
	codec, err := payloadCodec()
	if err != nil {
		return nil, err
	}
	opts.DataConverter, opts.FailureConverter = payloadcodec.DataConverter(codec), payloadcodec.FailureConverter(codec)
	if err := temporalTLS(cfg, &opts); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := client.DialContext(ctx, opts)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return c, err
		}
		time.Sleep(time.Second)
	}
}

// temporalTLS sets up access to a Temporal cluster: an API key (Temporal
// Cloud) implies TLS; a client certificate and key give mutual TLS; a CA
// file pins the server's certificate authority.
func temporalTLS(cfg config.Config, opts *client.Options) error {
	if cfg.TemporalAPIKey == "" && cfg.TemporalTLSCert == "" && cfg.TemporalTLSCA == "" {
		return nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TemporalTLSName}
	if cfg.TemporalTLSCA != "" {
		pem, err := os.ReadFile(cfg.TemporalTLSCA)
		if err != nil {
			return fmt.Errorf("TEMPORAL_TLS_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("TEMPORAL_TLS_CA: no certificate in %s", cfg.TemporalTLSCA)
		}
		tc.RootCAs = pool
	}
	if cfg.TemporalTLSCert != "" || cfg.TemporalTLSKey != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TemporalTLSCert, cfg.TemporalTLSKey)
		if err != nil {
			return fmt.Errorf("TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	opts.ConnectionOptions.TLS = tc
	if cfg.TemporalAPIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.TemporalAPIKey)
	}
	return nil
}

// runMigrate applies the migrations as the owner (MIGRATE_DATABASE_URL)
// and grants the application role (the user of DATABASE_URL, which the API
// and the worker use) its privileges (migrations.GrantApp).
func runMigrate(ctx context.Context, cfg config.Config) error {
	owner := cfg
	if cfg.MigrateDatabaseURL != "" {
		owner.DatabaseURL = cfg.MigrateDatabaseURL
	}
	db, err := openDB(ctx, owner)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := migrations.Up(ctx, db.DB); err != nil {
		return err
	}
	slog.Info("migrations applied")
	app, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	var current string
	if err := db.GetContext(ctx, &current, `SELECT current_user`); err != nil {
		return err
	}
	if role := app.User.Username(); role != "" && role != current {
		if err := migrations.GrantApp(ctx, db.DB, role); err != nil {
			return err
		}
		slog.Info("application role granted", "role", role, "owner", current)
	} else {
		slog.Warn("DATABASE_URL uses the owner role: set MIGRATE_DATABASE_URL to the owner and DATABASE_URL to the application role (docs/security.md)")
	}
	return nil
}

func pickupBox(cfg config.Config) (*sealed.Box, error) {
	if cfg.PickupKey == "" {
		return nil, errors.New("PICKUP_KEY is not set: base64 of 32 random bytes, the same for worker and api (`make run` generates one)")
	}
	return sealed.NewBox(cfg.PickupKey)
}

// deps are what the worker and the API both need.
type deps struct {
	box     *sealed.Box
	db      *sqlx.DB
	tc      client.Client
	metrics *observability.Metrics
}

func (d deps) close() {
	if d.tc != nil {
		d.tc.Close()
	}
	if d.db != nil {
		_ = d.db.Close()
	}
}

func openDeps(ctx context.Context, cfg config.Config) (deps, error) {
	var d deps
	var err error
	if err = installSenders(); err != nil {
		return d, err
	}
	if d.box, err = pickupBox(cfg); err != nil {
		return d, err
	}
	if d.db, err = openDB(ctx, cfg); err != nil {
		return d, err
	}
	if d.metrics, err = observability.New(); err != nil {
		return d, err
	}
	if d.tc, err = dialTemporal(ctx, cfg, d.metrics); err != nil {
		d.close()
		return d, err
	}
	return d, nil
}

func runWorker(ctx context.Context, cfg config.Config) error {
	d, err := openDeps(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.close()
	if cfg.WorkerStickyCache > 0 {
		sdkworker.SetStickyWorkflowCacheSize(cfg.WorkerStickyCache)
	}
	base, err := config.PublicBaseURL()
	if err != nil {
		return err
	}
	w := worker.New(d.tc, cfg.TaskQueue, &activities.Activities{DB: d.db, Box: d.box, Hash: cfg.Hash, Temporal: d.tc, PublicBaseURL: base})
	// The worker's own /metrics and /healthz, on a port of its own.
	mux := http.NewServeMux()
	mux.Handle("/metrics", d.metrics.Handler())
	mux.HandleFunc("/healthz", func(rw http.ResponseWriter, r *http.Request) {
		hctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		_, terr := d.tc.CheckHealth(hctx, &client.CheckHealthRequest{})
		if derr := d.db.PingContext(hctx); derr != nil || terr != nil {
			http.Error(rw, "unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = rw.Write([]byte("ok"))
	})
	msrv := &http.Server{Addr: cfg.WorkerMetricsAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := msrv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("worker metrics server", "error", err)
		}
	}()
	defer msrv.Close()
	if err := worker.EnsurePasswordAgeReminder(ctx, d.tc, cfg.TaskQueue, cfg.Password); err != nil {
		return fmt.Errorf("password-age reminder: %w", err)
	}
	if err := worker.EnsureIntakeSweeper(ctx, d.tc, cfg.TaskQueue, cfg.IntakeSweep); err != nil {
		return fmt.Errorf("intake sweeper: %w", err)
	}
	if err := worker.EnsureOutboxRelay(ctx, d.tc, cfg.TaskQueue, workflows.DefaultOutboxRelaySettings); err != nil {
		return fmt.Errorf("outbox relay: %w", err)
	}
	slog.Info("worker started", "task_queue", cfg.TaskQueue, "metrics_addr", cfg.WorkerMetricsAddr)
	stop := make(chan interface{})
	go func() { <-ctx.Done(); close(stop) }()
	return w.Run(stop)
}

func runAPI(ctx context.Context, cfg config.Config) error {
	d, err := openDeps(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.close()
	db, c, box := d.db, d.tc, d.box
	codec, err := payloadCodec()
	if err != nil {
		return err
	}
	if err := api.BootstrapAdmin(db, cfg.BootstrapAdminUsername, cfg.BootstrapAdminPassword, cfg.Hash); err != nil {
		return fmt.Errorf("bootstrap admin: %w", err)
	}
	codecOrigin, err := api.CodecOrigin(os.Getenv("CODEC_ALLOWED_ORIGIN"), cfg.TemporalUIURL)
	if err != nil {
		return err
	}
	anon, err := api.ParseAnonLimits(os.Getenv("ANON_RATE_LIMITS"))
	if err != nil {
		return err
	}
	d.metrics.RegisterBusiness(ctx, db, cfg.MetricsRefresh)
	e, err := api.New(api.Deps{DB: db, Temporal: c, Box: box, TaskQueue: cfg.TaskQueue, Namespace: cfg.TemporalNamespace,
		UIURL: cfg.TemporalUIURL, ServiceLevel: cfg.ServiceLevel, SessionTTL: cfg.SessionTTL, Hash: cfg.Hash, TrustedProxies: cfg.TrustedProxies,
		Metrics: d.metrics, Password: cfg.Password, Codec: codec, CodecToken: os.Getenv("CODEC_TOKEN"),
		AnonLimits: anon, AnswerFloor: cfg.AnswerFloor, StaffIdleTimeout: cfg.StaffIdleTimeout, StaffChangeTTL: cfg.StaffChangeTTL,
		InitialPasswordTTL: cfg.InitialPasswordTTL, CodecOrigin: codecOrigin,
		StaffSecondFactorOff: cfg.StaffSecondFactor == "off",
		MobileCodes:          api.MobileCodeSettings{Off: cfg.MobileVerification == "off"}})
	if err != nil {
		return err
	}
	go api.RunHousekeeping(ctx, api.Deps{DB: db, Temporal: c, TaskQueue: cfg.TaskQueue, ServiceLevel: cfg.ServiceLevel,
		Password: cfg.Password}, time.Minute)
	// The API's /metrics on an address of its own (loopback by default),
	// like the worker's: never on the public API port.
	mmux := http.NewServeMux()
	mmux.Handle("/metrics", d.metrics.Handler())
	msrv := &http.Server{Addr: cfg.MetricsAddr, Handler: mmux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := msrv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("api metrics server", "error", err)
		}
	}()
	defer msrv.Close()
	srv := &http.Server{Addr: cfg.HTTPAddr, Handler: e, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	slog.Info("api listening", "addr", cfg.HTTPAddr, "metrics_addr", cfg.MetricsAddr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
