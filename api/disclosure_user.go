package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/store"
	"hrss-backoffice/workflows"
)

// What a user sees of the disclosures of their data (C2.3): the requests
// that ask for their consent, their answer, and the disclosures made.

// myConsents lists the requests that ask for the user's consent, open and
// answered.
func (s *server) myConsents(c echo.Context) error {
	rows, err := store.ConsentsOf(c.Request().Context(), s.DB, caller(c).AccountID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"consents": rows})
}

func (s *server) answerConsent(c echo.Context) error {
	var req struct {
		Decision string `json:"decision"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	p := caller(c)
	ctx := c.Request().Context()
	found, err := store.AsksConsentOf(ctx, s.DB, c.Param("id"), p.AccountID)
	if err != nil {
		return err
	}
	if !found {
		return errNotFound()
	}
	var st workflows.DisclosureStatus
	if err := s.updateWorkflow(ctx, workflows.DisclosureWorkflowID(c.Param("id")), workflows.UpdateConsent,
		workflows.ConsentAnswer{Actor: p.actor(), Decision: req.Decision, HTTPRequestID: httpRequestID(c)}, &st); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": c.Param("id"), "status": st.Status})
}

// myDisclosures shows the user every disclosure of their data: who
// received what, when, on which basis. A law request under a secrecy order
// shows once the order has ended.
func (s *server) myDisclosures(c echo.Context) error {
	rows, err := store.DisclosuresTo(c.Request().Context(), s.DB, caller(c).AccountID, s.now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"disclosures": rows})
}
