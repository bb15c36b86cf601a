package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
	"hrss-backoffice/workflows"
)

// Terms revisions, their campaigns, the user's position on each version,
// the site inbox, and announcements (C2.7, C3.5).
//
// Roles:
//
//	POST /v1/terms, GET /v1/terms/{v} (drafts)       terms_editor, administrator
//	GET /v1/terms/{v} (published)                     anyone
//	POST /v1/terms/{v}/publish                        terms_editor, administrator
//	GET /v1/terms/{v}/campaign                        terms_editor, administrator, auditor
//	POST /v1/terms/{v}/campaign/pause|resume          terms_editor, administrator (checked by the workflow's validator)
//	GET /v1/me/notices, /v1/me/terms, /v1/me/terms/{v}, POST .../accept|reject   users (not staff)
//	POST /v1/announcements                            administrator
//	GET /v1/announcements                             anyone
func (s *server) termsRoutes(v1 *echo.Group) {
	v1.POST("/terms", s.draftTerms, s.allow(authz.Console))
	v1.GET("/terms", s.listTerms)
	v1.GET("/terms/:version", s.getTerms)
	v1.POST("/terms/:version/publish", s.publishTerms, s.allow(authz.Console))
	v1.GET("/terms/:version/campaign", s.campaignProgress, s.allow(authz.Console))
	v1.POST("/terms/:version/campaign/pause", s.pauseCampaign(workflows.UpdatePause), s.allow(authz.Console))
	v1.POST("/terms/:version/campaign/resume", s.pauseCampaign(workflows.UpdateResume), s.allow(authz.Console))

	v1.GET("/me/notices", s.myNotices, s.allow(authz.UserArea))
	v1.GET("/me/terms", s.myTerms, s.allow(authz.UserArea))
	v1.GET("/me/terms/:version", s.myTermsVersion, s.allow(authz.UserArea))
	v1.POST("/me/terms/:version/accept", s.acceptTerms, s.allow(authz.UserArea))
	v1.POST("/me/terms/:version/reject", s.rejectTerms, s.allow(authz.UserArea))

	v1.POST("/announcements", s.createAnnouncement, s.allow(authz.Console))
	v1.GET("/announcements", s.listAnnouncements)
}

var termsVersionFormat = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$`)

func fieldError(field, code, zh, en string) validate.FieldError {
	return validate.FieldError{Field: field, Code: code, MessageZH: zh, MessageEN: en}
}

// ---- drafting and publishing (terms editor) ----

func (s *server) draftTerms(c echo.Context) error {
	if err := authorize(c, authz.TermsDraft); err != nil {
		return err
	}
	var req struct {
		Version     string    `json:"version"`
		Title       string    `json:"title"`
		Body        string    `json:"body"`
		Summary     string    `json:"summary"`
		EffectiveAt time.Time `json:"effective_at"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var details []validate.FieldError
	if !termsVersionFormat.MatchString(req.Version) || req.Version == "current" {
		details = append(details, fieldError("version", "version_format", "版本号应为1至32位字母、数字或 . _ -",
			"the version must be 1 to 32 letters, digits, '.', '_' or '-'"))
	}
	if fe := validate.Text("title", req.Title, true, 1, 200); fe != nil {
		details = append(details, *fe)
	}
	if strings.TrimSpace(req.Body) == "" {
		details = append(details, fieldError("body", "required", "请填写承诺书正文", "the body is required"))
	}
	if strings.TrimSpace(req.Summary) == "" {
		details = append(details, fieldError("summary", "required", "请说明修订内容", "summarise the changes"))
	}
	latest, err := store.LatestPublishedEffectiveAt(ctx, s.DB)
	if err != nil {
		return err
	}
	if latest.Valid && !req.EffectiveAt.After(latest.Time) {
		details = append(details, fieldError("effective_at", "not_after_current", "生效时间须晚于现行版本的生效时间",
			"the effective date must be after that of every published version"))
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	p := caller(c)
	err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if err := store.DraftTermsVersion(ctx, tx, store.TermsDraft{Version: req.Version, Title: strings.TrimSpace(req.Title), Body: req.Body,
			Summary: strings.TrimSpace(req.Summary), EffectiveAt: req.EffectiveAt, DraftedBy: p.StaffID}); err != nil {
			return err
		}
		return audit(ctx, tx, c, "terms.drafted", "terms", req.Version, map[string]any{"effective_at": req.EffectiveAt})
	})
	if isUniqueViolation(err) {
		return newError(http.StatusConflict, "version_exists", "该版本号已存在", "this version exists already")
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/terms/"+req.Version)
	return c.JSON(http.StatusCreated, map[string]any{"version": req.Version, "title": strings.TrimSpace(req.Title),
		"summary": strings.TrimSpace(req.Summary), "effective_at": req.EffectiveAt.UTC(), "published_at": nil})
}

