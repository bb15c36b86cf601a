package api

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/lib/pq"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/validate"
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
	v1.POST("/terms", s.draftTerms, s.requireStaff)
	v1.GET("/terms", s.listTerms)
	v1.GET("/terms/:version", s.getTerms)
	v1.POST("/terms/:version/publish", s.publishTerms, s.requireStaff)
	v1.GET("/terms/:version/campaign", s.campaignProgress, s.requireStaff)
	v1.POST("/terms/:version/campaign/pause", s.pauseCampaign(workflows.UpdatePause), s.requireStaff)
	v1.POST("/terms/:version/campaign/resume", s.pauseCampaign(workflows.UpdateResume), s.requireStaff)

	v1.GET("/me/notices", s.myNotices, s.requireUser)
	v1.GET("/me/terms", s.myTerms, s.requireUser)
	v1.GET("/me/terms/:version", s.myTermsVersion, s.requireUser)
	v1.POST("/me/terms/:version/accept", s.acceptTerms, s.requireUser)
	v1.POST("/me/terms/:version/reject", s.rejectTerms, s.requireUser)

	v1.POST("/announcements", s.createAnnouncement, s.requireStaff)
	v1.GET("/announcements", s.listAnnouncements)
}

var termsVersionFormat = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$`)

func fieldError(field, code, zh, en string) validate.FieldError {
	return validate.FieldError{Field: field, Code: code, MessageZH: zh, MessageEN: en}
}

// ---- drafting and publishing (terms editor) ----

func (s *server) draftTerms(c echo.Context) error {
	if err := requireRole(c, workflows.RoleTermsEditor, workflows.RoleAdministrator); err != nil {
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
	var latest sql.NullTime
	if err := s.DB.GetContext(ctx, &latest, `SELECT max(effective_at) FROM terms_versions WHERE published_at IS NOT NULL`); err != nil {
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
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO terms_versions (version, title, body, summary, effective_at, drafted_by)
			VALUES ($1, $2, $3, $4, $5, $6)`, req.Version, strings.TrimSpace(req.Title), req.Body, strings.TrimSpace(req.Summary),
			req.EffectiveAt, p.StaffID); err != nil {
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

type termsRow struct {
	Version     string       `db:"version"`
	Title       string       `db:"title"`
	Body        string       `db:"body"`
	Summary     string       `db:"summary"`
	EffectiveAt time.Time    `db:"effective_at"`
	PublishedAt sql.NullTime `db:"published_at"`
}

func (t termsRow) json() map[string]any {
	return map[string]any{"version": t.Version, "title": t.Title, "body": t.Body, "summary": t.Summary,
		"effective_at": t.EffectiveAt.UTC(), "published_at": nullable(t.PublishedAt.Time.UTC(), t.PublishedAt.Valid)}
}

func (s *server) loadTerms(ctx context.Context, version string) (termsRow, bool, error) {
	var t termsRow
	err := s.DB.GetContext(ctx, &t, `SELECT version, title, body, summary, effective_at, published_at FROM terms_versions WHERE version = $1`, version)
	if errors.Is(err, sql.ErrNoRows) {
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
	if !ok || (!t.PublishedAt.Valid && (caller(c) == nil || !caller(c).hasRole(workflows.RoleTermsEditor, workflows.RoleAdministrator))) {
		return errNotFound()
	}
	return c.JSON(http.StatusOK, t.json())
}

// listTerms lists the versions newest first, without their bodies: the
// published ones to anyone, drafts too to terms editors and
// administrators, who otherwise could only open a draft by its number.
func (s *server) listTerms(c echo.Context) error {
	drafts := caller(c) != nil && caller(c).hasRole(workflows.RoleTermsEditor, workflows.RoleAdministrator)
	type item struct {
		Version     string     `db:"version" json:"version"`
		Title       string     `db:"title" json:"title"`
		Summary     string     `db:"summary" json:"summary"`
		EffectiveAt time.Time  `db:"effective_at" json:"effective_at"`
		PublishedAt *time.Time `db:"published_at" json:"published_at"`
		CreatedAt   time.Time  `db:"created_at" json:"created_at"`
	}
	items := []item{}
	if err := s.DB.SelectContext(c.Request().Context(), &items, `SELECT version, title, summary, effective_at, published_at, created_at
		FROM terms_versions WHERE published_at IS NOT NULL OR $1 ORDER BY created_at DESC, version DESC LIMIT 500`, drafts); err != nil {
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
	if err := requireRole(c, workflows.RoleTermsEditor, workflows.RoleAdministrator); err != nil {
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
	var begun bool
	if err := s.DB.GetContext(ctx, &begun, `SELECT EXISTS (SELECT 1 FROM terms_campaigns WHERE terms_version = $1)`, version); err != nil {
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
	if err := requireRole(c, workflows.RoleTermsEditor, workflows.RoleAdministrator, workflows.RoleAuditor); err != nil {
		return err
	}
	ctx := c.Request().Context()
	version := c.Param("version")
	var row struct {
		Status      string       `db:"status"`
		StartedAt   time.Time    `db:"started_at"`
		Targeted    int64        `db:"users_targeted"`
		Written     int64        `db:"notices_written"`
		Queued      int64        `db:"messages_queued"`
		SweepDoneAt sql.NullTime `db:"sweep_done_at"`
		CompletedAt sql.NullTime `db:"completed_at"`
	}
	err := s.DB.GetContext(ctx, &row, `SELECT status, started_at, users_targeted, notices_written, messages_queued, sweep_done_at, completed_at
		FROM terms_campaigns WHERE terms_version = $1`, version)
	if errors.Is(err, sql.ErrNoRows) {
		// Just published: the workflow has not recorded its start yet.
		if _, derr := s.Temporal.DescribeWorkflowExecution(ctx, workflows.TermsCampaignWorkflowID(version), ""); derr != nil {
			return errNotFound()
		}
		row.Status = "running"
	} else if err != nil {
		return err
	}
	msgs := map[string]int64{"queued": row.Queued, "sent": 0, "failed_attempts": 0, "abandoned": 0}
	var counts []struct {
		Status string `db:"status"`
		N      int64  `db:"n"`
	}
	if err := s.DB.SelectContext(ctx, &counts, `SELECT status, n FROM notification_counts WHERE source = $1`, activities.TermsSource(version)); err != nil {
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
	var byKind []struct {
		Position string `db:"position"`
		N        int64  `db:"n"`
	}
	if err := s.DB.SelectContext(ctx, &byKind, `SELECT position, count(*) AS n FROM terms_acceptances WHERE terms_version = $1 GROUP BY position`, version); err != nil {
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
			var exists bool
			if qerr := s.DB.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM terms_campaigns WHERE terms_version = $1)`, c.Param("version")); qerr == nil && exists {
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

// ---- the user's inbox and position (C2.7, C3.5) ----

func (s *server) myNotices(c echo.Context) error {
	limit, before, err := noticePaging(c)
	if err != nil {
		return err
	}
	rows := []noticeItem{}
	if err := s.DB.SelectContext(c.Request().Context(), &rows, `SELECT `+noticeColumns+`
		FROM notices WHERE account_id = $1 AND ($2::timestamptz IS NULL OR created_at < $2)
		ORDER BY created_at DESC LIMIT $3`, caller(c).AccountID, before, limit); err != nil {
		return err
	}
	return noticePage(c, rows, limit, func(i int) time.Time { return rows[i].CreatedAt })
}

// noticeItem is a notice as an inbox shows it.
type noticeItem struct {
	ID        string    `db:"id" json:"id"`
	Kind      string    `db:"kind" json:"kind"`
	TitleZH   string    `db:"title_zh" json:"title_zh"`
	TitleEN   string    `db:"title_en" json:"title_en"`
	BodyZH    string    `db:"body_zh" json:"body_zh"`
	BodyEN    string    `db:"body_en" json:"body_en"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

const noticeColumns = `id, kind, title_zh, title_en, body_zh, body_en, created_at`

// noticePage answers a page of notices, newest first, with the cursor of
// the next page when this one is full.
func noticePage[T any](c echo.Context, rows []T, limit int, createdAt func(int) time.Time) error {
	out := map[string]any{"notices": rows}
	if len(rows) == limit {
		out["next_before"] = createdAt(len(rows) - 1).UTC().Format(time.RFC3339Nano)
	}
	return c.JSON(http.StatusOK, out)
}

// noticePaging reads an inbox page's limit (default 50) and its "before"
// cursor (the time of the last notice shown; nil for the first page).
func noticePaging(c echo.Context) (int, any, error) {
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	if v := c.QueryParam("before"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return 0, nil, errValidation(fieldError("before", "malformed", "时间格式不正确", "before must be an RFC 3339 time"))
		}
		return limit, t, nil
	}
	return limit, nil, nil
}

type position struct {
	Version     string         `db:"terms_version" json:"version"`
	Position    string         `db:"position" json:"position"`
	Channel     string         `db:"channel" json:"channel"`
	RecordedAt  time.Time      `db:"recorded_at" json:"recorded_at"`
	RequestID   sql.NullString `db:"request_id" json:"-"`
	RequestPath sql.NullString `db:"request_route" json:"-"`
}

func (p position) json() map[string]any {
	out := map[string]any{"version": p.Version, "position": p.Position, "channel": p.Channel, "recorded_at": p.RecordedAt.UTC()}
	if p.RequestID.Valid {
		out["request_id"], out["request_route"] = p.RequestID.String, p.RequestPath.String
	}
	return out
}

// myTerms lists every published version with the caller's position.
func (s *server) myTerms(c echo.Context) error {
	var rows []struct {
		Version     string         `db:"version"`
		Title       string         `db:"title"`
		Summary     string         `db:"summary"`
		EffectiveAt time.Time      `db:"effective_at"`
		Position    sql.NullString `db:"position"`
		RecordedAt  sql.NullTime   `db:"recorded_at"`
		Closure     sql.NullString `db:"deregistration_request_id"`
	}
	if err := s.DB.SelectContext(c.Request().Context(), &rows, `SELECT v.version, v.title, v.summary, v.effective_at, t.position, t.recorded_at,
		r.deregistration_request_id
		FROM terms_versions v LEFT JOIN terms_acceptances t ON t.terms_version = v.version AND t.account_id = $1
		LEFT JOIN terms_rejections r ON r.terms_version = v.version AND r.account_id = $1
		WHERE v.published_at IS NOT NULL ORDER BY v.effective_at DESC`, caller(c).AccountID); err != nil {
		return err
	}
	out := []map[string]any{}
	for _, r := range rows {
		out = append(out, map[string]any{"version": r.Version, "title": r.Title, "summary": r.Summary, "effective_at": r.EffectiveAt.UTC(),
			"position": nullable(r.Position.String, r.Position.Valid), "recorded_at": nullable(r.RecordedAt.Time.UTC(), r.RecordedAt.Valid),
			"deregistration_request_id": nullable(r.Closure.String, r.Closure.Valid)})
	}
	return c.JSON(http.StatusOK, map[string]any{"versions": out})
}

// myTermsVersion is a published version with the caller's position and
// rejection request, if any.
func (s *server) myTermsVersion(c echo.Context) error {
	ctx := c.Request().Context()
	t, ok, err := s.loadTerms(ctx, c.Param("version"))
	if err != nil {
		return err
	}
	if !ok || !t.PublishedAt.Valid {
		return errNotFound()
	}
	out := t.json()
	out["position"] = nil
	var pos position
	err = s.DB.GetContext(ctx, &pos, `SELECT terms_version, position, channel, recorded_at, request_id, request_route
		FROM terms_acceptances WHERE account_id = $1 AND terms_version = $2`, caller(c).AccountID, t.Version)
	if err == nil {
		out["position"] = pos.json()
	} else if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if rej, err := s.loadRejection(ctx, caller(c).AccountID, t.Version); err != nil {
		return err
	} else if rej != nil {
		out["rejection"] = rej
	}
	return c.JSON(http.StatusOK, out)
}

// decidable checks that a user may take a position on a version: it is
// published and newer than the version of the user's agreement.
func (s *server) decidable(ctx context.Context, accountID, version string) (*Error, error) {
	var row struct {
		Published bool `db:"published"`
		Newer     bool `db:"newer"`
	}
	err := s.DB.GetContext(ctx, &row, `SELECT v.published_at IS NOT NULL AS published, v.effective_at > cur.effective_at AS newer
		FROM terms_versions v, agreements g JOIN terms_versions cur ON cur.version = g.terms_version
		WHERE v.version = $2 AND g.account_id = $1`, accountID, version)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !row.Published) {
		return errNotFound(), nil
	}
	if err != nil {
		return nil, err
	}
	if !row.Newer {
		return newError(http.StatusConflict, "accepted_at_registration", "您注册时已同意该版本或更新的版本",
			"you agreed to this version or a newer one when you registered"), nil
	}
	return nil, nil
}

func (s *server) currentPosition(ctx context.Context, q sqlx.QueryerContext, accountID, version string, lock bool) (*position, error) {
	var pos position
	query := `SELECT terms_version, position, channel, recorded_at, request_id, request_route
		FROM terms_acceptances WHERE account_id = $1 AND terms_version = $2`
	if lock {
		query += ` FOR UPDATE`
	}
	err := sqlx.GetContext(ctx, q, &pos, query, accountID, version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &pos, nil
}

// acceptTerms records an explicit acceptance (C3.5). Accepting twice
// changes nothing; a deemed acceptance becomes explicit; a rejection
// stands (409).
func (s *server) acceptTerms(c echo.Context) error {
	ctx := c.Request().Context()
	p := caller(c)
	version := c.Param("version")
	if e, err := s.decidable(ctx, p.AccountID, version); err != nil || e != nil {
		return firstErr(e, err)
	}
	var conflictErr *Error
	var pos *position
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		cur, err := s.currentPosition(ctx, tx, p.AccountID, version, true)
		if err != nil {
			return err
		}
		switch {
		case cur != nil && cur.Position == "rejected":
			conflictErr = newError(http.StatusConflict, "already_rejected", "您已拒绝该版本，并提交了书面申请",
				"you rejected this version and submitted a written request")
			return nil
		case cur != nil && cur.Position == "accepted":
			pos = cur
			return nil
		case cur != nil: // deemed_accepted becomes explicit
			if _, err := tx.ExecContext(ctx, `UPDATE terms_acceptances SET position = 'accepted', channel = 'online', recorded_at = now()
				WHERE account_id = $1 AND terms_version = $2`, p.AccountID, version); err != nil {
				return err
			}
		default:
			if _, err := tx.ExecContext(ctx, `INSERT INTO terms_acceptances (account_id, terms_version, position, channel, request_id, request_route, source_ip)
				VALUES ($1, $2, 'accepted', 'online', $3, $4, $5)`, p.AccountID, version, requestID(c), c.Path(), c.RealIP()); err != nil {
				return err
			}
		}
		if pos, err = s.currentPosition(ctx, tx, p.AccountID, version, false); err != nil {
			return err
		}
		return audit(ctx, tx, c, "terms.accepted", "account", p.AccountID, map[string]any{"terms_version": version})
	})
	if err != nil {
		return err
	}
	if conflictErr != nil {
		return conflictErr
	}
	deemedCacheFor(s.DB).settle(p.AccountID, version)
	return c.JSON(http.StatusOK, pos.json())
}

func firstErr(e *Error, err error) error {
	if err != nil {
		return err
	}
	return e
}

func requestID(c echo.Context) string { return c.Response().Header().Get(echo.HeaderXRequestID) }

// rejectTerms records a rejection together with the user's written
// request (C3.5): the services to cancel, or deregistration. The request is
// the authenticated, stored document; rejecting again returns it.
func (s *server) rejectTerms(c echo.Context) error {
	var req struct {
		Choice    string   `json:"choice"`
		Services  []string `json:"services"`
		Statement string   `json:"statement"`
		Password  string   `json:"password"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := caller(c)
	version := c.Param("version")
	if e, err := s.decidable(ctx, p.AccountID, version); err != nil || e != nil {
		return firstErr(e, err)
	}
	req.Services = dedupe(req.Services)
	var details []validate.FieldError
	switch req.Choice {
	case "cancel_services":
		if len(req.Services) == 0 {
			details = append(details, fieldError("services", "required", "请选择要取消的服务", "choose the services to cancel"))
		}
		var open []string
		if err := s.DB.SelectContext(ctx, &open, `SELECT service_code FROM account_services WHERE account_id = $1 AND status = 'open'`, p.AccountID); err != nil {
			return err
		}
		for i, code := range req.Services {
			if !contains(open, code) {
				details = append(details, fieldError("services."+strconv.Itoa(i), "not_open", "您没有开通该服务："+code, "you have no open service "+code))
			}
		}
	case "deregister":
		if len(req.Services) > 0 {
			details = append(details, fieldError("services", "not_allowed", "注销用户资格时无需选择服务", "deregistration ends every service; list none"))
		}
	}
	if fe := validate.Text("statement", req.Statement, false, 0, 1000); fe != nil {
		details = append(details, *fe)
	}
	// The rejection is the written request that cancels services or
	// deregisters (C3.5): the password signs it, as for any deregistration.
	if fe, err := s.confirmPassword(c, p, req.Password); err != nil {
		return err
	} else if fe != nil {
		details = append(details, *fe)
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	var conflictErr *Error
	var existing bool
	id := uuid.NewString()
	now := s.now().UTC()
	scope := map[string]string{"cancel_services": "services", "deregister": "account"}[req.Choice]
	closure := deregistrationDocument{Type: "hrss.terms_rejection/v1", RequestID: uuid.NewString(), AccountID: p.AccountID,
		Scope: scope, Services: req.Services, Statement: req.Statement, SubmittedAt: now.Format(time.RFC3339Nano),
		Confirmation: "password", TermsVersion: version, RejectionID: id}
	doc, digest, err := newDeregistrationDocument(closure)
	if err != nil {
		return err
	}
	err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		cur, err := s.currentPosition(ctx, tx, p.AccountID, version, true)
		if err != nil {
			return err
		}
		switch {
		case cur != nil && cur.Position == "rejected":
			existing = true
			return nil
		case cur != nil && cur.Position == "accepted":
			conflictErr = newError(http.StatusConflict, "already_accepted", "您已接受该版本；如需取消服务或注销，请另行申请",
				"you accepted this version; cancel services or deregister through their own requests")
			return nil
		case cur != nil:
			conflictErr = newError(http.StatusConflict, "already_deemed_accepted", "您在修订生效后继续使用服务，已视为接受该版本",
				"you kept using the services after the revision took effect, which counts as acceptance")
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO terms_acceptances (account_id, terms_version, position, channel, request_id, request_route, source_ip)
			VALUES ($1, $2, 'rejected', 'online', $3, $4, $5)`, p.AccountID, version, requestID(c), c.Path(), c.RealIP()); err != nil {
			return err
		}
		services := req.Services
		if services == nil {
			services = []string{}
		}
		if err := insertDeregistration(ctx, tx, c, closure, doc, digest, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO terms_rejections (id, account_id, terms_version, choice, services, statement, request_id, source_ip,
			deregistration_request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, id, p.AccountID, version, req.Choice, pq.Array(services),
			strings.TrimSpace(req.Statement), requestID(c), c.RealIP(), closure.RequestID); err != nil {
			return err
		}
		key := activities.TermsSource(version) + "/rejection/" + p.AccountID
		what := map[string][2]string{"cancel_services": {"取消服务：" + strings.Join(services, "、"), "cancel services: " + strings.Join(services, ", ")},
			"deregister": {"注销用户资格", "deregister the account"}}[req.Choice]
		if _, err := tx.ExecContext(ctx, `INSERT INTO notices (id, operation_key, account_id, kind, title_zh, title_en, body_zh, body_en)
			VALUES (gen_random_uuid(), $1, $2, 'terms_rejection_received', $3, $4, $5, $6) ON CONFLICT (operation_key) DO NOTHING`,
			key, p.AccountID, "已收到您对承诺书（版本 "+version+"）的拒绝及书面申请", "We received your rejection of version "+version+" and your written request",
			"申请内容："+what[0], "Your request: "+what[1]); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO notices (id, operation_key, staff_role, kind, title_zh, title_en, body_zh, body_en)
			VALUES (gen_random_uuid(), $1, 'administrator', 'terms_rejection_request', '用户拒绝修订后的承诺书并提交了书面申请',
			'A user rejected the revised terms and submitted a written request', $2, $3) ON CONFLICT (operation_key) DO NOTHING`,
			key+"/staff", "申请编号 "+id, "Request "+id); err != nil {
			return err
		}
		detail := map[string]any{"terms_version": version, "rejection_id": id, "choice": req.Choice, "services": services}
		if err := audit(ctx, tx, c, "terms.rejected", "account", p.AccountID, detail); err != nil {
			return err
		}
		return audit(ctx, tx, c, "terms.cancellation_requested", "terms_rejection", id, detail)
	})
	if violatesUnique(err, "deregistration_one_open_per_account") {
		return newError(http.StatusConflict, "deregistration_pending", "您已有一份正在办理的注销申请", "a deregistration request of yours is already open")
	}
	if isUniqueViolation(err) {
		return newError(http.StatusConflict, "conflict", "您的另一份提交刚刚已记录，请刷新后查看", "another submission of yours was just recorded; reload to see it")
	}
	if err != nil {
		return err
	}
	if conflictErr != nil {
		return conflictErr
	}
	if !existing {
		err := s.settleIntake(ctx, "terms_rejection", closure.RequestID, false, func(ctx context.Context, again bool) error {
			err := s.startClosure(ctx, scope, closure.RequestID, p.AccountID)
			if again {
				return runsAlready(err)
			}
			return err
		}, func(context.Context) {
			// The process never started: take the whole rejection back, so
			// that the user may send it again.
			s.discardRejection(c, id, closure.RequestID, version)
		})
		if err != nil {
			var started *serviceerror.WorkflowExecutionAlreadyStarted
			if errors.As(err, &started) {
				return newError(http.StatusConflict, "deregistration_pending", "您已有一份正在办理的注销申请", "a deregistration request of yours is already open")
			}
			slog.Error("start closure for a terms rejection", "rejection_id", id, "error", err)
			return intakeError(err)
		}
	}
	deemedCacheFor(s.DB).settle(p.AccountID, version)
	rej, err := s.loadRejection(ctx, p.AccountID, version)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/me/terms/"+version)
	status := http.StatusAccepted
	if existing {
		status = http.StatusOK
	}
	return c.JSON(status, rej)
}

// discardRejection takes back a rejection whose closure process did not
// start: the position, the rejection, its notices and the stored request
// (still 'received', which the document guard allows to delete). The audit
// rows stay, with one that says so.
func (s *server) discardRejection(c echo.Context, rejectionID, requestID, version string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	accountID := caller(c).AccountID
	key := activities.TermsSource(version) + "/rejection/" + accountID
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM terms_rejections WHERE id = $1`, []any{rejectionID}},
			{`DELETE FROM deregistration_requests WHERE id = $1 AND status = 'received'`, []any{requestID}},
			{`DELETE FROM terms_acceptances WHERE account_id = $1 AND terms_version = $2 AND position = 'rejected'`, []any{accountID, version}},
			{`DELETE FROM notices WHERE operation_key IN ($1, $1 || '/staff')`, []any{key}},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return err
			}
		}
		return audit(ctx, tx, c, "terms.rejection_discarded", "account", accountID,
			map[string]any{"terms_version": version, "rejection_id": rejectionID, "request_id": requestID})
	})
	if err != nil {
		slog.Error("discard terms rejection", "rejection_id", rejectionID, "error", err)
	}
}

