package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/activities"
	"hrss-backoffice/internal/authz"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/store"
	"hrss-backoffice/workflows"
)

// What the applicant does with the follow token after applying: supplement
// the application, withdraw it, pick up the initial password.

// contactChanges validates the contact fields a caller wants to change (nil
// leaves a field as it is) and returns the trimmed values by field name.
func contactChanges(mobile, email, address *string) (map[string]string, []validate.FieldError) {
	changes := map[string]string{}
	var details []validate.FieldError
	check := func(field string, v *string, fn func(string) *validate.FieldError) {
		if v == nil {
			return
		}
		if fe := fn(*v); fe != nil {
			details = append(details, *fe)
		}
		changes[field] = strings.TrimSpace(*v)
	}
	check("mobile", mobile, func(v string) *validate.FieldError { return validate.Mobile("mobile", v) })
	check("email", email, func(v string) *validate.FieldError { return validate.Email("email", v) })
	check("address", address, func(v string) *validate.FieldError { return validate.Text("address", v, true, 5, 200) })
	return changes, details
}

// applicantOnly checks the follow token: only the applicant may act here.
func (s *server) applicantOnly(c echo.Context) (string, error) {
	id := c.Param("id")
	acc, err := s.accessTo(c, id)
	if err != nil {
		return "", err
	}
	if acc != applicantAccess {
		return "", errNotFound()
	}
	return id, nil
}

func (s *server) supplement(c echo.Context) error {
	id, err := s.applicantOnly(c)
	if err != nil {
		return err
	}
	var req struct {
		Name    *string `json:"name"`
		Mobile  *string `json:"mobile"`
		Email   *string `json:"email"`
		Address *string `json:"address"`
		Note    string  `json:"note"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	var details []validate.FieldError
	add := func(fe *validate.FieldError) {
		if fe != nil {
			details = append(details, *fe)
		}
	}
	changes, problems := contactChanges(req.Mobile, req.Email, req.Address)
	details = append(details, problems...)
	if req.Name != nil {
		add(validate.PersonName("name", *req.Name))
		changes["name"] = strings.TrimSpace(*req.Name)
	}
	add(validate.Text("note", req.Note, false, 0, 1000))
	if len(changes) == 0 && strings.TrimSpace(req.Note) == "" {
		details = append(details, validate.FieldError{Field: "body", Code: "empty_supplement",
			MessageZH: "请至少补充一项资料或说明", MessageEN: "supplement at least one field or a note"})
	}
	if len(details) > 0 {
		return errValidation(details...)
	}
	ctx := c.Request().Context()
	supID, keyed, err := s.intakeID(c, "supplement", req)
	if err != nil {
		return err
	}
	repeat := false
	if keyed {
		if repeat, err = store.SupplementExists(ctx, s.DB, supID, id); err != nil {
			return err
		}
	}
	if !repeat {
		status, err := store.ApplicationStatus(ctx, s.DB, id)
		if err != nil {
			return err
		}
		if status != workflows.StatusInfoRequested {
			return newError(http.StatusConflict, "conflict", "该申请当前无需补充资料", "the application is "+status+", not waiting for information")
		}
		if err := store.FileSupplement(ctx, s.DB, supID, id, mustJSON(changes), strings.TrimSpace(req.Note)); err != nil {
			return err
		}
	}
	var res workflows.DecisionResult
	err = s.settleIntake(ctx, "supplement", supID, repeat,
		s.updateIntake(workflows.RegistrationWorkflowID(id), workflows.UpdateSupplement, supID, workflows.SupplementRequest{SupplementID: supID}, &res),
		func(ctx context.Context) {
			// Refused: the stored supplement was never applied; remove it.
			s.discardIntake(ctx, supID, store.DiscardSupplement)
		})
	if err != nil {
		return fromWorkflow(err)
	}
	return c.JSON(http.StatusOK, res)
}

func (s *server) withdraw(c echo.Context) error {
	id, err := s.applicantOnly(c)
	if err != nil {
		return err
	}
	res, err := s.update(c.Request().Context(), id, workflows.UpdateWithdraw, workflows.WithdrawRequest{Actor: workflows.Actor{Kind: "applicant"}})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// pickUpInitialPassword hands the plain text out exactly once: of a
// counter registration to the reviewer who approved, within the pickup
// window (C2.1); of an online or kiosk one to the applicant, with the
// follow token and a code sent to the verified mobile (applicantPickUp).
func (s *server) pickUpInitialPassword(c echo.Context) error {
	p := caller(c)
	if p == nil && c.Request().Header.Get("X-Follow-Token") != "" {
		return s.applicantPickUp(c)
	}
	if p == nil {
		return errUnauthenticated()
	}
	if !may(c, authz.Console) {
		return errForbidden("staff only", "仅限工作人员")
	}
	id := c.Param("id")
	if !may(c, authz.InitialPasswordPickup) {
		return errForbidden("only the reviewer who approved may pick up the initial password", "仅作出批准决定的审核人员可以领取初始密码")
	}
	out, err := s.pickUpCredential(c, activities.RegistrationPickupKey(id), "account.initial_password_picked_up",
		map[string]any{"application_id": id})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
