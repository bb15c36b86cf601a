// Package deploy holds the checks of the production container setup:
// docker-compose.yml, Dockerfile and .dockerignore at the repository root and
// the Temporal/PostgreSQL helper files under deploy/temporal. The tests read
// the files only; no Docker engine is needed.
package deploy

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"hrss-backoffice/workflows"
)

// ---------------------------------------------------------------------------

func TestComposeDefinesTheProductionServices(t *testing.T) {
	c := loadCompose(t)
	for _, name := range expectedServices {
		_, ok := c.Services[name]
		require.Truef(t, ok, "docker-compose.yml must define service %q (has %v)", name, keys(c.Services))
	}
}

func TestComposeImagesArePinnedToConcreteVersions(t *testing.T) {
	c := loadCompose(t)
	semver := regexp.MustCompile(`^\d+\.\d+\.\d+$`)
	for name, s := range c.Services {
		require.NotEmptyf(t, s.Image, "service %q must name its image (built services too, so they share one tag)", name)
		repo, tag := imageRef(resolve(s.Image))
		require.NotEmptyf(t, tag, "service %q: image %q has no tag: it would float to :latest", name, s.Image)
		require.NotEqualf(t, "latest", tag, "service %q: image %q must not use :latest", name, s.Image)
		if s.Build != nil {
			continue // our own image, tagged per release by HRSS_IMAGE_TAG
		}
		require.NotContainsf(t, s.Image, "$", "service %q: third-party image %q must be pinned in the file, not through a variable", name, s.Image)
		switch {
		case strings.HasPrefix(repo, "temporalio/"):
			require.Regexpf(t, semver, tag, "service %q: Temporal image %q must be pinned to a concrete X.Y.Z release", name, s.Image)
		case repo == "postgres":
			require.Regexpf(t, `^15\.\d+(-[a-z0-9]+)?$`, tag, "service %q: image %q must be PostgreSQL 15 pinned to a minor release (15.N)", name, s.Image)
		default:
			require.Regexpf(t, `\d+\.\d+`, tag, "service %q: image %q must be pinned to a specific version", name, s.Image)
		}
	}
}

func TestComposeUsesOneTemporalReleaseForServerAndAdminTools(t *testing.T) {
	c := loadCompose(t)
	_, serverTag := imageRef(mustService(t, c, "temporal").Image)
	for _, name := range []string{"temporal-schema", "temporal-namespace"} {
		repo, tag := imageRef(mustService(t, c, name).Image)
		require.Equalf(t, "temporalio/admin-tools", repo, "service %q must use Temporal's admin-tools image", name)
		require.Equalf(t, serverTag, tag, "service %q: admin-tools %s must match temporalio/server %s, or the schema it installs is not the one the server expects", name, tag, serverTag)
	}
}

