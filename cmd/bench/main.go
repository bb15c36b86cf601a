// Command bench measures the back office against baselines in the same run
// (docs/benchmarks.md has the figures and how to read them):
//
//	registration  complete registrations per second (submit → checks →
//	              decision → account persisted) through the HTTP API, against
//	              a bare workflow with the same activities and one update
//	api           p50/p99 of POST /v1/registrations at -c clients, against a
//	              bare Echo handler inserting the same row
//	queue         the review queue page and the decision latency with 1,000
//	              and with -pending applications waiting, and the heap
//	hash          argon2id hash time and the sign-ins per second it allows
//
// It needs DATABASE_URL (a role that may CREATE DATABASE: bench makes and
// drops its own) and TEMPORAL_ADDRESS, like `make test` provides:
//
//	go run ./cmd/bench -only registration,api,queue,hash
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"hrss-backoffice/activities"
	"hrss-backoffice/api"
	"hrss-backoffice/internal/app"
	"hrss-backoffice/internal/passwords"
	"hrss-backoffice/internal/sealed"
	"hrss-backoffice/internal/stmtcache"
	"hrss-backoffice/migrations"
	"hrss-backoffice/worker"
	"hrss-backoffice/workflows"
)

type env struct {
	db       *sqlx.DB
	tc       client.Client
	box      *sealed.Box
	tq       string
	apiURL   string
	hash     passwords.Params
	shutdown []func()
}

func main() {
	only := flag.String("only", "registration,api,queue,hash", "comma-separated benchmarks")
	n := flag.Int("n", 200, "operations per measurement")
	c := flag.Int("c", 16, "concurrent clients (the api benchmark uses -api-c)")
	apiC := flag.Int("api-c", 32, "concurrent clients for the api benchmark")
	pending := flag.Int("pending", 100000, "applications waiting in the queue benchmark")
	live := flag.Int("live", 3000, "live review workflows waiting in the waiting benchmark")
	sticky := flag.Int("sticky-cache", 0, "the worker's sticky workflow cache size (0: the SDK default, 10,000), as WORKER_STICKY_CACHE_SIZE sets it")
	owasp := flag.Bool("owasp-hash", true, "hash initial passwords with the production argon2id cost")
	flag.BoolVar(&eagerStart, "eager-start", false, "start registration reviews with eager workflow start (api.Deps.EagerStart; the worker is in this process)")
	flag.StringVar(&grpcCompression, "grpc-compression", "none", "gRPC compression of the Temporal client: none or gzip (TEMPORAL_GRPC_COMPRESSION)")
	cpuProfile := flag.String("cpuprofile", "", "write this process's CPU profile (API, worker and clients) to the file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *sticky > 0 {
		sdkworker.SetStickyWorkflowCacheSize(*sticky)
	}
	slog.SetDefault(quiet()) // the API's and worker's own logs would drown the tables
	hash := passwords.OWASP
	if !*owasp {
		hash = passwords.Params{MemoryKiB: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	}
	fmt.Printf("bench: %d cores, GOMAXPROCS %d, %s, %s, Temporal client gRPC compression %s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0),
		runtime.Version(), time.Now().UTC().Format(time.RFC3339), grpcCompression)
	for _, b := range strings.Split(*only, ",") {
		var err error
		switch strings.TrimSpace(b) {
		case "hash":
			err = benchHash()
		case "registration", "api", "queue", "waiting":
			err = withEnv(hash, func(e *env) error {
				switch b {
				case "registration":
					return benchRegistration(e, *n, *c)
				case "api":
					return benchAPI(e, *n*5, *apiC)
				case "waiting":
					return benchWaiting(e, *live, *c)
				default:
					return benchQueue(e, *pending, *c)
				}
			})
		default:
			err = fmt.Errorf("unknown benchmark %q", b)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", b+":", err)
			os.Exit(1)
		}
	}
}

// withEnv makes a fresh database, a worker on its own task queue and the
// API on a loopback port, runs fn, and tears everything down.
func withEnv(hash passwords.Params, fn func(*env) error) error {
	base := os.Getenv("DATABASE_URL")
	if base == "" || os.Getenv("TEMPORAL_ADDRESS") == "" {
		return fmt.Errorf("set DATABASE_URL and TEMPORAL_ADDRESS")
	}
	admin, err := sqlx.Open("postgres", base)
	if err != nil {
		return err
	}
	defer admin.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "hrss_bench_" + hex.EncodeToString(b)
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		return err
	}
	defer admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	u, _ := url.Parse(base)
	u.Path = "/" + name
	db, err := stmtcache.Open(u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(40)
	db.SetMaxIdleConns(40) // as internal/app keeps them: no new connection per request under load
	if err := migrations.Up(context.Background(), db.DB); err != nil {
		return err
	}
	// The API and the bare baselines share this client, so they share its
	// compression (TEMPORAL_GRPC_COMPRESSION's default, none, unless
	// -grpc-compression gzip).
	tc, err := client.Dial(client.Options{HostPort: os.Getenv("TEMPORAL_ADDRESS"), Logger: sdklog.NewStructuredLogger(quiet()),
		ConnectionOptions: client.ConnectionOptions{GrpcCompression: app.GrpcCompression(grpcCompression)}})
	if err != nil {
		return err
	}
	defer tc.Close()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, _ := sealed.NewBox(base64.StdEncoding.EncodeToString(key))
	e := &env{db: db, tc: tc, box: box, tq: "bench-" + hex.EncodeToString(b), hash: hash}
	w := worker.New(tc, e.tq, &activities.Activities{DB: db, Box: box, Hash: hash})
	registerBare(w)
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	if err := api.BootstrapAdmin(db, "admin", "Bench-Admin-Pass-1", hash); err != nil {
		return err
	}
	h, err := api.New(api.Deps{DB: db, Temporal: tc, Box: box, TaskQueue: e.tq, Hash: hash, AnonLimits: api.NoAnonLimits, AnswerFloor: -1,
		// The bench signs staff in with a password only (STAFF_SECOND_FACTOR=off)
		// and registers without mobile codes (MOBILE_VERIFICATION=off).
		StaffSecondFactorOff: true, MobileCodes: api.MobileCodeSettings{Off: true}, EagerStart: eagerStart,
		RegistrationRevision: workflows.RegistrationRevision})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Close()
	e.apiURL = "http://" + ln.Addr().String()
	return fn(e)
}

var _ sdkworker.Worker

// The -eager-start and -grpc-compression flags.
var (
	eagerStart      bool
	grpcCompression string
)
