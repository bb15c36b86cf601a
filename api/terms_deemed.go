package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/lib/pq"

	"hrss-backoffice/activities"
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
// only an unsettled account costs one statement, which looks the notice up
// by its unique operation key and inserts the position.

// deemedRefresh is how long the list of campaign versions is trusted.
const deemedRefresh = 2 * time.Second

// deemedCacheMax bounds the settled-accounts memory; it is cleared when full.
const deemedCacheMax = 200_000

type campaignVersion struct {
	Version     string    `db:"terms_version"`
	EffectiveAt time.Time `db:"effective_at"`
}

type deemedCache struct {
	mu       sync.Mutex
	loadedAt time.Time
	versions []campaignVersion
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
		var vs []campaignVersion
		if err := db.SelectContext(ctx, &vs, `SELECT c.terms_version, v.effective_at
			FROM terms_campaigns c JOIN terms_versions v ON v.version = c.terms_version`); err != nil {
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
	err = s.DB.SelectContext(ctx, &settled, `
		WITH due AS (
			SELECT v.version FROM unnest($2::text[], $3::text[]) AS v(version, notice_key)
			WHERE EXISTS (SELECT 1 FROM notices n WHERE n.operation_key = v.notice_key)
		), ins AS (
			INSERT INTO terms_acceptances (account_id, terms_version, position, channel, request_id, request_route, source_ip)
			SELECT $1, version, 'deemed_accepted', 'continued_use', $4, $5, $6 FROM due
			ON CONFLICT (account_id, terms_version) DO NOTHING
			RETURNING terms_version
		), aud AS (
			INSERT INTO audit_log (operation_key, actor_kind, actor_id, action, record_kind, record_id, detail, source_ip, request_id)
			SELECT 'terms/' || terms_version || '/deemed/' || $1, 'user', $1, 'terms.deemed_accepted', 'account', $1,
			       jsonb_build_object('terms_version', terms_version, 'request_route', $5::text), $6, $4
			FROM ins
			ON CONFLICT (operation_key) DO NOTHING
		)
		SELECT terms_version FROM terms_acceptances WHERE account_id = $1 AND terms_version = ANY($2)
		UNION SELECT terms_version FROM ins`,
		p.AccountID, pq.Array(versions), pq.Array(keys), requestID(c), route, c.RealIP())
	if err != nil {
		slog.Error("deemed acceptance", "error", err)
		return
	}
	cache.settle(p.AccountID, settled...)
}
