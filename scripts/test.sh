#!/usr/bin/env bash
#
# `make test`: gofmt check, generated types check, go vet and go test against
# throwaway services.
#
# Starts a PostgreSQL cluster in a temporary directory and an in-memory,
# headless Temporal dev server, each on a free port, exports their addresses
# and runs the checks, stopping at the first failure. The services and the
# temporary directory are always removed afterwards.
#
# Environment (all optional):
#   TEST_ARGS       extra arguments for `go test` (word-split), e.g. "-run TestX -v"
#   GO_TEST_TIMEOUT go test -timeout (default 20m)
#   KEEP_TEST_DIR=1 keep the temporary directory (service logs) afterwards
#   WORKFLOWCHECK_VERSION  pinned version of Temporal's workflowcheck (v0.6.0)
#   FUZZ_TIME       -fuzztime of the short fuzz runs (default 1500x for the API
#                   bodies, 100000x for each validator); FUZZ_TIME=0 skips them
#   FAULTS_N        registrations of the short fault-injection run (default 60;
#                   0 skips it; docs/reliability.md)
#   TEST_PACKAGES   packages for `go test` (default ./...)
#   HRSS_TEST_ENGINE=cluster  (make test-cluster) the production engine instead
#                   of the dev server: a Temporal server on the throwaway
#                   PostgreSQL, its four services as separate processes
#                   (scripts/cluster.sh, the config of deploy/temporal/config);
#                   skips the static checks and fuzzing (engine-independent,
#                   run by make test) and by default runs the end-to-end tests
#                   of registration, cases, terms campaign and deregistration
#                   (e2e/{registration,cases,terms,deregistration}_test.go)
# Arguments given to this script are passed to `go test` after TEST_ARGS.
#
# Exported to the tests:
#   MIGRATE_DATABASE_URL=postgres://hrss:hrss@127.0.0.1:PORT/hrss?sslmode=disable
#                   (the owner role; it has CREATEDB: tests create their own databases)
#   DATABASE_URL=postgres://hrss_app:hrss_app@127.0.0.1:PORT/hrss?sslmode=disable
#                   (the application role that the API and worker of each test use)
#   TEMPORAL_ADDRESS=127.0.0.1:PORT, TEMPORAL_NAMESPACE=default,
#   HRSS_TEST_ENGINE=dev|cluster, and on the cluster HRSS_CLUSTER_RUN_DIR (the
#                   services' PID files temporal-<service>.pid) and HRSS_CLUSTER_LOG_DIR,
#   TEMPORAL_CLI=<repo>/.tools/bin/temporal, HRSS_INTEGRATION=1,
#   TEMPORAL_UI_SERVER=<repo>/.tools/bin/temporal-ui-server (the pinned web UI
#                   server: the browser test of decoding in the web UI),
#   CHROMIUM=/usr/bin/chromium (browser tests; ARTIFACTS_DIR keeps their screenshots)
#   AXE_JS=<repo>/.tools/axe-core-<version>/node_modules/axe-core/axe.min.js
#                   (the browser tests run axe-core on every page they open)

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HRSS_REPO="$REPO"
# shellcheck source=scripts/lib.sh
source "$REPO/scripts/lib.sh"
# shellcheck source=scripts/cluster.sh
source "$REPO/scripts/cluster.sh"
cd "$REPO"

