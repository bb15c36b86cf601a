# shellcheck shell=bash
#
# Shared helpers for scripts/dev.sh and scripts/test.sh. Source it; do not run it.
#
# Inputs (all optional):
#   HRSS_REPO            repository root (default: parent of this file's directory)
#   TEMPORAL_CLI         path of an existing Temporal CLI binary to use instead of
#                        $HRSS_REPO/.tools/bin/temporal
#   PG_BIN_DIR           PostgreSQL server binaries (default /usr/lib/postgresql/15/bin)
#   PG_FAST=1            (pg_start) run the cluster with fsync/synchronous_commit off
#   WAIT_INTERVAL        seconds between polls in wait_for (default 0.25)

if [[ -n "${HRSS_LIB_SOURCED:-}" ]]; then
	return 0
fi
HRSS_LIB_SOURCED=1

HRSS_REPO="${HRSS_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"

# The one place the Temporal CLI version is pinned.
TEMPORAL_CLI_VERSION="v1.5.1"
TEMPORAL_CLI_MODULE="github.com/temporalio/cli/cmd/temporal"
HRSS_TOOLS_BIN="$HRSS_REPO/.tools/bin"
TEMPORAL_BIN="${TEMPORAL_CLI:-$HRSS_TOOLS_BIN/temporal}"

# The standalone Temporal web UI server (the same UI version as the dev
# server's), run beside a headless dev server so that the UI decodes payloads
# through the API's /codec with the console's session (docs/operations.md).
# `go install` builds it with the UI's assets embedded.
TEMPORAL_UI_SERVER_VERSION="v2.42.1"
TEMPORAL_UI_SERVER_MODULE="github.com/temporalio/ui-server/v2/cmd/server"
TEMPORAL_UI_SERVER_BIN="${TEMPORAL_UI_SERVER:-$HRSS_TOOLS_BIN/temporal-ui-server}"

# Mailpit, the local mailbox of `make run` (SMTP and a web UI/API; issue 18):
# every e-mail, and in development every SMS (as mail to
# <mobile>@sms.invalid), goes there. MAILPIT: an existing binary to use.
MAILPIT_VERSION="v1.33.1"
MAILPIT_MODULE="github.com/axllent/mailpit"
MAILPIT_BIN="${MAILPIT:-$HRSS_TOOLS_BIN/mailpit}"

PG_MAJOR=15
PG_BIN_DIR="${PG_BIN_DIR:-/usr/lib/postgresql/$PG_MAJOR/bin}"

# Role and database created in every cluster started by pg_start.
HRSS_DB_USER=hrss
HRSS_DB_PASSWORD=hrss
HRSS_DB_NAME=hrss
# The application role (DATABASE_URL of the API and the worker): no
# ownership, only the grants `hrss migrate` gives it (docs/security.md).
HRSS_APP_USER=hrss_app
HRSS_APP_PASSWORD=hrss_app

# ---------------------------------------------------------------------------
# Messages

