# shellcheck shell=bash
#
# The production Temporal engine on this machine: helpers for `make cluster`
# (scripts/dev.sh with HRSS_ENGINE=cluster) and `make test-cluster`
# (scripts/test.sh with HRSS_TEST_ENGINE=cluster). Source it after lib.sh.
#
# A Temporal server of the version the dev server embeds, built from source
# with `go install` (pinned) together with its schema tool, runs its four
# services (history, matching, frontend, worker) as separate processes from
# deploy/temporal/config/hrss.yaml, the file docker-compose.yml mounts too,
# with PostgreSQL persistence and SQL visibility in two databases of the
# project's PostgreSQL cluster (pg_start).
#
# Inputs (all optional):
#   TEMPORAL_SERVER      an existing temporal-server binary to use
#   TEMPORAL_SQL_TOOL    an existing temporal-sql-tool binary to use
#   NUM_HISTORY_SHARDS   history shards of a new cluster (default 8 here;
#                        fixed once the databases exist)

# The one place the Temporal server version is pinned (the dev server of the
# pinned Temporal CLI is the same server release).
TEMPORAL_SERVER_VERSION="v1.29.1"
TEMPORAL_SERVER_MODULE="go.temporal.io/server"
TEMPORAL_SERVER_BIN="${TEMPORAL_SERVER:-$HRSS_TOOLS_BIN/temporal-server}"
TEMPORAL_SQL_TOOL_BIN="${TEMPORAL_SQL_TOOL:-$HRSS_TOOLS_BIN/temporal-sql-tool}"

# Role and databases of the Temporal server in the project's cluster.
TEMPORAL_DB_USER=temporal
TEMPORAL_DB_PASSWORD_LOCAL=temporal
TEMPORAL_DB_NAME=temporal
TEMPORAL_VISIBILITY_DB_NAME=temporal_visibility

# Start order: history owns the shards, matching the task queues, the
# frontend waits for both, the worker service (system workflows) last.
TEMPORAL_CLUSTER_SERVICES=(history matching frontend worker)

# temporal_server_ok - both binaries exist and are the pinned module version.
temporal_server_ok() {
	local explicit=""
	[[ -z "${TEMPORAL_SERVER:-}" || -z "${TEMPORAL_SQL_TOOL:-}" ]] || explicit=1
	go_tool_ok "$TEMPORAL_SERVER_MODULE" "$TEMPORAL_SERVER_VERSION" "$explicit" "$TEMPORAL_SERVER_BIN" "$TEMPORAL_SQL_TOOL_BIN"
}

# ensure_temporal_server - build the pinned server and schema tool into
# $HRSS_TOOLS_BIN/temporal-server and temporal-sql-tool (one `go install` of
# both, which names them server and sql). The first build takes several
# minutes.
ensure_temporal_server() {
	temporal_server_ok && return 0
	if [[ -n "${TEMPORAL_SERVER:-}${TEMPORAL_SQL_TOOL:-}" ]]; then
		die "TEMPORAL_SERVER / TEMPORAL_SQL_TOOL must both name executable files of $TEMPORAL_SERVER_MODULE $TEMPORAL_SERVER_VERSION"
	fi
	install_go_tool "Temporal server $TEMPORAL_SERVER_VERSION and its SQL schema tool" temporal_server_ok \
		.temporal-server-install.lock "about 10 minutes the first time" \
		"$TEMPORAL_SERVER_MODULE/cmd/server@$TEMPORAL_SERVER_VERSION" "$TEMPORAL_SERVER_MODULE/cmd/tools/sql@$TEMPORAL_SERVER_VERSION" \
		-- "server=$TEMPORAL_SERVER_BIN" "sql=$TEMPORAL_SQL_TOOL_BIN"
}

# hrss_search_attributes - the custom search attributes as "Name=Type ...":
# the list `make run` gives the dev server (temporal_start in lib.sh), so
# both engines register the same ones.
hrss_search_attributes() {
	local attrs
	attrs="$(declare -f temporal_start | grep -oE -- '--search-attribute +"?[A-Za-z0-9_]+=[A-Za-z]+' |
		sed -E 's/--search-attribute +"?//' | sort -u | tr '\n' ' ')"
	[[ -n "${attrs// /}" ]] || die "found no --search-attribute in temporal_start (scripts/lib.sh)"
	printf '%s\n' "${attrs% }"
}

