// Package observability gives the API and the worker their Prometheus
// metrics: HTTP requests by route and status with latency histograms, the
// Temporal SDK's client and worker metrics, and business gauges counted in
// Postgres on a timer.
package observability

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// Metrics is one process's registry.
type Metrics struct {
	Registry     *prometheus.Registry
	httpRequests *prometheus.CounterVec
	httpLatency  *prometheus.HistogramVec
	temporal     client.MetricsHandler
}

// New builds a registry with Go and process collectors, HTTP metrics and a
// Temporal SDK metrics handler.
func New() (*Metrics, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hrss_http_requests_total", Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		httpLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hrss_http_request_duration_seconds", Help: "HTTP request latency by method and route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.httpRequests, m.httpLatency)
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, err
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	m.temporal = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{Meter: provider.Meter("temporal-sdk")})
	return m, nil
}

// TemporalHandler is passed to client.Options.MetricsHandler.
func (m *Metrics) TemporalHandler() client.MetricsHandler { return m.temporal }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// Echo records every request by its route pattern (never the raw path,
// which carries IDs).
func (m *Metrics) Echo() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err) // write the error answer now so its status is counted
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			// A fixed set of method labels: Go accepts any method token, and
			// one label value per made-up method would grow the series
			// without bound.
			method := c.Request().Method
			switch method {
			case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
				http.MethodDelete, http.MethodOptions:
			default:
				method = "other"
			}
			m.httpRequests.WithLabelValues(method, route, strconv.Itoa(c.Response().Status)).Inc()
			m.httpLatency.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
			return nil
		}
	}
}

// business holds the business gauges, counted in Postgres on a timer (not
// at scrape time, so a scrape never runs full-table counts); every API
// replica reports the same truth without keeping counters of its own.
type business struct {
	db           *sqlx.DB
	applications *prometheus.Desc
	cases        *prometheus.Desc
	accounts     *prometheus.Desc
	mu           sync.Mutex
	snapshot     []prometheus.Metric
}

// RegisterBusiness adds the business gauges (applications by status,
// accounts by status, open cases by kind) and counts them now and then
// every interval until ctx ends.
func (m *Metrics) RegisterBusiness(ctx context.Context, db *sqlx.DB, every time.Duration) {
	b := &business{db: db,
		applications: prometheus.NewDesc("hrss_applications", "Registration applications by status.", []string{"status"}, nil),
		accounts:     prometheus.NewDesc("hrss_accounts", "Accounts by status.", []string{"status"}, nil),
		cases:        prometheus.NewDesc("hrss_open_cases", "Open fraud and violation cases by kind.", []string{"kind"}, nil),
	}
	m.Registry.MustRegister(b)
	b.refresh(ctx)
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				b.refresh(ctx)
			}
		}
	}()
}

func (b *business) Describe(ch chan<- *prometheus.Desc) {
	ch <- b.applications
	ch <- b.accounts
	ch <- b.cases
}

// Collect reports the last counts.
func (b *business) Collect(ch chan<- prometheus.Metric) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.snapshot {
		ch <- m
	}
}

// refresh counts again; a failed count keeps the previous values.
func (b *business) refresh(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out []prometheus.Metric
	for _, q := range []struct {
		desc  *prometheus.Desc
		query string
	}{
		{b.applications, `SELECT status, count(*) FROM applications GROUP BY status`},
		{b.accounts, `SELECT status, count(*) FROM accounts GROUP BY status`},
		{b.cases, `SELECT kind, count(*) FROM cases WHERE closed_at IS NULL GROUP BY kind`},
	} {
		rows, err := b.db.QueryContext(ctx, q.query)
		if err != nil {
			if ctx.Err() == nil {
				slog.Warn("business gauges", "error", err)
			}
			return
		}
		for rows.Next() {
			var label string
			var n float64
			if err := rows.Scan(&label, &n); err == nil {
				out = append(out, prometheus.MustNewConstMetric(q.desc, prometheus.GaugeValue, n, label))
			}
		}
		_ = rows.Close()
	}
	b.mu.Lock()
	b.snapshot = out
	b.mu.Unlock()
}
