package api

// Dual control of staff changes (C1.4, issue 15). Creating a staff member,
// changing roles, office or the active flag, resetting a member's password
// or second factor: while two or more administrators are active, each is a
// request (202, Location /v1/staff-changes/{id}) that a second
// administrator approves or refuses; it expires after STAFF_CHANGE_TTL
// (24 h). While only one administrator is active (the bootstrap) the
// change takes effect at once, marked "sole administrator" in the audit
// log and in the answer. Either way the staff-change workflow is the single
// writer of the change (workflows/staff_change.go): the API stores the
// request, starts the workflow and sends the decision as an Update.
//
// A first password is generated, never chosen: the apply activity seals it
// for a single pickup by the administrator who made the change effective,
// and the answer that made it effective takes it once (initial_password).

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
	"hrss-backoffice/workflows"
)

func (s *server) staffChangeRoutes(v1 *echo.Group) {
	v1.GET("/staff-changes", s.listStaffChanges, s.allow(authz.Console))
	v1.GET("/staff-changes/:id", s.getStaffChange, s.allow(authz.Console))
	v1.POST("/staff-changes/:id/approve", s.approveStaffChange, s.allow(authz.Console), s.requireReauth)
	v1.POST("/staff-changes/:id/refuse", s.refuseStaffChange, s.allow(authz.Console), s.requireReauth)
}

// staffChangeView is a request as the API shows it.
type staffChangeView struct {
	ID          string          `json:"id"`
	Kind        string          `json:"kind"`
	TargetID    string          `json:"target_id"`
	RequestedBy string          `json:"requested_by"`
	SoleAdmin   bool            `json:"sole_administrator"`
	Status      string          `json:"status"`
	Code        string          `json:"outcome_code,omitempty"`
	DecidedBy   *string         `json:"decided_by,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	ExpiresAt   time.Time       `json:"expires_at"`
	DecidedAt   *time.Time      `json:"decided_at,omitempty"`
	Raw         json.RawMessage `json:"-"`
	// From the stored detail: what is asked for (never a password).
	Username string    `json:"username,omitempty"`
	Name     string    `json:"name,omitempty"`
	Roles    *[]string `json:"roles,omitempty"`
	Office   *string   `json:"office,omitempty"`
	Active   *bool     `json:"active,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	// TargetUsername names the member changed (empty for a creation not yet
	// applied).
	TargetUsername string `json:"target_username,omitempty"`
}

// staffChangeViewOf shows a stored request.
func staffChangeViewOf(r store.StaffChange) staffChangeView {
	v := staffChangeView{ID: r.ID, Kind: r.Kind, TargetID: r.TargetID, RequestedBy: r.RequestedBy, SoleAdmin: r.SoleAdmin,
		Status: r.Status, Code: r.Code, DecidedBy: r.DecidedBy, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt,
		DecidedAt: r.DecidedAt, Raw: r.Detail, TargetUsername: r.TargetUsername}
	v.fill()
	return v
}

func (v *staffChangeView) fill() {
	var d activities.StaffChangeDetail
	if json.Unmarshal(v.Raw, &d) == nil {
		v.Username, v.Name, v.Roles, v.Office, v.Active, v.Reason = d.Username, d.Name, d.Roles, d.Office, d.Active, d.Reason
	}
}

func (s *server) loadStaffChange(ctx context.Context, id string) (staffChangeView, error) {
	var v staffChangeView
	if _, err := uuid.Parse(id); err != nil {
		return v, errNotFound()
	}
	r, err := store.StaffChangeByID(ctx, s.DB, id)
	if err != nil {
		return v, err
	}
	return staffChangeViewOf(r), nil
}

