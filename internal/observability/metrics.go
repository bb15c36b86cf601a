// Package observability gives the API and the worker their Prometheus
// metrics: HTTP requests by route and status with latency histograms, the
// Temporal SDK's client and worker metrics, and business gauges read from
// Postgres at scrape time.
package observability

import (
	"context"
	"net/http"
	"strconv"
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
			method := c.Request().Method
			m.httpRequests.WithLabelValues(method, route, strconv.Itoa(c.Response().Status)).Inc()
			m.httpLatency.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
			return nil
		}
	}
}

// business reads counts from Postgres when scraped, so every API replica
// reports the same truth without keeping counters of its own.
type business struct {
	db           *sqlx.DB
	applications *prometheus.Desc
	cases        *prometheus.Desc
	accounts     *prometheus.Desc
}

// RegisterBusiness adds the business gauges: applications by status,
// accounts by status, open cases by kind.
func (m *Metrics) RegisterBusiness(db *sqlx.DB) {
	m.Registry.MustRegister(&business{db: db,
		applications: prometheus.NewDesc("hrss_applications", "Registration applications by status.", []string{"status"}, nil),
		accounts:     prometheus.NewDesc("hrss_accounts", "Accounts by status.", []string{"status"}, nil),
		cases:        prometheus.NewDesc("hrss_open_cases", "Open fraud and violation cases by kind.", []string{"kind"}, nil),
	})
}

func (b *business) Describe(ch chan<- *prometheus.Desc) {
	ch <- b.applications
	ch <- b.accounts
	ch <- b.cases
}

func (b *business) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
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
			ch <- prometheus.NewInvalidMetric(q.desc, err)
			continue
		}
		for rows.Next() {
			var label string
			var n float64
			if err := rows.Scan(&label, &n); err == nil {
				ch <- prometheus.MustNewConstMetric(q.desc, prometheus.GaugeValue, n, label)
			}
		}
		_ = rows.Close()
	}
}