func (s *server) loadRejection(ctx context.Context, accountID, version string) (map[string]any, error) {
	var r struct {
		ID          string         `db:"id"`
		Choice      string         `db:"choice"`
		Services    pq.StringArray `db:"services"`
		Statement   string         `db:"statement"`
		Status      string         `db:"status"`
		SubmittedAt time.Time      `db:"submitted_at"`
		RequestID   sql.NullString `db:"deregistration_request_id"`
	}
	// The status is that of the closure request the rejection started.
	err := s.DB.GetContext(ctx, &r, `SELECT r.id, r.choice, r.services, r.statement, coalesce(d.status, r.status) AS status,
		r.submitted_at, r.deregistration_request_id
		FROM terms_rejections r LEFT JOIN deregistration_requests d ON d.id = r.deregistration_request_id
		WHERE r.account_id = $1 AND r.terms_version = $2`, accountID, version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	services := []string(r.Services)
	if services == nil {
		services = []string{}
	}
	return map[string]any{"id": r.ID, "version": version, "choice": r.Choice, "services": services, "statement": r.Statement,
		"status": r.Status, "submitted_at": r.SubmittedAt.UTC(), "deregistration_request_id": nullable(r.RequestID.String, r.RequestID.Valid)}, nil
}

// ---- announcements (C2.7) ----

func (s *server) createAnnouncement(c echo.Context) error {
	if err := requireRole(c, workflows.RoleAdministrator); err != nil {
		return err
	}
	var req struct {
		Kind     string    `json:"kind"`
		TitleZH  string    `json:"title_zh"`
		TitleEN  string    `json:"title_en"`
		BodyZH   string    `json:"body_zh"`
		BodyEN   string    `json:"body_en"`
		Services []string  `json:"services"`
		StartsAt time.Time `json:"starts_at"`
		EndsAt   time.Time `json:"ends_at"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var details []validate.FieldError
	for _, f := range []struct{ name, v string }{{"title_zh", req.TitleZH}, {"title_en", req.TitleEN}} {
		if fe := validate.Text(f.name, f.v, true, 1, 200); fe != nil {
			details = append(details, *fe)
		}
	}
	if !req.EndsAt.After(req.StartsAt) {
		details = append(details, fieldError("ends_at", "not_after_start", "结束时间须晚于开始时间", "ends_at must be after starts_at"))
	} else if !req.EndsAt.After(s.now()) {
		details = append(details, fieldError("ends_at", "in_the_past", "结束时间已过", "ends_at is in the past"))
	}
	req.Services = dedupe(req.Services)
	if len(req.Services) > 0 {
		var known []string
		if err := s.DB.SelectContext(ctx, &known, `SELECT code FROM services WHERE code = ANY($1)`, pq.Array(req.Services)); err != nil {
			return err
		}
		for i, code := range req.Services {
			if !contains(known, code) {
				details = append(details, fieldError("services."+strconv.Itoa(i), "unknown_service", "不存在该服务："+code, "no such service: "+code))
			}
		}
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	id := uuid.NewString()
	services := req.Services
	if services == nil {
		services = []string{}
	}
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO announcements (id, kind, title_zh, title_en, body_zh, body_en, services, starts_at, ends_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, id, req.Kind, strings.TrimSpace(req.TitleZH), strings.TrimSpace(req.TitleEN),
			req.BodyZH, req.BodyEN, pq.Array(services), req.StartsAt, req.EndsAt, caller(c).StaffID); err != nil {
			return err
		}
		return audit(ctx, tx, c, "announcement.created", "announcement", id, map[string]any{"kind": req.Kind, "services": services})
	})
	if err != nil {
		return err
	}
	var window *workflows.InterruptionWindow
	if req.Kind == "service_interruption" && len(services) > 0 {
		window = &workflows.InterruptionWindow{StartsAt: req.StartsAt.UTC(), EndsAt: req.EndsAt.UTC()}
	}
	wfID := workflows.AnnouncementWorkflowID(id)
	if err := s.startFanout(ctx, wfID, workflows.RunRecord{Kind: workflows.KindAnnouncement, RecordID: id, Clause: "C2.7",
		Console: "/console/terms"}, workflows.Announcement,
		workflows.AnnouncementInput{AnnouncementID: id, Settings: s.campaignSettings(), Window: window}, func(ctx context.Context) {
			if _, derr := s.DB.ExecContext(ctx, `DELETE FROM announcements WHERE id = $1 AND published_at IS NULL`, id); derr != nil {
				slog.Error("discard announcement", "announcement_id", id, "error", derr)
			}
		}); err != nil {
		slog.Error("start announcement", "announcement_id", id, "error", err)
		return intakeError(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/announcements#"+id)
	return c.JSON(http.StatusAccepted, map[string]any{"id": id, "status": "publishing", "workflow_id": wfID, "workflow_url": s.workflowURL(wfID)})
}

// startFanout starts a fan-out workflow (announcement, service change)
// once under its business ID, searchable by kind and phase, and settles the
// start like every intake (api/intake.go): only a refusal runs takeBack; a
// start whose outcome stays unknown keeps the document for the run.
func (s *server) startFanout(ctx context.Context, wfID string, rec workflows.RunRecord, wf, input any, takeBack func(ctx context.Context)) error {
	opts := client.StartWorkflowOptions{
		ID: wfID, TaskQueue: s.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
	}
	startRecord(&opts, rec, workflows.PhaseSweep)
	return s.settleIntake(ctx, rec.Kind, rec.RecordID, false, s.startIntake(opts, wf, input), func(ctx context.Context) {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		takeBack(dctx)
	})
}

// listAnnouncements shows the published announcements whose window has
// not ended, to anyone.
func (s *server) listAnnouncements(c echo.Context) error {
	type ann struct {
		ID          string         `db:"id" json:"id"`
		Kind        string         `db:"kind" json:"kind"`
		TitleZH     string         `db:"title_zh" json:"title_zh"`
		TitleEN     string         `db:"title_en" json:"title_en"`
		BodyZH      string         `db:"body_zh" json:"body_zh"`
		BodyEN      string         `db:"body_en" json:"body_en"`
		Services    pq.StringArray `db:"services" json:"services"`
		StartsAt    time.Time      `db:"starts_at" json:"starts_at"`
		EndsAt      time.Time      `db:"ends_at" json:"ends_at"`
		PublishedAt time.Time      `db:"published_at" json:"published_at"`
	}
	rows := []ann{}
	if err := s.DB.SelectContext(c.Request().Context(), &rows, `SELECT id, kind, title_zh, title_en, body_zh, body_en, services, starts_at, ends_at, published_at
		FROM announcements WHERE published_at IS NOT NULL AND ends_at > now() ORDER BY starts_at, id`); err != nil {
		return err
	}
	for i := range rows {
		if rows[i].Services == nil {
			rows[i].Services = pq.StringArray{}
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"announcements": rows})
}