// listStaffChanges lists requests, newest first (GET /v1/staff-changes;
// administrator); ?status=pending for the ones waiting.
func (s *server) listStaffChanges(c echo.Context) error {
	if err := authorize(c, authz.StaffChangeDecide); err != nil {
		return err
	}
	status := c.QueryParam("status")
	if status != "" && !slices.Contains([]string{workflows.StaffChangePending, workflows.StaffChangeApplied, workflows.StaffChangeRefused,
		workflows.StaffChangeExpired, workflows.StaffChangeFailed}, status) {
		return errValidation(validate.FieldError{Field: "status", Code: "enum", MessageZH: "状态取值无效",
			MessageEN: "status must be pending, applied, refused, expired or failed"})
	}
	stored, err := store.ListStaffChanges(c.Request().Context(), s.DB, status)
	if err != nil {
		return err
	}
	rows := make([]staffChangeView, len(stored))
	for i, r := range stored {
		rows[i] = staffChangeViewOf(r)
	}
	return c.JSON(http.StatusOK, map[string]any{"staff_changes": rows})
}

func (s *server) getStaffChange(c echo.Context) error {
	if err := authorize(c, authz.StaffChangeDecide); err != nil {
		return err
	}
	v, err := s.loadStaffChange(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"staff_change": v, "workflow_url": s.workflowURL(workflows.StaffChangeWorkflowID(v.ID))})
}

// staffChangeTTL is how long a request waits for a second administrator.
func (s *server) staffChangeTTL() time.Duration {
	if s.StaffChangeTTL > 0 {
		return s.StaffChangeTTL
	}
	return workflows.DefaultStaffChangeTTL
}

// staffChangeResult is what requestStaffChange reports.
type staffChangeResult struct {
	ID      string
	Pending bool // waits for a second administrator (the answer is 202)
	Status  workflows.StaffChangeStatus
	// InitialPassword was taken from its single pickup (create, password).
	InitialPassword string
}

// requestStaffChange stores a request, starts its workflow and, when the
// caller is the sole active administrator, makes it effective at once with
// the caller's own approval. With two or more active administrators it
// returns Pending.
func (s *server) requestStaffChange(c echo.Context, kind, targetID string, detail activities.StaffChangeDetail) (staffChangeResult, error) {
	p := caller(c)
	ctx := c.Request().Context()
	res := staffChangeResult{ID: uuid.NewString()}
	expires := s.now().Add(s.staffChangeTTL()).UTC()
	raw, err := json.Marshal(detail)
	if err != nil {
		return res, err
	}
	var sole bool
	err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		// One request at a time decides whether its requester is the sole
		// administrator: two sent together must not both count as sole.
		if err := store.LockSoleAdministratorCheck(ctx, tx); err != nil {
			return err
		}
		admins, err := store.ActiveAdministratorsForShare(ctx, tx)
		if err != nil {
			return err
		}
		if !slices.Contains(admins, p.StaffID) {
			return errForbidden("only an administrator may change staff", "仅管理员可以修改工作人员")
		}
		sole = len(admins) == 1
		if sole {
			busy, err := store.SoleAdminChangeInProgress(ctx, tx)
			if err != nil {
				return err
			}
			if busy {
				e := newError(http.StatusConflict, "change_in_progress", "另一项工作人员变更正在生效，请稍后重试",
					"another staff change is taking effect; try again shortly")
				e.RetryAfter = 2
				return e
			}
		}
		if err := store.AddStaffChange(ctx, tx, store.NewStaffChange{ID: res.ID, Kind: kind, TargetID: targetID, RequestedBy: p.StaffID,
			SoleAdmin: sole, Detail: raw, ExpiresAt: expires, RequesterRoles: p.Roles, SourceIP: c.RealIP(),
			RequestID: httpRequestID(c)}); err != nil {
			return err
		}
		return audit(ctx, tx, c, "staff_change.requested", "staff_change", res.ID, map[string]any{"kind": kind, "target_id": targetID,
			"sole_administrator": sole})
	})
	if err != nil {
		return res, err
	}
	in := workflows.StaffChangeInput{RequestID: res.ID, RequestedBy: p.StaffID, TargetID: targetID, SoleAdmin: sole, ExpiresAt: expires}
	opts := client.StartWorkflowOptions{
		ID: workflows.StaffChangeWorkflowID(res.ID), TaskQueue: s.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
	}
	startRecord(&opts, workflows.RunRecord{Kind: workflows.KindStaffChange, RecordID: res.ID, Clause: "C1.4",
		Console: "/console/staff-changes"}, workflows.StaffChangePending)
	// Only a refusal marks the request failed; a start whose outcome is
	// unknown keeps it (the run, if it started, owns it), as every intake
	// does (api/intake.go).
	if err := s.settleIntake(ctx, "staff_change", res.ID, false, s.startIntake(opts, workflows.StaffChange, in), func(ctx context.Context) {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if derr := store.FailUnstartedStaffChange(dctx, s.DB, res.ID); derr != nil {
			slog.Error("fail staff change", "staff_change_id", res.ID, "error", derr)
		}
	}); err != nil {
		slog.Error("start staff change", "staff_change_id", res.ID, "error", err)
		return res, intakeError(err)
	}
	if !sole {
		res.Pending = true
		return res, nil
	}
	st, pw, err := s.decideStaffChange(c, res.ID, "approve")
	res.Status, res.InitialPassword = st, pw
	return res, err
}

