package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/lib/pq"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/internal/apiclient"
	"hrss-backoffice/internal/loadstats"
	"hrss-backoffice/internal/passwords"
	"hrss-backoffice/internal/synthetic"
	"hrss-backoffice/internal/validate"
	"hrss-backoffice/workflows"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

var parallel = loadstats.Parallel

// ---- the bare baseline: the same activities and one update ----

// BareReview has the registration path's shape with nothing inside: one
// activity before the decision, an update whose handler runs a second
// activity, at once, even while the first one runs.
func BareReview(ctx workflow.Context) error {
	ctx, st, err := bareDecision(ctx, false)
	if err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return st.decided && workflow.AllHandlersFinished(ctx) })
}

// bareState: asked once the decide update arrived, decided once its
// activity has run.
type bareState struct{ asked, decided bool }

// bareDecision is what both bare reviews begin with: the decide update,
// whose handler runs an empty activity, and an empty activity before it
// (the checks). afterChecks makes the handler wait for the checks first,
// as a review carries a decision out only once its checks are done.
func bareDecision(ctx workflow.Context, afterChecks bool) (workflow.Context, *bareState, error) {
	opts := workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second}
	ctx = workflow.WithActivityOptions(ctx, opts)
	st, checked := &bareState{}, false
	if err := workflow.SetUpdateHandlerWithOptions(ctx, "decide", func(ctx workflow.Context) (string, error) {
		st.asked = true
		if afterChecks {
			if err := workflow.Await(ctx, func() bool { return checked }); err != nil {
				return "", err
			}
		}
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), BareStep).Get(ctx, nil)
		st.decided = true
		return "approved", err
	}, workflow.UpdateHandlerOptions{Validator: func() error { return nil }}); err != nil {
		return ctx, st, err
	}
	err := workflow.ExecuteActivity(ctx, BareStep).Get(ctx, nil)
	checked = true
	return ctx, st, err
}

// BareReviewShaped is the bare review with the registration review's
// engine-side shape as well: the caller starts it with the same memo and
// search attributes (shapedStart); a decision waits for the checks (the
// review's run loop carries an action out only after AdmitApplication);
// without one waiting, it waits for the decision under a service-level
// timer; it records the outcome in its search attributes and stays open
// under the pickup window's timer, as RegistrationReview (revision 1)
// does. What it leaves out is our own work: HTTP, validation, the
// database, the password's sealing.
func BareReviewShaped(ctx workflow.Context) error {
	ctx, st, err := bareDecision(ctx, true)
	if err != nil {
		return err
	}
	if st.asked {
		err = workflow.Await(ctx, func() bool { return st.decided })
	} else {
		_, err = workflow.AwaitWithTimeout(ctx, 24*time.Hour, func() bool { return st.decided })
	}
	if err != nil {
		return err
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, workflows.SearchKind.ValueSet(workflows.KindRegistration),
		workflows.SearchStatus.ValueSet(workflows.StatusApproved), workflows.SearchSince.ValueSet(workflow.Now(ctx).UTC())); err != nil {
		return err
	}
	return workflow.Sleep(ctx, 72*time.Hour)
}

// shapedStart starts BareReviewShaped with the memo and search attributes
// a registration review starts with.
func shapedStart(e *env, id string) (client.WorkflowRun, error) {
	opts := client.StartWorkflowOptions{ID: id, TaskQueue: e.tq}
	rec := workflows.RunRecord{Kind: workflows.KindRegistration, RecordID: uuid.NewString(), Clause: "C2.1",
		Console: "/console/applications/" + id}
	opts.TypedSearchAttributes, opts.Memo = rec.Search(workflows.StatusPending, time.Now()), rec.Memo()
	return e.tc.ExecuteWorkflow(context.Background(), opts, BareReviewShaped)
}

// BareStep does nothing.
func BareStep(context.Context) error { return nil }

func registerBare(w interface {
	RegisterWorkflow(interface{})
	RegisterActivity(interface{})
}) {
	w.RegisterWorkflow(BareReview)
	w.RegisterWorkflow(BareReviewShaped)
	w.RegisterActivity(BareStep)
}

