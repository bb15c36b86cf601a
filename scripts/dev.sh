#!/usr/bin/env bash
#
# `make run`: run the whole back office locally on persistent data in .data/.
#
# Starts PostgreSQL (unless DATABASE_URL is set), a headless Temporal dev
# server with a SQLite file and beside it the Temporal web UI server, which
# decodes payloads through the API's /codec for a signed-in operator (unless
# TEMPORAL_ADDRESS is set), builds bin/hrss, migrates, and runs `hrss worker`
# and `hrss api` until Ctrl-C / SIGTERM, then stops everything it started.
#
# `make cluster` (HRSS_ENGINE=cluster): the same on the production engine, on
# its own data in .data/cluster/: instead of the dev server, a Temporal
# server on PostgreSQL with its four services as separate processes from
# deploy/temporal/config/hrss.yaml (scripts/cluster.sh), and two workers and
# two API instances (HTTP_ADDR and API2_ADDR, default :8081).
#
# Environment (all optional):
#   DATABASE_URL               use this database; no local PostgreSQL is started
#   POSTGRES_PORT=5433         port of the local PostgreSQL cluster (.data/pg)
#   TEMPORAL_ADDRESS           use this Temporal frontend; no dev server is started
#   TEMPORAL_PORT=7233         gRPC port of the Temporal dev server
#   TEMPORAL_UI_PORT=8233      port of the Temporal web UI (the pinned UI server)
#   TEMPORAL_NAMESPACE=default
#   TEMPORAL_TASK_QUEUE=hrss-backoffice
#   TEMPORAL_UI_URL=http://localhost:$TEMPORAL_UI_PORT
#   HTTP_ADDR=:8080            listen address of the API
#   METRICS_ADDR=127.0.0.1:9090  the API's /metrics (never on the API port)
#   PICKUP_KEY                 default: generated once into .data/secrets.env
#   PAYLOAD_KEYS               default: one key generated once into .data/secrets.env
#                              ("kid:base64key,...", newest first; docs/reliability.md)
#   CODEC_TOKEN                default: generated once into .data/secrets.env
#   BOOTSTRAP_ADMIN_USERNAME=admin
#   BOOTSTRAP_ADMIN_PASSWORD   default: generated once into .data/secrets.env
#   HEALTH_TIMEOUT=90          seconds to wait for the API's /healthz
#   MAILPIT_SMTP_PORT=1025     SMTP port of the local mailbox (Mailpit, data in .data/mailpit)
#   MAILPIT_UI_PORT=8025       its web UI and API; every e-mail and (as mail to
#                              <mobile>@sms.invalid) every SMS lands there
#                              (EMAIL_SENDER=smtp, SMS_SENDER=mail, README "Mailbox")
#   SMTP_HOST                  use this SMTP server (with SMTP_PORT, SMTP_FROM, ...);
#                              no Mailpit is started

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HRSS_REPO="$REPO"
# shellcheck source=scripts/lib.sh
source "$REPO/scripts/lib.sh"
# shellcheck source=scripts/cluster.sh
source "$REPO/scripts/cluster.sh"
cd "$REPO"

HRSS_ENGINE="${HRSS_ENGINE:-dev}"
case "$HRSS_ENGINE" in
dev) DATA_DIR="$REPO/.data" ;;
cluster) DATA_DIR="$REPO/.data/cluster" ;;
*) die "HRSS_ENGINE=$HRSS_ENGINE: want dev (make run) or cluster (make cluster)" ;;
esac
LOG_DIR="$DATA_DIR/logs"
RUN_DIR="$DATA_DIR/run"
PG_DATA="$DATA_DIR/pg"
SECRETS_FILE="$DATA_DIR/secrets.env"
HRSS_BIN="$REPO/bin/hrss"

POSTGRES_PORT="${POSTGRES_PORT:-5433}"
TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
HTTP_ADDR="${HTTP_ADDR:-:8080}"
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-90}"
MAILPIT_SMTP_PORT="${MAILPIT_SMTP_PORT:-1025}"
MAILPIT_UI_PORT="${MAILPIT_UI_PORT:-8025}"

mkdir -p "$DATA_DIR" "$LOG_DIR" "$RUN_DIR"
chmod 755 "$DATA_DIR"
if [[ "$HRSS_ENGINE" == cluster ]]; then
	chmod 755 "$REPO/.data" # the postgres OS user must reach .data/cluster/pg