type termsRow store.Terms

func (t termsRow) json() map[string]any {
	return map[string]any{"version": t.Version, "title": t.Title, "body": t.Body, "summary": t.Summary,
		"effective_at": t.EffectiveAt.UTC(), "published_at": nullable(t.PublishedAt.Time.UTC(), t.PublishedAt.Valid)}
}

func (s *server) loadTerms(ctx context.Context, version string) (termsRow, bool, error) {
	st, err := store.TermsByVersion(ctx, s.DB, version)
	t := termsRow(st)
	if errors.Is(err, store.ErrNotFound) {
		return t, false, nil
	}
	return t, err == nil, err
}

// getTerms shows a published version to anyone, a draft to editors only.
func (s *server) getTerms(c echo.Context) error {
	t, ok, err := s.loadTerms(c.Request().Context(), c.Param("version"))
	if err != nil {
		return err
	}
	if !ok || (!t.PublishedAt.Valid && !may(c, authz.TermsDraftRead)) {
		return errNotFound()
	}
	return c.JSON(http.StatusOK, t.json())
}

// listTerms lists the versions newest first, without their bodies: the
// published ones to anyone, drafts too to terms editors and
// administrators, who otherwise could only open a draft by its number.
func (s *server) listTerms(c echo.Context) error {
	drafts := may(c, authz.TermsDraftRead)
	items, err := store.ListTermsVersions(c.Request().Context(), s.DB, drafts)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// campaignSettings is the campaign's tuning (Deps.Campaign,
// TERMS_CAMPAIGN_*); unset values take the workflow's defaults.
func (s *server) campaignSettings() workflows.CampaignSettings {
	return s.Campaign
}

// publishTerms starts the version's campaign (terms/<version>) once.
// Publishing again starts nothing and answers 200 with the same Location.
func (s *server) publishTerms(c echo.Context) error {
	if err := authorize(c, authz.TermsPublish); err != nil {
		return err
	}
	ctx := c.Request().Context()
	version := c.Param("version")
	t, ok, err := s.loadTerms(ctx, version)
	if err != nil {
		return err
	}
	if !ok {
		return errNotFound()
	}
	location := "/v1/terms/" + version + "/campaign"
	c.Response().Header().Set(echo.HeaderLocation, location)
	begun, err := store.CampaignBegun(ctx, s.DB, version)
	if err != nil {
		return err
	}
	if t.PublishedAt.Valid && !begun {
		// Published before campaigns existed (the seed version): nobody to tell.
		return newError(http.StatusConflict, "already_in_force", "该版本已发布", "this version was published without a campaign")
	}
	if begun {
		return c.JSON(http.StatusOK, map[string]any{"version": version, "status": "already_published", "campaign": location})
	}
	opts := client.StartWorkflowOptions{
		ID:                       workflows.TermsCampaignWorkflowID(version),
		TaskQueue:                s.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}
	startRecord(&opts, workflows.RunRecord{Kind: workflows.KindTermsCampaign, RecordID: version, Clause: "C2.7",
		Console: "/console/terms/" + version}, workflows.PhaseSweep)
	run, err := s.Temporal.ExecuteWorkflow(ctx, opts, workflows.TermsCampaign,
		workflows.CampaignInput{Version: version, PublishedBy: caller(c).StaffID, Settings: s.campaignSettings()})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return c.JSON(http.StatusOK, map[string]any{"version": version, "status": "already_published", "campaign": location})
	}
	if err != nil {
		slog.Error("start terms campaign", "version", version, "error", err)
		return errUnavailable()
	}
	deemedCacheFor(s.DB).invalidate()
	return c.JSON(http.StatusAccepted, map[string]any{"version": version, "status": "publishing", "campaign": location,
		"workflow_id": run.GetID(), "workflow_url": s.workflowURL(run.GetID())})
}

