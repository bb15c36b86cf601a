package app

import (
	"context"
	"fmt"
	"time"

	"github.com/labstack/echo/v4"
	sdkworker "go.temporal.io/sdk/worker"

	"hrss-backoffice/activities"
	"hrss-backoffice/api"
	"hrss-backoffice/worker"
)

// Activities are the activities with the application's database, pickup
// box, password cost and Temporal client.
func (a *App) Activities() *activities.Activities {
	acts := &activities.Activities{DB: a.DB, Box: a.Box, Hash: a.Config.Hash, Temporal: a.Temporal,
		PublicBaseURL: a.Config.PublicBaseURL}
	if a.ov.SMS != nil {
		// The outbox sends its SMS where the API sends its codes.
		acts.Senders = map[string]activities.Sender{"sms": a.ov.SMS}
	}
	return acts
}

// Worker is the worker of the task queue with every workflow and the
// activities registered (WORKER_STICKY_CACHE_SIZE, when set, bounds the
// runs kept in memory). The caller starts or runs it.
func (a *App) Worker() sdkworker.Worker {
	if a.Config.WorkerStickyCache > 0 {
		sdkworker.SetStickyWorkflowCacheSize(a.Config.WorkerStickyCache)
	}
	return worker.New(a.Temporal, a.Config.TaskQueue, a.Activities())
}

// APIDeps are the API's dependencies from the settings and the overrides.
func (a *App) APIDeps() (api.Deps, error) {
	cfg, ov := a.Config, a.ov
	origin, err := api.CodecOrigin(cfg.CodecAllowedOrigin, cfg.TemporalUIURL)
	if err != nil {
		return api.Deps{}, err
	}
	anon := ov.AnonLimits
	if anon == nil {
		if anon, err = api.ParseAnonLimits(cfg.AnonRateLimits); err != nil {
			return api.Deps{}, err
		}
	}
	codes := api.MobileCodeSettings{Off: cfg.MobileVerification == "off"}
	if ov.MobileCodes != nil {
		codes = *ov.MobileCodes
	}
	tc := a.Temporal
	if ov.WrapTemporal != nil {
		tc = ov.WrapTemporal(tc)
	}
	return api.Deps{DB: a.DB, Temporal: tc, Box: a.Box, TaskQueue: cfg.TaskQueue, Namespace: cfg.TemporalNamespace,
		UIURL: cfg.TemporalUIURL, ServiceLevel: cfg.ServiceLevel, SessionTTL: cfg.SessionTTL, Hash: cfg.Hash,
		TrustedProxies: cfg.TrustedProxies, Metrics: a.Metrics, Password: cfg.Password, Now: ov.Now,
		Codec: a.Codec, CodecToken: cfg.CodecToken, CodecOrigin: origin, AnonLimits: anon, AnswerFloor: cfg.AnswerFloor,
		StaffIdleTimeout: cfg.StaffIdleTimeout, StaffChangeTTL: cfg.StaffChangeTTL, InitialPasswordTTL: cfg.InitialPasswordTTL,
		StaffSecondFactorOff: cfg.StaffSecondFactor == "off", MobileCodes: codes, SMS: ov.SMS,
		HashSlots: ov.HashSlots, HashWait: ov.HashWait, IntakeSettleWait: ov.IntakeSettleWait,
		CaseServiceLevel: cfg.CaseServiceLevel, Campaign: cfg.Campaign, CheckAnswers: ov.CheckAnswers,
		RegistrationRevision: cfg.RegistrationRevision}, nil
}

// API creates the bootstrap administrator if the settings name one, counts
// the business gauges every METRICS_REFRESH until ctx ends, and builds the
// Echo server with every route. The caller serves it (and the metrics,
// Metrics.Handler, on an address of their own).
func (a *App) API(ctx context.Context) (*echo.Echo, error) {
	cfg := a.Config
	if err := api.BootstrapAdmin(a.DB, cfg.BootstrapAdminUsername, cfg.BootstrapAdminPassword, cfg.Hash); err != nil {
		return nil, fmt.Errorf("bootstrap admin: %w", err)
	}
	d, err := a.APIDeps()
	if err != nil {
		return nil, err
	}
	a.Metrics.RegisterBusiness(ctx, a.DB, cfg.MetricsRefresh)
	return api.New(d)
}

// RunHousekeeping runs the API's periodic housekeeping every minute until
// ctx ends.
func (a *App) RunHousekeeping(ctx context.Context) {
	cfg := a.Config
	api.RunHousekeeping(ctx, api.Deps{DB: a.DB, Temporal: a.Temporal, TaskQueue: cfg.TaskQueue, ServiceLevel: cfg.ServiceLevel,
		Password: cfg.Password}, time.Minute)
}