fi

# One `make run` per data directory at a time. The lock fd is closed for every
# child so that a leftover child never holds it.
exec {DEV_LOCK_FD}>"$RUN_DIR/dev.lock"
if ! flock -n "$DEV_LOCK_FD"; then
	die "another scripts/dev.sh (make run) is already using $DATA_DIR"
fi

# --- HTTP address -----------------------------------------------------------

HTTP_HOST="${HTTP_ADDR%:*}"
HTTP_PORT="${HTTP_ADDR##*:}"
[[ "$HTTP_PORT" =~ ^[0-9]+$ ]] || die "cannot read a port from HTTP_ADDR=$HTTP_ADDR (expected HOST:PORT or :PORT)"
HTTP_HOST="${HTTP_HOST#[}"
HTTP_HOST="${HTTP_HOST%]}"
case "$HTTP_HOST" in
"" | 0.0.0.0 | "::") HTTP_PROBE_IP=127.0.0.1 ;;
*) HTTP_PROBE_IP="$HTTP_HOST" ;;
esac
if [[ "$HTTP_PROBE_IP" == *:* ]]; then
	HEALTH_URL="http://[$HTTP_PROBE_IP]:$HTTP_PORT/healthz"
else
	HEALTH_URL="http://$HTTP_PROBE_IP:$HTTP_PORT/healthz"
fi
case "$HTTP_HOST" in
"" | 0.0.0.0 | "::" | 127.0.0.1 | localhost) PUBLIC_HOST=localhost ;;
*:*) PUBLIC_HOST="[$HTTP_HOST]" ;;
*) PUBLIC_HOST="$HTTP_HOST" ;;
esac
API_URL="http://$PUBLIC_HOST:$HTTP_PORT/v1"
WORKER_METRICS_ADDR="${WORKER_METRICS_ADDR:-127.0.0.1:9091}"
METRICS_ADDR="${METRICS_ADDR:-127.0.0.1:9090}"

# --- State for cleanup ------------------------------------------------------

STARTED_PG=""
TEMPORAL_PID=""
UI_SERVER_PID=""
UI_BUILD_PID=""
MAILPIT_PID=""
WORKER_PID=""
API_PID=""
# make cluster: the second worker and API instance.
WORKER2_PID=""
API2_PID=""
CLEANED_UP=""

cleanup() {
	local status=$?
	[[ -n "$CLEANED_UP" ]] && return
	CLEANED_UP=1
	trap '' INT TERM HUP
	if [[ -n "${TICK_PID:-}" ]]; then
		kill "$TICK_PID" 2>/dev/null || true
	fi
	stop_pid "$API2_PID" "hrss api (second)" 20
	stop_pid "$API_PID" "hrss api" 20
	stop_pid "$WORKER2_PID" "hrss worker (second)" 30
	stop_pid "$WORKER_PID" "hrss worker" 30
	stop_pid "$UI_SERVER_PID" "Temporal UI server" 10
	stop_pid "$UI_BUILD_PID" "Temporal UI server build" 10
	stop_pid "$TEMPORAL_PID" "Temporal dev server" 20
	stop_pid "$MAILPIT_PID" "Mailpit" 10
	temporal_cluster_stop
	rm -f "$RUN_DIR"/api*.pid "$RUN_DIR"/worker*.pid "$RUN_DIR"/temporal*.pid "$RUN_DIR/ui-server.pid" "$RUN_DIR/mailpit.pid"
	if [[ -n "$STARTED_PG" ]]; then
		pg_stop "$PG_DATA"
	fi
	if ((status == 0)); then
		log "stopped; data kept in $DATA_DIR"
	else
		log "stopped after an error (exit $status); logs are in $LOG_DIR"
	fi
}
trap cleanup EXIT
trap 'log "interrupted; shutting down"; exit 0' INT TERM HUP

# stop_leftover NAME PID_FILE BINARY - stop a process a previous, killed run
# left behind (only when its command line still matches BINARY).
stop_leftover() {
	local name="$1" pid_file="$2" binary="$3" pid
	[[ -f "$pid_file" ]] || return 0
	pid="$(cat "$pid_file" 2>/dev/null || true)"
	if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$binary"; then
		warn "a $name (pid $pid) from an earlier run is still running; stopping it"
		stop_pid "$pid" "leftover $name" 20
	fi
	rm -f "$pid_file"
}

