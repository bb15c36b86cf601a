package config

import (
	"strings"
	"testing"
	"time"

	"hrss-backoffice/workflows"
)

// The worker's sticky cache size is read from the environment; a bad value
// stops the process at start instead of running with a surprise.
func TestWorkerStickyCacheSetting(t *testing.T) {
	for value, want := range map[string]int{"": 0, "2000": 2000} {
		t.Setenv("WORKER_STICKY_CACHE_SIZE", value)
		c, err := Load()
		if err != nil || c.WorkerStickyCache != want {
			t.Errorf("%q: %d, %v; want %d", value, c.WorkerStickyCache, err, want)
		}
	}
	for _, bad := range []string{"-1", "lots"} {
		t.Setenv("WORKER_STICKY_CACHE_SIZE", bad)
		if _, err := Load(); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Issue 21: the revision of the registration reviews the API starts is
// today's unless a rollout sets an older one; a revision no worker knows
// stops the process at start.
func TestRegistrationRevisionSetting(t *testing.T) {
	for value, want := range map[string]int{"": workflows.RegistrationRevision, "0": 0, "1": 1} {
		t.Setenv("REGISTRATION_REVISION", value)
		c, err := Load()
		if err != nil || c.RegistrationRevision != want {
			t.Errorf("%q: %d, %v; want %d", value, c.RegistrationRevision, err, want)
		}
	}
	for _, bad := range []string{"-1", "2", "latest"} {
		t.Setenv("REGISTRATION_REVISION", bad)
		if _, err := Load(); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The settings the API's handlers and cmd/hrss used to read themselves
// (case service level, campaign tuning, codec and payload keys, anonymous
// limits) are read by Load, under the same names; a malformed value stops
// the process at start.
func TestAPISettingsFromEnvironment(t *testing.T) {
	for name, value := range map[string]string{"CASE_REMIND_AFTER": "500ms", "CASE_ESCALATE_AFTER": "1s",
		"TERMS_CAMPAIGN_PAGE_SIZE": "20", "TERMS_CAMPAIGN_CONCURRENCY": "2", "TERMS_CAMPAIGN_MAX_EVENTS": "150",
		"TERMS_CAMPAIGN_PAGE_TIMEOUT": "5s", "TERMS_CAMPAIGN_DISPATCH_BATCH": "7", "TERMS_CAMPAIGN_CATCH_UP_INTERVAL": "1s",
		"PAYLOAD_KEYS": "k1:a2V5", "CODEC_TOKEN": "tok", "CODEC_ALLOWED_ORIGIN": "http://ui:8233", "ANON_RATE_LIMITS": "off"} {
		t.Setenv(name, value)
	}
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	want := APISettings{PayloadKeys: "k1:a2V5", CodecToken: "tok", CodecAllowedOrigin: "http://ui:8233", AnonRateLimits: "off",
		CaseServiceLevel: workflows.CaseServiceLevel{RemindAfter: 500 * time.Millisecond, EscalateAfter: time.Second},
		Campaign: workflows.CampaignSettings{PageSize: 20, Concurrency: 2, MaxEventsPerRun: 150, PageTimeout: 5 * time.Second,
			DispatchBatch: 7, CatchUpInterval: time.Second}}
	if c.APISettings != want {
		t.Errorf("got %+v, want %+v", c.APISettings, want)
	}
	for name, bad := range map[string]string{"CASE_REMIND_AFTER": "3 days", "TERMS_CAMPAIGN_PAGE_SIZE": "many",
		"TERMS_CAMPAIGN_CATCH_UP_INTERVAL": "-1s"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, bad)
			if _, err := Load(); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%q: %v", name, bad, err)
			}
		})
	}
}
