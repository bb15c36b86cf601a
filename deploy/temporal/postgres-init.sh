#!/bin/sh
# First-boot bootstrap of the shared PostgreSQL 15 instance (docker-compose.yml,
# service `postgres`). The postgres image runs every *.sh in
# /docker-entrypoint-initdb.d once, as the superuser, and only when the data
# volume is empty; later boots skip it.
#
# One instance, two owners, least privilege:
#   role `temporal` (LOGIN CREATEDB): Temporal's schema job creates and owns the
#       `temporal` and `temporal_visibility` databases with temporal-sql-tool
#       (service `temporal-schema`), so this script does not create them.
#   role `hrss` (LOGIN): owns the application database `hrss`, which the
#       `migrate` service fills from the embedded migrations.
#   role `hrss_app` (LOGIN): the application role of worker and api; it owns
#       nothing and gets its grants from `hrss migrate` (docs/security.md).
# The superuser password (POSTGRES_PASSWORD) is used by nothing but this script
# and manual administration.
#
# Changing TEMPORAL_DB_PASSWORD or HRSS_DB_PASSWORD after the first boot does not
# re-run this script: run `ALTER ROLE ... PASSWORD ...` as the superuser too.
set -eu

: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD must be set for the postgres service}"
: "${HRSS_DB_PASSWORD:?HRSS_DB_PASSWORD must be set for the postgres service}"
: "${HRSS_APP_DB_PASSWORD:?HRSS_APP_DB_PASSWORD must be set for the postgres service}"

# psql substitutes :'name' as a quoted literal, so the passwords are never
# spliced into SQL text by the shell.
psql --set ON_ERROR_STOP=1 \
	--username "${POSTGRES_USER:-postgres}" \
	--dbname "${POSTGRES_DB:-postgres}" \
	--set temporal_password="$TEMPORAL_DB_PASSWORD" \
	--set hrss_password="$HRSS_DB_PASSWORD" \
	--set hrss_app_password="$HRSS_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
CREATE ROLE hrss LOGIN PASSWORD :'hrss_password';
CREATE ROLE hrss_app LOGIN PASSWORD :'hrss_app_password';
CREATE DATABASE hrss OWNER hrss;
SQL
