package reqid

import (
	"context"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
)

type header map[string]*commonpb.Payload

func (h header) Set(k string, v *commonpb.Payload) { h[k] = v }
func (h header) Get(k string) (*commonpb.Payload, bool) {
	v, ok := h[k]
	return v, ok
}
func (h header) ForEachKey(fn func(string, *commonpb.Payload) error) error {
	for k, v := range h {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

func TestRequestIDRoundTripsThroughHeaders(t *testing.T) {
	h := header{}
	if err := (Propagator{}).Inject(With(context.Background(), "req-42"), h); err != nil {
		t.Fatal(err)
	}
	ctx, err := (Propagator{}).Extract(context.Background(), h)
	if err != nil || From(ctx) != "req-42" {
		t.Fatalf("got %q, %v", From(ctx), err)
	}
	empty := header{}
	if err := (Propagator{}).Inject(context.Background(), empty); err != nil || len(empty) != 0 {
		t.Fatal("no ID, no header")
	}
}

// C3.4(8), item 1 of issue 13: only short, safe request IDs are kept.
func TestClientRequestIDsAreKeptOnlyWhenShortAndSafe_C3_4_8(t *testing.T) {
	for _, ok := range []string{"a", "trace-1.ok_2", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"} {
		if Accept(ok) != ok {
			t.Errorf("%q was replaced", ok)
		}
	}
	for _, bad := range []string{"", string(make([]byte, 65)), "=cmd|' /C calc'!A0", "a b", "a\nb", "é"} {
		got := Accept(bad)
		if got == bad || !Valid(got) {
			t.Errorf("%q: got %q", bad, got)
		}
	}
}
