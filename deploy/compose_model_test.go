package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

const repoRoot = ".."

// ---------------------------------------------------------------------------
// A small model of the compose file: only what the checks need, accepting both
// the short and the long syntax compose allows for each field.

type composeFile struct {
	Name     string             `yaml:"name"`
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

type service struct {
	Image       string        `yaml:"image"`
	Build       any           `yaml:"build"`
	Command     stringOrList  `yaml:"command"`
	Entrypoint  stringOrList  `yaml:"entrypoint"`
	Environment envMap        `yaml:"environment"`
	DependsOn   dependsOn     `yaml:"depends_on"`
	Ports       []portMapping `yaml:"ports"`
	Volumes     []mount       `yaml:"volumes"`
	Healthcheck *healthcheck  `yaml:"healthcheck"`
	Restart     string        `yaml:"restart"`
}

type healthcheck struct {
	Test    stringOrList `yaml:"test"`
	Disable bool         `yaml:"disable"`
}

// stringOrList is a command, entrypoint or healthcheck test: a string or a list.
type stringOrList []string

func (s *stringOrList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*s = stringOrList{n.Value}
		return nil
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		*s = l
		return nil
	}
	return fmt.Errorf("line %d: want a string or a list of strings", n.Line)
}

func (s stringOrList) String() string { return strings.Join(s, " ") }

// envMap is `environment:` as a mapping or as a list of KEY=VALUE.
type envMap map[string]string

func (e *envMap) UnmarshalYAML(n *yaml.Node) error {
	out := envMap{}
	switch n.Kind {
	case yaml.MappingNode:
		var m map[string]*string
		if err := n.Decode(&m); err != nil {
			return err
		}
		for k, v := range m {
			if v != nil {
				out[k] = *v
			} else {
				out[k] = ""
			}
		}
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		for _, kv := range l {
			k, v, _ := strings.Cut(kv, "=")
			out[k] = v
		}
	default:
		return fmt.Errorf("line %d: environment must be a mapping or a list", n.Line)
	}
	*e = out
	return nil
}

// dependsOn maps each dependency to its condition (service_started for the
// list form).
type dependsOn map[string]string

func (d *dependsOn) UnmarshalYAML(n *yaml.Node) error {
	out := dependsOn{}
	switch n.Kind {
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		for _, name := range l {
			out[name] = "service_started"
		}
	case yaml.MappingNode:
		var m map[string]struct {
			Condition string `yaml:"condition"`
		}
		if err := n.Decode(&m); err != nil {
			return err
		}
		for name, c := range m {
			cond := c.Condition
			if cond == "" {
				cond = "service_started"
			}
			out[name] = cond
		}
	default:
		return fmt.Errorf("line %d: depends_on must be a list or a mapping", n.Line)
	}
	*d = out
	return nil
}

type portMapping struct {
	HostIP    string
	Published string
	Target    string
}

func (p *portMapping) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		spec, _, _ := strings.Cut(n.Value, "/") // drop /tcp
		parts := strings.Split(spec, ":")
		switch len(parts) {
		case 1:
			p.Target = parts[0]
		case 2:
			p.Published, p.Target = parts[0], parts[1]
		case 3:
			p.HostIP, p.Published, p.Target = parts[0], parts[1], parts[2]
		default:
			return fmt.Errorf("line %d: cannot read port %q", n.Line, n.Value)
		}
		return nil
	case yaml.MappingNode:
		var long struct {
			HostIP    string `yaml:"host_ip"`
			Published string `yaml:"published"`
			Target    string `yaml:"target"`
		}
		if err := n.Decode(&long); err != nil {
			return err
		}
		*p = portMapping(long)
		return nil
	}
	return fmt.Errorf("line %d: a port is a string or a mapping", n.Line)
}

type mount struct {
	Type   string
	Source string
	Target string
}