# start_bg NAME LOG_FILE PID_FILE CMD [ARGS...] - start CMD in the background;
# the PID is left in BG_PID.
start_bg() {
	local name="$1" log_file="$2" pid_file="$3"
	shift 3
	rotate_log "$log_file"
	log "starting $name (log: $log_file)"
	# Own session/process group: a terminal Ctrl-C reaches only this script,
	# which then stops the children in order (api, worker, Temporal, PostgreSQL).
	setsid "$@" </dev/null >>"$log_file" 2>&1 {DEV_LOCK_FD}>&- &
	BG_PID=$!
	printf '%s\n' "$BG_PID" >"$pid_file"
}

# --- Secrets ----------------------------------------------------------------

# secret_get KEY - value of KEY in the secrets file (empty when absent).
secret_get() {
	[[ -f "$SECRETS_FILE" ]] || return 0
	sed -n "s/^$1=//p" "$SECRETS_FILE" | tail -n 1
}

secret_put() {
	(
		umask 077
		printf '%s=%s\n' "$1" "$2" >>"$SECRETS_FILE"
	)
	chmod 600 "$SECRETS_FILE"
}

random_b64() {
	head -c "$1" /dev/urandom | base64 -w 0
}

if [[ -f "$SECRETS_FILE" ]]; then
	chmod 600 "$SECRETS_FILE"
fi
if [[ -z "${PICKUP_KEY:-}" ]]; then
	PICKUP_KEY="$(secret_get PICKUP_KEY)"
	if [[ -z "$PICKUP_KEY" ]]; then
		PICKUP_KEY="$(random_b64 32)"
		secret_put PICKUP_KEY "$PICKUP_KEY"
		log "generated PICKUP_KEY into $SECRETS_FILE"
	fi
fi
# Temporal payloads are encrypted (internal/payloadcodec); to rotate, put a
# new key first in PAYLOAD_KEYS and keep the old ones after it.
if [[ -z "${PAYLOAD_KEYS:-}" ]]; then
	PAYLOAD_KEYS="$(secret_get PAYLOAD_KEYS)"
	if [[ -z "$PAYLOAD_KEYS" ]]; then
		PAYLOAD_KEYS="k$(date -u +%Y%m%d):$(random_b64 32)"
		secret_put PAYLOAD_KEYS "$PAYLOAD_KEYS"
		log "generated PAYLOAD_KEYS into $SECRETS_FILE"
	fi
fi
if [[ -z "${CODEC_TOKEN:-}" ]]; then
	CODEC_TOKEN="$(secret_get CODEC_TOKEN)"
	if [[ -z "$CODEC_TOKEN" ]]; then
		CODEC_TOKEN="$(random_b64 24 | tr '+/' 'xy')"
		secret_put CODEC_TOKEN "$CODEC_TOKEN"
		log "generated CODEC_TOKEN into $SECRETS_FILE"
	fi
fi
BOOTSTRAP_ADMIN_USERNAME="${BOOTSTRAP_ADMIN_USERNAME:-admin}"
PASSWORD_NOTE="from BOOTSTRAP_ADMIN_PASSWORD"
if [[ -z "${BOOTSTRAP_ADMIN_PASSWORD:-}" ]]; then
	BOOTSTRAP_ADMIN_PASSWORD="$(secret_get BOOTSTRAP_ADMIN_PASSWORD)"
	PASSWORD_NOTE="BOOTSTRAP_ADMIN_PASSWORD in $SECRETS_FILE"
	if [[ -z "$BOOTSTRAP_ADMIN_PASSWORD" ]]; then
		BOOTSTRAP_ADMIN_PASSWORD="$(random_b64 18 | tr '+/' 'xy')"
		secret_put BOOTSTRAP_ADMIN_PASSWORD "$BOOTSTRAP_ADMIN_PASSWORD"
		log "generated the bootstrap admin password into $SECRETS_FILE"
		log "  admin login: $BOOTSTRAP_ADMIN_USERNAME / $BOOTSTRAP_ADMIN_PASSWORD (shown only this once)"
	fi
