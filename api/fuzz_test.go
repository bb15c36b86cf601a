package api_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"hrss-backoffice/api"
	"hrss-backoffice/internal/sealed"
	"hrss-backoffice/internal/testdb"
	"hrss-backoffice/internal/testenv"
)

// unavailableTemporal answers every workflow call with an error, so the
// fuzzer exercises decoding, validation and the handlers' own checks
// without starting workflows.
type unavailableTemporal struct{ client.Client }

var errDown = errors.New("temporal unavailable in this test")

func (unavailableTemporal) ExecuteWorkflow(context.Context, client.StartWorkflowOptions, interface{}, ...interface{}) (client.WorkflowRun, error) {
	return nil, errDown
}

func (unavailableTemporal) UpdateWorkflow(context.Context, client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	return nil, errDown
}

func (unavailableTemporal) SignalWorkflow(context.Context, string, string, string, interface{}) error {
	return errDown
}

func (unavailableTemporal) QueryWorkflow(context.Context, string, string, string, ...interface{}) (converter.EncodedValue, error) {
	return nil, errDown
}

type route struct{ method, path string }

// bodyRoutes lists every operation of the OpenAPI document that takes a
// request body, with path parameters filled in; a new route is fuzzed as
// soon as it is documented.
func bodyRoutes(t testing.TB) []route {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPIDocument)
	if err != nil {
		t.Fatal(err)
	}
	var out []route
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil {
				continue
			}
			p := path
			for _, seg := range strings.Split(path, "/") {
				if strings.HasPrefix(seg, "{") {
					p = strings.Replace(p, seg, "0b6f3a8e-0000-4000-8000-000000000001", 1)
				}
			}
			out = append(out, route{method, p})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path+out[i].method < out[j].path+out[j].method })
	return out
}

// FuzzRequestBodies sends arbitrary bytes as the JSON body of every route
// that takes one, anonymously and as a signed-in administrator: no input
// may cause a 500 or a panic.
func FuzzRequestBodies(f *testing.F) {
	for _, seed := range []string{`{}`, `[]`, `null`, `{"name":1}`, `{"a":{"b":{"c":[[[[]]]]}}}`, "\xff\xfe", `{"id_number":"11010519491231002X"}`,
		`{"decision":"approve"}`, `{"username":"admin","password":"x"}`, strings.Repeat(`[`, 10000)} {
		f.Add(uint8(0), false, []byte(seed))
		f.Add(uint8(3), true, []byte(seed))
	}
	db, _ := testdb.New(f)
	box, err := sealed.NewBox("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")
	if err != nil {
		f.Fatal(err)
	}
	if err := api.BootstrapAdmin(db, testenv.AdminUsername, testenv.AdminPassword, testenv.FastHash); err != nil {
		f.Fatal(err)
	}
	e, err := api.New(api.Deps{DB: db, Temporal: unavailableTemporal{}, Box: box, TaskQueue: "fuzz", Hash: testenv.FastHash,
		IntakeSettleWait: time.Millisecond, AnonLimits: api.NoAnonLimits, AnswerFloor: -1})
	if err != nil {
		f.Fatal(err)
	}
	srv := httptest.NewServer(e)
	f.Cleanup(srv.Close)
	routes := bodyRoutes(f)
	if len(routes) == 0 {
		f.Fatal("no routes with a body in the OpenAPI document")
	}
	// A staff session whose first password is changed reaches the handlers.
	stack := &testenv.Stack{T: f, DB: db, URL: srv.URL}
	admin := stack.Admin()

	f.Fuzz(func(t *testing.T, which uint8, signedIn bool, body []byte) {
		r := routes[int(which)%len(routes)]
		req, err := http.NewRequest(r.method, srv.URL+r.path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if signedIn {
			req.Header.Set("Authorization", "Bearer "+admin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", r.method, r.path, err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%s %s with %q: status %d", r.method, r.path, body, resp.StatusCode)
		}
	})
}
