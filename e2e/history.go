package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	historypb "go.temporal.io/api/history/v1"

	"hrss-backoffice/internal/payloadcodec"
	"hrss-backoffice/internal/testenv"
)

func listRequest(query string) *workflowservice.ListWorkflowExecutionsRequest {
	return &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: query}
}

func history(t *testing.T, s *testenv.Stack, workflowID string) *historypb.History {
	t.Helper()
	it := s.Temporal.GetWorkflowHistory(testenv.Context(t), workflowID, "", false, 0)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", workflowID, err)
		}
		h.Events = append(h.Events, ev)
	}
	// Payloads are stored encrypted (internal/payloadcodec): scan and save
	// them decoded, as an operator with the key would see them, so that a
	// marker cannot hide behind the encryption and committed histories
	// replay without keys.
	if err := payloadcodec.DecodeMessage(testenv.Context(t), s.Codec, h); err != nil {
		t.Fatalf("decode history of %s: %v", workflowID, err)
	}
	return h
}

// AssertNoSecretsInHistory fails if any marker (a name, an ID number, a
// mobile number, a password, a token) appears in the histories, in their
// binary form (payloads as sent) or their JSON form (as the web UI shows).
func AssertNoSecretsInHistory(t *testing.T, s *testenv.Stack, workflowIDs []string, markers ...string) {
	t.Helper()
	for _, id := range workflowIDs {
		h := history(t, s, id)
		if len(h.Events) == 0 {
			t.Fatalf("empty history for %s", id)
		}
		bin, err := proto.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		js, err := protojson.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range markers {
			if m == "" {
				continue
			}
			if bytes.Contains(bin, []byte(m)) || bytes.Contains(js, []byte(m)) {
				t.Errorf("history of %s contains personal data or a secret (%q…)", id, m[:min(len(m), 3)])
			}
		}
	}
}

// SaveHistory writes the run's history to workflows/testdata/histories
// when UPDATE_HISTORIES=1, for the replay tests.
func SaveHistory(t *testing.T, s *testenv.Stack, workflowID, name string) {
	t.Helper()
	if os.Getenv("UPDATE_HISTORIES") != "1" {
		return
	}
	h := history(t, s, workflowID)
	js, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "workflows", "testdata", "histories")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+".json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
}