fi

# --- Tools and build --------------------------------------------------------

if [[ -z "${DATABASE_URL:-}" ]]; then
	ensure_postgres_binaries
fi
if [[ -z "${TEMPORAL_ADDRESS:-}" ]]; then
	# The UI server builds (minutes, the first time) while the rest starts.
	if ! ui_server_ok; then
		ensure_ui_server {DEV_LOCK_FD}>&- &
		UI_BUILD_PID=$!
	fi
	ensure_temporal_cli
	if [[ "$HRSS_ENGINE" == cluster ]]; then
		ensure_temporal_server
	fi
fi

if [[ -z "${SMTP_HOST:-}" ]]; then
	ensure_mailpit
fi

log "building $HRSS_BIN"
go build -o "$HRSS_BIN" ./cmd/hrss || die "go build ./cmd/hrss failed"

# --- Leftovers from a run that was killed without cleaning up ---------------

stop_leftover "hrss api" "$RUN_DIR/api.pid" "$HRSS_BIN"
stop_leftover "hrss api" "$RUN_DIR/api2.pid" "$HRSS_BIN"
stop_leftover "hrss worker" "$RUN_DIR/worker.pid" "$HRSS_BIN"
stop_leftover "hrss worker" "$RUN_DIR/worker2.pid" "$HRSS_BIN"
stop_leftover "Temporal dev server" "$RUN_DIR/temporal.pid" "$TEMPORAL_BIN"
for svc in "${TEMPORAL_CLUSTER_SERVICES[@]}"; do
	stop_leftover "Temporal $svc" "$RUN_DIR/temporal-$svc.pid" "$TEMPORAL_SERVER_BIN"
done
stop_leftover "Temporal UI server" "$RUN_DIR/ui-server.pid" "$TEMPORAL_UI_SERVER_BIN"
stop_leftover "Mailpit" "$RUN_DIR/mailpit.pid" "$MAILPIT_BIN"

if port_in_use "$HTTP_PORT" "$HTTP_PROBE_IP"; then
	die "port $HTTP_PORT is already in use; set HTTP_ADDR to another address (e.g. HTTP_ADDR=:8081)"
fi

# --- PostgreSQL -------------------------------------------------------------

if [[ -n "${DATABASE_URL:-}" ]]; then
	log "using DATABASE_URL from the environment; not starting PostgreSQL"
else
	# Stopped on exit, also when an earlier, killed run left it running.
	STARTED_PG=1
	pg_start "$PG_DATA" "$POSTGRES_PORT" "$LOG_DIR/postgres.log" {DEV_LOCK_FD}>&-
	# Two roles: the owner migrates, the application role runs the services.
	MIGRATE_DATABASE_URL="$(pg_url "$POSTGRES_PORT")"
	DATABASE_URL="$(pg_app_url "$POSTGRES_PORT")"
fi
MIGRATE_DATABASE_URL="${MIGRATE_DATABASE_URL:-$DATABASE_URL}"

# --- Temporal ---------------------------------------------------------------

if [[ -n "${TEMPORAL_ADDRESS:-}" ]]; then
	log "using TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS; not starting a Temporal dev server"
	TEMPORAL_UI_URL="${TEMPORAL_UI_URL:-}"
elif [[ "$HRSS_ENGINE" == cluster ]]; then
	[[ -n "$STARTED_PG" ]] || die "make cluster needs its own PostgreSQL (unset DATABASE_URL)"
	[[ "$TEMPORAL_PORT" == 7233 ]] || die "make cluster runs the frontend on 7233 (deploy/temporal/config/hrss.yaml); unset TEMPORAL_PORT"
	if port_in_use "$TEMPORAL_UI_PORT"; then
		die "port $TEMPORAL_UI_PORT (web UI) is already in use"
	fi
	temporal_cluster_start "$LOG_DIR" "$RUN_DIR" "$PG_DATA" "$POSTGRES_PORT" default {DEV_LOCK_FD}>&-
	TEMPORAL_ADDRESS="$TEMPORAL_CLUSTER_ADDRESS"
	TEMPORAL_UI_URL="${TEMPORAL_UI_URL:-http://localhost:$TEMPORAL_UI_PORT}"
	START_UI_SERVER=1