# tool_path_dir - a directory with `temporal` (the pinned CLI) and
# `temporal-sql-tool`, for the deploy/temporal scripts, which call them by name.
tool_path_dir() {
	local dir="$1"
	mkdir -p "$dir"
	ln -sfn "$TEMPORAL_BIN" "$dir/temporal"
	ln -sfn "$TEMPORAL_SQL_TOOL_BIN" "$dir/temporal-sql-tool"
	printf '%s\n' "$dir"
}

# temporal_cluster_schema PG_DATA PG_PORT LOG_FILE TOOLS_DIR - role `temporal`
# (LOGIN CREATEDB) in the cluster of pg_start, then the databases and their
# schemas, created and upgraded by Temporal's SQL tool with the same script
# as compose's temporal-schema job (deploy/temporal/setup-schema.sh), on the
# schemas embedded in the tool.
temporal_cluster_schema() {
	local pg_data="$1" pg_port="$2" log_file="$3" tools_dir="$4" sock_dir
	sock_dir="$(pg_socket_dir "$(cd "$(dirname "$pg_data")" && pwd)/$(basename "$pg_data")")"
	if ! "$PG_BIN_DIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock_dir" -p "$pg_port" -U postgres -d postgres \
		>>"$log_file" 2>&1 <<SQL; then
DO \$\$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '$TEMPORAL_DB_USER') THEN
		CREATE ROLE $TEMPORAL_DB_USER LOGIN CREATEDB PASSWORD '$TEMPORAL_DB_PASSWORD_LOCAL';
	END IF;
END
\$\$;
SQL
		show_log_tail "$log_file"
		die "could not create role $TEMPORAL_DB_USER"
	fi
	log "creating/upgrading Temporal's schemas with temporal-sql-tool (log: $log_file)"
	if ! PATH="$(tool_path_dir "$tools_dir"):$PATH" SQL_PLUGIN=postgres12 SQL_HOST=127.0.0.1 SQL_PORT="$pg_port" \
		SQL_USER="$TEMPORAL_DB_USER" SQL_PASSWORD="$TEMPORAL_DB_PASSWORD_LOCAL" \
		TEMPORAL_DB="$TEMPORAL_DB_NAME" TEMPORAL_VISIBILITY_DB="$TEMPORAL_VISIBILITY_DB_NAME" \
		TEMPORAL_SCHEMA_EMBEDDED=postgresql/v12 \
		sh "$HRSS_REPO/deploy/temporal/setup-schema.sh" >>"$log_file" 2>&1 </dev/null; then
		show_log_tail "$log_file"
		die "setting up Temporal's schemas failed"
	fi
}

# temporal_cluster_ports MODE - fill TEMPORAL_CLUSTER_ENV with the ports of the
# four services: MODE "default" keeps the config file's (frontend 7233), "free"
# picks free ones (tests). TEMPORAL_CLUSTER_FRONTEND is the frontend's port.
temporal_cluster_ports() {
	local mode="$1" name used=() p p_svc
	TEMPORAL_CLUSTER_PORT_ENV=()
	TEMPORAL_CLUSTER_GRPC_PORTS=([history]=7234 [matching]=7235 [frontend]=7233 [worker]=7239)
	if [[ "$mode" == default ]]; then
		TEMPORAL_CLUSTER_FRONTEND=7233
		for p in 7233 7234 7235 7239 7243 6933 6934 6935 6939; do
			port_in_use "$p" && die "port $p on 127.0.0.1 is already in use; the Temporal cluster needs it"
		done
		return 0
	fi
	for name in FRONTEND_GRPC_PORT FRONTEND_HTTP_PORT HISTORY_GRPC_PORT MATCHING_GRPC_PORT WORKER_GRPC_PORT \
		FRONTEND_MEMBERSHIP_PORT HISTORY_MEMBERSHIP_PORT MATCHING_MEMBERSHIP_PORT WORKER_MEMBERSHIP_PORT; do
		p="$(low_free_port "${used[@]}")"
		used+=("$p")
		TEMPORAL_CLUSTER_PORT_ENV+=("$name=$p")
		if [[ "$name" == *_GRPC_PORT ]]; then
			p_svc="${name%_GRPC_PORT}"
			TEMPORAL_CLUSTER_GRPC_PORTS["${p_svc,,}"]="$p"
		fi
		if [[ "$name" == FRONTEND_GRPC_PORT ]]; then
			TEMPORAL_CLUSTER_FRONTEND="$p"
		fi
	done
}