// decideStaffChange sends the decision to the request's workflow, maps a
// change that could not be applied to its error, and takes a generated
// first password from its single pickup.
func (s *server) decideStaffChange(c echo.Context, id, decision string) (workflows.StaffChangeStatus, string, error) {
	ctx := c.Request().Context()
	p := caller(c)
	var st workflows.StaffChangeStatus
	if err := s.updateWorkflow(ctx, workflows.StaffChangeWorkflowID(id), workflows.UpdateDecideStaffChange, workflows.StaffChangeDecision{
		Actor: p.actor(), Decision: decision, HTTPRequestID: httpRequestID(c)}, &st); err != nil {
		return st, "", err
	}
	if st.Status == workflows.StaffChangeFailed {
		return st, "", staffChangeFailure(st.Code)
	}
	if !st.Pickup {
		return st, "", nil
	}
	pw, err := s.takeStaffPickup(c, id)
	return st, pw, err
}

func staffChangeFailure(code string) error {
	switch code {
	case "username_taken":
		return newError(http.StatusConflict, "username_taken", "该用户名已被使用", "the username is taken")
	case "last_administrator":
		return newError(http.StatusConflict, "last_administrator", "这是最后一位在职管理员，须保留", "this is the last active administrator; keep one")
	case "not_found":
		return errNotFound()
	}
	return newError(http.StatusConflict, "conflict", "该变更未能生效", "the change could not be applied: "+code)
}

// takeStaffPickup hands out a generated first password once, to the
// administrator it was issued to, within its window; the sealed copy is
// destroyed in the same transaction and the pickup is on record.
func (s *server) takeStaffPickup(c echo.Context, requestID string) (string, error) {
	p := caller(c)
	ctx := c.Request().Context()
	key := activities.StaffPickupKey(requestID)
	var plain []byte
	err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		row, err := store.StaffPickupForUpdate(ctx, tx, key)
		if err != nil {
			return err
		}
		if row.IssuedTo != p.StaffID {
			return errForbidden("the first password is issued to the administrator who made the change effective",
				"初始密码仅发放给使变更生效的管理员")
		}
		if row.Ciphertext == nil || !s.now().Before(row.ExpiresAt) {
			if row.PickedUpAt.Valid {
				return newError(http.StatusGone, "already_picked_up", "初始密码已被领取", "the initial password was already picked up")
			}
			return newError(http.StatusGone, "pickup_expired", "领取时限已过，请重新重置密码", "the pickup window has passed; reset the password again")
		}
		plain, err = s.Box.Open(row.Ciphertext, []byte(key))
		if err != nil {
			return fmt.Errorf("open sealed password: %w", err)
		}
		if err := store.DestroyStaffPickup(ctx, tx, key); err != nil {
			return err
		}
		return audit(ctx, tx, c, "staff.initial_password_picked_up", "staff", row.StaffID, map[string]any{"request_id": requestID})
	})
	return string(plain), err
}

