#!/bin/sh
# One-shot job of the `temporal-namespace` service (image temporalio/admin-tools).
# Makes sure the namespace the application uses exists and that the custom
# search attributes its workflows upsert are registered in it, then waits until
# the server reports them, so the worker never starts against a namespace that
# would reject its search attributes.
#
# Idempotent: an existing namespace or an attribute that is already registered
# with the same type is left alone. An attribute registered with another type
# is an error (Temporal cannot change it in place).
#
# Environment:
#   TEMPORAL_ADDRESS              frontend host:port (temporal:7233)
#   TEMPORAL_NAMESPACE            namespace to ensure (default)
#   TEMPORAL_NAMESPACE_RETENTION  retention of closed workflows for a new namespace (720h)
#   HRSS_SEARCH_ATTRIBUTES        space-separated Name=Type pairs, e.g. "HrssStatus=Keyword"
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS must be set}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${TEMPORAL_NAMESPACE_RETENTION:-720h}"
: "${HRSS_SEARCH_ATTRIBUTES:?HRSS_SEARCH_ATTRIBUTES must list Name=Type pairs}"

# retry TRIES DELAY_SECONDS COMMAND...: run COMMAND until it succeeds.
retry() {
	tries="$1"
	delay="$2"
	shift 2
	n=1
	until "$@"; do
		if [ "$n" -ge "$tries" ]; then
			return 1
		fi
		n=$((n + 1))
		sleep "$delay"
	done
}

namespace_exists() {
	temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1
}

ensure_namespace() {
	if namespace_exists; then
		echo "namespace $NAMESPACE already exists"
		return 0
	fi
	if out="$(temporal operator namespace create --address "$TEMPORAL_ADDRESS" \
		--namespace "$NAMESPACE" --retention "$RETENTION" 2>&1)"; then
		echo "created namespace $NAMESPACE (retention $RETENTION)"
	elif printf '%s\n' "$out" | grep -qi 'already'; then
		echo "namespace $NAMESPACE already exists"
	else
		printf '%s\n' "$out" >&2
		return 1
	fi
}

# has_search_attribute NAME TYPE: the server lists NAME with TYPE in the namespace.
has_search_attribute() {
	temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" 2>/dev/null |
		grep -w -- "$1" | grep -qi -- "$2"
}

ensure_search_attribute() {
	name="$1"
	type="$2"
	if has_search_attribute "$name" "$type"; then
		echo "search attribute $name ($type) already registered"
		return 0
	fi
	if out="$(temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" \
		--namespace "$NAMESPACE" --name "$name" --type "$type" 2>&1)"; then
		echo "registered search attribute $name ($type)"
	elif printf '%s\n' "$out" | grep -qi 'already exists' && ! printf '%s\n' "$out" | grep -qi 'different type'; then
		echo "search attribute $name ($type) already registered"
	else
		printf '%s\n' "$out" >&2
		return 1
	fi
}

echo "waiting for Temporal at $TEMPORAL_ADDRESS"
if ! retry 60 2 temporal operator cluster health --address "$TEMPORAL_ADDRESS"; then
	echo "Temporal at $TEMPORAL_ADDRESS did not become healthy" >&2
	exit 1
fi

retry 5 3 ensure_namespace
# A new namespace takes a few seconds to reach every service's cache.
if ! retry 30 2 namespace_exists; then
	echo "namespace $NAMESPACE is still not visible" >&2
	exit 1
fi

for pair in $HRSS_SEARCH_ATTRIBUTES; do
	name="${pair%%=*}"
	type="${pair#*=}"
	if [ -z "$name" ] || [ "$name" = "$pair" ] || [ -z "$type" ]; then
		echo "bad entry '$pair' in HRSS_SEARCH_ATTRIBUTES (want Name=Type)" >&2
		exit 1
	fi
	retry 5 3 ensure_search_attribute "$name" "$type"
	if ! retry 30 2 has_search_attribute "$name" "$type"; then
		echo "search attribute $name is still not listed in $NAMESPACE" >&2
		exit 1
	fi
done

echo "namespace $NAMESPACE is ready with search attributes: $HRSS_SEARCH_ATTRIBUTES"
