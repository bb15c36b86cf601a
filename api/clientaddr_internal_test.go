package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"hrss-backoffice/internal/config"
)

// C3.4(8), item 2 of issue 13: forwarding headers name the client only
// when the peer is a trusted proxy, and only addresses that parse count.
func TestClientAddressTrustsOnlyConfiguredProxies_C3_4_8(t *testing.T) {
	trusted, err := config.ParseTrustedProxies("10.0.0.0/8, 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := config.ParseTrustedProxies("10.0.0.0/33"); err == nil {
		t.Fatal("a bad CIDR was accepted")
	}
	if _, err := config.ParseTrustedProxies("proxy.example"); err == nil {
		t.Fatal("a name was accepted")
	}
	none := clientAddress(nil)
	some := clientAddress(trusted)
	for _, tc := range []struct {
		name, peer, xff, xrealip string
		want, wantNone           string
	}{
		{"no headers", "203.0.113.5:4000", "", "", "203.0.113.5", "203.0.113.5"},
		{"untrusted peer forges", "203.0.113.5:4000", "198.51.100.1", "198.51.100.2", "203.0.113.5", "203.0.113.5"},
		{"trusted proxy forwards", "10.1.2.3:4000", "198.51.100.1", "", "198.51.100.1", "10.1.2.3"},
		{"client prepends a lie", "10.1.2.3:4000", "1.2.3.4, 198.51.100.1", "", "198.51.100.1", "10.1.2.3"},
		{"two trusted hops", "10.1.2.3:4000", "198.51.100.1, 192.0.2.1", "", "198.51.100.1", "10.1.2.3"},
		{"garbage hop", "10.1.2.3:4000", "198.51.100.1, <script>", "", "10.1.2.3", "10.1.2.3"},
		{"X-Real-IP from a proxy", "10.1.2.3:4000", "", "198.51.100.9", "198.51.100.9", "10.1.2.3"},
		{"bad X-Real-IP", "10.1.2.3:4000", "", "x" + string(make([]byte, 3000)), "10.1.2.3", "10.1.2.3"},
		{"IPv6 peer", "[2001:db8::1]:4000", "198.51.100.1", "", "2001:db8::1", "2001:db8::1"},
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if tc.xrealip != "" {
			r.Header.Set("X-Real-IP", tc.xrealip)
		}
		if got := some(r); got != tc.want {
			t.Errorf("%s (trusted proxies): got %q, want %q", tc.name, got, tc.want)
		}
		if got := none(r); got != tc.wantNone {
			t.Errorf("%s (no proxies): got %q, want %q", tc.name, got, tc.wantNone)
		}
	}
}

// C3.4(8), item 3 of issue 13: the hashing slots admit as many as the
// limit, then make the next wait, and refuse it when none comes free.
func TestHashSlotsBoundConcurrentHashing_C3_4_8(t *testing.T) {
	h := newHashSlots(2, 50*time.Millisecond)
	r1, ok1 := h.acquire(context.Background())
	_, ok2 := h.acquire(context.Background())
	if !ok1 || !ok2 {
		t.Fatal("free slots refused")
	}
	start := time.Now()
	if _, ok := h.acquire(context.Background()); ok {
		t.Fatal("a third slot was given")
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Fatal("did not wait before refusing")
	}
	go func() { time.Sleep(10 * time.Millisecond); r1(); r1() }() // a second release is a no-op
	if _, ok := h.acquire(context.Background()); !ok {
		t.Fatal("a released slot was not given to the waiter")
	}
	if len(h.ch) != 2 {
		t.Fatalf("slots in use: %d", len(h.ch))
	}
}
