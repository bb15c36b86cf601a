// Package config reads the settings of the worker and the API from the
// environment. Every setting has a default for a local run except the
// secrets, which `make run` generates once into .data/secrets.env.
package config

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"hrss-backoffice/internal/passwords"
	"hrss-backoffice/workflows"
)

// Config holds every setting.
type Config struct {
	DatabaseURL       string
	TemporalAddress   string
	TemporalNamespace string
	TaskQueue         string
	HTTPAddr          string
	// Temporal cluster access beyond a local dev server (Temporal Cloud or a
	// self-hosted cluster with TLS): an API key, or a client certificate
	// and key, and an optional CA for the server's certificate.
	TemporalAPIKey  string
	TemporalTLSCert string
	TemporalTLSKey  string
	TemporalTLSCA   string
	TemporalTLSName string
	// TemporalCompression compresses the gRPC requests to the Temporal
	// frontend: "none" (the default here) or "gzip" (the SDK's default).
	// On loopback or a LAN, gzip costs CPU on both sides for nothing (it
	// was about 8% of the API's and worker's CPU in cmd/bench, issue 21);
	// across a WAN (Temporal Cloud) it saves bandwidth.
	TemporalCompression string
	// WorkerMetricsAddr serves the worker's /metrics and /healthz.
	WorkerMetricsAddr string
	// MetricsAddr serves the API's /metrics, apart from the API port;
	// MetricsRefresh is how often the business gauges are counted.
	MetricsAddr    string
	MetricsRefresh time.Duration
	// AnswerFloor is the least time registration and anonymous report
	// answers take, match or miss (ANON_ANSWER_FLOOR).
	AnswerFloor time.Duration
	// WorkerStickyCache bounds the workflow runs a worker keeps in memory
	// (0: the SDK's default, 10,000). A waiting review costs about 26 KiB
	// there (docs/benchmarks.md); an evicted one is replayed from its
	// history when it moves again.
	WorkerStickyCache int
	TemporalUIURL     string
	// PickupKey is the base64 AES-256 key sealing initial passwords.
	PickupKey              string
	BootstrapAdminUsername string
	BootstrapAdminPassword string
	ServiceLevel           workflows.ServiceLevel
	SessionTTL             time.Duration
	// StaffIdleTimeout ends a staff session unused this long.
	StaffIdleTimeout time.Duration
	// StaffChangeTTL: a staff-change request not decided by a second
	// administrator within this expires (issue 15).
	StaffChangeTTL time.Duration
	// InitialPasswordTTL: an initial password never changed stops working
	// this long after it was issued.
	InitialPasswordTTL time.Duration
	// Hash is the argon2id cost; lowered only in tests.
	Hash passwords.Params
	// Password: password-age reminders and compromise reminders (C3.3).
	Password workflows.PasswordSettings
	// TrustedProxies (TRUSTED_PROXIES): the reverse proxies whose
	// X-Forwarded-For / X-Real-IP name the client; none by default.
	TrustedProxies []*net.IPNet
	// StaffSecondFactor is STAFF_SECOND_FACTOR: "required" (the default:
	// every staff member signs in with a TOTP code) or "off" (staff are
	// authenticated elsewhere).
	StaffSecondFactor string
	// MobileVerification is MOBILE_VERIFICATION: "required" (the default:
	// online and kiosk applicants answer a code sent by SMS) or "off"
	// (load runs against a development stack only).
	MobileVerification string
	// MigrateDatabaseURL is the owner role's connection for `hrss migrate`
	// (DATABASE_URL, the application role, when unset).
	MigrateDatabaseURL string
	// IntakeSweep: how often, and after how long, the worker's intake
	// sweeper removes intake documents no run took (INTAKE_SWEEP_EVERY,
	// INTAKE_SWEEP_AFTER).
	IntakeSweep workflows.IntakeSweepSettings
	// PublicBaseURL is the site's public address that messages link to
	// (PUBLIC_BASE_URL, public.go).
	PublicBaseURL string
	// RegistrationRevision (REGISTRATION_REVISION, 0 to
	// workflows.RegistrationRevision, which is the default) is the revision
	// of the registration reviews the API starts. Set it to the revision of
	// the oldest worker release still running during a rollout: a worker
	// cannot replay a review of a revision it does not know
	// (docs/operations.md).
	RegistrationRevision int
	// APISettings: payload keys, the codec endpoint's access, the
	// anonymous limits and the case and campaign tuning (api.go).
	APISettings
}