log() {
	printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

warn() {
	printf '[%s] WARNING: %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

die() {
	printf '[%s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2
	exit 1
}

# show_log_tail FILE [LINES] - print the last lines of a log file to stderr.
show_log_tail() {
	local file="$1" lines="${2:-40}"
	if [[ -s "$file" ]]; then
		printf -- '----- last %s lines of %s -----\n' "$lines" "$file" >&2
		tail -n "$lines" "$file" >&2 || true
		printf -- '----- end of %s -----\n' "$file" >&2
	else
		printf -- '----- %s is empty or missing -----\n' "$file" >&2
	fi
}

# rotate_log FILE - keep the previous run's log as FILE.1 and start FILE empty.
rotate_log() {
	local file="$1"
	if [[ -e "$file" ]]; then
		mv -f "$file" "$file.1"
	fi
	: >"$file"
}

is_root() {
	[[ "$(id -u)" == 0 ]]
}

# ---------------------------------------------------------------------------
# Polling

# wait_for [--pid PID [--pid PID ...]] DESCRIPTION TIMEOUT_SECONDS COMMAND [ARGS...]
#
# Runs COMMAND until it succeeds or TIMEOUT_SECONDS elapse. With --pid, gives
# up early when one of those processes has exited. Returns 0 on success, 1 on
# timeout or when a watched process died (after printing why).
wait_for() {
	local pids=()
	while [[ "${1:-}" == --pid ]]; do
		pids+=("$2")
		shift 2
	done
	local desc="$1" timeout="$2"
	shift 2
	local interval="${WAIT_INTERVAL:-0.25}"
	local start=$SECONDS deadline=$((SECONDS + timeout)) pid
	while :; do
		if "$@" >/dev/null 2>&1; then
			log "$desc: ready after $((SECONDS - start))s"
			return 0
		fi
		for pid in "${pids[@]}"; do
			if ! kill -0 "$pid" 2>/dev/null; then
				log "$desc: process $pid exited before becoming ready"
				return 1
			fi
		done
		if ((SECONDS >= deadline)); then
			log "$desc: not ready after ${timeout}s"
			return 1
		fi
		sleep "$interval"
	done
}

# ---------------------------------------------------------------------------
# Ports and HTTP

# port_in_use PORT [HOST] - true when something accepts TCP connections there.
port_in_use() {
	local port="$1" host="${2:-127.0.0.1}"
	(exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

# free_port [EXCLUDED_PORT...] - print a TCP port that is free on 127.0.0.1
# and is not one of the excluded ports.
free_port() {
	local excluded=" $* " port tries
	for ((tries = 0; tries < 50; tries++)); do
		port=""
		if command -v python3 >/dev/null 2>&1; then
			port="$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' 2>/dev/null)" || port=""
		fi
		if [[ -z "$port" ]]; then
			# No python3: probe random ports in a range the kernel does not
			# hand out as ephemeral ports by default (32768-60999).
			port=$((20000 + RANDOM % 12000))
		fi
		if [[ "$excluded" != *" $port "* ]] && ! port_in_use "$port"; then
			printf '%s\n' "$port"
			return 0
		fi
	done
	die "could not find a free TCP port on 127.0.0.1"
}

# http_ok URL - true when URL answers with a 2xx status.
http_ok() {
	local url="$1"
	if command -v curl >/dev/null 2>&1; then
		curl -fsS -o /dev/null --max-time 2 "$url"
	else
		python3 - "$url" <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
    sys.exit(0 if 200 <= r.status < 300 else 1)
EOF
	fi
}

# ---------------------------------------------------------------------------
# Processes

# stop_pid PID NAME [TIMEOUT_SECONDS] - SIGTERM, wait, then SIGKILL.
stop_pid() {
	local pid="$1" name="$2" timeout="${3:-20}" deadline
	if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
		return 0
	fi
	log "stopping $name (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	deadline=$((SECONDS + timeout))
	while kill -0 "$pid" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			warn "$name (pid $pid) did not stop within ${timeout}s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.2
	done
	# Reap it when it is our child; harmless otherwise.
	wait "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------------------
# Tools

ensure_postgres_binaries() {
	if [[ -x "$PG_BIN_DIR/pg_ctl" && -x "$PG_BIN_DIR/initdb" && -x "$PG_BIN_DIR/psql" ]]; then
		return 0
	fi
	log "PostgreSQL $PG_MAJOR binaries not found in $PG_BIN_DIR; installing postgresql-$PG_MAJOR with apt-get"
	local sudo=()
	if ! is_root; then
		command -v sudo >/dev/null 2>&1 || die "postgresql-$PG_MAJOR is missing and this is not root (no sudo): install it first"
		sudo=(sudo)
	fi
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
		die "apt-get update failed"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "postgresql-$PG_MAJOR" </dev/null ||
		die "apt-get install postgresql-$PG_MAJOR failed"
	[[ -x "$PG_BIN_DIR/pg_ctl" ]] || die "postgresql-$PG_MAJOR installed but $PG_BIN_DIR/pg_ctl is still missing"
}

# ensure_chromium - Debian's Chromium (and a CJK font, so that Chinese pages
# render in screenshots) for the browser tests, installed with apt-get when
# /usr/bin/chromium is missing.
ensure_chromium() {
	[[ -x /usr/bin/chromium && -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]] && return 0
	log "Chromium or its CJK font not found; installing chromium and fonts-wqy-microhei with apt-get"
	apt_install chromium fonts-wqy-microhei
}

# apt_install PACKAGE... - install Debian packages (with sudo when not root).
apt_install() {
	local sudo=()
	if ! is_root; then
		command -v sudo >/dev/null 2>&1 || die "$* missing and this is not root (no sudo): install it first"
		sudo=(sudo)
	fi
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q || die "apt-get update failed"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" </dev/null ||
		die "apt-get install $* failed"
}

# The one place the axe-core version (accessibility rules of the browser
# tests) is pinned.
AXE_CORE_VERSION="4.10.2"
HRSS_AXE_DIR="$HRSS_REPO/.tools/axe-core-$AXE_CORE_VERSION"
AXE_JS="$HRSS_AXE_DIR/node_modules/axe-core/axe.min.js"

# ensure_axe - the pinned axe-core from the npm registry into .tools/ (with
# Debian's nodejs and npm when npm is missing). The browser tests read
# $AXE_JS and run it on every page they open.
ensure_axe() {
	[[ -s "$AXE_JS" ]] && return 0
	if ! command -v npm >/dev/null 2>&1; then
		log "npm not found; installing nodejs and npm with apt-get"
		apt_install nodejs npm
	fi
	log "installing axe-core@$AXE_CORE_VERSION into $HRSS_AXE_DIR"
	mkdir -p "$HRSS_AXE_DIR"
	npm install --prefix "$HRSS_AXE_DIR" --no-save --no-audit --no-fund --ignore-scripts \
		"axe-core@$AXE_CORE_VERSION" >&2 || die "npm install axe-core@$AXE_CORE_VERSION failed"
	[[ -s "$AXE_JS" ]] || die "axe-core installed but $AXE_JS is missing"
}

# go_tool_ok MODULE VERSION EXPLICIT BIN... - every BIN is an executable
# built from MODULE at VERSION (the module version `go version -m` reads
# from the binary: `go install` builds report "0.0.0-DEV" from --version).
# A non-empty EXPLICIT means the caller named the binaries: they are trusted.
go_tool_ok() {
	local module="$1" version="$2" explicit="$3" bin info
	shift 3
	for bin in "$@"; do
		[[ -x "$bin" ]] || return 1
	done
	[[ -z "$explicit" ]] || return 0
	command -v go >/dev/null 2>&1 || return 0
	for bin in "$@"; do
		info="$(go version -m "$bin" 2>/dev/null)" || return 1
		grep -qE "^[[:space:]]+mod[[:space:]]+$module[[:space:]]+$version([[:space:]]|\$)" <<<"$info" || return 1
	done
}

# install_go_tool WHAT CHECK LOCK HOW_LONG PACKAGE@VERSION... -- BUILT=DEST...
# - the one installer of the pinned tools: under the lock file
# $HRSS_TOOLS_BIN/LOCK (so that concurrent runs, e.g. `make run` and `make
# test` at once, build once), unless CHECK (a function) says another run
# has built them meanwhile, `go install` the packages into a private
# directory and move each binary BUILT (the name go install gives it) to
# DEST; then CHECK must hold.
install_go_tool() {
	local what="$1" check="$2" lock="$3" how_long="$4"
	shift 4
	local pkgs=() lock_fd tmp move
	while (($#)) && [[ "$1" != -- ]]; do
		pkgs+=("$1")
		shift
	done
	shift
	command -v go >/dev/null 2>&1 || die "go is not on PATH; cannot build the $what"
	mkdir -p "$HRSS_TOOLS_BIN"
	exec {lock_fd}>"$HRSS_TOOLS_BIN/$lock"
	if ! flock -n "$lock_fd"; then
		log "another $what install is running; waiting for it"
		flock "$lock_fd"
	fi
	if ! "$check"; then
		log "building $what into $HRSS_TOOLS_BIN ($how_long)"
		tmp="$(mktemp -d "$HRSS_TOOLS_BIN/.install.XXXXXX")"
		if ! GOBIN="$tmp" go install "${pkgs[@]}"; then
			rm -rf "$tmp"
			exec {lock_fd}>&-
			die "go install ${pkgs[*]} failed"
		fi
		for move in "$@"; do
			mv -f "$tmp/${move%%=*}" "${move#*=}"
		done
		rm -rf "$tmp"
		"$check" || {
			exec {lock_fd}>&-
			die "the $what was built but is not the pinned module version"
		}
		log "$what ready in $HRSS_TOOLS_BIN"
	fi
	exec {lock_fd}>&-
}

# temporal_cli_ok - the Temporal CLI binary exists and is the pinned version.
temporal_cli_ok() {
	go_tool_ok github.com/temporalio/cli "$TEMPORAL_CLI_VERSION" "${TEMPORAL_CLI:-}" "$TEMPORAL_BIN"
}

ensure_temporal_cli() {
	temporal_cli_ok && return 0
	[[ -z "${TEMPORAL_CLI:-}" ]] || die "TEMPORAL_CLI=$TEMPORAL_CLI is not an executable file"
	install_go_tool "Temporal CLI $TEMPORAL_CLI_VERSION" temporal_cli_ok .temporal-install.lock \
		"takes a few minutes the first time" "$TEMPORAL_CLI_MODULE@$TEMPORAL_CLI_VERSION" -- "temporal=$TEMPORAL_BIN"
}

# ui_server_ok - the UI server binary exists and is the pinned version.
ui_server_ok() {
	go_tool_ok github.com/temporalio/ui-server/v2 "$TEMPORAL_UI_SERVER_VERSION" "${TEMPORAL_UI_SERVER:-}" "$TEMPORAL_UI_SERVER_BIN"
}

# ensure_ui_server - build the pinned Temporal UI server into
# $HRSS_TOOLS_BIN/temporal-ui-server (go install names it "server").
ensure_ui_server() {
	ui_server_ok && return 0
	[[ -z "${TEMPORAL_UI_SERVER:-}" ]] || die "TEMPORAL_UI_SERVER=$TEMPORAL_UI_SERVER is not an executable file"
	install_go_tool "Temporal UI server $TEMPORAL_UI_SERVER_VERSION" ui_server_ok .ui-server-install.lock \
		"takes a few minutes the first time" "$TEMPORAL_UI_SERVER_MODULE@$TEMPORAL_UI_SERVER_VERSION" -- "server=$TEMPORAL_UI_SERVER_BIN"
}

# mailpit_ok - the Mailpit binary exists and is the pinned version.
mailpit_ok() {
	[[ -x "$MAILPIT_BIN" ]] || return 1
	if [[ -n "${MAILPIT:-}" ]]; then
		return 0 # explicitly chosen by the caller: trust it
	fi
	command -v go >/dev/null 2>&1 || return 0
	local info
	info="$(go version -m "$MAILPIT_BIN" 2>/dev/null)" || return 1
	grep -qE "^[[:space:]]+mod[[:space:]]+$MAILPIT_MODULE[[:space:]]+$MAILPIT_VERSION([[:space:]]|\$)" <<<"$info"
}

# ensure_mailpit - build the pinned Mailpit into $HRSS_TOOLS_BIN/mailpit.
ensure_mailpit() {
	if mailpit_ok; then
		return 0
	fi
	if [[ -n "${MAILPIT:-}" ]]; then
		die "MAILPIT=$MAILPIT is not an executable file"
	fi
	command -v go >/dev/null 2>&1 || die "go is not on PATH; cannot build Mailpit"
	mkdir -p "$HRSS_TOOLS_BIN"
	local lock_fd
	exec {lock_fd}>"$HRSS_TOOLS_BIN/.mailpit-install.lock"
	if ! flock -n "$lock_fd"; then
		log "another Mailpit install is running; waiting for it"
		flock "$lock_fd"
	fi
	if ! mailpit_ok; then
		log "building Mailpit $MAILPIT_VERSION into $HRSS_TOOLS_BIN (takes a minute the first time)"
		if ! GOBIN="$HRSS_TOOLS_BIN" go install "$MAILPIT_MODULE@$MAILPIT_VERSION"; then
			exec {lock_fd}>&-
			die "go install $MAILPIT_MODULE@$MAILPIT_VERSION failed"
		fi
		mailpit_ok || {
			exec {lock_fd}>&-
			die "$MAILPIT_BIN was built but is not module version $MAILPIT_VERSION"
		}
		log "Mailpit $MAILPIT_VERSION ready: $MAILPIT_BIN"
	fi
	exec {lock_fd}>&-
}

# ui_server_config DIR GRPC_ADDRESS HOST PORT CODEC_ENDPOINT - write the UI
# server's configuration as DIR/config/hrss.yaml: the web UI on HOST:PORT for
# the frontend at GRPC_ADDRESS, decoding through CODEC_ENDPOINT with the
# browser's credentials (the console's session cookie; docs/operations.md).
ui_server_config() {
	local dir="$1" grpc="$2" host="$3" port="$4" codec="$5"
	mkdir -p "$dir/config"
	cat >"$dir/config/hrss.yaml" <<YAML
# Written by scripts/lib.sh (ui_server_config); do not edit.
temporalGrpcAddress: $grpc
host: $host
port: $port
enableUi: true
defaultNamespace: default
notifyOnNewVersion: false
hideLogs: true
cors:
  cookieInsecure: true
codec:
  endpoint: $codec
  passAccessToken: false
  includeCredentials: true
YAML
}

# ui_server_start DIR LOG_FILE PID_FILE URL - start the UI server configured
# in DIR (ui_server_config) in the background, PID in UI_SERVER_PID, and wait
# until URL answers.
ui_server_start() {
	local dir="$1" log_file="$2" pid_file="$3" url="$4"
	[[ -x "$TEMPORAL_UI_SERVER_BIN" ]] || die "Temporal UI server not found at $TEMPORAL_UI_SERVER_BIN (run: make tools)"
	log "starting the Temporal web UI at $url (log: $log_file)"
	setsid "$TEMPORAL_UI_SERVER_BIN" --root "$dir" --config config --env hrss start </dev/null >>"$log_file" 2>&1 &
	UI_SERVER_PID=$!
	printf '%s\n' "$UI_SERVER_PID" >"$pid_file"
	if ! wait_for --pid "$UI_SERVER_PID" "Temporal web UI $url" 60 http_ok "$url/"; then
		show_log_tail "$log_file"
		stop_pid "$UI_SERVER_PID" "Temporal UI server" 10
		die "the Temporal web UI did not start"
	fi
}

# ---------------------------------------------------------------------------
# PostgreSQL

# pg_run CMD [ARGS...] - run a command as the postgres OS user when we are root
# (the server refuses to run as root), else as ourselves.
pg_run() {
	if is_root; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pg_socket_dir DATA_DIR - directory for the server's unix socket: next to the
# data directory, or a short /tmp directory when that path would exceed the
# unix socket path limit.
pg_socket_dir() {
	local data_dir="$1" dir
	dir="$(dirname "$data_dir")/$(basename "$data_dir")-run"
	if ((${#dir} > 80)); then
		dir="/tmp/hrss-pg-$(printf '%s' "$data_dir" | cksum | cut -d' ' -f1)"
	fi
	printf '%s\n' "$dir"
}

# pg_is_running DATA_DIR
pg_is_running() {
	[[ -f "$1/postmaster.pid" ]] && pg_run "$PG_BIN_DIR/pg_ctl" -D "$1" status >/dev/null 2>&1
}

# pg_conf_quote VALUE - quote VALUE as a postgresql.conf string.
pg_conf_quote() {
	printf "'%s'" "${1//\'/\'\'}"
}

# pg_start DATA_DIR PORT [LOG_FILE]
#
# Creates the cluster when DATA_DIR is missing or empty (superuser postgres,
# trust auth for local and loopback connections only), starts it listening on
# 127.0.0.1:PORT, and makes sure role hrss (password hrss, LOGIN CREATEDB) and
# database hrss owned by it exist. Idempotent: an already running cluster for
# DATA_DIR is reused. LOG_FILE defaults to DATA_DIR.log.
pg_start() {
	local data_dir="$1" port="$2" log_file="${3:-$1.log}"
	[[ -n "$data_dir" && -n "$port" ]] || die "usage: pg_start DATA_DIR PORT [LOG_FILE]"
	local parent sock_dir
	mkdir -p "$(dirname "$data_dir")"
	parent="$(cd "$(dirname "$data_dir")" && pwd)"
	data_dir="$parent/$(basename "$data_dir")"
	sock_dir="$(pg_socket_dir "$data_dir")"

	if is_root; then
		id postgres >/dev/null 2>&1 || die "OS user 'postgres' does not exist (is postgresql-$PG_MAJOR installed?)"
		if ! runuser -u postgres -- test -x "$parent"; then
			die "the postgres OS user cannot reach $parent (a parent directory is not traversable); chmod o+x the parent directories or use DATABASE_URL"
		fi
	fi

	mkdir -p "$sock_dir" "$(dirname "$log_file")"
	touch "$log_file"
	if is_root; then
		chown postgres:postgres "$sock_dir" "$log_file"
	fi

	if [[ -d "$data_dir" && -n "$(ls -A "$data_dir" 2>/dev/null)" ]]; then
		[[ -f "$data_dir/PG_VERSION" ]] || die "$data_dir is not empty and is not a PostgreSQL data directory"
		local version
		version="$(cat "$data_dir/PG_VERSION")"
		[[ "$version" == "$PG_MAJOR" ]] || die "$data_dir holds a PostgreSQL $version cluster, but PostgreSQL $PG_MAJOR is used here; move it away"
	else
		log "initialising PostgreSQL cluster in $data_dir"
		mkdir -p "$data_dir"
		chmod 700 "$data_dir"
		if is_root; then
			chown postgres:postgres "$data_dir"
		fi
		if ! pg_run "$PG_BIN_DIR/initdb" -D "$data_dir" -U postgres --auth=trust \
			--encoding=UTF8 --locale=C >"$log_file.initdb" 2>&1; then
			show_log_tail "$log_file.initdb"
			die "initdb failed for $data_dir"
		fi
		rm -f "$log_file.initdb"
		# initdb's pg_hba.conf with --auth=trust only has local-socket and
		# loopback (127.0.0.1/32, ::1/128) entries. Settings that may change
		# between starts live in hrss.conf, rewritten at every start.
		printf "\n# Added by scripts/lib.sh\ninclude_if_exists = 'hrss.conf'\n" |
			pg_run tee -a "$data_dir/postgresql.conf" >/dev/null
	fi
	if is_root; then
		chown postgres:postgres "$data_dir"
	fi

	if pg_is_running "$data_dir"; then
		local running_port
		running_port="$(sed -n 4p "$data_dir/postmaster.pid")"
		if [[ "$running_port" != "$port" ]]; then
			die "PostgreSQL for $data_dir is already running on port $running_port, not $port; stop it with: $PG_BIN_DIR/pg_ctl -D $data_dir stop"
		fi
		log "PostgreSQL for $data_dir is already running on port $port; reusing it"
	else
		if port_in_use "$port"; then
			die "port $port on 127.0.0.1 is already in use; cannot start PostgreSQL there"
		fi
		{
			printf '# Written by scripts/lib.sh at every start; do not edit.\n'
			printf 'listen_addresses = %s\n' "'127.0.0.1'"
			printf 'port = %s\n' "$port"
			printf 'unix_socket_directories = %s\n' "$(pg_conf_quote "$sock_dir")"
			printf 'max_connections = 200\n'
			if [[ "${PG_FAST:-}" == 1 ]]; then
				printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n'
			fi
		} | pg_run tee "$data_dir/hrss.conf" >/dev/null
		log "starting PostgreSQL on 127.0.0.1:$port (log: $log_file)"
		if ! pg_run "$PG_BIN_DIR/pg_ctl" -D "$data_dir" -l "$log_file" -w -t 60 start >/dev/null; then
			show_log_tail "$log_file"
			die "PostgreSQL failed to start from $data_dir"
		fi
	fi

	# Role and database, idempotently, over the unix socket as the superuser.
	local psql=("$PG_BIN_DIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock_dir" -p "$port" -U postgres -d postgres)
	if ! "${psql[@]}" >/dev/null 2>"$log_file.psql" <<SQL; then
DO \$\$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '$HRSS_DB_USER') THEN
		CREATE ROLE $HRSS_DB_USER LOGIN CREATEDB PASSWORD '$HRSS_DB_PASSWORD';
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '$HRSS_APP_USER') THEN
		CREATE ROLE $HRSS_APP_USER LOGIN NOCREATEDB NOCREATEROLE PASSWORD '$HRSS_APP_PASSWORD';
	END IF;
END
\$\$;
SELECT 'CREATE DATABASE $HRSS_DB_NAME OWNER $HRSS_DB_USER'
WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = '$HRSS_DB_NAME')
\gexec
SQL
		show_log_tail "$log_file.psql"
		show_log_tail "$log_file"
		die "could not create role/database $HRSS_DB_NAME in the cluster at $data_dir"
	fi
	rm -f "$log_file.psql"
}

# pg_stop DATA_DIR - fast shutdown; does nothing when the cluster is not running.
pg_stop() {
	local data_dir="$1"
	if [[ ! -f "$data_dir/PG_VERSION" ]] || ! pg_is_running "$data_dir"; then
		return 0
	fi
	log "stopping PostgreSQL ($data_dir)"
	if ! pg_run "$PG_BIN_DIR/pg_ctl" -D "$data_dir" -m fast -w -t 60 stop >/dev/null; then
		warn "pg_ctl stop failed for $data_dir; sending SIGQUIT"
		local pid
		pid="$(head -n 1 "$data_dir/postmaster.pid" 2>/dev/null || true)"
		if [[ -n "$pid" ]]; then
			kill -QUIT "$pid" 2>/dev/null || true
		fi
	fi
}

# pg_url PORT - MIGRATE_DATABASE_URL (the owner role) for the hrss database
# of a cluster from pg_start.
pg_url() {
	printf 'postgres://%s:%s@127.0.0.1:%s/%s?sslmode=disable\n' \
		"$HRSS_DB_USER" "$HRSS_DB_PASSWORD" "$1" "$HRSS_DB_NAME"
}

# pg_app_url PORT - DATABASE_URL (the application role) for the same database.
pg_app_url() {
	printf 'postgres://%s:%s@127.0.0.1:%s/%s?sslmode=disable\n' \
		"$HRSS_APP_USER" "$HRSS_APP_PASSWORD" "$1" "$HRSS_DB_NAME"
}

# ---------------------------------------------------------------------------
# Temporal

# temporal_start LOG_FILE PID_FILE PORT UI_PORT [EXTRA_START_DEV_ARGS...]
#
# Starts `temporal server start-dev` in the background on 127.0.0.1:PORT with
# the default namespace and the search attributes HrssStatus, HrssKind,
# HrssRecordId, HrssOffice (keywords) and HrssSince (datetime),
# writes its PID to PID_FILE and to TEMPORAL_PID, then waits (deadline
# TEMPORAL_START_TIMEOUT, default 120s) until it is healthy and the search
# attributes are registered. Extra args: e.g. --headless, --db-filename FILE.
temporal_start() {
	local log_file="$1" pid_file="$2" port="$3" ui_port="$4"
	shift 4
	[[ -x "$TEMPORAL_BIN" ]] || die "Temporal CLI not found at $TEMPORAL_BIN (run: make tools)"
	local p
	for p in "$port" "$ui_port"; do
		if port_in_use "$p"; then
			die "port $p on 127.0.0.1 is already in use; cannot start the Temporal dev server there"
		fi
	done
	mkdir -p "$(dirname "$log_file")" "$(dirname "$pid_file")"
	log "starting Temporal dev server on 127.0.0.1:$port (log: $log_file)"
	# setsid: its own process group, so a terminal Ctrl-C does not reach it
	# directly; the calling script stops it in its cleanup.
	setsid "$TEMPORAL_BIN" server start-dev \
		--ip 127.0.0.1 \
		--port "$port" \
		--ui-port "$ui_port" \
		--namespace default \
		--search-attribute HrssStatus=Keyword \
		--search-attribute HrssKind=Keyword \
		--search-attribute HrssRecordId=Keyword \
		--search-attribute HrssOffice=Keyword \
		--search-attribute HrssSince=Datetime \
		--log-level warn \
		"$@" </dev/null >>"$log_file" 2>&1 &
	TEMPORAL_PID=$!
	printf '%s\n' "$TEMPORAL_PID" >"$pid_file"
	if ! wait_for --pid "$TEMPORAL_PID" "Temporal on 127.0.0.1:$port" \
		"${TEMPORAL_START_TIMEOUT:-120}" temporal_ready "127.0.0.1:$port"; then
		show_log_tail "$log_file"
		stop_pid "$TEMPORAL_PID" "Temporal dev server" 10
		die "Temporal dev server did not become ready"
	fi
}

# temporal_ready ADDRESS - frontend healthy, namespace present, search
# attributes registered.
temporal_ready() {
	local address="$1" attrs
	local common=(--address "$address" --command-timeout 5s)
	"$TEMPORAL_BIN" operator cluster health "${common[@]}" >/dev/null 2>&1 || return 1
	"$TEMPORAL_BIN" operator namespace describe --namespace default "${common[@]}" >/dev/null 2>&1 || return 1
	attrs="$("$TEMPORAL_BIN" operator search-attribute list --namespace default "${common[@]}" 2>/dev/null)" || return 1
	[[ "$attrs" == *HrssStatus* && "$attrs" == *HrssKind* && "$attrs" == *HrssRecordId* &&
		"$attrs" == *HrssOffice* && "$attrs" == *HrssSince* ]]
}
