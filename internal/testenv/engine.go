package testenv

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Engine is the Temporal engine the tests talk to at TEMPORAL_ADDRESS:
// "cluster" under `make test-cluster` (HRSS_TEST_ENGINE=cluster: a Temporal
// server on PostgreSQL whose services scripts/test.sh started as separate
// processes, scripts/cluster.sh), else "dev" (the dev server of `make test`).
func Engine() string {
	if os.Getenv("HRSS_TEST_ENGINE") == "cluster" {
		return "cluster"
	}
	return "dev"
}

// ClusterServicePID is the process ID of one service (history, matching,
// frontend, worker) of the cluster scripts/test.sh started, from its PID
// file in HRSS_CLUSTER_RUN_DIR. The test is skipped on the dev server.
func ClusterServicePID(t testing.TB, service string) int {
	t.Helper()
	dir := os.Getenv("HRSS_CLUSTER_RUN_DIR")
	if Engine() != "cluster" || dir == "" {
		t.Skip("needs the Temporal cluster (make test-cluster)")
	}
	b, err := os.ReadFile(filepath.Join(dir, "temporal-"+service+".pid"))
	if err != nil {
		t.Fatalf("PID file of the cluster's %s service: %v", service, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		t.Fatalf("PID file of the cluster's %s service: %q", service, b)
	}
	return pid
}