// Load reads the environment.
func Load() (Config, error) {
	c := Config{
		DatabaseURL:            env("DATABASE_URL", "postgres://hrss:hrss@127.0.0.1:5433/hrss?sslmode=disable"),
		TemporalAddress:        env("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		TemporalNamespace:      env("TEMPORAL_NAMESPACE", "default"),
		TaskQueue:              env("TEMPORAL_TASK_QUEUE", workflows.DefaultTaskQueue),
		HTTPAddr:               env("HTTP_ADDR", ":8080"),
		TemporalAPIKey:         os.Getenv("TEMPORAL_API_KEY"),
		TemporalTLSCert:        os.Getenv("TEMPORAL_TLS_CERT"),
		TemporalTLSKey:         os.Getenv("TEMPORAL_TLS_KEY"),
		TemporalTLSCA:          os.Getenv("TEMPORAL_TLS_CA"),
		TemporalTLSName:        os.Getenv("TEMPORAL_TLS_SERVER_NAME"),
		TemporalCompression:    env("TEMPORAL_GRPC_COMPRESSION", "none"),
		WorkerMetricsAddr:      env("WORKER_METRICS_ADDR", "127.0.0.1:9091"),
		MetricsAddr:            env("METRICS_ADDR", "127.0.0.1:9090"),
		TemporalUIURL:          env("TEMPORAL_UI_URL", "http://localhost:8233"),
		PickupKey:              os.Getenv("PICKUP_KEY"),
		BootstrapAdminUsername: os.Getenv("BOOTSTRAP_ADMIN_USERNAME"),
		BootstrapAdminPassword: os.Getenv("BOOTSTRAP_ADMIN_PASSWORD"),
		Hash:                   passwords.OWASP,
		StaffSecondFactor:      env("STAFF_SECOND_FACTOR", "required"),
		MobileVerification:     env("MOBILE_VERIFICATION", "required"),
		MigrateDatabaseURL:     os.Getenv("MIGRATE_DATABASE_URL"),
	}
	if c.TemporalCompression != "none" && c.TemporalCompression != "gzip" {
		return c, fmt.Errorf("TEMPORAL_GRPC_COMPRESSION: want none or gzip, got %q", c.TemporalCompression)
	}
	if c.StaffSecondFactor != "required" && c.StaffSecondFactor != "off" {
		return c, fmt.Errorf("STAFF_SECOND_FACTOR: want required or off, got %q", c.StaffSecondFactor)
	}
	if c.MobileVerification != "required" && c.MobileVerification != "off" {
		return c, fmt.Errorf("MOBILE_VERIFICATION: want required or off, got %q", c.MobileVerification)
	}
	var err error
	durations := []struct {
		name string
		dst  *time.Duration
		def  time.Duration
	}{
		{"REVIEW_REMIND_AFTER", &c.ServiceLevel.RemindAfter, workflows.DefaultServiceLevel.RemindAfter},
		{"REVIEW_ESCALATE_AFTER", &c.ServiceLevel.EscalateAfter, workflows.DefaultServiceLevel.EscalateAfter},
		{"REVIEW_EXPIRE_AFTER", &c.ServiceLevel.ExpireAfter, workflows.DefaultServiceLevel.ExpireAfter},
		{"PICKUP_WINDOW", &c.ServiceLevel.PickupWindow, workflows.DefaultServiceLevel.PickupWindow},
		{"APPLICANT_PICKUP_WINDOW", &c.ServiceLevel.ApplicantPickupWindow, workflows.DefaultServiceLevel.ApplicantPickupWindow},
		{"SESSION_TTL", &c.SessionTTL, 8 * time.Hour},
		{"STAFF_IDLE_TIMEOUT", &c.StaffIdleTimeout, 15 * time.Minute},
		{"STAFF_CHANGE_TTL", &c.StaffChangeTTL, workflows.DefaultStaffChangeTTL},
		{"INITIAL_PASSWORD_TTL", &c.InitialPasswordTTL, 7 * 24 * time.Hour},
		{"METRICS_REFRESH", &c.MetricsRefresh, 30 * time.Second},
		{"ANON_ANSWER_FLOOR", &c.AnswerFloor, 500 * time.Millisecond},
		{"INTAKE_SWEEP_EVERY", &c.IntakeSweep.Every, workflows.DefaultIntakeSweepSettings.Every},
		{"INTAKE_SWEEP_AFTER", &c.IntakeSweep.After, workflows.DefaultIntakeSweepSettings.After},
	}
	for _, d := range durations {
		if *d.dst, err = durationEnv(d.name, d.def); err != nil {
			return c, err
		}
	}
	if c.WorkerStickyCache, err = IntEnv("WORKER_STICKY_CACHE_SIZE", 0); err != nil {
		return c, err
	}
	if c.WorkerStickyCache < 0 {
		return c, fmt.Errorf("WORKER_STICKY_CACHE_SIZE must not be negative")
	}
	if c.RegistrationRevision, err = IntEnv("REGISTRATION_REVISION", workflows.RegistrationRevision); err != nil {
		return c, err
	}
	if c.RegistrationRevision < 0 || c.RegistrationRevision > workflows.RegistrationRevision {
		return c, fmt.Errorf("REGISTRATION_REVISION: want 0 to %d, got %d", workflows.RegistrationRevision, c.RegistrationRevision)
	}
	if c.TrustedProxies, err = ParseTrustedProxies(os.Getenv("TRUSTED_PROXIES")); err != nil {
		return c, err
	}
	if c.APISettings, err = loadAPISettings(); err != nil {
		return c, err
	}
	if c.PublicBaseURL, err = PublicBaseURL(); err != nil {
		return c, err
	}
	c.Password, err = passwordSettings()
	return c, err
}

// ParseTrustedProxies reads TRUSTED_PROXIES: comma-separated CIDRs (a bare
// address counts as its own /32 or /128). Empty means no proxy is trusted.
func ParseTrustedProxies(s string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			ip := net.ParseIP(part)
			if ip == nil {
				return nil, fmt.Errorf("TRUSTED_PROXIES: %q is neither an address nor a CIDR", part)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("TRUSTED_PROXIES: %q is not a CIDR", part)
		}
		out = append(out, n)
	}
	return out, nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func durationEnv(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: want a positive duration such as 30m, got %q", name, v)
	}
	return d, nil
}

// IntEnv reads an integer setting.
func IntEnv(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s: want an integer, got %q", name, v)
	}
	return n, nil
}