func TestComposeRunsTemporalOnPostgresNotDevServer(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		repo, _ := imageRef(s.Image)
		require.NotEqualf(t, "temporalio/auto-setup", repo, "service %q: auto-setup is for development; use temporalio/server plus the schema job", name)
		require.NotContainsf(t, s.Command.String()+" "+s.Entrypoint.String(), "start-dev",
			"service %q must not run the Temporal dev server (`temporal server start-dev`)", name)
	}

	tmp := mustService(t, c, "temporal")
	repo, _ := imageRef(tmp.Image)
	require.Equal(t, "temporalio/server", repo, "service temporal must run the plain temporalio/server image")
	require.Empty(t, tmp.Command, "service temporal must not pass extra arguments after its entrypoint")

	// One Temporal configuration for compose and `make cluster`
	// (scripts/cluster.sh): the repository's deploy/temporal/config, mounted.
	entry := tmp.Entrypoint.String()
	require.Contains(t, entry, "temporal-server ", "service temporal must run temporal-server")
	require.Contains(t, entry, " --env hrss ", "service temporal must load the hrss configuration")
	require.True(t, strings.HasSuffix(entry, " start"), "service temporal must start all services (no --service)")
	configMounted := false
	for _, m := range tmp.Volumes {
		if m.Type == "bind" && filepath.Clean(m.Source) == "deploy/temporal/config" && m.Target == "/etc/temporal/config/hrss" {
			configMounted = true
		}
	}
	require.True(t, configMounted, "service temporal must mount ./deploy/temporal/config at /etc/temporal/config/hrss")
	require.Contains(t, entry, "--root /etc/temporal --config config/hrss", "the entrypoint must read the mounted configuration")
	cfg, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "temporal", "config", "hrss.yaml"))
	require.NoError(t, err)
	require.Contains(t, string(cfg), "# enable-template", "the configuration is a template the server renders from the environment")
	require.Equal(t, 2, strings.Count(string(cfg), "pluginName: postgres12"),
		"temporal must persist to PostgreSQL through the postgres12 plugin, visibility included")
	cluster, err := os.ReadFile(filepath.Join(repoRoot, "scripts", "cluster.sh"))
	require.NoError(t, err)
	require.Contains(t, string(cluster), "--config deploy/temporal/config --env hrss", "make cluster must run the same configuration")

	env := tmp.Environment
	require.Equal(t, "postgres", env["POSTGRES_SEEDS"], "temporal's POSTGRES_SEEDS must be the compose service `postgres`")
	require.Equal(t, "5432", env["DB_PORT"], "temporal's DB_PORT must be PostgreSQL's port")
	require.Equal(t, "temporal", env["DBNAME"], "temporal's default store must be the `temporal` database")
	require.Equal(t, "temporal_visibility", env["VISIBILITY_DBNAME"], "temporal's visibility store must be the `temporal_visibility` database")
	require.NotEmpty(t, env["POSTGRES_USER"], "temporal needs POSTGRES_USER")
	require.Regexp(t, requiredVarRe, env["POSTGRES_PWD"], "temporal's POSTGRES_PWD must come from a required variable, never a literal")

	require.Contains(t, tmp.DependsOn, "temporal-schema", "temporal must start after the schema job")
	require.Equal(t, "service_completed_successfully", tmp.DependsOn["temporal-schema"],
		"temporal must wait until temporal-schema has completed successfully")

	if path := env["DYNAMIC_CONFIG_FILE_PATH"]; path != "" {
		found := false
		for _, m := range tmp.Volumes {
			if m.Type == "bind" && strings.HasPrefix(path, strings.TrimSuffix(m.Target, "/")+"/") {
				rel := strings.TrimPrefix(path, strings.TrimSuffix(m.Target, "/"))
				_, err := os.Stat(filepath.Join(repoRoot, m.Source, rel))
				require.NoErrorf(t, err, "DYNAMIC_CONFIG_FILE_PATH %s maps to %s%s, which must exist", path, m.Source, rel)
				found = true
			}
		}
		require.Truef(t, found, "DYNAMIC_CONFIG_FILE_PATH %s must point into a mounted directory of this repository", path)
	}
}

func TestTemporalSchemaIsInstalledWithTemporalSqlToolAgainstPostgres(t *testing.T) {
	c := loadCompose(t)
	s := mustService(t, c, "temporal-schema")
	require.Equal(t, "service_healthy", s.DependsOn["postgres"], "temporal-schema must wait for a healthy postgres")

	env := s.Environment
	require.Equal(t, "postgres12", env["SQL_PLUGIN"], "temporal-sql-tool must use the postgres12 plugin")
	require.Equal(t, "postgres", env["SQL_HOST"], "temporal-sql-tool must connect to the compose service `postgres`")
	require.Equal(t, mustService(t, c, "temporal").Environment["POSTGRES_USER"], env["SQL_USER"],
		"the schema job and the server must use the same database role")
	require.Equal(t, mustService(t, c, "temporal").Environment["POSTGRES_PWD"], env["SQL_PASSWORD"],
		"the schema job and the server must use the same database password")

	script := scriptsOf(t, s)
	for _, want := range []string{
		"temporal-sql-tool",
		"create-database",
		"setup-schema -v 0.0",
		"update-schema -d",
		"/temporal/versioned",
		"/visibility/versioned",
	} {
		requireMentions(t, script, want, "temporal-schema must run `%s` (its entrypoint, command or mounted script)", want)
	}
	require.Equal(t, "/etc/temporal/schema/postgresql/v12", env["TEMPORAL_SCHEMA_ROOT"],
		"the versioned schema directories must be the postgresql v12 ones shipped in admin-tools")
	for _, db := range []string{"temporal", "temporal_visibility"} {
		require.Truef(t, slices.Contains(values(env), db) || strings.Contains(script, db),
			"temporal-schema must set up the %q database", db)
	}
}

