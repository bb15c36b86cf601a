package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/store"
)

// ---- the user's position on a version: reading it, accepting (C3.5) ----

type position store.TermsPosition

func (p position) json() map[string]any {
	out := map[string]any{"version": p.Version, "position": p.Position, "channel": p.Channel, "recorded_at": p.RecordedAt.UTC()}
	if p.RequestID.Valid {
		out["request_id"], out["request_route"] = p.RequestID.String, p.RequestPath.String
	}
	return out
}

// myTerms lists every published version with the caller's position.
func (s *server) myTerms(c echo.Context) error {
	rows, err := store.TermsOfAccount(c.Request().Context(), s.DB, caller(c).AccountID)
	if err != nil {
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
	sp, err := store.PositionOn(ctx, s.DB, caller(c).AccountID, t.Version, false)
	if err == nil {
		out["position"] = position(sp).json()
	} else if !errors.Is(err, store.ErrNotFound) {
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
	row, err := store.DecidabilityOf(ctx, s.DB, accountID, version)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !row.Published) {
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

func (s *server) currentPosition(ctx context.Context, q store.Q, accountID, version string, lock bool) (*position, error) {
	sp, err := store.PositionOn(ctx, q, accountID, version, lock)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	pos := position(sp)
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
			if err := store.MakeAcceptanceExplicit(ctx, tx, p.AccountID, version); err != nil {
				return err
			}
		default:
			if err := store.RecordOnlinePosition(ctx, tx, store.OnlinePosition{AccountID: p.AccountID, Version: version, Position: "accepted",
				RequestID: requestID(c), Route: c.Path(), SourceIP: c.RealIP()}); err != nil {
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
