#!/usr/bin/env bash
#
# cmd/bench on both Temporal engines in one run, for docs/benchmarks.md:
# the dev server as `make test` starts it (in memory) and the cluster as
# `make test-cluster` starts it (Temporal server on PostgreSQL, four service
# processes), on the same throwaway PostgreSQL, one engine after the other.
#
# Environment (all optional):
#   BENCH_CMD    the benchmark: bench (cmd/bench, default) or benchcampaign
#                (cmd/benchcampaign: the terms campaign and its bare
#                INSERT … SELECT baseline, same database, same run)
#   BENCH_ARGS   arguments of the benchmark (default: -only registration,api
#                -n 100 -c 8 for bench, -users 1000000 for benchcampaign)
#   ENGINES      the engines, in order (default: "dev cluster")
#   PG_FAST      1: PostgreSQL with fsync and synchronous_commit off (default
#                for bench); 0: durable commits (default for benchcampaign,
#                whose figure is "every notice durable")
#   KEEP_TEST_DIR=1 keep the temporary directory (logs) afterwards
# Output: each engine's tables on stdout, under a "## engine" heading.

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HRSS_REPO="$REPO"
# shellcheck source=scripts/lib.sh
source "$REPO/scripts/lib.sh"
# shellcheck source=scripts/cluster.sh
source "$REPO/scripts/cluster.sh"
cd "$REPO"

BENCH_CMD="${BENCH_CMD:-bench}"
case "$BENCH_CMD" in
bench) default_args="-only registration,api -n 100 -c 8" default_fast=1 ;;
benchcampaign) default_args="-users 1000000" default_fast=0 ;;
*) die "BENCH_CMD=$BENCH_CMD: bench or benchcampaign" ;;
esac
read -r -a BENCH <<<"${BENCH_ARGS:-$default_args}"
read -r -a RUN_ENGINES <<<"${ENGINES:-dev cluster}"
TEST_DIR=""
TEMPORAL_PID=""

cleanup() {
	local status=$?
	trap '' INT TERM HUP
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

ensure_postgres_binaries
ensure_temporal_cli
ensure_temporal_server

TEST_DIR="$(mktemp -d /tmp/hrss-bench.XXXXXX)"
chmod 755 "$TEST_DIR"
PG_PORT="$(free_port)"
PG_FAST="${PG_FAST:-$default_fast}" pg_start "$TEST_DIR/pg" "$PG_PORT" "$TEST_DIR/postgres.log"
export DATABASE_URL
DATABASE_URL="$(pg_url "$PG_PORT")"
log "building cmd/$BENCH_CMD"
go build -o "$TEST_DIR/bench" "./cmd/$BENCH_CMD"

for engine in "${RUN_ENGINES[@]}"; do
	case "$engine" in
	dev)
		port="$(free_port "$PG_PORT")"
		temporal_start "$TEST_DIR/temporal.log" "$TEST_DIR/temporal.pid" "$port" "$(free_port "$PG_PORT" "$port")" --headless
		address="127.0.0.1:$port"
		;;
	cluster)
		temporal_cluster_start "$TEST_DIR/logs" "$TEST_DIR/run" "$TEST_DIR/pg" "$PG_PORT" free
		address="$TEMPORAL_CLUSTER_ADDRESS"
		;;
	*) die "unknown engine $engine (dev or cluster)" ;;
	esac
	log "cmd/$BENCH_CMD ${BENCH[*]} on the $engine engine ($address)"
	printf '\n## %s engine (%s UTC, load average %s, PG_FAST=%s)\n\n' "$engine" "$(date -u +%H:%M)" "$(cut -d' ' -f1-3 /proc/loadavg)" "${PG_FAST:-$default_fast}"
	TEMPORAL_ADDRESS="$address" "$TEST_DIR/bench" "${BENCH[@]}"
	printf '\n(%s engine done %s UTC, load average %s)\n' "$engine" "$(date -u +%H:%M)" "$(cut -d' ' -f1-3 /proc/loadavg)"
	if [[ "$engine" == dev ]]; then
		stop_pid "$TEMPORAL_PID" "Temporal dev server" 15
		TEMPORAL_PID=""
	else
		temporal_cluster_stop
		TEMPORAL_CLUSTER_PIDS=()
	fi
done