func TestNamespaceAndSearchAttributesAreRegisteredBeforeTheAppStarts(t *testing.T) {
	c := loadCompose(t)
	s := mustService(t, c, "temporal-namespace")
	repo, _ := imageRef(s.Image)
	require.Equal(t, "temporalio/admin-tools", repo, "temporal-namespace runs the Temporal CLI from admin-tools")
	require.Equal(t, "service_healthy", s.DependsOn["temporal"], "temporal-namespace must wait for a healthy temporal")
	require.Equal(t, "temporal:7233", s.Environment["TEMPORAL_ADDRESS"], "temporal-namespace must talk to temporal:7233")
	require.Equal(t, "default", s.Environment["TEMPORAL_NAMESPACE"], "the workflows live in namespace `default`")

	declared := strings.Fields(s.Environment["HRSS_SEARCH_ATTRIBUTES"])
	// Every search attribute the workflows set (workflows.SearchAttributeNames).
	for name, typ := range workflows.SearchAttributeNames {
		require.Containsf(t, declared, name+"="+typ, "temporal-namespace must register search attribute %s", name)
	}
	script := scriptsOf(t, s)
	for _, want := range []string{
		"operator namespace create",
		"operator search-attribute create",
		"--name",
		"--type",
		"HRSS_SEARCH_ATTRIBUTES",
		"already exists",
	} {
		requireMentions(t, script, want, "temporal-namespace must run %q (idempotent registration with the Temporal CLI)", want)
	}

	for _, name := range []string{"worker", "api"} {
		app := mustService(t, c, name)
		require.Equalf(t, "service_completed_successfully", app.DependsOn["temporal-namespace"],
			"%s must start only after temporal-namespace completed successfully", name)
		require.Equalf(t, "service_completed_successfully", app.DependsOn["migrate"],
			"%s must start only after migrate completed successfully", name)
		require.Equalf(t, s.Environment["TEMPORAL_NAMESPACE"], app.Environment["TEMPORAL_NAMESPACE"],
			"%s must use the namespace temporal-namespace prepares", name)
	}
}

