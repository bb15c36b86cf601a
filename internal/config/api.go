package config

import (
	"os"
	"time"

	"hrss-backoffice/workflows"
)

// APISettings are the settings that cmd/hrss and the API's handlers used
// to read from the environment themselves; they are read here now, with
// the rest (the names did not change).
type APISettings struct {
	// PayloadKeys (PAYLOAD_KEYS, "kid:base64key,...", newest first)
	// encrypt every Temporal payload of the worker and the API; unset means
	// payloads are stored in clear (docs/reliability.md).
	PayloadKeys string
	// CodecToken (CODEC_TOKEN) opens the API's /codec/* to the web UI's
	// codec server without a staff session; CodecAllowedOrigin
	// (CODEC_ALLOWED_ORIGIN, default the origin of TEMPORAL_UI_URL) is the
	// one browser origin that may call /codec/* with credentials.
	CodecToken         string
	CodecAllowedOrigin string
	// AnonRateLimits (ANON_RATE_LIMITS) are the per-address limits of the
	// anonymous routes, parsed by api.ParseAnonLimits ("" the defaults,
	// "off" none).
	AnonRateLimits string
	// CaseServiceLevel: CASE_REMIND_AFTER and CASE_ESCALATE_AFTER; zero
	// fields take the workflow's defaults (3 and 7 days).
	CaseServiceLevel workflows.CaseServiceLevel
	// Campaign: the terms and announcement campaigns' tuning
	// (TERMS_CAMPAIGN_*, docs/terms.md); zero fields take the workflow's
	// defaults.
	Campaign workflows.CampaignSettings
}

// loadAPISettings reads APISettings; a malformed duration or number stops
// the process at start.
func loadAPISettings() (APISettings, error) {
	s := APISettings{
		PayloadKeys:        os.Getenv("PAYLOAD_KEYS"),
		CodecToken:         os.Getenv("CODEC_TOKEN"),
		CodecAllowedOrigin: os.Getenv("CODEC_ALLOWED_ORIGIN"),
		AnonRateLimits:     os.Getenv("ANON_RATE_LIMITS"),
	}
	var err error
	durations := []struct {
		name string
		dst  *time.Duration
	}{
		{"CASE_REMIND_AFTER", &s.CaseServiceLevel.RemindAfter},
		{"CASE_ESCALATE_AFTER", &s.CaseServiceLevel.EscalateAfter},
		{"TERMS_CAMPAIGN_PAGE_TIMEOUT", &s.Campaign.PageTimeout},
		{"TERMS_CAMPAIGN_CATCH_UP_INTERVAL", &s.Campaign.CatchUpInterval},
	}
	for _, d := range durations {
		if *d.dst, err = durationEnv(d.name, 0); err != nil {
			return s, err
		}
	}
	ints := []struct {
		name string
		dst  *int
	}{
		{"TERMS_CAMPAIGN_PAGE_SIZE", &s.Campaign.PageSize},
		{"TERMS_CAMPAIGN_CONCURRENCY", &s.Campaign.Concurrency},
		{"TERMS_CAMPAIGN_MAX_EVENTS", &s.Campaign.MaxEventsPerRun},
		{"TERMS_CAMPAIGN_DISPATCH_BATCH", &s.Campaign.DispatchBatch},
	}
	for _, n := range ints {
		if *n.dst, err = IntEnv(n.name, 0); err != nil {
			return s, err
		}
	}
	return s, nil
}