else
	TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_PORT"
	rotate_log "$LOG_DIR/temporal.log"
	# WAL with synchronous=normal: 3-4x faster workflow starts than SQLite's
	# default rollback journal (docs/benchmarks.md, "Tuning"); it survives a
	# crash of the server, and risks only the last transactions on a power
	# loss, which is fine for a local dev server.
	# Headless: the web UI is the pinned UI server below, configured with the
	# codec endpoint (the dev server's own UI cannot send credentials).
	temporal_start "$LOG_DIR/temporal.log" "$RUN_DIR/temporal.pid" \
		"$TEMPORAL_PORT" "$TEMPORAL_UI_PORT" --headless \
		--db-filename "$DATA_DIR/temporal.db" \
		--sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal {DEV_LOCK_FD}>&-
	TEMPORAL_UI_URL="${TEMPORAL_UI_URL:-http://localhost:$TEMPORAL_UI_PORT}"
	START_UI_SERVER=1
fi

export DATABASE_URL MIGRATE_DATABASE_URL TEMPORAL_ADDRESS TEMPORAL_UI_URL HTTP_ADDR PICKUP_KEY \
	BOOTSTRAP_ADMIN_USERNAME BOOTSTRAP_ADMIN_PASSWORD WORKER_METRICS_ADDR METRICS_ADDR PAYLOAD_KEYS CODEC_TOKEN
export TEMPORAL_NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
export TEMPORAL_TASK_QUEUE="${TEMPORAL_TASK_QUEUE:-hrss-backoffice}"

# --- Mailbox ----------------------------------------------------------------

# Mailpit receives every e-mail and, as mail to <mobile>@sms.invalid, every
# SMS, so that a person trying the system reads codes and notices in one
# inbox (README "Mailbox"). With SMTP_HOST set, that server is used instead.
MAILBOX_URL=""
if [[ -n "${SMTP_HOST:-}" ]]; then
	log "using SMTP_HOST=$SMTP_HOST; not starting Mailpit"
	export EMAIL_SENDER="${EMAIL_SENDER:-smtp}"
else
	for port in "$MAILPIT_SMTP_PORT" "$MAILPIT_UI_PORT"; do
		if port_in_use "$port" 127.0.0.1; then
			die "port $port (Mailpit) is already in use; set MAILPIT_SMTP_PORT / MAILPIT_UI_PORT"
		fi
	done
	mkdir -p "$DATA_DIR/mailpit"
	start_bg "Mailpit" "$LOG_DIR/mailpit.log" "$RUN_DIR/mailpit.pid" "$MAILPIT_BIN" \
		--smtp "127.0.0.1:$MAILPIT_SMTP_PORT" --listen "127.0.0.1:$MAILPIT_UI_PORT" \
		--database "$DATA_DIR/mailpit/mailpit.db" --disable-version-check --smtp-disable-rdns
	MAILPIT_PID="$BG_PID"
	if ! wait_for --pid "$MAILPIT_PID" "Mailpit" 30 http_ok "http://127.0.0.1:$MAILPIT_UI_PORT/livez"; then
		show_log_tail "$LOG_DIR/mailpit.log"
		die "Mailpit did not start"
	fi
	MAILBOX_URL="http://localhost:$MAILPIT_UI_PORT/"
	export SMTP_HOST=127.0.0.1 SMTP_PORT="$MAILPIT_SMTP_PORT" SMTP_TLS=none
	export SMTP_FROM="${SMTP_FROM:-noreply@hrss.invalid}"
	export EMAIL_SENDER="${EMAIL_SENDER:-smtp}" SMS_SENDER="${SMS_SENDER:-mail}"
fi

# --- Application ------------------------------------------------------------

rotate_log "$LOG_DIR/migrate.log"
log "applying migrations (log: $LOG_DIR/migrate.log)"
if ! "$HRSS_BIN" migrate </dev/null >>"$LOG_DIR/migrate.log" 2>&1 {DEV_LOCK_FD}>&-; then
	show_log_tail "$LOG_DIR/migrate.log"
	die "hrss migrate failed"
fi

start_bg "hrss worker" "$LOG_DIR/worker.log" "$RUN_DIR/worker.pid" "$HRSS_BIN" worker
WORKER_PID="$BG_PID"
start_bg "hrss api" "$LOG_DIR/api.log" "$RUN_DIR/api.pid" "$HRSS_BIN" api
API_PID="$BG_PID"