func TestAppServicesRunOneImageWiredToPostgresAndTemporal(t *testing.T) {
	c := loadCompose(t)
	image := mustService(t, c, "migrate").Image
	for _, name := range appServices {
		s := mustService(t, c, name)
		require.NotNilf(t, s.Build, "%s must be built from the repository's Dockerfile", name)
		require.Equalf(t, image, s.Image, "migrate, worker and api must share one image (%s has %s)", name, s.Image)
		require.Equalf(t, stringOrList{name}, s.Command, "service %s must run `hrss %s`", name, name)

		dsn := s.Environment["DATABASE_URL"]
		require.NotEmptyf(t, dsn, "%s needs DATABASE_URL", name)
		u, err := url.Parse(resolve(dsn))
		require.NoErrorf(t, err, "%s: DATABASE_URL %q must be a URL", name, dsn)
		require.Containsf(t, []string{"postgres", "postgresql"}, u.Scheme, "%s: DATABASE_URL must be a postgres:// URL", name)
		require.Equalf(t, "postgres", u.Hostname(), "%s: DATABASE_URL must point at host `postgres` (the compose service)", name)
		require.Equalf(t, "/hrss", u.Path, "%s: DATABASE_URL must name the app database hrss", name)
		pw, _ := u.User.Password()
		require.Truef(t, strings.HasPrefix(pw, "required-"), "%s: the password in DATABASE_URL must come from a required ${VAR:?...}", name)
	}
	require.Equal(t, "service_healthy", mustService(t, c, "migrate").DependsOn["postgres"], "migrate must wait for a healthy postgres")

	worker, api := mustService(t, c, "worker"), mustService(t, c, "api")
	for name, s := range map[string]service{"worker": worker, "api": api} {
		require.Equalf(t, "temporal:7233", s.Environment["TEMPORAL_ADDRESS"], "%s: TEMPORAL_ADDRESS must be temporal:7233", name)
		require.Equalf(t, "hrss-backoffice", s.Environment["TEMPORAL_TASK_QUEUE"], "%s: task queue must be hrss-backoffice", name)
		require.Regexpf(t, requiredVarRe, s.Environment["PICKUP_KEY"], "%s: PICKUP_KEY must be a required ${PICKUP_KEY:?...} with no default", name)
		require.Regexpf(t, requiredVarRe, s.Environment["PAYLOAD_KEYS"], "%s: PAYLOAD_KEYS must be a required ${PAYLOAD_KEYS:?...} with no default", name)
	}
	require.Equal(t, worker.Environment["PICKUP_KEY"], api.Environment["PICKUP_KEY"], "worker and api must get the same PICKUP_KEY")
	require.Equal(t, worker.Environment["PAYLOAD_KEYS"], api.Environment["PAYLOAD_KEYS"], "worker and api must get the same PAYLOAD_KEYS")
	require.Equal(t, worker.Environment["DATABASE_URL"], api.Environment["DATABASE_URL"], "worker and api must use the same database")

	require.Equal(t, ":8080", api.Environment["HTTP_ADDR"], "api must listen on :8080 inside the container")
	require.Regexp(t, requiredVarRe, api.Environment["BOOTSTRAP_ADMIN_PASSWORD"], "BOOTSTRAP_ADMIN_PASSWORD must be required, never defaulted")
	require.NotEmpty(t, resolve(api.Environment["BOOTSTRAP_ADMIN_USERNAME"]), "api needs BOOTSTRAP_ADMIN_USERNAME")
	require.NotEmpty(t, resolve(api.Environment["TEMPORAL_UI_URL"]), "api needs TEMPORAL_UI_URL to link to the UI")
	require.Equal(t, "temporal:7233", mustService(t, c, "temporal-ui").Environment["TEMPORAL_ADDRESS"], "the UI must talk to temporal:7233")
}

func TestComposeShipsNoDefaultSecrets(t *testing.T) {
	c := loadCompose(t)
	secretKey := regexp.MustCompile(`(PASSWORD|PWD|SECRET|_KEY)$`)
	for name, s := range c.Services {
		for k, v := range s.Environment {
			if !secretKey.MatchString(k) {
				continue
			}
			require.Regexpf(t, requiredVarRe, v, "service %s: %s must be `${VAR:?message}` so nobody ships a default secret (got %q)", name, k, v)
		}
		if dsn, ok := s.Environment["DATABASE_URL"]; ok {
			u, err := url.Parse(resolve(dsn))
			require.NoError(t, err)
			if pw, ok := u.User.Password(); ok {
				require.Truef(t, strings.HasPrefix(pw, "required-"), "service %s: DATABASE_URL embeds a literal password", name)
			}
		}
	}
}

