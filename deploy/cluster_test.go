package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// `make cluster` and `make test-cluster` (scripts/cluster.sh) register the
// custom search attributes `make run` gives the dev server (temporal_start in
// scripts/lib.sh), and compose's temporal-namespace job registers the same.
func TestClusterRegistersTheSearchAttributesOfMakeRunAndCompose(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is missing")
	}
	root, err := filepath.Abs(repoRoot)
	require.NoError(t, err)
	out, err := exec.Command("bash", "-c", `set -eu; HRSS_REPO="$1"; source "$1/scripts/lib.sh"; source "$1/scripts/cluster.sh"; hrss_search_attributes`,
		"bash", root).CombinedOutput()
	require.NoError(t, err, "%s", out)
	cluster := strings.Fields(string(out))
	require.Contains(t, cluster, "HrssStatus=Keyword")
	require.Contains(t, cluster, "HrssKind=Keyword")

	compose := strings.Fields(mustService(t, loadCompose(t), "temporal-namespace").Environment["HRSS_SEARCH_ATTRIBUTES"])
	slices.Sort(cluster)
	slices.Sort(compose)
	require.Equal(t, compose, cluster, "compose's temporal-namespace and make cluster must register the search attributes of make run")
}

// The cluster's services run as separate processes from the one
// configuration compose mounts, on PostgreSQL for both stores, with ports,
// database and log level from the environment.
func TestClusterConfigIsOneTemplateForComposeAndMakeCluster(t *testing.T) {
	cfg, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "temporal", "config", "hrss.yaml"))
	require.NoError(t, err)
	text := string(cfg)
	for _, env := range []string{"POSTGRES_SEEDS", "DB_PORT", "POSTGRES_USER", "POSTGRES_PWD", "DBNAME", "VISIBILITY_DBNAME",
		"NUM_HISTORY_SHARDS", "LOG_LEVEL", "BIND_ON_IP", "DYNAMIC_CONFIG_FILE_PATH", "FRONTEND_GRPC_PORT", "HISTORY_GRPC_PORT",
		"MATCHING_GRPC_PORT", "WORKER_GRPC_PORT"} {
		require.Containsf(t, text, `(env "`+env+`")`, "the configuration must read %s from the environment", env)
	}
	for _, svc := range []string{"frontend:", "history:", "matching:", "worker:"} {
		require.Contains(t, text, "\n  "+svc, "the configuration must define the %s service", svc)
	}
	script, err := os.ReadFile(filepath.Join(repoRoot, "scripts", "cluster.sh"))
	require.NoError(t, err)
	require.Contains(t, string(script), "TEMPORAL_CLUSTER_SERVICES=(history matching frontend worker)")
	require.Contains(t, string(script), `start --service "$svc"`, "make cluster must start each service as its own process")
	require.Contains(t, string(script), `sh "$HRSS_REPO/deploy/temporal/setup-schema.sh"`, "make cluster must set up the schema like compose")
	require.Contains(t, string(script), `sh "$HRSS_REPO/deploy/temporal/setup-namespace.sh"`, "make cluster must register the namespace like compose")
}
