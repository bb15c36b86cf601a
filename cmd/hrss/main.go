// Command hrss runs the back office: `hrss migrate` applies the database
// migrations, `hrss worker` runs the Temporal worker, `hrss api` serves the
// HTTP API. Settings come from the environment through internal/config
// (see README); every mode assembles the application with internal/app,
// as the test harness does.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	_ "github.com/lib/pq"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/internal/app"
	"hrss-backoffice/internal/config"
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

// runMigrate applies the migrations as the owner (MIGRATE_DATABASE_URL)
// and grants the application role (the user of DATABASE_URL, which the API
// and the worker use) its privileges (migrations.GrantApp).
func runMigrate(ctx context.Context, cfg config.Config) error {
	owner := cfg
	if cfg.MigrateDatabaseURL != "" {
		owner.DatabaseURL = cfg.MigrateDatabaseURL
	}
	db, err := app.OpenDB(ctx, owner.DatabaseURL, 0)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := migrations.Up(ctx, db.DB); err != nil {
		return err
	}
	slog.Info("migrations applied")
	appURL, err := url.Parse(cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	var current string
	if err := db.GetContext(ctx, &current, `SELECT current_user`); err != nil {
		return err
	}
	if role := appURL.User.Username(); role != "" && role != current {
		if err := migrations.GrantApp(ctx, db.DB, role); err != nil {
			return err
		}
		slog.Info("application role granted", "role", role, "owner", current)
	} else {
		slog.Warn("DATABASE_URL uses the owner role: set MIGRATE_DATABASE_URL to the owner and DATABASE_URL to the application role (docs/security.md)")
	}
	return nil
}

// open assembles the application (internal/app) after choosing the
// senders.
func open(ctx context.Context, cfg config.Config) (*app.App, error) {
	if err := installSenders(); err != nil {
		return nil, err
	}
	return app.Open(ctx, cfg, app.Overrides{})
}

func runWorker(ctx context.Context, cfg config.Config) error {
	a, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	w := a.Worker()
	// The worker's own /metrics and /healthz, on a port of its own.
	mux := http.NewServeMux()
	mux.Handle("/metrics", a.Metrics.Handler())
	mux.HandleFunc("/healthz", func(rw http.ResponseWriter, r *http.Request) {
		hctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		_, terr := a.Temporal.CheckHealth(hctx, &client.CheckHealthRequest{})
		if derr := a.DB.PingContext(hctx); derr != nil || terr != nil {
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
	// The singleton runs start with search attributes: a cluster that
	// registered them moments ago may refuse them for a few seconds.
	settle := 2 * time.Minute
	if err := worker.EnsureSettled(ctx, "password-age reminder", settle, func(ctx context.Context) error {
		return worker.EnsurePasswordAgeReminder(ctx, a.Temporal, cfg.TaskQueue, cfg.Password)
	}); err != nil {
		return fmt.Errorf("password-age reminder: %w", err)
	}
	if err := worker.EnsureSettled(ctx, "intake sweeper", settle, func(ctx context.Context) error {
		return worker.EnsureIntakeSweeper(ctx, a.Temporal, cfg.TaskQueue, cfg.IntakeSweep)
	}); err != nil {
		return fmt.Errorf("intake sweeper: %w", err)
	}
	if err := worker.EnsureSettled(ctx, "outbox relay", settle, func(ctx context.Context) error {
		return worker.EnsureOutboxRelay(ctx, a.Temporal, cfg.TaskQueue, workflows.DefaultOutboxRelaySettings)
	}); err != nil {
		return fmt.Errorf("outbox relay: %w", err)
	}
	slog.Info("worker started", "task_queue", cfg.TaskQueue, "metrics_addr", cfg.WorkerMetricsAddr)
	stop := make(chan interface{})
	go func() { <-ctx.Done(); close(stop) }()
	return w.Run(stop)
}

func runAPI(ctx context.Context, cfg config.Config) error {
	a, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	e, err := a.API(ctx)
	if err != nil {
		return err
	}
	go a.RunHousekeeping(ctx)
	// The API's /metrics on an address of its own (loopback by default),
	// like the worker's: never on the public API port.
	mmux := http.NewServeMux()
	mmux.Handle("/metrics", a.Metrics.Handler())
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
