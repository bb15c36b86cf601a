// Package reqid carries the API's request ID into Temporal: the client
// writes it into the workflow and update headers, and workflows pass it on
// to their activities, so one ID ties an HTTP request to the workflow and
// activity log lines it caused. A request ID is random and says nothing
// about the person, so it may travel in headers.
package reqid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"
)

const headerKey = "hrss-request-id"

type ctxKey struct{}

// With returns ctx carrying the request ID.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// From returns the request ID in ctx, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// FromWorkflow returns the request ID that started or last reached the
// workflow, or "".
func FromWorkflow(ctx workflow.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// safe is what a client's X-Request-ID must look like to be kept: short,
// and nothing that a log line, a CSV cell or an index could choke on.
var safe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Valid reports whether a client's request ID may be kept as it is.
func Valid(id string) bool { return safe.MatchString(id) }

// New returns a fresh random request ID (32 hex digits).
func New() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Accept returns the client's ID when it is Valid, else a fresh one.
func Accept(client string) string {
	if Valid(client) {
		return client
	}
	return New()
}

// Propagator is the workflow.ContextPropagator that moves the ID.
type Propagator struct{}

var _ workflow.ContextPropagator = Propagator{}

func write(id string, hw workflow.HeaderWriter) error {
	if id == "" {
		return nil
	}
	p, err := converter.GetDefaultDataConverter().ToPayload(id)
	if err != nil {
		return err
	}
	hw.Set(headerKey, p)
	return nil
}

func read(hr workflow.HeaderReader) (string, error) {
	var id string
	err := hr.ForEachKey(func(k string, v *commonpb.Payload) error {
		if k == headerKey {
			return converter.GetDefaultDataConverter().FromPayload(v, &id)
		}
		return nil
	})
	return id, err
}

// Inject writes the ID of a Go context into outgoing headers.
func (Propagator) Inject(ctx context.Context, hw workflow.HeaderWriter) error {
	return write(From(ctx), hw)
}

// InjectFromWorkflow writes the workflow's ID into outgoing headers.
func (Propagator) InjectFromWorkflow(ctx workflow.Context, hw workflow.HeaderWriter) error {
	return write(FromWorkflow(ctx), hw)
}

// Extract reads the ID into a Go context (activities).
func (Propagator) Extract(ctx context.Context, hr workflow.HeaderReader) (context.Context, error) {
	id, err := read(hr)
	if err != nil || id == "" {
		return ctx, err
	}
	return With(ctx, id), nil
}

// ExtractToWorkflow reads the ID into a workflow context.
func (Propagator) ExtractToWorkflow(ctx workflow.Context, hr workflow.HeaderReader) (workflow.Context, error) {
	id, err := read(hr)
	if err != nil || id == "" {
		return ctx, err
	}
	return workflow.WithValue(ctx, ctxKey{}, id), nil
}