# low_free_port [EXCLUDED_PORT...] - a free TCP port below 32768: Temporal's
# SQL schema keeps the membership ports in a smallint column, and the kernel
# hands out ephemeral ports from 32768 up, so none of them collides with a
# port another program gets from the kernel meanwhile.
low_free_port() {
	local excluded=" $* " port tries
	for ((tries = 0; tries < 100; tries++)); do
		port=$((20000 + RANDOM % 12000))
		if [[ "$excluded" != *" $port "* ]] && ! port_in_use "$port"; then
			printf '%s\n' "$port"
			return 0
		fi
	done
	die "could not find a free TCP port below 32768 on 127.0.0.1"
}

# temporal_cluster_service_start SERVICE LOG_DIR RUN_DIR PG_PORT - one service
# as its own process; PID in RUN_DIR/temporal-SERVICE.pid and TEMPORAL_CLUSTER_PIDS.
temporal_cluster_service_start() {
	local svc="$1" log_dir="$2" run_dir="$3" pg_port="$4" pid
	setsid env "${TEMPORAL_CLUSTER_PORT_ENV[@]}" \
		LOG_LEVEL="${TEMPORAL_CLUSTER_LOG_LEVEL:-warn}" \
		NUM_HISTORY_SHARDS="${NUM_HISTORY_SHARDS:-8}" \
		POSTGRES_SEEDS=127.0.0.1 DB_PORT="$pg_port" \
		POSTGRES_USER="$TEMPORAL_DB_USER" POSTGRES_PWD="$TEMPORAL_DB_PASSWORD_LOCAL" \
		DBNAME="$TEMPORAL_DB_NAME" VISIBILITY_DBNAME="$TEMPORAL_VISIBILITY_DB_NAME" \
		SQL_MAX_CONNS="${TEMPORAL_SQL_MAX_CONNS:-10}" SQL_VIS_MAX_CONNS="${TEMPORAL_SQL_VIS_MAX_CONNS:-4}" \
		DYNAMIC_CONFIG_FILE_PATH="$HRSS_REPO/deploy/temporal/dynamicconfig/hrss.yaml" \
		"$TEMPORAL_SERVER_BIN" --allow-no-auth --root "$HRSS_REPO" --config deploy/temporal/config --env hrss \
		start --service "$svc" </dev/null >>"$log_dir/temporal-$svc.log" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$run_dir/temporal-$svc.pid"
	TEMPORAL_CLUSTER_PIDS["$svc"]="$pid"
}

declare -gA TEMPORAL_CLUSTER_PIDS=() TEMPORAL_CLUSTER_GRPC_PORTS=()