if ! wait_for --pid "$API_PID" --pid "$WORKER_PID" "API $HEALTH_URL" "$HEALTH_TIMEOUT" http_ok "$HEALTH_URL"; then
	kill -0 "$WORKER_PID" 2>/dev/null || show_log_tail "$LOG_DIR/worker.log"
	show_log_tail "$LOG_DIR/api.log"
	die "the API did not become healthy"
fi

# make cluster: a second worker and a second API instance, started once the
# first ones have done their one-time start-up work (bootstrap admin).
API2_URL=""
if [[ "$HRSS_ENGINE" == cluster ]]; then
	API2_ADDR="${API2_ADDR:-:8081}"
	API2_PORT="${API2_ADDR##*:}"
	if port_in_use "$API2_PORT"; then
		die "port $API2_PORT is already in use; set API2_ADDR (e.g. API2_ADDR=:8082)"
	fi
	start_bg "hrss worker (second)" "$LOG_DIR/worker2.log" "$RUN_DIR/worker2.pid" \
		env WORKER_METRICS_ADDR="${WORKER2_METRICS_ADDR:-127.0.0.1:9093}" "$HRSS_BIN" worker
	WORKER2_PID="$BG_PID"
	start_bg "hrss api (second)" "$LOG_DIR/api2.log" "$RUN_DIR/api2.pid" \
		env HTTP_ADDR="$API2_ADDR" METRICS_ADDR="${METRICS2_ADDR:-127.0.0.1:9092}" "$HRSS_BIN" api
	API2_PID="$BG_PID"
	API2_URL="http://$PUBLIC_HOST:$API2_PORT"
	if ! wait_for --pid "$API2_PID" --pid "$WORKER2_PID" "second API $API2_URL/healthz" "$HEALTH_TIMEOUT" \
		http_ok "http://$HTTP_PROBE_IP:$API2_PORT/healthz"; then
		kill -0 "$WORKER2_PID" 2>/dev/null || show_log_tail "$LOG_DIR/worker2.log"
		show_log_tail "$LOG_DIR/api2.log"
		die "the second API instance did not become healthy"
	fi
fi

# --- Temporal web UI ------------------------------------------------------------

if [[ -n "${START_UI_SERVER:-}" ]]; then
	if [[ -n "$UI_BUILD_PID" ]]; then
		log "waiting for the Temporal UI server build"
		wait "$UI_BUILD_PID" || die "building the Temporal UI server failed (see above)"
		UI_BUILD_PID=""
	fi
	rotate_log "$LOG_DIR/ui-server.log"
	ui_server_config "$RUN_DIR/ui-server" "$TEMPORAL_ADDRESS" 127.0.0.1 "$TEMPORAL_UI_PORT" "${API_URL%/v1}/codec"
	ui_server_start "$RUN_DIR/ui-server" "$LOG_DIR/ui-server.log" "$RUN_DIR/ui-server.pid" \
		"http://127.0.0.1:$TEMPORAL_UI_PORT" {DEV_LOCK_FD}>&-
fi

cat >&2 <<EOF

  HRSS back office is running.

    Applicant pages     ${API_URL%/v1}/
    Staff console       ${API_URL%/v1}/console
    API                 $API_URL
    OpenAPI document    $API_URL/openapi.yaml
    Metrics             http://$METRICS_ADDR/metrics (worker: http://$WORKER_METRICS_ADDR/metrics)
    Temporal web UI     ${TEMPORAL_UI_URL:-(external Temporal at $TEMPORAL_ADDRESS)}
                        decodes payloads for an operator signed in to the staff console
                        in the same browser (an administrator, auditor or a staff member
                        with the operator role; docs/operations.md). Open both under
                        "localhost": the UI's origin must be $TEMPORAL_UI_URL exactly.
    Mailbox             ${MAILBOX_URL:-(SMTP server $SMTP_HOST)}
                        every e-mail, and every SMS as mail to <mobile>@sms.invalid
                        (EMAIL_SENDER=${EMAIL_SENDER:-log}, SMS_SENDER=${SMS_SENDER:-log})
    Admin login         $BOOTSTRAP_ADMIN_USERNAME (password: $PASSWORD_NOTE)
    Logs                $LOG_DIR/{api,worker,migrate,temporal,ui-server,postgres,mailpit}.log
    Data                $DATA_DIR