// approveStaffChange: a second administrator approves a pending request
// (POST /v1/staff-changes/{id}/approve). Refused (403 four_eyes) from the
// requester, from the member the request changes, and from a member whose
// account the requester changed in the last 30 days (api/foureyes.go); the
// workflow's validator refuses the first two as well.
func (s *server) approveStaffChange(c echo.Context) error {
	return s.decideStaffChangeRoute(c, "approve")
}

// refuseStaffChange: a second administrator refuses a pending request
// (POST /v1/staff-changes/{id}/refuse), with an optional reason that goes to
// the audit log only.
func (s *server) refuseStaffChange(c echo.Context) error {
	return s.decideStaffChangeRoute(c, "refuse")
}

func (s *server) decideStaffChangeRoute(c echo.Context, decision string) error {
	if err := authorize(c, authz.StaffChangeDecide); err != nil {
		return err
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if c.Request().ContentLength != 0 {
		if err := bind(c, &req); err != nil {
			return err
		}
	}
	if fe := validate.Text("reason", req.Reason, false, 0, 500); fe != nil {
		return errValidation(*fe)
	}
	ctx := c.Request().Context()
	v, err := s.loadStaffChange(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	p := caller(c)
	if v.RequestedBy == p.StaffID {
		return newError(http.StatusForbidden, "four_eyes", "提出变更的管理员不得审批自己的请求，请由另一位管理员办理",
			"the administrator who asked for a staff change may not decide it; another administrator must")
	}
	if v.TargetID == p.StaffID {
		return newError(http.StatusForbidden, "four_eyes", "变更涉及您本人的账户，须由另一位管理员审批",
			"the change is to your own account; another administrator must decide it")
	}
	if decision == "approve" {
		if err := s.refuseHandPickedApprover(ctx, v.RequestedBy, p.StaffID); err != nil { // api/foureyes.go
			return err
		}
	}
	if v.Status != workflows.StaffChangePending {
		return newError(http.StatusConflict, "conflict", "该请求已"+v.Status, "the staff change request is "+v.Status)
	}
	_, pw, err := s.decideStaffChange(c, v.ID, decision)
	if err != nil {
		return err
	}
	if decision == "refuse" && strings.TrimSpace(req.Reason) != "" {
		if err := inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
			return audit(ctx, tx, c, "staff_change.refusal_reason", "staff_change", v.ID, map[string]any{"reason": strings.TrimSpace(req.Reason)})
		}); err != nil {
			slog.Error("record refusal reason", "staff_change_id", v.ID, "error", err)
		}
	}
	v, err = s.loadStaffChange(ctx, v.ID)
	if err != nil {
		return err
	}
	out := map[string]any{"staff_change": v}
	if pw != "" {
		out["initial_password"] = pw
	}
	return c.JSON(http.StatusOK, out)
}

// pendingAnswer is the 202 of a change that waits for a second
// administrator.
func (s *server) pendingAnswer(c echo.Context, id string) error {
	v, err := s.loadStaffChange(c.Request().Context(), id)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/staff-changes/"+id)
	return c.JSON(http.StatusAccepted, map[string]any{"staff_change": v})
}

// staffUsername reads a member's username; 404 for an unknown or
// malformed staff ID.
func (s *server) staffUsername(ctx context.Context, id string) (string, error) {
	if _, err := uuid.Parse(id); err != nil {
		return "", errNotFound()
	}
	return store.StaffUsername(ctx, s.DB, id)
}