func benchRegistration(e *env, n, c int) error {
	api := apiclient.New(e.apiURL, c)
	reviewer, err := api.NewReviewer("admin", "Bench-Admin-Pass-1", true)
	if err != nil {
		return err
	}
	ours := loadstats.New()
	cpu0 := readCPU()
	oursTime := parallel(n, c, func(int) {
		_ = ours.Time("complete_registration", func() error {
			var reg struct {
				ID string `json:"id"`
			}
			if err := api.Do("POST", "/v1/registrations", "", synthetic.NewPerson().Registration("social_insurance_query"), &reg); err != nil {
				return err
			}
			return api.Do("POST", "/v1/registrations/"+reg.ID+"/decision", reviewer, map[string]string{"decision": "approve"}, nil)
		})
	})
	cpu1 := readCPU()
	// A bare review started by start, then decided by its update.
	bareRun := func(rec *loadstats.Recorder, name string, start func(id string) error) time.Duration {
		return parallel(n, c, func(int) {
			_ = rec.Time(name, func() error {
				id := name + "/" + uuid.NewString()
				if err := start(id); err != nil {
					return err
				}
				h, err := e.tc.UpdateWorkflow(context.Background(), client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: "decide",
					WaitForStage: client.WorkflowUpdateStageCompleted})
				if err != nil {
					return err
				}
				return h.Get(context.Background(), nil)
			})
		})
	}
	bare, shaped := loadstats.New(), loadstats.New()
	cpu2 := readCPU()
	bareTime := bareRun(bare, "bench-bare", func(id string) error {
		_, err := e.tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: e.tq}, BareReview)
		return err
	})
	cpu3 := readCPU()
	shapedTime := bareRun(shaped, "bench-shaped", func(id string) error {
		_, err := shapedStart(e, id)
		return err
	})
	cpu4 := readCPU()
	if bare.FirstError != nil || ours.FirstError != nil || shaped.FirstError != nil {
		return fmt.Errorf("failures: ours %v; bare %v; shaped %v", ours.FirstError, bare.FirstError, shaped.FirstError)
	}
	o, b, sh := ours.Summaries()[0], bare.Summaries()[0], shaped.Summaries()[0]
	or, br, sr := float64(o.Count)/oursTime.Seconds(), float64(b.Count)/bareTime.Seconds(), float64(sh.Count)/shapedTime.Seconds()
	fmt.Printf("\n## registration throughput (n=%d, c=%d)\n", n, c)
	fmt.Printf("| path | ok | errors | per second | p50 ms | p99 ms |\n|---|---|---|---|---|---|\n")
	fmt.Printf("| complete registration over HTTP | %d | %d | %.1f | %.0f | %.0f |\n", o.Count, o.Errors, or, msf(o.P50), msf(o.P99))
	fmt.Printf("| bare workflow, the review's engine shape (memo and search attributes, timers, upsert) | %d | %d | %.1f | %.0f | %.0f |\n", sh.Count, sh.Errors, sr, msf(sh.P50), msf(sh.P99))
	fmt.Printf("| bare workflow, minimal (2 activities + 1 update) | %d | %d | %.1f | %.0f | %.0f |\n", b.Count, b.Errors, br, msf(b.P50), msf(b.P99))
	fmt.Printf("ratio: %.2f× the shaped bare rate, %.2f× the minimal one (goal ≥ 0.9×)\n", or/sr, or/br)
	printCPU("CPU per registration, by process (from /proc; the bench process holds the API, the worker and the clients)",
		[]string{"complete registration over HTTP", "bare workflow, the review's engine shape", "bare workflow, minimal"},
		[]map[string]float64{cpuPer(cpu0, cpu1, n), cpuPer(cpu3, cpu4, n), cpuPer(cpu2, cpu3, n)})
	return nil
}

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// ---- API latency against a bare handler writing the same row ----

