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