// campaignProgress combines the durable counters (Postgres) with the live
// state of the run (the workflow's progress query).
func (s *server) campaignProgress(c echo.Context) error {
	if err := authorize(c, authz.CampaignProgress); err != nil {
		return err
	}
	ctx := c.Request().Context()
	version := c.Param("version")
	row, err := store.CampaignCountersOf(ctx, s.DB, version)
	if errors.Is(err, store.ErrNotFound) {
		// Just published: the workflow has not recorded its start yet.
		if _, derr := s.Temporal.DescribeWorkflowExecution(ctx, workflows.TermsCampaignWorkflowID(version), ""); derr != nil {
			return errNotFound()
		}
		row.Status = "running"
	} else if err != nil {
		return err
	}
	msgs := map[string]int64{"queued": row.Queued, "sent": 0, "failed_attempts": 0, "abandoned": 0}
	counts, err := store.MessageCounts(ctx, s.DB, activities.TermsSource(version))
	if err != nil {
		return err
	}
	for _, r := range counts {
		key := r.Status
		if key == "attempt_failed" {
			key = "failed_attempts"
		}
		msgs[key] = r.N
	}
	msgs["pending"] = row.Queued - msgs["sent"] - msgs["abandoned"]
	acc := map[string]int64{"accepted": 0, "rejected": 0, "deemed_accepted": 0}
	byKind, err := store.PositionCounts(ctx, s.DB, version)
	if err != nil {
		return err
	}
	for _, r := range byKind {
		acc[r.Position] = r.N
	}
	wfID := workflows.TermsCampaignWorkflowID(version)
	out := map[string]any{"version": version, "status": row.Status, "started_at": row.StartedAt.UTC(),
		"users_targeted": row.Targeted, "notices_written": row.Written, "messages": msgs, "acceptances": acc,
		"sweep_done_at": nullable(row.SweepDoneAt.Time.UTC(), row.SweepDoneAt.Valid),
		"completed_at":  nullable(row.CompletedAt.Time.UTC(), row.CompletedAt.Valid),
		"workflow_id":   wfID, "workflow_url": s.workflowURL(wfID)}
	if !row.CompletedAt.Valid {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if v, err := s.Temporal.QueryWorkflow(qctx, wfID, "", workflows.QueryProgress); err == nil {
			var live workflows.CampaignProgress
			if v.Get(&live) == nil {
				out["live"] = live
				out["phase"], out["paused"] = live.Phase, live.Paused
			}
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *server) pauseCampaign(name string) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 30*time.Second)
		defer cancel()
		wfID := workflows.TermsCampaignWorkflowID(c.Param("version"))
		h, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: wfID, UpdateName: name, Args: []any{workflows.PauseRequest{Actor: caller(c).actor()}},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		var res workflows.CampaignProgress
		if err == nil {
			err = h.Get(ctx, &res)
		}
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			// No campaign, or a completed one.
			if exists, qerr := store.CampaignBegun(ctx, s.DB, c.Param("version")); qerr == nil && exists {
				return newError(http.StatusConflict, "campaign_completed", "该通知活动已完成", "the campaign is completed")
			}
			return errNotFound()
		}
		if err != nil {
			return fromWorkflow(err)
		}
		return c.JSON(http.StatusOK, res)
	}
}
