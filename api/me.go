package api

import (
	"database/sql"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/lib/pq"
)

// me returns the caller's account, open services and agreement (C4): the
// agreement is in force from approval until deregistration or cancellation.
func (s *server) me(c echo.Context) error {
	p := caller(c)
	ctx := c.Request().Context()
	if p.Kind == "staff" {
		var st struct {
			ID       string         `db:"id" json:"id"`
			Username string         `db:"username" json:"username"`
			Name     string         `db:"name" json:"name"`
			Roles    pq.StringArray `db:"roles" json:"roles"`
			Office   string         `db:"office" json:"office"`
		}
		if err := s.DB.GetContext(ctx, &st, `SELECT id, username, name, roles, office FROM staff WHERE id = $1`, p.StaffID); err != nil {
			return err
		}
		enrolled, err := s.hasConfirmedFactor(ctx, "staff", p.StaffID)
		if err != nil {
			return err
		}
		mustEnrol, _ := c.Get(mustEnrolKey).(bool)
		return c.JSON(http.StatusOK, map[string]any{"kind": "staff", "staff": st,
			"second_factor": map[string]any{"enrolled": enrolled}, "must_enrol_second_factor": mustEnrol})
	}
	var acct struct {
		ID                string         `db:"id" json:"id"`
		Username          string         `db:"username" json:"username"`
		Status            string         `db:"status" json:"status"`
		Name              string         `db:"name" json:"name"`
		Mobile            string         `db:"mobile" json:"mobile"`
		Email             sql.NullString `db:"email" json:"-"`
		Address           string         `db:"address" json:"address"`
		OpenedAt          time.Time      `db:"opened_at" json:"opened_at"`
		PasswordChangedAt time.Time      `db:"password_changed_at" json:"password_changed_at"`
	}
	if err := s.DB.GetContext(ctx, &acct, `SELECT a.id, a.username, a.status, p.name, p.mobile, p.email, p.address, a.opened_at, a.password_changed_at
		FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.id = $1`, p.AccountID); err != nil {
		return err
	}
	type service struct {
		Code     string    `db:"service_code" json:"code"`
		NameZH   string    `db:"name_zh" json:"name_zh"`
		NameEN   string    `db:"name_en" json:"name_en"`
		Status   string    `db:"status" json:"status"`
		OpenedAt time.Time `db:"opened_at" json:"opened_at"`
		// A planned interruption in effect pauses the service for everyone
		// until its end (C2.7).
		InterruptedUntil *time.Time `db:"interrupted_until" json:"interrupted_until"`
	}
	services := []service{}
	if err := s.DB.SelectContext(ctx, &services, `SELECT s.service_code, c.name_zh, c.name_en, s.status, s.opened_at,
		(SELECT max(ends_at) FROM service_pauses sp WHERE sp.service_code = s.service_code AND sp.status = 'in_effect') AS interrupted_until
		FROM account_services s JOIN services c ON c.code = s.service_code WHERE s.account_id = $1 ORDER BY s.service_code`, p.AccountID); err != nil {
		return err
	}
	var agr struct {
		TermsVersion   string         `db:"terms_version"`
		Channel        string         `db:"channel"`
		AcceptedAt     time.Time      `db:"accepted_at"`
		EffectiveFrom  time.Time      `db:"effective_from"`
		EffectiveUntil sql.NullTime   `db:"effective_until"`
		EndReason      sql.NullString `db:"end_reason"`
	}
	if err := s.DB.GetContext(ctx, &agr, `SELECT terms_version, channel, accepted_at, effective_from, effective_until, end_reason
		FROM agreements WHERE account_id = $1`, p.AccountID); err != nil {
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
	var t struct {
		Version     string    `db:"version" json:"version"`
		Title       string    `db:"title" json:"title"`
		Body        string    `db:"body" json:"body"`
		Summary     string    `db:"summary" json:"summary"`
		EffectiveAt time.Time `db:"effective_at" json:"effective_at"`
	}
	if err := s.DB.GetContext(c.Request().Context(), &t, `SELECT version, title, body, summary, effective_at FROM terms_versions
		WHERE published_at IS NOT NULL AND effective_at <= now() ORDER BY effective_at DESC, version DESC LIMIT 1`); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}