EOF
if [[ "$HRSS_ENGINE" == cluster ]]; then
	cat >&2 <<EOF

    Engine              Temporal server $TEMPORAL_SERVER_VERSION on PostgreSQL (databases
                        $TEMPORAL_DB_NAME, $TEMPORAL_VISIBILITY_DB_NAME), services ${TEMPORAL_CLUSTER_SERVICES[*]}
                        as separate processes (deploy/temporal/config/hrss.yaml);
                        logs $LOG_DIR/temporal-*.log
    Second API          $API2_URL/ (same database and engine)
    Workers             two: $LOG_DIR/worker.log and worker2.log
EOF
fi
cat >&2 <<EOF

  Press Ctrl-C to stop.

EOF

# --- Supervise ----------------------------------------------------------------

# child_died NAME PID LOG - report an unexpected exit and stop everything.
child_died() {
	local status=0
	wait "$2" 2>/dev/null || status=$?
	log "$1 (pid $2) exited unexpectedly (status $status)"
	show_log_tail "$3"
	exit 1
}

TICK_PID=""
while :; do
	# Wake up when a child exits, or every 2s to check PostgreSQL (not our
	# child: pg_ctl daemonises it). Signals interrupt the wait.
	if [[ -z "$TICK_PID" ]] || ! kill -0 "$TICK_PID" 2>/dev/null; then
		sleep 2 {DEV_LOCK_FD}>&- &
		TICK_PID=$!
	fi
	wait -n "$TICK_PID" "$API_PID" "$WORKER_PID" ${TEMPORAL_PID:+"$TEMPORAL_PID"} ${UI_SERVER_PID:+"$UI_SERVER_PID"} ${MAILPIT_PID:+"$MAILPIT_PID"} \
		${API2_PID:+"$API2_PID"} ${WORKER2_PID:+"$WORKER2_PID"} "${TEMPORAL_CLUSTER_PIDS[@]}" 2>/dev/null || true

	kill -0 "$API_PID" 2>/dev/null || child_died "hrss api" "$API_PID" "$LOG_DIR/api.log"
	kill -0 "$WORKER_PID" 2>/dev/null || child_died "hrss worker" "$WORKER_PID" "$LOG_DIR/worker.log"
	if [[ -n "$API2_PID" ]] && ! kill -0 "$API2_PID" 2>/dev/null; then
		child_died "hrss api (second)" "$API2_PID" "$LOG_DIR/api2.log"
	fi
	if [[ -n "$WORKER2_PID" ]] && ! kill -0 "$WORKER2_PID" 2>/dev/null; then
		child_died "hrss worker (second)" "$WORKER2_PID" "$LOG_DIR/worker2.log"
	fi
	for svc in "${!TEMPORAL_CLUSTER_PIDS[@]}"; do
		kill -0 "${TEMPORAL_CLUSTER_PIDS[$svc]}" 2>/dev/null ||
			child_died "Temporal $svc" "${TEMPORAL_CLUSTER_PIDS[$svc]}" "$LOG_DIR/temporal-$svc.log"
	done
	if [[ -n "$TEMPORAL_PID" ]] && ! kill -0 "$TEMPORAL_PID" 2>/dev/null; then
		child_died "Temporal dev server" "$TEMPORAL_PID" "$LOG_DIR/temporal.log"
	fi
	if [[ -n "$UI_SERVER_PID" ]] && ! kill -0 "$UI_SERVER_PID" 2>/dev/null; then
		child_died "Temporal UI server" "$UI_SERVER_PID" "$LOG_DIR/ui-server.log"
	fi
	if [[ -n "$MAILPIT_PID" ]] && ! kill -0 "$MAILPIT_PID" 2>/dev/null; then
		child_died "Mailpit" "$MAILPIT_PID" "$LOG_DIR/mailpit.log"
	fi
	if [[ -n "$STARTED_PG" ]] && ! pg_is_running "$PG_DATA"; then
		log "PostgreSQL stopped unexpectedly"
		show_log_tail "$LOG_DIR/postgres.log"
		exit 1
	fi
done
