// Package app assembles the back office from its settings: it opens the
// database, dials Temporal with the payload codec, and builds the
// activities, the worker with every workflow registered, and the API.
// cmd/hrss (every mode) and the test harness (internal/testenv) build the
// application through Open, so that what the tests run is what production
// runs; tests differ only by their config.Config and the explicit
// Overrides below.
package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the Postgres driver
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"hrss-backoffice/activities"
	"hrss-backoffice/api"
	"hrss-backoffice/internal/config"
	"hrss-backoffice/internal/observability"
	"hrss-backoffice/internal/payloadcodec"
	"hrss-backoffice/internal/sealed"
	"hrss-backoffice/internal/stmtcache"
)

// Overrides are what a test (or a benchmark) sets beside the settings:
// the zero value is production's behaviour.
type Overrides struct {
	// Now is the API's clock (nil: time.Now).
	Now func() time.Time
	// SMS receives the API's verification codes (nil: the outbox's SMS
	// sender, activities.SenderFor("sms")).
	SMS activities.Sender
	// CheckAnswers receives every answer the OpenAPI document does not
	// allow (tests; api.Deps.CheckAnswers).
	CheckAnswers func(api.AnswerMismatch)
	// WrapTemporal wraps the API's Temporal client (the worker keeps the
	// real one), for tests that fake a call's failure.
	WrapTemporal func(client.Client) client.Client
	// TemporalLogger is the Temporal SDK's logger of the client and the
	// worker (nil: slog's default logger).
	TemporalLogger sdklog.Logger
	// DBMaxOpenConns bounds the database pool (0: 20; negative: no bound).
	DBMaxOpenConns int
	// AnonLimits replace ANON_RATE_LIMITS (nil: the setting).
	AnonLimits api.AnonLimits
	// MobileCodes replace the verification codes' settings (nil:
	// MOBILE_VERIFICATION with the API's default limits).
	MobileCodes *api.MobileCodeSettings
	// HashSlots, HashWait and IntakeSettleWait are the api.Deps fields of
	// the same names (zero: the API's defaults).
	HashSlots        int
	HashWait         time.Duration
	IntakeSettleWait time.Duration
}

// App is an assembled back office: its connections and what both the
// worker and the API need.
type App struct {
	Config   config.Config
	DB       *sqlx.DB
	Temporal client.Client
	Box      *sealed.Box
	// Codec encrypts Temporal payloads (PAYLOAD_KEYS); nil stores them in
	// clear.
	Codec   *payloadcodec.Codec
	Metrics *observability.Metrics
	ov      Overrides
}

// Open opens the database, dials Temporal (waiting for both for a while:
// services may start together) and prepares the pickup box and the
// metrics. Close releases what it opened.
func Open(ctx context.Context, cfg config.Config, ov Overrides) (*App, error) {
	a := &App{Config: cfg, ov: ov}
	if cfg.PickupKey == "" {
		return nil, errors.New("PICKUP_KEY is not set: base64 of 32 random bytes, the same for worker and api (`make run` generates one)")
	}
	var err error
	if a.Box, err = sealed.NewBox(cfg.PickupKey); err != nil {
		return nil, err
	}
	if a.Codec, err = Codec(cfg); err != nil {
		return nil, err
	}
	if a.DB, err = OpenDB(ctx, cfg.DatabaseURL, ov.DBMaxOpenConns); err != nil {
		a.Close()
		return nil, err
	}
	if a.Metrics, err = observability.New(); err != nil {
		a.Close()
		return nil, err
	}
	if a.Temporal, err = Dial(ctx, cfg, a.Codec, a.Metrics.TemporalHandler(), ov.TemporalLogger); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// Close closes the Temporal client and the database.
func (a *App) Close() {
	if a.Temporal != nil {
		a.Temporal.Close()
	}
	if a.DB != nil {
		_ = a.DB.Close()
	}
}

// Codec reads PAYLOAD_KEYS; unset means payloads are stored in clear,
// which is logged.
func Codec(cfg config.Config) (*payloadcodec.Codec, error) {
	codec, err := payloadcodec.Parse(cfg.PayloadKeys)
	if err == nil && codec == nil {
		slog.Warn("PAYLOAD_KEYS is not set: Temporal payloads are stored unencrypted")
	}
	return codec, err
}

// OpenDB opens the database at url and waits for it for up to 30 seconds.
// maxOpen bounds the pool (0: 20; negative: no bound).
func OpenDB(ctx context.Context, url string, maxOpen int) (*sqlx.DB, error) {
	db, err := stmtcache.Open(url)
	if err != nil {
		return nil, err
	}
	// Idle connections are kept up to the bound: under a burst, a pool
	// that closes what it cannot keep opens a new connection (a Postgres
	// backend) per request soon after (issue 21: cmd/bench showed the
	// churn); the idle time limit still returns them when the burst ends.
	switch {
	case maxOpen == 0:
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
	case maxOpen > 0:
		db.SetMaxOpenConns(maxOpen)
		db.SetMaxIdleConns(maxOpen)
	}
	db.SetConnMaxIdleTime(5 * time.Minute)
	// A connection's prepared statements (internal/stmtcache) and their
	// plans live as long as it does: renew connections now and then.
	db.SetConnMaxLifetime(30 * time.Minute)
	deadline := time.Now().Add(30 * time.Second)
	for {
		err = db.PingContext(ctx)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return db, err
		}
		time.Sleep(500 * time.Millisecond)
	}
}
