package deploy

import (
	"bufio"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The image: Dockerfile and .dockerignore (compose_test.go checks the
// compose file, compose_model_test.go reads it).

func TestDockerfileBuildsHrssOnPinnedBasesAndRunsAsNonRoot(t *testing.T) {
	// Instructions only: comments must not satisfy a check.
	var kept []string
	for _, l := range strings.Split(readRepoFile(t, "Dockerfile"), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			kept = append(kept, l)
		}
	}
	df := strings.Join(kept, "\n")
	var froms []string
	sc := bufio.NewScanner(strings.NewReader(df))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && strings.EqualFold(f[0], "FROM") {
			img := f[1]
			if strings.HasPrefix(img, "--") && len(f) >= 3 { // --platform=...
				img = f[2]
			}
			froms = append(froms, img)
		}
	}
	require.Len(t, froms, 2, "the Dockerfile must be a two-stage build (Go builder, slim runtime)")
	require.Regexp(t, `^golang:1\.26\.\d+-bookworm$`, froms[0], "the build stage must be golang:1.26.N-bookworm")
	require.Regexp(t, `^debian:12\.\d+-slim$`, froms[1], "the runtime stage must be debian:12.N-slim")

	goMod := readRepoFile(t, "go.mod")
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+(?:\.\d+)?)\s*$`).FindStringSubmatch(goMod)
	require.NotNil(t, m, "go.mod must have a go directive")
	imageGo := strings.TrimSuffix(strings.TrimPrefix(froms[0], "golang:"), "-bookworm")
	require.Truef(t, !versionLess(imageGo, m[1]), "the builder's Go %s is older than go.mod's go %s", imageGo, m[1])

	require.Regexp(t, `go build [^\n]*\./cmd/hrss`, df, "the Dockerfile must build ./cmd/hrss")
	require.Contains(t, df, "CGO_ENABLED=0", "the binary must be static (CGO_ENABLED=0)")
	require.Regexp(t, `--mount=type=cache,target=/go/pkg/mod[^\n]*\n?\s*go mod download`, df, "module download must be cached")
	require.Regexp(t, `(?m)^COPY go\.mod go\.sum \./`, df, "go.mod/go.sum must be copied before the sources so the download layer is reused")

	runtime := df[strings.LastIndex(df, "FROM "):]
	require.Regexp(t, `apt-get install[^\n]*\bca-certificates\b`, runtime, "the runtime image must install ca-certificates")
	require.Regexp(t, `apt-get install[^\n]*\bcurl\b`, runtime, "the runtime image must install curl: the api healthcheck uses it")
	user := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindStringSubmatch(runtime)
	require.NotNil(t, user, "the runtime stage must switch to a non-root USER")
	require.NotContains(t, []string{"root", "0", "0:0", "root:root"}, user[1], "the runtime user must not be root")
	require.Regexp(t, `(?m)^ENTRYPOINT \["/usr/local/bin/hrss"\]`, runtime, "the image's entrypoint must be the hrss binary")
}

func TestDockerignoreKeepsStateSecretsAndToolsOutOfTheBuildContext(t *testing.T) {
	lines := map[string]bool{}
	for _, l := range strings.Split(readRepoFile(t, ".dockerignore"), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			lines[strings.TrimSuffix(strings.TrimPrefix(l, "/"), "/")] = true
		}
	}
	for _, want := range []string{".git", ".data", ".tools", "bin", ".env"} {
		require.Truef(t, lines[want], ".dockerignore must exclude %s", want)
	}
	for _, keep := range []string{"cmd", "internal", "migrations", "go.mod", "go.sum", "*.go", "**/*.go"} {
		require.Falsef(t, lines[keep], ".dockerignore must not exclude %s: the build needs it", keep)
	}
}
