package workflows

import "time"

// ---- Terms revision campaigns and announcements (C2.7, C3.5) ----

// HrssKind values of the fan-outs.
const (
	KindTermsCampaign = "terms_campaign"
	KindAnnouncement  = "announcement"
	KindServiceChange = "service_change"
)

// Phases of a fan-out, also HrssStatus values (with "paused").
const (
	PhaseSweep    = "sweep"    // writing inbox notices page by page
	PhaseDispatch = "dispatch" // sending the queued channel messages
	PhaseCatchUp  = "catch_up" // users approved on an older version meanwhile
	PhaseDone     = "completed"
	StatusPaused  = "paused"
)

// Update and query names of the fan-outs.
const (
	UpdatePause   = "pause"
	UpdateResume  = "resume"
	QueryProgress = "progress"
)

// AnnouncementWorkflowID is the business ID of an announcement's fan-out.
func AnnouncementWorkflowID(id string) string { return "announcement/" + id }

// CampaignSettings tune a fan-out. Zero fields take DefaultCampaignSettings.
type CampaignSettings struct {
	// PageSize is how many users one page activity handles.
	PageSize int `json:"page_size"`
	// Concurrency is how many pages run at once; the account-ID key space
	// is split into this many shards, each paged in order.
	Concurrency int `json:"concurrency"`
	// MaxEventsPerRun: the run continues as new once its history is this
	// long (the page results in flight are drained first).
	MaxEventsPerRun int `json:"max_events_per_run"`
	// PageTimeout is the start-to-close timeout of one page.
	PageTimeout time.Duration `json:"page_timeout"`
	// DispatchBatch is how many channel messages one dispatch sends.
	DispatchBatch int `json:"dispatch_batch"`
	// CatchUpInterval is the wait between catch-up passes while the
	// revision is not yet effective or applications on an older version
	// are still open.
	CatchUpInterval time.Duration `json:"catch_up_interval"`
}

// DefaultCampaignSettings are the production defaults.
var DefaultCampaignSettings = CampaignSettings{
	PageSize:        5000,
	Concurrency:     4,
	MaxEventsPerRun: 1500,
	PageTimeout:     2 * time.Minute,
	DispatchBatch:   1000,
	CatchUpInterval: time.Hour,
}

// WithDefaults fills zero fields and bounds the others.
func (s CampaignSettings) WithDefaults() CampaignSettings {
	d := DefaultCampaignSettings
	if s.PageSize <= 0 {
		s.PageSize = d.PageSize
	}
	if s.Concurrency <= 0 {
		s.Concurrency = d.Concurrency
	}
	s.Concurrency = min(s.Concurrency, 32)
	if s.MaxEventsPerRun <= 0 {
		s.MaxEventsPerRun = d.MaxEventsPerRun
	}
	// Stay well below 2,000 events: pages in flight still complete after
	// the decision to continue as new.
	s.MaxEventsPerRun = min(s.MaxEventsPerRun, 1700)
	if s.PageTimeout <= 0 {
		s.PageTimeout = d.PageTimeout
	}
	if s.DispatchBatch <= 0 {
		s.DispatchBatch = d.DispatchBatch
	}
	if s.CatchUpInterval <= 0 {
		s.CatchUpInterval = d.CatchUpInterval
	}
	return s
}

// CampaignInput starts (State nil) or continues (State set) the campaign
// of a terms version. PublishedBy is the staff ID of the publisher.
type CampaignInput struct {
	Version     string           `json:"version"`
	PublishedBy string           `json:"published_by,omitempty"`
	Settings    CampaignSettings `json:"settings"`
	State       *CampaignState   `json:"state,omitempty"`
}

// AnnouncementInput starts or continues the fan-out of an announcement.
type AnnouncementInput struct {
	AnnouncementID string `json:"announcement_id"`
	// Window is set for a service interruption naming services: they are
	// paused from its start to its end (C2.7).
	Window   *InterruptionWindow `json:"window,omitempty"`
	Settings CampaignSettings    `json:"settings"`
	State    *CampaignState      `json:"state,omitempty"`
}

// ServiceChangeWorkflowID is the business ID of a service change's fan-out.
func ServiceChangeWorkflowID(id string) string { return "service-change/" + id }

// ServiceChangeInput starts or continues the fan-out of a service change
// (new rules or retirement, C2.7). RequestedBy is the staff ID.
type ServiceChangeInput struct {
	ChangeID    string           `json:"change_id"`
	RequestedBy string           `json:"requested_by,omitempty"`
	Settings    CampaignSettings `json:"settings"`
	State       *CampaignState   `json:"state,omitempty"`
}

// InterruptionWindow is the window of a planned service interruption.
type InterruptionWindow struct {
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
}

// Shard is one slice [Lo, Hi) of the account-ID key space; After is the
// last account ID done (empty: none yet).
type Shard struct {
	Lo    string `json:"lo"`
	Hi    string `json:"hi,omitempty"`
	After string `json:"after,omitempty"`
	Done  bool   `json:"done"`
}

// CampaignCounters are the fan-out's running totals.
type CampaignCounters struct {
	UsersTargeted     int64 `json:"users_targeted"`
	NoticesWritten    int64 `json:"notices_written"`
	MessagesQueued    int64 `json:"messages_queued"`
	MessagesSent      int64 `json:"messages_sent"`
	MessagesFailed    int64 `json:"messages_failed"` // failed attempts (retried)
	MessagesAbandoned int64 `json:"messages_abandoned"`
	Pages             int64 `json:"pages"`
	Dispatches        int64 `json:"dispatches"`
	CatchUps          int64 `json:"catch_ups"`
}

// CampaignState is what a run carries over to the next (continue-as-new).
type CampaignState struct {
	Phase       string           `json:"phase"`
	Paused      bool             `json:"paused"`
	PauseSeq    int              `json:"pause_seq"`
	StartedAt   time.Time        `json:"started_at"`
	EffectiveAt time.Time        `json:"effective_at,omitzero"`
	Shards      []Shard          `json:"shards"`
	CatchUp     *Shard           `json:"catch_up,omitempty"`
	Counters    CampaignCounters `json:"counters"`
	Run         int              `json:"run"`
}

// CampaignProgress is what the progress query returns.
type CampaignProgress struct {
	Kind          string           `json:"kind"`
	Ref           string           `json:"ref"`
	Phase         string           `json:"phase"`
	Paused        bool             `json:"paused"`
	StartedAt     time.Time        `json:"started_at"`
	EffectiveAt   time.Time        `json:"effective_at,omitzero"`
	ShardsTotal   int              `json:"shards_total"`
	ShardsDone    int              `json:"shards_done"`
	Counters      CampaignCounters `json:"counters"`
	Run           int              `json:"run"`
	HistoryLength int              `json:"history_length"`
}

// PauseRequest pauses or resumes a fan-out (terms editor or administrator).
type PauseRequest struct {
	Actor Actor `json:"actor"`
}

// CampaignResult is a fan-out's result.
type CampaignResult struct {
	Counters CampaignCounters `json:"counters"`
	Runs     int              `json:"runs"`
}
