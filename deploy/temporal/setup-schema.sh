#!/bin/sh
# One-shot job of the `temporal-schema` service (image temporalio/admin-tools,
# the same version as temporalio/server). Creates Temporal's two PostgreSQL
# databases and brings their schemas to the versions this server release ships,
# using Temporal's own temporal-sql-tool and the schema files inside the image.
#
# Safe to run on every `docker compose up`:
#   create-database   fails with "already exists" after the first run: tolerated;
#   setup-schema -v 0.0  only writes the version tables, and skips when the
#                     recorded version is already higher;
#   update-schema     applies only the versioned directories newer than the
#                     recorded version (this is also how a server upgrade's
#                     schema changes get applied: bump both image tags).
#
# Connection settings come from the environment, which temporal-sql-tool reads
# itself: SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD.
#
# `make cluster` (scripts/cluster.sh) runs this same script outside Docker with
# TEMPORAL_SCHEMA_EMBEDDED=postgresql/v12: the versioned schemas are then the
# ones embedded in the pinned temporal-sql-tool (update-schema --schema-name)
# instead of the directories shipped in the admin-tools image.
set -eu

: "${SQL_PLUGIN:?SQL_PLUGIN must be set (postgres12)}"
: "${SQL_HOST:?SQL_HOST must be set}"
: "${SQL_PORT:=5432}"
: "${SQL_USER:?SQL_USER must be set}"
: "${SQL_PASSWORD:?SQL_PASSWORD must be set}"
export SQL_PORT

SCHEMA_ROOT="${TEMPORAL_SCHEMA_ROOT:-/etc/temporal/schema/postgresql/v12}"
TEMPORAL_DB="${TEMPORAL_DB:-temporal}"
VISIBILITY_DB="${TEMPORAL_VISIBILITY_DB:-temporal_visibility}"

sql_tool() {
	temporal-sql-tool --plugin "$SQL_PLUGIN" --endpoint "$SQL_HOST" --port "$SQL_PORT" --user "$SQL_USER" "$@"
}

# The database may still be finishing its first boot even though it is healthy
# for pg_isready; give the first statement a few tries.
create_database() {
	db="$1"
	attempt=1
	while :; do
		if out="$(sql_tool --db "$db" create-database 2>&1)"; then
			echo "created database $db"
			return 0
		fi
		if printf '%s\n' "$out" | grep -qi 'already exists'; then
			echo "database $db already exists"
			return 0
		fi
		if [ "$attempt" -ge 10 ]; then
			printf '%s\n' "$out" >&2
			echo "could not create database $db" >&2
			return 1
		fi
		attempt=$((attempt + 1))
		sleep 3
	done
}

migrate() {
	db="$1"
	versioned_dir="$2"
	if [ ! -d "$versioned_dir" ]; then
		echo "schema directory $versioned_dir is missing from this admin-tools image" >&2
		return 1
	fi
	create_database "$db"
	sql_tool --db "$db" setup-schema -v 0.0
	sql_tool --db "$db" update-schema -d "$versioned_dir"
}

# migrate_embedded DB SCHEMA_NAME: the same with a schema embedded in the tool.
migrate_embedded() {
	db="$1"
	create_database "$db"
	sql_tool --db "$db" setup-schema -v 0.0
	sql_tool --db "$db" update-schema --schema-name "$2"
}

if [ -n "${TEMPORAL_SCHEMA_EMBEDDED:-}" ]; then
	migrate_embedded "$TEMPORAL_DB" "$TEMPORAL_SCHEMA_EMBEDDED/temporal"
	migrate_embedded "$VISIBILITY_DB" "$TEMPORAL_SCHEMA_EMBEDDED/visibility"
else
	migrate "$TEMPORAL_DB" "$SCHEMA_ROOT/temporal/versioned"
	migrate "$VISIBILITY_DB" "$SCHEMA_ROOT/visibility/versioned"
fi
echo "Temporal schemas of $TEMPORAL_DB and $VISIBILITY_DB are up to date"
