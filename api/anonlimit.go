package api

import (
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"hrss-backoffice/store"
)

// Limits of anonymous routes (C3.4(8)): every request to /v1 without a
// session counts against a per-address budget of its bucket. The counter
// lives in Postgres (table anonymous_hits), raised and read in one upsert,
// so every API replica shares it and concurrent requests cannot race past
// it. Documented in docs/security.md under "Anonymous routes".

// Limit is a budget of N requests per fixed window.
type Limit struct {
	N   int
	Per time.Duration
}

// AnonLimits maps a bucket to its limit. A nil map means the defaults; an
// empty map (NoAnonLimits) limits nothing, for tests that make hundreds of
// anonymous requests from one address.
type AnonLimits map[string]Limit

// NoAnonLimits turns the anonymous limiter off.
var NoAnonLimits = AnonLimits{}

// Buckets of anonymous requests.
const (
	BucketRegistration = "registration" // POST /v1/registrations, /v1/verification-codes
	BucketFollow       = "follow"       // reads, supplements and withdrawals with a follow token
	BucketReport       = "report"       // POST /v1/security-reports
	BucketSignIn       = "sign_in"      // POST /v1/sessions, /v1/sessions/restricted, /v1/sessions/second-factor
	BucketPublic       = "public"       // every other anonymous /v1 request
)

// DefaultAnonLimits are the limits per source address.
var DefaultAnonLimits = AnonLimits{
	BucketRegistration: {N: 20, Per: time.Hour},
	BucketFollow:       {N: 300, Per: time.Hour},
	BucketReport:       {N: 10, Per: time.Hour},
	BucketSignIn:       {N: 300, Per: time.Hour},
	BucketPublic:       {N: 3000, Per: time.Hour},
}

// anonBuckets names the bucket of each anonymous route; any other /v1
// route counts in BucketPublic.
var anonBuckets = map[string]string{
	"POST /v1/registrations":                      BucketRegistration,
	"POST /v1/verification-codes":                 BucketRegistration,
	"GET /v1/registrations/:id":                   BucketFollow,
	"POST /v1/registrations/:id/supplement":       BucketFollow,
	"POST /v1/registrations/:id/withdraw":         BucketFollow,
	"POST /v1/registrations/:id/initial-password": BucketFollow,
	"POST /v1/security-reports":                   BucketReport,
	"POST /v1/sessions":                           BucketSignIn,
	"POST /v1/sessions/restricted":                BucketSignIn,
	"POST /v1/sessions/second-factor":             BucketSignIn,
}

// ParseAnonLimits reads ANON_RATE_LIMITS: "bucket=N/duration,..." (for
// example "registration=20/1h,report=10/1h"); buckets not named keep their
// default; "off" turns the limiter off.
func ParseAnonLimits(v string) (AnonLimits, error) {
	out := AnonLimits{}
	for b, l := range DefaultAnonLimits {
		out[b] = l
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return out, nil
	}
	if v == "off" {
		return NoAnonLimits, nil
	}
	for _, part := range strings.Split(v, ",") {
		name, spec, ok := strings.Cut(strings.TrimSpace(part), "=")
		if _, known := DefaultAnonLimits[name]; !ok || !known {
			return nil, fmt.Errorf("ANON_RATE_LIMITS: %q: want bucket=N/duration with a bucket of %v", part, bucketNames())
		}
		n, per, ok := strings.Cut(spec, "/")
		count, err := strconv.Atoi(n)
		d, derr := time.ParseDuration(per)
		if !ok || err != nil || derr != nil || count < 1 || d < time.Second || d > 24*time.Hour {
			return nil, fmt.Errorf("ANON_RATE_LIMITS: %q: want N/duration such as 20/1h (1s to 24h)", part)
		}
		out[name] = Limit{N: count, Per: d}
	}
	return out, nil
}

func bucketNames() []string {
	var out []string
	for b := range DefaultAnonLimits {
		out = append(out, b)
	}
	sort.Strings(out)
	return out
}

// limitAddress is the key of a source address: the IPv4 address, or the
// /64 prefix of an IPv6 address (one subscriber gets a whole /64). Text
// that is not an address shares one key.
func limitAddress(realIP string) string {
	a, err := netip.ParseAddr(realIP)
	if err != nil {
		return "unparsed"
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// limitAnonymous counts every anonymous /v1 request against its bucket and
// answers 429 with Retry-After once the address's budget of the window is
// spent. Signed-in callers are accountable through their session and pass.
func (s *server) limitAnonymous(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if len(s.AnonLimits) == 0 || !strings.HasPrefix(c.Request().URL.Path, "/v1/") {
			return next(c)
		}
		bucket, ok := anonBuckets[c.Request().Method+" "+c.Path()]
		if !ok {
			bucket = BucketPublic
		}
		// A signed-in user still counts on registration and the report,
		// whose answers tell whether an ID number is known; staff (the
		// counter registering many people from one address) do not.
		if p := caller(c); p != nil && (p.Kind == "staff" || (bucket != BucketRegistration && bucket != BucketReport)) {
			return next(c)
		}
		lim, ok := s.AnonLimits[bucket]
		if !ok {
			return next(c)
		}
		now := s.now()
		start := now.Truncate(lim.Per)
		hits, err := store.CountAnonymousHit(c.Request().Context(), s.DB, bucket, limitAddress(c.RealIP()), start.UTC())
		if err != nil {
			return err // fail closed: no count, no service
		}
		if hits > lim.N {
			retry := int(start.Add(lim.Per).Sub(now).Seconds()) + 1
			c.Response().Header().Set("Retry-After", strconv.Itoa(retry))
			return newError(http.StatusTooManyRequests, "too_many_requests",
				"请求过于频繁，请稍后再试；如需办理，可直接到经办服务机构",
				"too many requests from your address; try again later or go to a service office")
		}
		return next(c)
	}
}