HRSS_TEST_ENGINE="${HRSS_TEST_ENGINE:-dev}"
case "$HRSS_TEST_ENGINE" in
dev | cluster) ;;
*) die "HRSS_TEST_ENGINE=$HRSS_TEST_ENGINE: want dev or cluster" ;;
esac
read -r -a TEST_PACKAGES <<<"${TEST_PACKAGES:-./...}"
if [[ "$HRSS_TEST_ENGINE" == cluster && -z "${TEST_ARGS:-}" && $# == 0 ]]; then
	# The end-to-end tests of the four main processes, by name.
	CLUSTER_TESTS="$(sed -nE 's/^func (Test[A-Za-z0-9_]+)\(t \*testing\.T\).*/\1/p' \
		e2e/registration_test.go e2e/cases_test.go e2e/terms_test.go e2e/deregistration_test.go | paste -sd'|')"
	TEST_ARGS="-run ^($CLUSTER_TESTS)\$"
	TEST_PACKAGES=(./e2e)
fi
read -r -a EXTRA_TEST_ARGS <<<"${TEST_ARGS:-}"
EXTRA_TEST_ARGS+=("$@")

TEST_DIR=""
TEMPORAL_PID=""
FAILED_STEP=""
STEP_PID=""

# stop_step - end a check that is still running (on Ctrl-C / SIGTERM): the
# whole process group, so test binaries started by `go test` go too.
stop_step() {
	[[ -n "$STEP_PID" ]] && kill -0 "$STEP_PID" 2>/dev/null || return 0
	log "stopping: $FAILED_STEP"
	kill -TERM -- "-$STEP_PID" 2>/dev/null || kill -TERM "$STEP_PID" 2>/dev/null || true
	local deadline=$((SECONDS + 10))
	while kill -0 "$STEP_PID" 2>/dev/null && ((SECONDS < deadline)); do
		sleep 0.2
	done
	kill -KILL -- "-$STEP_PID" 2>/dev/null || true
	wait "$STEP_PID" 2>/dev/null || true
}

cleanup() {
	local status=$?
	trap '' INT TERM HUP
	stop_step
	if ((status >= 129 && status <= 143)); then
		log "interrupted${FAILED_STEP:+ during: $FAILED_STEP}"
	elif ((status != 0)); then
		log "FAILED${FAILED_STEP:+ in: $FAILED_STEP} (exit $status)"
		if [[ -n "$TEST_DIR" ]]; then
			show_log_tail "$TEST_DIR/temporal.log" 30
			for svc in "${TEMPORAL_CLUSTER_SERVICES[@]}"; do
				[[ -s "$TEST_DIR/logs/temporal-$svc.log" ]] && show_log_tail "$TEST_DIR/logs/temporal-$svc.log" 15
			done
			show_log_tail "$TEST_DIR/postgres.log" 30
		fi
	fi
	stop_pid "$TEMPORAL_PID" "Temporal dev server" 15
	temporal_cluster_stop
	if [[ -n "$TEST_DIR" ]]; then
		pg_stop "$TEST_DIR/pg"
		if [[ "${KEEP_TEST_DIR:-}" == 1 ]]; then
			log "kept $TEST_DIR"
		else
			rm -rf "$TEST_DIR"
		fi
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# step NAME CMD [ARGS...] - run one check; the first failure ends the script.
# The check runs in the background in its own process group so that a signal
# interrupts the wait at once and the cleanup can end the whole check.
step() {
	local name="$1" status=0
	shift
	log "==> $name"
	FAILED_STEP="$name"
	if declare -F "$1" >/dev/null; then
		"$@" & # a function of this script: runs in a background subshell
	else
		setsid "$@" &
	fi
	STEP_PID=$!
	wait "$STEP_PID" || status=$?
	STEP_PID=""
	if ((status != 0)); then
		exit "$status"
	fi
	FAILED_STEP=""
}

# The repository's Go files: tracked plus untracked-but-not-ignored ones.
go_files() {
	if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$REPO" ls-files -z --cached --others --exclude-standard -- '*.go'
	else
		find . -name '*.go' -not -path './.tools/*' -not -path './.data/*' -print0
	fi |
		while IFS= read -r -d '' f; do
			case "$f" in
			./.tools/* | ./.data/* | .tools/* | .data/* | vendor/* | */testdata/* | testdata/*) continue ;;
			esac
			[[ -f "$f" ]] && printf '%s\0' "$f"
		done
}

check_gofmt() {
	local files=() unformatted
	mapfile -d '' -t files < <(go_files)
	if ((${#files[@]} == 0)); then
		log "no Go files to check"
		return 0
	fi
	unformatted="$(gofmt -l -- "${files[@]}")"
	if [[ -n "$unformatted" ]]; then
		printf 'These files are not gofmt-formatted (fix with: gofmt -w FILE):\n%s\n' "$unformatted" >&2
		# shellcheck disable=SC2086 # file names from gofmt -l, one per line
		(IFS=$'\n' && gofmt -d -- $unformatted >&2) || true
		return 1
	fi
	log "gofmt: ${#files[@]} files ok"
}

# check_generated - regenerate the API's types from the OpenAPI document
# (go generate: internal/apitypes) and fail when the committed file differs,
# i.e. someone changed the document without running `go generate ./...`.
# Outside a git checkout (an exported tree) only the regeneration runs.
check_generated() {
	go generate ./... || return 1
	if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		log "generated types regenerated (not a git checkout: no diff check)"
		return 0
	fi
	if ! git diff --exit-code -- internal/apitypes >&2; then
		printf 'internal/apitypes is stale: run `go generate ./...` and commit the result\n' >&2
		return 1
	fi
	log "generated types up to date"
}

# --- Services ---------------------------------------------------------------

ensure_postgres_binaries
# The web UI server builds (minutes, the first time) beside the other tools.
UI_BUILD_PID=""
if ! ui_server_ok; then
	ensure_ui_server &
	UI_BUILD_PID=$!
fi
ensure_temporal_cli
if [[ "$HRSS_TEST_ENGINE" == cluster ]]; then
	ensure_temporal_server
fi
ensure_chromium
if [[ -n "$UI_BUILD_PID" ]]; then
	wait "$UI_BUILD_PID" || die "building the Temporal UI server failed (see above)"
fi
ensure_axe

TEST_DIR="$(mktemp -d /tmp/hrss-test.XXXXXX)"
chmod 755 "$TEST_DIR" # the postgres OS user must reach the cluster inside

PG_PORT="$(free_port)"
TEMPORAL_PORT="$(free_port "$PG_PORT")"
TEMPORAL_UI_PORT="$(free_port "$PG_PORT" "$TEMPORAL_PORT")"

FAILED_STEP="start PostgreSQL"
PG_FAST=1 pg_start "$TEST_DIR/pg" "$PG_PORT" "$TEST_DIR/postgres.log"
FAILED_STEP="start Temporal"
if [[ "$HRSS_TEST_ENGINE" == cluster ]]; then
	temporal_cluster_start "$TEST_DIR/logs" "$TEST_DIR/run" "$TEST_DIR/pg" "$PG_PORT" free
	TEMPORAL_PORT="$TEMPORAL_CLUSTER_FRONTEND"
	export HRSS_CLUSTER_RUN_DIR="$TEST_DIR/run" HRSS_CLUSTER_LOG_DIR="$TEST_DIR/logs"
else
	temporal_start "$TEST_DIR/temporal.log" "$TEST_DIR/temporal.pid" \
		"$TEMPORAL_PORT" "$TEMPORAL_UI_PORT" --headless
fi
export HRSS_TEST_ENGINE
FAILED_STEP=""

export DATABASE_URL MIGRATE_DATABASE_URL
MIGRATE_DATABASE_URL="$(pg_url "$PG_PORT")"
DATABASE_URL="$(pg_app_url "$PG_PORT")"
export TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_PORT"
export TEMPORAL_NAMESPACE=default
export TEMPORAL_CLI="$TEMPORAL_BIN"
export TEMPORAL_UI_SERVER="$TEMPORAL_UI_SERVER_BIN"
export HRSS_INTEGRATION=1
export CHROMIUM=/usr/bin/chromium
export AXE_JS
log "MIGRATE_DATABASE_URL=$MIGRATE_DATABASE_URL"
log "DATABASE_URL=$DATABASE_URL"
log "TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS"

# --- Checks -----------------------------------------------------------------

if [[ "$HRSS_TEST_ENGINE" == dev ]]; then
	step "gofmt" check_gofmt
	step "generated types (go generate)" check_generated
	step "go vet ./..." go vet ./...
	# Static determinism check of the workflow code (time.Now, goroutines, map
	# iteration, global state...), pinned like the Temporal CLI.
	step "workflowcheck ./workflows/..." go run "go.temporal.io/sdk/contrib/tools/workflowcheck@${WORKFLOWCHECK_VERSION:-v0.6.0}" ./workflows/...
fi
step "go test ${TEST_PACKAGES[*]} ($HRSS_TEST_ENGINE engine)" go test -count=1 -timeout "${GO_TEST_TIMEOUT:-20m}" "${EXTRA_TEST_ARGS[@]}" "${TEST_PACKAGES[@]}"
if [[ "$HRSS_TEST_ENGINE" == cluster ]]; then
	FUZZ_TIME="${FUZZ_TIME:-0}"
	FAULTS_N="${FAULTS_N:-0}"
fi

# Short fuzz runs after the tests (docs/reliability.md): every documented
# body route, and the resident ID and mobile validators. A failing input is
# written to testdata/fuzz/ of its package: commit it with the fix.
run_fuzz() {
	# Counts, not durations, by default: a -fuzztime duration can end a
	# session with a spurious "context deadline exceeded" on a busy machine.
	local api="${FUZZ_TIME:-1500x}" validators="${FUZZ_TIME:-100000x}"
	if [[ "${FUZZ_TIME:-}" == 0 ]]; then
		log "fuzzing skipped (FUZZ_TIME=0)"
		return 0
	fi
	go test -run '^$' -fuzz '^FuzzRequestBodies$' -fuzztime "$api" -parallel 2 ./api
	go test -run '^$' -fuzz '^FuzzResidentID$' -fuzztime "$validators" -parallel 2 ./internal/validate
	go test -run '^$' -fuzz '^FuzzMobile$' -fuzztime "$validators" -parallel 2 ./internal/validate
}
step "fuzz (short)" run_fuzz

# Short fault-injection run: the worker (a separate process) is killed with
# SIGKILL every 3s and a file-backed Temporal dev server restarted once
# while registrations are driven over HTTP; then the invariants are checked.
run_faults() {
	if [[ "${FAULTS_N:-60}" == 0 ]]; then
		log "fault injection skipped (FAULTS_N=0)"
		return 0
	fi
	# The fault run restarts this script's throwaway cluster once, so it
	# runs alone, after every other test. Its time limit grows with the
	# people driven (15 min plus 1 min per 10 people: 45 min for 300).
	HRSS_FAULTS=1 FAULTS_N="${FAULTS_N:-60}" HRSS_PG_DATA="$TEST_DIR/pg" HRSS_PG_LOG="$TEST_DIR/postgres.log" \
		PG_BIN_DIR="$PG_BIN_DIR" go test -count=1 -timeout "$((15 + ${FAULTS_N:-60} / 10))m" -run '^TestFaultInjection_C2_6$' -v ./e2e | grep -v ' INFO http '
}
step "fault injection (short)" run_faults

log "all checks passed"