func TestComposePublishesApiTemporalAndUiPorts(t *testing.T) {
	c := loadCompose(t)
	cases := []struct {
		service, published, target string
	}{
		{"api", "8080", "8080"},
		{"temporal-ui", "8233", "8080"},
		{"temporal", "7233", "7233"},
	}
	for _, tc := range cases {
		s := mustService(t, c, tc.service)
		found := false
		for _, p := range s.Ports {
			if resolve(p.Published) == tc.published && p.Target == tc.target {
				found = true
			}
		}
		require.Truef(t, found, "service %s must publish host port %s to container port %s (has %+v)", tc.service, tc.published, tc.target, s.Ports)
	}
	require.Empty(t, mustService(t, c, "postgres").Ports, "postgres must not be published outside the compose network")
	for _, name := range []string{"temporal", "temporal-ui"} {
		for _, p := range mustService(t, c, name).Ports {
			require.Equalf(t, "127.0.0.1", p.HostIP, "%s has no authentication: publish it on 127.0.0.1 only", name)
		}
	}
}

func TestLongRunningServicesHaveHealthchecksAndRestartPolicies(t *testing.T) {
	c := loadCompose(t)
	for _, name := range longRunning {
		s := mustService(t, c, name)
		require.NotNilf(t, s.Healthcheck, "long-running service %s needs a healthcheck", name)
		require.Falsef(t, s.Healthcheck.Disable, "service %s must not disable its healthcheck", name)
		require.NotEmptyf(t, s.Healthcheck.Test, "service %s: healthcheck needs a test", name)
		require.NotEqualf(t, "NONE", s.Healthcheck.Test[0], "service %s: healthcheck test NONE disables it", name)
		require.Containsf(t, []string{"always", "unless-stopped"}, s.Restart, "long-running service %s needs restart: unless-stopped or always", name)
	}
	require.Contains(t, mustService(t, c, "postgres").Healthcheck.Test.String(), "pg_isready", "postgres must be checked with pg_isready")
	require.Contains(t, mustService(t, c, "api").Healthcheck.Test.String(), "/healthz", "api must be checked on GET /healthz")
	require.Contains(t, mustService(t, c, "api").Healthcheck.Test.String(), ":8080", "api's healthcheck must hit the port it listens on")
}

func TestOneShotJobsAreNotRestartedAfterTheyFinish(t *testing.T) {
	c := loadCompose(t)
	for _, name := range oneShot {
		s := mustService(t, c, name)
		require.NotContainsf(t, []string{"always", "unless-stopped"}, s.Restart,
			"one-shot %s would be started again after it completed (restart: %s)", name, s.Restart)
	}
}

func TestEveryDependencyTargetExistsWithAMeaningfulCondition(t *testing.T) {
	c := loadCompose(t)
	oneShots := map[string]bool{}
	for _, n := range oneShot {
		oneShots[n] = true
	}
	for name, s := range c.Services {
		for dep, cond := range s.DependsOn {
			target, ok := c.Services[dep]
			require.Truef(t, ok, "service %s depends on %q, which is not a service", name, dep)
			require.Containsf(t, []string{"service_started", "service_healthy", "service_completed_successfully"}, cond,
				"service %s: unknown depends_on condition %q", name, cond)
			switch cond {
			case "service_healthy":
				require.NotNilf(t, target.Healthcheck, "service %s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
			case "service_completed_successfully":
				require.Truef(t, oneShots[dep], "service %s waits for %s to complete, but %s is not a one-shot job", name, dep, dep)
			}
		}
	}
	// No cycles: compose would refuse to start.
	state := map[string]int{}
	var visit func(string, []string)
	visit = func(n string, path []string) {
		require.NotEqualf(t, 1, state[n], "depends_on cycle: %s", strings.Join(append(path, n), " -> "))
		if state[n] == 2 {
			return
		}
		state[n] = 1
		for dep := range c.Services[n].DependsOn {
			visit(dep, append(path, n))
		}
		state[n] = 2
	}
	for _, n := range keys(c.Services) {
		visit(n, nil)
	}
}

func TestMountedRepositoryFilesExistAndVolumesAreDeclared(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		for _, m := range s.Volumes {
			switch m.Type {
			case "bind":
				require.Truef(t, strings.HasPrefix(m.Source, "./"), "service %s: bind mount %s must be relative to the repository", name, m.Source)
				_, err := os.Stat(filepath.Join(repoRoot, m.Source))
				require.NoErrorf(t, err, "service %s mounts %s, which does not exist", name, m.Source)
			case "volume":
				if m.Source != "" {
					_, ok := c.Volumes[m.Source]
					require.Truef(t, ok, "service %s uses volume %q, which is not declared under volumes:", name, m.Source)
				}
			}
		}
	}
	pgData := false
	for _, m := range mustService(t, c, "postgres").Volumes {
		if m.Type == "volume" && m.Source != "" && m.Target == "/var/lib/postgresql/data" {
			pgData = true
		}
	}
	require.True(t, pgData, "postgres must keep its data in a named volume at /var/lib/postgresql/data")
}

