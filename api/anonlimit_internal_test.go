package api

import (
	"strings"
	"testing"
	"time"
)

// C3.4(8): every operation a caller without a session may call (no
// security, the follow token or a restricted token) documents its 429 answer with Retry-After, except the
// health checks that load balancers probe.
func TestAnonymousOperationsDocumentTheLimit_C3_4_8(t *testing.T) {
	doc, _, err := loadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if !strings.HasPrefix(path, "/v1/") || op.Security == nil {
				continue
			}
			anonymous := len(*op.Security) == 0 // no session needed: no security, or a token other than a session's
			for _, req := range *op.Security {
				if _, bearer := req["bearer"]; !bearer {
					anonymous = true
				}
			}
			if !anonymous {
				continue
			}
			n++
			r := op.Responses.Value("429")
			if r == nil || r.Ref != "#/components/responses/TooManyRequests" {
				t.Errorf("%s %s: an anonymous operation without its 429 TooManyRequests answer", method, path)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d anonymous operations found", n)
	}
	if h := doc.Components.Responses["TooManyRequests"]; h == nil || h.Value.Headers["Retry-After"] == nil {
		t.Fatal("TooManyRequests documents no Retry-After")
	}
}

func TestAnonymousLimitSettingsAndAddresses_C3_4_8(t *testing.T) {
	l, err := ParseAnonLimits("registration=5/10m, report=1/1h")
	if err != nil {
		t.Fatal(err)
	}
	if l[BucketRegistration] != (Limit{5, 10 * time.Minute}) || l[BucketReport] != (Limit{1, time.Hour}) ||
		l[BucketPublic] != DefaultAnonLimits[BucketPublic] {
		t.Fatalf("parsed %v", l)
	}
	if l, err := ParseAnonLimits("off"); err != nil || len(l) != 0 {
		t.Fatalf("off: %v %v", l, err)
	}
	for _, bad := range []string{"nope=1/1h", "registration=0/1h", "registration=5", "registration=5/48h", "registration=x/1h"} {
		if _, err := ParseAnonLimits(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for in, want := range map[string]string{
		"203.0.113.7":             "203.0.113.7",
		"::ffff:203.0.113.7":      "203.0.113.7",
		"2001:db8:1:2:aaaa::1":    "2001:db8:1:2::/64",
		"2001:db8:1:2:bbbb::9":    "2001:db8:1:2::/64",
		"not an address":          "unparsed",
		strings.Repeat("9", 3000): "unparsed",
		"2001:db8:1:3::1":         "2001:db8:1:3::/64",
	} {
		if got := limitAddress(in); got != want {
			t.Errorf("limitAddress(%.20q) = %q, want %q", in, got, want)
		}
	}
}
