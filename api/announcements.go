package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/lib/pq"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
	"hrss-backoffice/workflows"
)

// ---- announcements (C2.7) ----

func (s *server) createAnnouncement(c echo.Context) error {
	if err := authorize(c, authz.AnnouncementCreate); err != nil {
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
		known, err := store.KnownServiceCodes(ctx, s.DB, req.Services)
		if err != nil {
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
		if err := store.StoreAnnouncement(ctx, tx, store.NewAnnouncement{ID: id, Kind: req.Kind, TitleZH: strings.TrimSpace(req.TitleZH),
			TitleEN: strings.TrimSpace(req.TitleEN), BodyZH: req.BodyZH, BodyEN: req.BodyEN, Services: services, StartsAt: req.StartsAt,
			EndsAt: req.EndsAt, CreatedBy: caller(c).StaffID}); err != nil {
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
			if derr := store.TakeBackAnnouncement(ctx, s.DB, id); derr != nil {
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
	rows, err := store.CurrentAnnouncements(c.Request().Context(), s.DB)
	if err != nil {
		return err
	}
	for i := range rows {
		if rows[i].Services == nil {
			rows[i].Services = pq.StringArray{}
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"announcements": rows})
}
