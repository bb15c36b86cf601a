package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"hrss-backoffice/activities"
	"hrss-backoffice/store"
)

// Deemed acceptance (C3.5): unless a user rejects a revision in writing,
// the first authenticated use of the services after the revision's notice
// reached the user's inbox and its effective date passed counts as
// acceptance. authenticate calls recordDeemedAcceptance on every
// authenticated request; for the routes listed in servicesUse it records
// the fact once per (account, version) with the request that triggered it.
//
// Cost: with no campaign version in effect it touches no database (the
// list of campaign versions is cached for a few seconds). Otherwise an
// account already settled on every such version is answered from memory;
// only an unsettled account costs one transaction: one statement that looks
// the notice up by its unique operation key and inserts the position, and
// the audit entry of each position it recorded (store.AppendAudit, the one
// audit writer).

// deemedRefresh is how long the list of campaign versions is trusted.
const deemedRefresh = 2 * time.Second

// deemedCacheMax bounds the settled-accounts memory; it is cleared when full.
const deemedCacheMax = 200_000

type deemedCache struct {
	mu       sync.Mutex
	loadedAt time.Time
	versions []store.CampaignVersion
	// settled[account] holds the versions the account has a position on.
	settled map[string][]string
}

var deemedCaches sync.Map // *sqlx.DB → *deemedCache

func deemedCacheFor(db *sqlx.DB) *deemedCache {
	c, _ := deemedCaches.LoadOrStore(db, &deemedCache{settled: map[string][]string{}})
	return c.(*deemedCache)
}

func (d *deemedCache) invalidate() {
	d.mu.Lock()
	d.loadedAt = time.Time{}
	d.mu.Unlock()
}

func (d *deemedCache) settle(account string, versions ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.settled) >= deemedCacheMax {
		d.settled = map[string][]string{}
	}
	for _, v := range versions {
		if !contains(d.settled[account], v) {
			d.settled[account] = append(d.settled[account], v)
		}
	}
}

// due returns the campaign versions in effect on which the account has no
// known position.
func (d *deemedCache) due(ctx context.Context, db *sqlx.DB, account string, now time.Time) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if time.Since(d.loadedAt) > deemedRefresh {
		vs, err := store.CampaignVersions(ctx, db)
		if err != nil {
			return nil, err
		}
		d.versions, d.loadedAt = vs, time.Now()
	}
	var out []string
	for _, v := range d.versions {
		if !now.Before(v.EffectiveAt) && !contains(d.settled[account], v.Version) {
			out = append(out, v.Version)
		}
	}
	return out, nil
}

// servicesUse lists, as "METHOD route", the requests that are "use of the
// services" (C3.5, docs/terms.md): the site's online services a user acts
// through. Nothing else is: reading one's own account, notices, terms,
// requests, cases, sanctions, disclosures and activity record, taking a
// position on the terms, changing the password, reporting a misuse,
// answering a case or appealing, asking to deregister, signing out. The
// site calls GET /v1/me at every sign-in, so a user who signs in to reject
// a revision in force can still reject it. A new route counts as use only
// once it is listed here (deny by default: an unlisted route never takes
// the user's right to reject away).
var servicesUse = map[string]bool{
	http.MethodPatch + " /v1/me":             true, // change one's contact details
	http.MethodPost + " /v1/me/data-changes": true, // ask for a change of registration data
	http.MethodPost + " /v1/me/consents/:id": true, // authorise (or refuse) a disclosure to a department
}

// isServicesUse reports whether the request is use of the services.
func isServicesUse(c echo.Context) bool {
	return servicesUse[c.Request().Method+" "+c.Path()]
}

// recordDeemedAcceptance is called by authenticate once an authenticated
// request has been answered; a listed use that succeeded records. A
// failure is logged and never fails the request.
func (s *server) recordDeemedAcceptance(c echo.Context, p *principal) {
	if p == nil || p.Kind != "user" || p.MustChange || !isServicesUse(c) || c.Response().Status >= http.StatusMultipleChoices {
		return
	}
	ctx := c.Request().Context()
	cache := deemedCacheFor(s.DB)
	versions, err := cache.due(ctx, s.DB, p.AccountID, s.now())
	if err != nil {
		slog.Error("deemed acceptance: campaign versions", "error", err)
		return
	}
	if len(versions) == 0 {
		return
	}
	keys := make([]string, len(versions))
	for i, v := range versions {
		keys[i] = activities.TermsNoticeKey(v, p.AccountID)
	}
	route := c.Request().Method + " " + c.Path()
	var settled []string
	err = inTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		settled = nil
		positions, err := store.RecordDeemedAcceptance(ctx, tx, store.ContinuedUse{AccountID: p.AccountID, Versions: versions,
			NoticeKeys: keys, RequestID: requestID(c), Route: route, SourceIP: c.RealIP()})
		if err != nil {
			return err
		}
		for _, pos := range positions {
			settled = append(settled, pos.Version)
			if !pos.New {
				continue
			}
			if _, err := store.AppendAudit(ctx, tx, store.AuditEntry{OperationKey: "terms/" + pos.Version + "/deemed/" + p.AccountID,
				ActorKind: "user", ActorID: p.AccountID, Action: "terms.deemed_accepted", RecordKind: "account", RecordID: p.AccountID,
				Detail:   map[string]any{"terms_version": pos.Version, "request_route": route},
				SourceIP: c.RealIP(), RequestID: requestID(c)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		slog.Error("deemed acceptance", "error", err)
		return
	}
	cache.settle(p.AccountID, settled...)
}
