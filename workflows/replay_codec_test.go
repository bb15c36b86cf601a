package workflows_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"hrss-backoffice/internal/payloadcodec"
	hrssworker "hrss-backoffice/worker"
)

// The committed histories are plain (saved decoded); a worker whose data
// converter carries the payload codec still replays them, and replays the
// same histories with their payloads encrypted under a known key.
func TestReplayWithPayloadCodec(t *testing.T) {
	codec, err := payloadcodec.Parse(payloadcodec.NewKey("k2") + "," + payloadcodec.NewKey("k1"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no committed histories: %v", err)
	}
	replayer := func() worker.WorkflowReplayer {
		r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: payloadcodec.DataConverter(codec),
			FailureConverter: payloadcodec.FailureConverter(codec)})
		if err != nil {
			t.Fatal(err)
		}
		hrssworker.RegisterWorkflows(r)
		return r
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if err := replayer().ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("plain history with the codec: %v", err)
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			h := &historypb.History{}
			if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, h); err != nil {
				t.Fatal(err)
			}
			if err := proxy.VisitPayloads(context.Background(), h, proxy.VisitPayloadsOptions{SkipSearchAttributes: true,
				Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
					return codec.Encode(ps)
				}}); err != nil {
				t.Fatal(err)
			}
			if err := replayer().ReplayWorkflowHistory(nil, h); err != nil {
				t.Fatalf("encrypted history: %v", err)
			}
			// Without the key the encrypted history does not replay.
			plain := worker.NewWorkflowReplayer()
			hrssworker.RegisterWorkflows(plain)
			if err := plain.ReplayWorkflowHistory(nil, h); err == nil {
				t.Fatal("an encrypted history replayed without the codec: the payloads were not encrypted")
			}
		})
	}
}
