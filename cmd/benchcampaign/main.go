// Command benchcampaign measures the terms revision campaign at scale
// (docs/benchmarks.md). It creates its own database on the PostgreSQL
// server of DATABASE_URL, seeds -users users with agreements in force,
// measures a bare INSERT … SELECT of the same inbox rows into notices as
// the baseline, empties notices again, then runs the campaign workflow on
// the Temporal server of TEMPORAL_ADDRESS with a worker in a child process
// and measures the time until every inbox notice is durable. It reports
// the coordinator's events per run and the worker's peak RSS, and drops
// its database at the end.
//
//	DATABASE_URL=postgres://hrss:hrss@127.0.0.1:5499/hrss?sslmode=disable \
//	TEMPORAL_ADDRESS=127.0.0.1:7299 go run ./cmd/benchcampaign -users 100000
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"hrss-backoffice/internal/app"
	"hrss-backoffice/internal/config"
	"hrss-backoffice/internal/stmtcache"
	"hrss-backoffice/internal/synthetic"
	"hrss-backoffice/migrations"
	"hrss-backoffice/workflows"
)

func main() {
	users := flag.Int("users", 10000, "users to seed")
	pageSize := flag.Int("page-size", workflows.DefaultCampaignSettings.PageSize, "campaign page size")
	concurrency := flag.Int("concurrency", workflows.DefaultCampaignSettings.Concurrency, "pages at once")
	maxEvents := flag.Int("max-events", workflows.DefaultCampaignSettings.MaxEventsPerRun, "events per run before continue-as-new")
	dispatch := flag.Bool("dispatch", false, "also wait until every SMS / e-mail is sent (log sender)")
	workerMode := flag.String("worker", "", "internal: run only the worker on this task queue against -db")
	dbURL := flag.String("db", "", "internal: the benchmark database (worker mode)")
	flag.Parse()
	if *workerMode != "" {
		runWorker(*workerMode, *dbURL, *concurrency)
		return
	}
	if err := run(*users, workflows.CampaignSettings{PageSize: *pageSize, Concurrency: *concurrency, MaxEventsPerRun: *maxEvents}, *dispatch); err != nil {
		log.Fatal(err)
	}
}

