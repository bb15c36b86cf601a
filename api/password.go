package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
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

// passwordRoutes: the password lifecycle (C3.3), compromise reports
// (C3.3(3)), the activity record (C3.3(4)) and registration data updates
// (C3.2). Sign-in and the online change are in auth.go.
func (s *server) passwordRoutes(v1 *echo.Group) {
	// Compromise reports: the user, anyone by ID and mobile number, staff
	// on a caller's behalf.
	v1.POST("/me/security-reports", s.reportOwnCompromise, s.allow(authz.SignedIn))
	v1.POST("/security-reports", s.reportCompromiseAnonymously, s.evenAnswer())
	v1.POST("/accounts/:id/security-reports", s.reportCompromiseForCaller, s.allow(authz.Console))
	// In-person reset at a counter and the single pickup of its password.
	v1.POST("/accounts/:id/password-reset", s.resetPassword, s.allow(authz.Console))
	v1.POST("/password-resets/:id/initial-password", s.pickUpResetPassword, s.allow(authz.Console))
	// The activity record.
	v1.GET("/me/activity", s.myActivity, s.allow(authz.SignedIn))
	v1.GET("/accounts/:id/activity", s.accountActivity, s.allow(authz.Console))
	// Registration data updates.
	v1.PATCH("/me", s.updateContact, s.allow(authz.SignedIn))
	v1.POST("/me/data-changes", s.requestDataChange, s.allow(authz.SignedIn))
	v1.GET("/me/data-changes", s.myDataChanges, s.allow(authz.UserArea))
	v1.GET("/data-changes/:id", s.getDataChange, s.allow(authz.SignedIn))
	v1.GET("/review/data-changes", s.dataChangeQueue, s.allow(authz.Console))
	v1.POST("/data-changes/:id/decision", s.decideDataChange, s.allow(authz.Console))
}

func errUsersOnly() *Error {
	return errForbidden("only a user account may do this", "仅个人用户可以办理此项")
}

// ---- Compromise reports (C3.3(3)) ----

type reportRequest struct {
	Description string `json:"description"`
}

// storeReport keeps the report as received, before its workflow sees it;
// accountID is "" when the report matches no account.
func (s *server) storeReport(ctx context.Context, c echo.Context, accountID, channel, staffID, office, description string, subject []byte) (string, error) {
	id := uuid.NewString()
	err := store.AddSecurityReport(ctx, s.DB, store.NewSecurityReport{ID: id, AccountID: accountID, Channel: channel, StaffID: staffID,
		Office: office, Description: strings.TrimSpace(description), SubjectHash: subject, SourceIP: c.RealIP()})
	return id, err
}

// lockForReport starts the account's compromise workflow with the report,
// or adds the report to the running one, and returns once the account is
// locked and every session has ended.
func (s *server) lockForReport(ctx context.Context, accountID, reportID string) (workflows.CompromiseStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	wfID := workflows.CompromiseWorkflowID(accountID)
	opts := client.StartWorkflowOptions{
		ID:                       wfID,
		TaskQueue:                s.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}
	startRecord(&opts, workflows.RunRecord{Kind: workflows.KindCompromise, RecordID: accountID, Clause: "C3.3(3)",
		Console: "/console/accounts/" + accountID}, workflows.StatusLocked)
	op := s.Temporal.NewWithStartWorkflowOperation(opts, workflows.CompromiseLock, workflows.CompromiseInput{AccountID: accountID, ReportID: reportID,
		RemindEvery: s.Password.CompromiseRemindEvery, PickupWindow: s.ServiceLevel.PickupWindow})
	h, err := s.Temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{WorkflowID: wfID, UpdateName: workflows.UpdateReport,
			Args: []any{workflows.ReportRequest{ReportID: reportID}}, WaitForStage: client.WorkflowUpdateStageCompleted},
	})
	var st workflows.CompromiseStatus
	if err == nil {
		err = h.Get(ctx, &st)
	}
	if err != nil {
		return st, fromWorkflow(err)
	}
	return st, nil
}