# temporal_cluster_start LOG_DIR RUN_DIR PG_DATA PG_PORT PORT_MODE
#
# Schema, the four services, then namespace `default` and the custom search
# attributes (deploy/temporal/setup-namespace.sh, as in compose). Leaves the
# frontend address in TEMPORAL_CLUSTER_ADDRESS. Deadline:
# TEMPORAL_START_TIMEOUT (default 180s) for the frontend.
temporal_cluster_start() {
	local log_dir="$1" run_dir="$2" pg_data="$3" pg_port="$4" mode="${5:-default}" svc address
	[[ -x "$TEMPORAL_SERVER_BIN" ]] || die "Temporal server not found at $TEMPORAL_SERVER_BIN"
	mkdir -p "$log_dir" "$run_dir"
	TEMPORAL_CLUSTER_RUN_DIR="$run_dir"
	temporal_cluster_ports "$mode"
	temporal_cluster_schema "$pg_data" "$pg_port" "$log_dir/temporal-schema.log" "$run_dir/tools"
	# One after the other, each once it listens: services starting together
	# on new databases race to write the cluster metadata, and the loser
	# exits ("Failed to apply cluster metadata").
	local pids=()
	for svc in "${TEMPORAL_CLUSTER_SERVICES[@]}"; do
		rotate_log "$log_dir/temporal-$svc.log"
		temporal_cluster_service_start "$svc" "$log_dir" "$run_dir" "$pg_port"
		pids+=(--pid "${TEMPORAL_CLUSTER_PIDS[$svc]}")
		# The worker service (system workflows) serves no gRPC port.
		[[ "$svc" == worker ]] && continue
		if ! wait_for "${pids[@]}" "Temporal $svc on port ${TEMPORAL_CLUSTER_GRPC_PORTS[$svc]}" "${TEMPORAL_START_TIMEOUT:-180}" \
			port_in_use "${TEMPORAL_CLUSTER_GRPC_PORTS[$svc]}"; then
			show_log_tail "$log_dir/temporal-$svc.log" 15
			temporal_cluster_stop
			die "the Temporal $svc service did not start"
		fi
	done
	address="127.0.0.1:$TEMPORAL_CLUSTER_FRONTEND"
	TEMPORAL_CLUSTER_ADDRESS="$address"
	log "Temporal cluster: ${TEMPORAL_CLUSTER_SERVICES[*]} started (logs: $log_dir/temporal-*.log)"
	if ! wait_for "${pids[@]}" "Temporal cluster frontend $address" "${TEMPORAL_START_TIMEOUT:-180}" \
		"$TEMPORAL_BIN" operator cluster health --address "$address" --command-timeout 5s; then
		for svc in "${TEMPORAL_CLUSTER_SERVICES[@]}"; do
			show_log_tail "$log_dir/temporal-$svc.log" 15
		done
		temporal_cluster_stop
		die "the Temporal cluster did not become healthy"
	fi
	log "registering namespace default and search attributes $(hrss_search_attributes) (log: $log_dir/temporal-namespace.log)"
	if ! PATH="$(tool_path_dir "$run_dir/tools"):$PATH" TEMPORAL_ADDRESS="$address" TEMPORAL_NAMESPACE=default \
		TEMPORAL_NAMESPACE_RETENTION=72h HRSS_SEARCH_ATTRIBUTES="$(hrss_search_attributes)" \
		sh "$HRSS_REPO/deploy/temporal/setup-namespace.sh" >>"$log_dir/temporal-namespace.log" 2>&1 </dev/null; then
		show_log_tail "$log_dir/temporal-namespace.log"
		temporal_cluster_stop
		die "registering the namespace and search attributes failed"
	fi
	wait_for "${pids[@]}" "Temporal cluster namespace and search attributes" 60 temporal_ready "$address" ||
		die "the Temporal cluster's namespace is not ready"
	for svc in "${TEMPORAL_CLUSTER_SERVICES[@]}"; do
		kill -0 "${TEMPORAL_CLUSTER_PIDS[$svc]}" 2>/dev/null || {
			show_log_tail "$log_dir/temporal-$svc.log" 15
			temporal_cluster_stop
			die "the Temporal $svc service exited"
		}
	done
}

# temporal_cluster_stop - stop the services in reverse order: the processes
# this shell started, and the ones whose PID files name another process of
# the server (a test that killed a service started it again: e2e/faults_test.go).
temporal_cluster_stop() {
	local i svc pid
	for ((i = ${#TEMPORAL_CLUSTER_SERVICES[@]} - 1; i >= 0; i--)); do
		svc="${TEMPORAL_CLUSTER_SERVICES[$i]}"
		stop_pid "${TEMPORAL_CLUSTER_PIDS[$svc]:-}" "Temporal $svc" 20
		[[ -n "${TEMPORAL_CLUSTER_RUN_DIR:-}" && -f "$TEMPORAL_CLUSTER_RUN_DIR/temporal-$svc.pid" ]] || continue
		pid="$(cat "$TEMPORAL_CLUSTER_RUN_DIR/temporal-$svc.pid" 2>/dev/null || true)"
		if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
			tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--service $svc"; then
			stop_pid "$pid" "Temporal $svc (restarted)" 20
		fi
	done
}