func env(name string) string {
	v := os.Getenv(name)
	if v == "" {
		log.Fatalf("%s is not set", name)
	}
	return v
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randHex(n int) string { return hex.EncodeToString(randBytes(n)) }

// runWorker is the child process: the worker alone, so that its peak RSS
// is the worker's. It is assembled like `hrss worker` (internal/app), on
// the benchmark's database and task queue, with a pickup key of its own.
func runWorker(taskQueue, dbURL string, concurrency int) {
	cfg := benchConfig()
	cfg.DatabaseURL, cfg.TaskQueue, cfg.PickupKey = dbURL, taskQueue, base64.StdEncoding.EncodeToString(randBytes(32))
	a, err := app.Open(context.Background(), cfg, app.Overrides{TemporalLogger: quietSDK(), DBMaxOpenConns: concurrency + 4})
	if err != nil {
		log.Fatal(err)
	}
	w := a.Worker()
	if err := w.Start(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("ready")
	// Run until the parent closes stdin.
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	w.Stop()
	a.Close()
}

// benchConfig is the settings of the environment (DATABASE_URL and
// TEMPORAL_ADDRESS, which the benchmark needs, must be set).
func benchConfig() config.Config {
	env("DATABASE_URL")
	env("TEMPORAL_ADDRESS")
	cfg, err := config.Load()
	if err != nil {
		log.Fatal(err)
	}
	return cfg
}

// dial connects to Temporal as the worker does (app.Dial: the same payload
// codec).
func dial(ctx context.Context, cfg config.Config) (client.Client, error) {
	codec, err := app.Codec(cfg)
	if err != nil {
		return nil, err
	}
	return app.Dial(ctx, cfg, codec, nil, quietSDK())
}

func quietSDK() sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

func run(n int, settings workflows.CampaignSettings, waitDispatch bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := benchConfig()
	base := cfg.DatabaseURL
	admin, err := sqlx.Open("postgres", base)
	if err != nil {
		return err
	}
	defer admin.Close()
	name := "hrss_bench_" + randHex(4)
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		return err
	}
	defer func() {
		if _, err := admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			log.Printf("drop %s: %v", name, err)
		} else {
			log.Printf("dropped database %s", name)
		}
	}()
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	u.Path = "/" + name
	db, err := stmtcache.Open(u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	if err := migrations.Up(ctx, db.DB); err != nil {
		return err
	}
	log.Printf("database %s; seeding %d users", name, n)
	t0 := time.Now()
	if err := synthetic.SeedUsers(ctx, db, n, synthetic.SeedOptions{EmailEvery: 4}); err != nil {
		return err
	}
	if _, err := db.Exec(`VACUUM ANALYZE`); err != nil {
		return err
	}
	seedTime := time.Since(t0)
	version := "bench-" + randHex(4)
	if _, err := db.Exec(`INSERT INTO terms_versions (version, title, body, summary, effective_at)
		VALUES ($1, '承诺书（基准测试）', '正文', '修订摘要', now())`, version); err != nil {
		return err
	}

	// Baseline: the same inbox rows (operation key, account, kind, titles
	// and bodies of the same length) in one bare INSERT … SELECT.
	log.Printf("baseline INSERT … SELECT")
	t0 = time.Now()
	res, err := db.Exec(`INSERT INTO notices (id, operation_key, account_id, kind, title_zh, title_en, body_zh, body_en)
		SELECT gen_random_uuid(), 'terms/' || $1 || '/notice/' || g.account_id, g.account_id, 'terms_revision', $2, $3, $4, $5
		FROM agreements g WHERE g.effective_until IS NULL OR g.effective_until > now()`, version,
		"用户承诺书已修订（版本 "+version+"）", "The user agreement has been revised (version "+version+")",
		"修订后的承诺书自 2026-01-01 00:00（北京时间）起生效。请阅读修订内容，并选择接受或拒绝；生效后继续使用网站服务即视为接受。",
		"The revised agreement takes effect on 2026-01-01 00:00 (Beijing time). Read it, then accept or reject it; using the services after that date counts as acceptance.")
	if err != nil {
		return err
	}
	baseline := time.Since(t0)
	rows, _ := res.RowsAffected()
	if _, err := db.Exec(`TRUNCATE notices`); err != nil {
		return err
	}
	if _, err := db.Exec(`VACUUM ANALYZE notices`); err != nil {
		return err
	}
	log.Printf("baseline: %d rows in %s", rows, baseline.Round(time.Millisecond))

	// The worker in a child process.
	tq := "bench-" + randHex(4)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	child := exec.Command(self, "-worker", tq, "-db", u.String(), "-concurrency", fmt.Sprint(settings.WithDefaults().Concurrency))
	child.Stderr = os.Stderr
	stdin, err := child.StdinPipe()
	if err != nil {
		return err
	}
	out, err := child.StdoutPipe()
	if err != nil {
		return err
	}
	if err := child.Start(); err != nil {
		return err
	}
	if line, _ := bufio.NewReader(out).ReadString('\n'); strings.TrimSpace(line) != "ready" {
		return fmt.Errorf("worker did not start: %q", line)
	}

	c, err := dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	wfID := workflows.TermsCampaignWorkflowID(version)
	log.Printf("campaign %s on task queue %s", wfID, tq)
	t0 = time.Now()
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: wfID, TaskQueue: tq}, workflows.TermsCampaign,
		workflows.CampaignInput{Version: version, Settings: settings}); err != nil {
		return err
	}
	var durable time.Duration
	for {
		var done bool
		if err := db.Get(&done, `SELECT sweep_done_at IS NOT NULL FROM terms_campaigns WHERE terms_version = $1`, version); err == nil && done {
			durable = time.Since(t0)
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(100 * time.Millisecond)
	}
	var written, queued int64
	if err := db.QueryRow(`SELECT notices_written, messages_queued FROM terms_campaigns WHERE terms_version = $1`, version).Scan(&written, &queued); err != nil {
		return err
	}
	var notices int64
	if err := db.Get(&notices, `SELECT count(*) FROM notices WHERE kind = 'terms_revision'`); err != nil {
		return err
	}
	log.Printf("every inbox notice durable after %s (%d notices; %d channel messages queued so far, the rest derived while dispatching)", durable.Round(time.Millisecond), notices, queued)
	var completed time.Duration
	if waitDispatch {
		if err := c.GetWorkflow(ctx, wfID, "").Get(ctx, nil); err != nil {
			return err
		}
		completed = time.Since(t0)
		// The messages are derived from the notices while the campaign
		// dispatches: count them now.
		if err := db.Get(&queued, `SELECT messages_queued FROM terms_campaigns WHERE terms_version = $1`, version); err != nil {
			return err
		}
	}

	// Stop the worker and read its peak RSS.
	_ = stdin.Close()
	if err := child.Wait(); err != nil {
		return err
	}
	maxRSS := child.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux

	// Events per coordinator run.
	runs, err := runLengths(ctx, c, wfID)
	if err != nil {
		return err
	}
	if !waitDispatch {
		// The last run is still dispatching channel messages: count its
		// events so far, then stop it.
		if d, err := c.DescribeWorkflowExecution(ctx, wfID, ""); err == nil {
			runs = append(runs, -int(d.WorkflowExecutionInfo.GetHistoryLength()))
		}
		_ = c.TerminateWorkflow(context.Background(), wfID, "", "benchmark finished measuring")
	}

	fmt.Printf("\n| users | seed | baseline INSERT … SELECT | campaign: all notices durable | ratio | page size | concurrency | coordinator runs (events each) | worker peak RSS |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|\n")
	fmt.Printf("| %d | %s | %s | %s | %.2f× | %d | %d | %s | %.0f MiB |\n", n, seedTime.Round(time.Second),
		baseline.Round(time.Millisecond), durable.Round(time.Millisecond), durable.Seconds()/baseline.Seconds(),
		settings.WithDefaults().PageSize, settings.WithDefaults().Concurrency, fmtRuns(runs), float64(maxRSS)/1024)
	if waitDispatch {
		fmt.Printf("\ncampaign completed (all %d channel messages sent by the log sender) after %s\n", queued, completed.Round(time.Second))
	}
	fmt.Printf("\nnotices written %d (counter %d); nproc %d\n", notices, written, runtime.NumCPU())
	if notices != rows {
		return fmt.Errorf("campaign wrote %d notices, baseline %d", notices, rows)
	}
	return nil
}

// runLengths lists the history length of every run of the workflow,
// oldest first.
func runLengths(ctx context.Context, c client.Client, wfID string) ([]int, error) {
	var out []int
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default",
			Query: `WorkflowId = "` + wfID + `"`, NextPageToken: token})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.Executions {
			if e.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				continue
			}
			out = append([]int{int(e.GetHistoryLength())}, out...)
		}
		token = resp.NextPageToken
		if len(token) == 0 {
			return out, nil
		}
	}
}

func fmtRuns(runs []int) string {
	parts := make([]string, 0, len(runs))
	for _, r := range runs {
		if r < 0 {
			parts = append(parts, fmt.Sprintf("%d so far, still dispatching", -r))
			continue
		}
		parts = append(parts, fmt.Sprint(r))
	}
	return fmt.Sprintf("%d (%s)", len(runs), strings.Join(parts, ", "))
}