func reportAccepted(c echo.Context, location, reportID string, st workflows.CompromiseStatus) error {
	if location != "" {
		c.Response().Header().Set(echo.HeaderLocation, location)
	}
	return c.JSON(http.StatusAccepted, map[string]any{"id": reportID, "status": st.Status, "locked_at": st.LockedAt,
		"next_step_zh": "请携带本人有效身份证件，亲自到任一经办服务机构重置密码。",
		"next_step_en": "Bring your identity document to a service office in person to reset the password."})
}

// reportOwnCompromise: a signed-in user reports illegal use or a security
// risk. The account is locked and every session, this one included, ends.
func (s *server) reportOwnCompromise(c echo.Context) error {
	p := caller(c)
	if !may(c, authz.UserArea) {
		return errUsersOnly()
	}
	var req reportRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if fe := validate.Text("description", req.Description, false, 0, 2000); fe != nil {
		return errValidation(*fe)
	}
	ctx := c.Request().Context()
	reportID, err := s.storeReport(ctx, c, p.AccountID, "online", "", "", req.Description, nil)
	if err != nil {
		return err
	}
	st, err := s.lockForReport(ctx, p.AccountID, reportID)
	if err != nil {
		return err
	}
	return reportAccepted(c, "/v1/me/activity", reportID, st)
}

// reportCompromiseForCaller: counter or phone staff report on behalf of a
// user who called or came in.
func (s *server) reportCompromiseForCaller(c echo.Context) error {
	p := caller(c)
	if !may(c, authz.CompromiseReportForCaller) {
		return errForbidden("only a reviewer, supervisor or investigator may report for a caller", "仅审核人员、主管或调查人员可以代为报告")
	}
	var req reportRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if fe := validate.Text("description", req.Description, true, 1, 2000); fe != nil {
		return errValidation(*fe)
	}
	ctx := c.Request().Context()
	accountID := c.Param("id")
	status, err := store.AccountStatus(ctx, s.DB, accountID)
	if err != nil {
		return err
	}
	if status != "active" && status != "suspended" {
		return newError(http.StatusConflict, "account_closed", "该账户已注销", "the account is "+status)
	}
	office, err := store.StaffOffice(ctx, s.DB, p.StaffID)
	if err != nil {
		return err
	}
	reportID, err := s.storeReport(ctx, c, accountID, "staff", p.StaffID, office, req.Description, nil)
	if err != nil {
		return err
	}
	st, err := s.lockForReport(ctx, accountID, reportID)
	if err != nil {
		return err
	}
	return reportAccepted(c, "/v1/accounts/"+accountID+"/activity", reportID, st)
}

// Anonymous reports are limited per source address and per pair of ID
// number and mobile number: reports naming an ID number with a wrong mobile
// number do not spend the quota of the account's owner.
const (
	anonymousReportWindow    = time.Hour
	anonymousReportsPerIP    = 10
	anonymousReportsPerIDNum = 3
)

func subjectHash(idNumber, mobile string) []byte {
	h := sha256.Sum256([]byte("security-report:" + idNumber + ":" + mobile))
	return h[:]
}

