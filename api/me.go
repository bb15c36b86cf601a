package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/lib/pq"

	"hrss-backoffice/store"
)

// me returns the caller's account, open services and agreement (C4): the
// agreement is in force from approval until deregistration or cancellation.
func (s *server) me(c echo.Context) error {
	p := caller(c)
	ctx := c.Request().Context()
	if p.Kind == "staff" {
		prof, err := store.StaffProfileByID(ctx, s.DB, p.StaffID)
		if err != nil {
			return err
		}
		st := struct {
			ID       string         `json:"id"`
			Username string         `json:"username"`
			Name     string         `json:"name"`
			Roles    pq.StringArray `json:"roles"`
			Office   string         `json:"office"`
		}(prof)
		enrolled, err := s.hasConfirmedFactor(ctx, "staff", p.StaffID)
		if err != nil {
			return err
		}
		mustEnrol, _ := c.Get(mustEnrolKey).(bool)
		return c.JSON(http.StatusOK, map[string]any{"kind": "staff", "staff": st,
			"second_factor": map[string]any{"enrolled": enrolled}, "must_enrol_second_factor": mustEnrol})
	}
	acct, err := store.OwnAccountByID(ctx, s.DB, p.AccountID)
	if err != nil {
		return err
	}
	type service struct {
		Code     string    `json:"code"`
		NameZH   string    `json:"name_zh"`
		NameEN   string    `json:"name_en"`
		Status   string    `json:"status"`
		OpenedAt time.Time `json:"opened_at"`
		// A planned interruption in effect pauses the service for everyone
		// until its end (C2.7).
		InterruptedUntil *time.Time `json:"interrupted_until"`
	}
	open, err := store.AccountServices(ctx, s.DB, p.AccountID)
	if err != nil {
		return err
	}
	services := make([]service, len(open))
	for i, sv := range open {
		services[i] = service(sv)
	}
	agr, err := store.AgreementOf(ctx, s.DB, p.AccountID)
	if err != nil {
		return err
	}
	now := s.now()
	inForce := !now.Before(agr.EffectiveFrom) && (!agr.EffectiveUntil.Valid || now.Before(agr.EffectiveUntil.Time))
	account := map[string]any{"id": acct.ID, "username": acct.Username, "status": acct.Status, "name": acct.Name,
		"mobile": acct.Mobile, "email": acct.Email.String, "address": acct.Address, "opened_at": acct.OpenedAt,
		"password_changed_at": acct.PasswordChangedAt}
	enrolled, err := s.hasConfirmedFactor(ctx, "user", p.AccountID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"kind":          "user",
		"account":       account,
		"second_factor": map[string]any{"enrolled": enrolled},
		"services":      services,
		"agreement": map[string]any{"terms_version": agr.TermsVersion, "channel": agr.Channel, "accepted_at": agr.AcceptedAt,
			"effective_from": agr.EffectiveFrom, "effective_until": nullable(agr.EffectiveUntil.Time, agr.EffectiveUntil.Valid),
			"end_reason": nullable(agr.EndReason.String, agr.EndReason.Valid), "in_force": inForce},
	})
}

func (s *server) currentTerms(c echo.Context) error {
	t, err := store.CurrentTerms(c.Request().Context(), s.DB)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct {
		Version     string    `json:"version"`
		Title       string    `json:"title"`
		Body        string    `json:"body"`
		Summary     string    `json:"summary"`
		EffectiveAt time.Time `json:"effective_at"`
	}(t))
}