func benchAPI(e *env, n, c int) error {
	// The bare handler: bind, insert the same columns, answer 202.
	bareEcho := echo.New()
	bareEcho.POST("/v1/registrations", func(ctx echo.Context) error {
		var r struct {
			Name         string `json:"name"`
			IDNumber     string `json:"id_number"`
			Mobile       string `json:"mobile"`
			Address      string `json:"address"`
			TermsVersion string `json:"terms_version"`
		}
		if err := ctx.Bind(&r); err != nil {
			return err
		}
		birth, _ := validate.ResidentID("id_number", r.IDNumber, time.Now())
		id := uuid.NewString()
		h := sha256.Sum256([]byte(id))
		if _, err := e.db.ExecContext(ctx.Request().Context(), `INSERT INTO applications (id, status, name, id_number, birth_date,
			mobile, address, channel, services, terms_version, agreed_at, follow_token_hash)
			VALUES ($1, 'submitted', $2, $3, $4, $5, $6, $7, $8, $9, now(), $10)`,
			id, r.Name, r.IDNumber, birth, r.Mobile, r.Address, "online", pq.Array([]string{"social_insurance_query"}), r.TermsVersion, h[:]); err != nil {
			return err
		}
		return ctx.JSON(http.StatusAccepted, map[string]string{"id": id})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: bareEcho}
	go srv.Serve(ln)
	defer srv.Close()

	measure := func(base string) loadstats.Summary {
		api := apiclient.New(base, c)
		rec := loadstats.New()
		parallel(n, c, func(int) {
			_ = rec.Time("post", func() error {
				return api.Do("POST", "/v1/registrations", "", synthetic.NewPerson().Registration("social_insurance_query"), nil)
			})
		})
		return rec.Summaries()[0]
	}
	bare := measure("http://" + ln.Addr().String())
	cpu0 := readCPU()
	ours := measure(e.apiURL)
	cpu1 := readCPU()
	// What the workflow start alone costs on this server at the same
	// concurrency: the part of our latency a bare INSERT does not pay.
	starts := loadstats.New()
	parallel(n, c, func(int) {
		_ = starts.Time("start", func() error {
			_, err := e.tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
				ID: "bench-start/" + uuid.NewString(), TaskQueue: e.tq + "-idle"}, BareReview)
			return err
		})
	})
	st := starts.Summaries()[0]
	// The same start with the started workflow running as ours does: the
	// bare review of the registration review's engine shape (same memo and
	// search attributes) on the worker's queue runs its first activity and
	// waits for a decision under its timer, so the engine does per request
	// what it does for a registration, and the difference is our own work
	// (HTTP, validation, the checks, the intake transaction).
	running := loadstats.New()
	cpu2 := readCPU()
	parallel(n, c, func(int) {
		_ = running.Time("start", func() error {
			_, err := shapedStart(e, "bench-start-running/"+uuid.NewString())
			return err
		})
	})
	rs := running.Summaries()[0]
	cpu3 := readCPU()
	fmt.Printf("\n## API latency: POST /v1/registrations (n=%d, c=%d)\n", n, c)
	fmt.Printf("| handler | ok | errors | p50 ms | p99 ms |\n|---|---|---|---|---|\n")
	fmt.Printf("| hrss API (validation, checks, insert, workflow start) | %d | %d | %.1f | %.1f |\n", ours.Count, ours.Errors, msf(ours.P50), msf(ours.P99))
	fmt.Printf("| bare Echo handler inserting the same row | %d | %d | %.1f | %.1f |\n", bare.Count, bare.Errors, msf(bare.P50), msf(bare.P99))
	fmt.Printf("| workflow start RPC, the bare review of the registration's engine shape running (worker on its queue) | %d | %d | %.1f | %.1f |\n", rs.Count, rs.Errors, msf(rs.P50), msf(rs.P99))
	fmt.Printf("| workflow start RPC alone, no worker (idle queue) | %d | %d | %.1f | %.1f |\n", st.Count, st.Errors, msf(st.P50), msf(st.P99))
	fmt.Printf("ratio: p99 %.2f× the start RPC with the workflow running, %.2f× on an idle queue (goal ≤ 1.2×); %.2f× the bare handler's\n",
		float64(ours.P99)/float64(rs.P99), float64(ours.P99)/float64(st.P99), float64(ours.P99)/float64(bare.P99))
	// Spent while the requests ran, with the started runs' first steps
	// that ran meanwhile (ours: the checks' activity; the bare one's: an
	// empty activity); steps still running at the end are left out.
	printCPU("CPU per request, by process (from /proc)",
		[]string{"POST /v1/registrations", "workflow start RPC, the shaped bare review running"},
		[]map[string]float64{cpuPer(cpu0, cpu1, n), cpuPer(cpu2, cpu3, n)})
	return nil
}

// ---- waiting at scale ----

func heapMiB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse) / (1 << 20)
}

// seedPending tops the queue up to total waiting applications with plain
// rows (their reviews are not running: the queue page and the database are
// what this measures at scale).
func seedPending(e *env, total int) error {
	var have int
	if err := e.db.Get(&have, `SELECT count(*) FROM applications WHERE status = 'pending'`); err != nil {
		return err
	}
	if total <= have {
		return nil
	}
	_, err := e.db.Exec(`INSERT INTO applications (id, status, name, id_number, birth_date, mobile, address, channel, services,
		terms_version, agreed_at, follow_token_hash, submitted_at, queued_at)
		SELECT gen_random_uuid(), 'pending', '待审' || i, 'SEED' || lpad(i::text, 14, '0'), '1990-01-01', '13900000000',
		       '上海市黄浦区', 'online', '{}', '2026-01', now(), '\x00', now() - interval '1 day', now() - (i || ' seconds')::interval
		FROM generate_series($1::int + 1, $2::int) AS i`, have, total)
	return err
}