// reportCompromiseAnonymously: someone who cannot sign in reports by ID
// number and mobile number. The answer is the same whether or not they
// match an account, and takes the same time: the handler does the same
// work for both (a lookup and the stored report), a match locks the
// account after the answer (lockAfterAnswer), and the route's answers are
// held to a common floor (evenAnswer).
func (s *server) reportCompromiseAnonymously(c echo.Context) error {
	var req struct {
		IDNumber    string `json:"id_number"`
		Mobile      string `json:"mobile"`
		Description string `json:"description"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	idNumber := validate.NormalizeIDNumber(req.IDNumber)
	mobile := strings.TrimSpace(req.Mobile)
	var details []validate.FieldError
	if _, fe := validate.ResidentID("id_number", idNumber, s.now()); fe != nil {
		details = append(details, *fe)
	}
	if fe := validate.Mobile("mobile", mobile); fe != nil {
		details = append(details, *fe)
	}
	if fe := validate.Text("description", req.Description, false, 0, 2000); fe != nil {
		details = append(details, *fe)
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	ctx := c.Request().Context()
	subject := subjectHash(idNumber, mobile)
	recent, err := store.CountRecentReports(ctx, s.DB, c.RealIP(), subject, anonymousReportWindow)
	if err != nil {
		return err
	}
	if recent.ByIP >= anonymousReportsPerIP || recent.BySubject >= anonymousReportsPerIDNum {
		c.Response().Header().Set("Retry-After", "3600")
		return newError(http.StatusTooManyRequests, "too_many_reports", "提交过于频繁，请稍后再试或直接到经办服务机构办理",
			"too many reports; try again later or go to a service office")
	}
	accountID, err := store.OpenAccountByIDNumberAndMobile(ctx, s.DB, idNumber, mobile)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	reportID, err := s.storeReport(ctx, c, accountID, "anonymous", "", "", req.Description, subject)
	if err != nil {
		return err
	}
	if accountID != "" {
		s.lockAfterAnswer(ctx, accountID, reportID)
	}
	return c.JSON(http.StatusAccepted, map[string]any{"status": "received",
		"message_zh": "报告已收到。如信息与账户相符，该账户将被锁定；请携带本人有效身份证件到经办服务机构重置密码。",
		"message_en": "Report received. If the data match an account, it is being locked; reset the password in person at a service office with your identity document."})
}

// ---- In-person reset at a counter (C3.3(2), C3.3(3)) ----

// resetPassword: a reviewer who checked the person's identity document at
// the counter issues a new initial password, picked up once like at
// registration and changed at next sign-in. A locked account is reset
// through its compromise workflow, which lifts the lock.
func (s *server) resetPassword(c echo.Context) error {
	p := caller(c)
	if !may(c, authz.PasswordReset) {
		return errForbidden("only a reviewer or supervisor at a service office may reset a password", "仅经办服务机构的审核人员或主管可以重置密码")
	}
	var req struct {
		IdentityDocument string `json:"identity_document"`
		DocumentChecked  bool   `json:"document_checked"`
		Office           string `json:"office"`
		Note             string `json:"note"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	accountID := c.Param("id")
	acct, err := store.AccountLockOf(ctx, s.DB, accountID)
	if err != nil {
		return err
	}
	staffOffice, err := store.StaffOffice(ctx, s.DB, p.StaffID)
	if err != nil {
		return err
	}
	office := strings.TrimSpace(req.Office)
	if office == "" {
		office = staffOffice
	}
	var details []validate.FieldError
	if !req.DocumentChecked {
		details = append(details, validate.FieldError{Field: "document_checked", Code: "identity_not_checked",
			MessageZH: "须当面核验本人有效身份证件后方可重置密码", MessageEN: "check the person's identity document in person before resetting"})
	}
	if office == "" {
		details = append(details, validate.FieldError{Field: "office", Code: "required",
			MessageZH: "请填写办理的经办服务机构", MessageEN: "name the service office where the reset takes place"})
	} else if fe := validate.Text("office", office, true, 1, 100); fe != nil {
		details = append(details, *fe)
	}
	if fe := validate.Text("note", req.Note, false, 0, 500); fe != nil {
		details = append(details, *fe)
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	if acct.Status != "active" {
		return newError(http.StatusConflict, "account_not_active", "该账户当前状态不允许重置密码", "the account is "+acct.Status)
	}
	resetID, keyed, err := s.intakeID(c, "password_reset", req)
	if err != nil {
		return err
	}
	var res workflows.ResetResult
	repeat := false
	if keyed {
		prev, err := store.PasswordResetOf(ctx, s.DB, resetID, accountID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		repeat = err == nil
		if repeat && prev.Status == "issued" {
			// Carried out already: the same answer again.
			c.Response().Header().Set(echo.HeaderLocation, "/v1/password-resets/"+resetID+"/initial-password")
			return c.JSON(http.StatusCreated, map[string]any{"id": resetID, "account_id": accountID, "status": prev.Status,
				"office": office, "lifted_compromise": prev.Lifted, "pickup_expires_at": prev.Expires.Time})
		}
	}
	if !repeat {
		if err := store.AddPasswordReset(ctx, s.DB, store.NewPasswordReset{ID: resetID, AccountID: accountID, StaffID: p.StaffID,
			Office: office, IdentityDocument: req.IdentityDocument, Note: strings.TrimSpace(req.Note)}); err != nil {
			return err
		}
	}
	call := func(ctx context.Context, _ bool) (err error) {
		if acct.LockedAt.Valid {
			res, err = s.resetLocked(ctx, accountID, resetID, p)
		} else {
			res, err = s.resetUnlocked(ctx, resetID, accountID, office)
		}
		return err
	}
	err = s.settleIntake(ctx, "password_reset", resetID, repeat, call, func(ctx context.Context) {
		// Never carried out: take the document back. A refused reset stays,
		// marked refused by the activity.
		s.discardIntake(ctx, resetID, store.DiscardPasswordReset)
	})
	if err != nil {
		return fromWorkflow(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/password-resets/"+resetID+"/initial-password")
	return c.JSON(http.StatusCreated, map[string]any{"id": resetID, "account_id": accountID, "status": res.Status,
		"office": office, "lifted_compromise": acct.LockedAt.Valid, "pickup_expires_at": res.PickupExpiresAt})
}

// resetLocked sends the reset to the account's compromise workflow (the
// reset's ID is the Update's, so asking again finds the first outcome).
func (s *server) resetLocked(ctx context.Context, accountID, resetID string, p *principal) (workflows.ResetResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	h, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.CompromiseWorkflowID(accountID), UpdateName: workflows.UpdateReset, UpdateID: resetID,
		Args: []any{workflows.ResetRequest{Actor: p.actor(), ResetID: resetID}}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res workflows.ResetResult
	if err == nil {
		err = h.Get(ctx, &res)
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		slog.Error("account locked without a running compromise workflow", "account_id", accountID)
		return res, newError(http.StatusConflict, "compromise_not_running", "该账户的安全锁定流程未在运行，请联系管理员",
			"the account's compromise workflow is not running; ask an operator")
	}
	return res, err
}

// resetUnlocked starts the reset's own workflow, or joins it when it runs
// already (asked again after an unknown outcome: the same Update ID finds
// the first outcome), and waits until the new initial password is issued.
func (s *server) resetUnlocked(ctx context.Context, resetID, accountID, office string) (workflows.ResetResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	wfID := workflows.PasswordResetWorkflowID(resetID)
	opts := client.StartWorkflowOptions{
		ID:                       wfID,
		TaskQueue:                s.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}
	startRecord(&opts, workflows.RunRecord{Kind: workflows.KindPasswordReset, RecordID: resetID, Clause: "C3.3(2)",
		Office: office, Console: "/console/accounts/" + accountID}, workflows.StatusIssuing)
	op := s.Temporal.NewWithStartWorkflowOperation(opts, workflows.PasswordReset, workflows.PasswordResetInput{ResetID: resetID, PickupWindow: s.ServiceLevel.PickupWindow})
	h, err := s.Temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{WorkflowID: wfID, UpdateName: workflows.UpdateAwaitIssued, UpdateID: resetID,
			WaitForStage: client.WorkflowUpdateStageCompleted},
	})
	var res workflows.ResetResult
	if err == nil {
		err = h.Get(ctx, &res)
	}
	return res, err
}

// pickUpResetPassword: the reviewer who reset the password picks the new
// initial password up, once, within the pickup window.
func (s *server) pickUpResetPassword(c echo.Context) error {
	if !may(c, authz.PasswordResetPickup) {
		return errForbidden("only the reviewer who reset the password may pick it up", "仅办理重置的工作人员可以领取初始密码")
	}
	id := c.Param("id")
	out, err := s.pickUpCredential(c, activities.PasswordResetPickupKey(id), "password.reset_picked_up",
		map[string]any{"reset_id": id})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