func TestPostgresInitCreatesTheAppDatabaseAndTheRoles(t *testing.T) {
	c := loadCompose(t)
	pg := mustService(t, c, "postgres")
	var initScript string
	for _, m := range pg.Volumes {
		if m.Type == "bind" && strings.HasPrefix(m.Target, "/docker-entrypoint-initdb.d/") {
			initScript = readRepoFile(t, m.Source)
		}
	}
	require.NotEmpty(t, initScript, "postgres must mount an init script into /docker-entrypoint-initdb.d")
	requireMentions(t, initScript, "CREATE DATABASE hrss", "the init script must create the app database hrss")
	requireMentions(t, initScript, "CREATEDB", "Temporal's role must be allowed to create its databases (temporal-sql-tool create-database)")

	temporalUser := mustService(t, c, "temporal").Environment["POSTGRES_USER"]
	requireMentions(t, initScript, "CREATE ROLE "+temporalUser+" ", "the init script must create role %s used by temporal", temporalUser)
	u, err := url.Parse(resolve(mustService(t, c, "api").Environment["DATABASE_URL"]))
	require.NoError(t, err)
	requireMentions(t, initScript, "CREATE ROLE "+u.User.Username()+" ", "the init script must create role %s used by the app", u.User.Username())

	for _, v := range []string{"TEMPORAL_DB_PASSWORD", "HRSS_DB_PASSWORD"} {
		requireMentions(t, initScript, v, "the init script must read %s", v)
		require.Regexpf(t, requiredVarRe, pg.Environment[v], "postgres must receive %s for its init script", v)
	}
}

// Least privilege in the database (C1.4, C3.3(4)): the owner role `hrss`
// only migrates (MIGRATE_DATABASE_URL of `migrate`); worker and api run as
// the application role `hrss_app` (DATABASE_URL), which the first boot
// creates and `hrss migrate` grants; the staff second factor is required.
func TestComposeSeparatesOwnerAndApplicationRoles_C1_4_C3_3_4(t *testing.T) {
	c := loadCompose(t)
	user := func(dsn string) string {
		u, err := url.Parse(resolve(dsn))
		require.NoError(t, err)
		return u.User.Username()
	}
	migrate := mustService(t, c, "migrate")
	require.Equal(t, "hrss", user(migrate.Environment["MIGRATE_DATABASE_URL"]), "migrate runs as the owner")
	require.Equal(t, "hrss_app", user(migrate.Environment["DATABASE_URL"]), "migrate grants the application role")
	for _, name := range []string{"worker", "api"} {
		s := mustService(t, c, name)
		require.Equalf(t, "hrss_app", user(s.Environment["DATABASE_URL"]), "%s runs as the application role", name)
		require.Emptyf(t, s.Environment["MIGRATE_DATABASE_URL"], "%s must not hold the owner's password", name)
	}
	require.Equal(t, "required", resolve(mustService(t, c, "api").Environment["STAFF_SECOND_FACTOR"]))
	init, err := os.ReadFile("temporal/postgres-init.sh")
	require.NoError(t, err)
	require.Contains(t, string(init), "CREATE ROLE hrss_app LOGIN PASSWORD")
}