func benchQueue(e *env, pending, c int) error {
	api := apiclient.New(e.apiURL, c)
	reviewer, err := api.NewReviewer("admin", "Bench-Admin-Pass-1", true)
	if err != nil {
		return err
	}
	fmt.Printf("\n## waiting at scale\n| pending | queue page p50 ms | queue page p99 ms | decision p50 ms | decision p99 ms | heap MiB |\n|---|---|---|---|---|---|\n")
	for _, level := range []int{1000, pending} {
		if err := seedPending(e, level); err != nil {
			return err
		}
		if _, err := e.db.Exec(`ANALYZE applications`); err != nil {
			return err
		}
		qs, ds := queueAndDecisions(api, reviewer, c)
		fmt.Printf("| %d | %.1f | %.1f | %.0f | %.0f | %.1f |\n", level, msf(qs.P50), msf(qs.P99), msf(ds.P50), msf(ds.P99), heapMiB())
	}
	return nil
}

// queueAndDecisions times 200 queue pages and 50 real registrations
// decided at c clients.
func queueAndDecisions(api *apiclient.Client, reviewer string, c int) (loadstats.Summary, loadstats.Summary) {
	q := loadstats.New()
	for range 200 {
		_ = q.Time("queue", func() error { return api.Do("GET", "/v1/review/queue?limit=50", reviewer, nil, nil) })
	}
	const decisions = 50
	ids := make([]string, decisions)
	parallel(decisions, c, func(i int) {
		var reg struct {
			ID string `json:"id"`
		}
		if api.Do("POST", "/v1/registrations", "", synthetic.NewPerson().Registration(), &reg) == nil {
			ids[i-1] = reg.ID
		}
	})
	d := loadstats.New()
	parallel(decisions, c, func(i int) {
		_ = d.Time("decide", func() error {
			return api.Do("POST", "/v1/registrations/"+ids[i-1]+"/decision", reviewer, map[string]string{"decision": "approve"}, nil)
		})
	})
	return q.Summaries()[0], d.Summaries()[0]
}

// benchWaiting is the queue benchmark with live runs: live registrations
// submitted through the API, each a review workflow waiting for its
// decision (timers on the server, the run in the worker's sticky cache),
// against the same measurements with none waiting. The heap is that of
// the process running the worker and the API.
func benchWaiting(e *env, live, c int) error {
	api := apiclient.New(e.apiURL, c)
	reviewer, err := api.NewReviewer("admin", "Bench-Admin-Pass-1", true)
	if err != nil {
		return err
	}
	fmt.Printf("\n## live reviews waiting\n| live reviews waiting | queue page p50 ms | queue page p99 ms | decision p50 ms | decision p99 ms | heap MiB | submitting took |\n|---|---|---|---|---|---|---|\n")
	qs, ds := queueAndDecisions(api, reviewer, c)
	fmt.Printf("| 0 (baseline) | %.1f | %.1f | %.0f | %.0f | %.1f | |\n", msf(qs.P50), msf(qs.P99), msf(ds.P50), msf(ds.P99), heapMiB())
	start := time.Now()
	parallel(live, c, func(int) {
		_ = api.Do("POST", "/v1/registrations", "", synthetic.NewPerson().Registration(), nil)
	})
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var n int
		if err := e.db.Get(&n, `SELECT count(*) FROM applications WHERE status = 'pending'`); err != nil {
			return err
		}
		if n >= live {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d reviews reached pending", n, live)
		}
		time.Sleep(time.Second)
	}
	took := time.Since(start)
	qs, ds = queueAndDecisions(api, reviewer, c)
	fmt.Printf("| %d | %.1f | %.1f | %.0f | %.0f | %.1f | %.0f s |\n", live, msf(qs.P50), msf(qs.P99), msf(ds.P50), msf(ds.P99), heapMiB(), took.Seconds())
	return nil
}

// ---- password hashing ----

func benchHash() error {
	const rounds = 20
	start := time.Now()
	for range rounds {
		if _, err := passwords.Hash("a sample passphrase 123", passwords.OWASP); err != nil {
			return err
		}
	}
	per := time.Since(start) / rounds
	p := passwords.OWASP
	fmt.Printf("\n## password hashing\nargon2id m=%d KiB, t=%d, p=%d: %.1f ms per hash on one core; %d cores cap sign-ins at about %.0f per second\n",
		p.MemoryKiB, p.Time, p.Threads, msf(per), runtime.NumCPU(), float64(runtime.NumCPU())/per.Seconds())
	return nil
}

var _ = workflows.DefaultTaskQueue