func (m *mount) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		parts := strings.Split(n.Value, ":")
		if len(parts) < 2 {
			*m = mount{Type: "volume", Target: parts[0]}
			return nil
		}
		m.Source, m.Target = parts[0], parts[1]
		m.Type = "volume"
		if strings.HasPrefix(m.Source, ".") || strings.HasPrefix(m.Source, "/") {
			m.Type = "bind"
		}
		return nil
	case yaml.MappingNode:
		var long struct {
			Type   string `yaml:"type"`
			Source string `yaml:"source"`
			Target string `yaml:"target"`
		}
		if err := n.Decode(&long); err != nil {
			return err
		}
		*m = mount(long)
		return nil
	}
	return fmt.Errorf("line %d: a volume is a string or a mapping", n.Line)
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "docker-compose.yml"))
	require.NoError(t, err, "docker-compose.yml must exist at the repository root")
	var c composeFile
	require.NoError(t, yaml.Unmarshal(raw, &c), "docker-compose.yml must be valid YAML of the compose shape")
	require.NotEmpty(t, c.Services, "docker-compose.yml defines no services")
	return c
}

func mustService(t *testing.T, c composeFile, name string) service {
	t.Helper()
	s, ok := c.Services[name]
	require.Truef(t, ok, "docker-compose.yml has no service %q", name)
	return s
}

func readRepoFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(rel)))
	require.NoErrorf(t, err, "cannot read %s", rel)
	return string(b)
}

// interpolationRe matches compose's ${NAME}, ${NAME:-default}, ${NAME-default},
// ${NAME:?message} and ${NAME?message}.
var interpolationRe = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}`)

// resolve evaluates compose interpolation the way it would with none of the
// variables set, except that a required variable becomes a placeholder value
// instead of an error.
func resolve(s string) string {
	return interpolationRe.ReplaceAllStringFunc(s, func(m string) string {
		sub := interpolationRe.FindStringSubmatch(m)
		switch {
		case strings.HasSuffix(sub[2], "-"):
			return sub[3]
		case strings.HasSuffix(sub[2], "?"):
			return "required-" + strings.ToLower(sub[1])
		default:
			return ""
		}
	})
}

// requiredVarRe matches a value that is exactly one required variable.
var requiredVarRe = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*):\?[^}]+\}$`)

// imageRef splits an image reference into repository and tag (no digest support
// needed: nothing here is pinned by digest alone).
func imageRef(image string) (repo, tag string) {
	ref, _, _ := strings.Cut(image, "@")
	slash := strings.LastIndex(ref, "/")
	colon := strings.LastIndex(ref, ":")
	if colon > slash {
		return ref[:colon], ref[colon+1:]
	}
	return ref, ""
}

// scriptsOf returns the text of what a service runs: its entrypoint and command
// plus the content of every file of this repository it mounts.
func scriptsOf(t *testing.T, s service) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(s.Entrypoint.String() + "\n" + s.Command.String() + "\n")
	for _, m := range s.Volumes {
		if m.Type != "bind" || !strings.HasPrefix(m.Source, "./") {
			continue
		}
		info, err := os.Stat(filepath.Join(repoRoot, m.Source))
		if err != nil || info.IsDir() {
			continue
		}
		b.WriteString(readRepoFile(t, m.Source) + "\n")
	}
	return b.String()
}

var (
	expectedServices = []string{
		"postgres", "temporal-schema", "temporal", "temporal-namespace",
		"temporal-ui", "migrate", "worker", "api",
	}
	longRunning = []string{"postgres", "temporal", "temporal-ui", "worker", "api"}
	oneShot     = []string{"temporal-schema", "temporal-namespace", "migrate"}
	appServices = []string{"migrate", "worker", "api"}
)

// ---------------------------------------------------------------------------

// requireMentions fails with msg (and not a dump of a whole script) when text
// does not contain want.
func requireMentions(t *testing.T, text, want, msg string, args ...any) {
	t.Helper()
	if !strings.Contains(text, want) {
		require.FailNowf(t, fmt.Sprintf("missing %q", want), msg, args...)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func values(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// versionLess compares dotted numeric versions ("1.26" < "1.26.8").
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			fmt.Sscan(pa[i], &x)
		}
		if i < len(pb) {
			fmt.Sscan(pb[i], &y)
		}
		if x != y {
			return x < y
		}
	}
	return false
}
