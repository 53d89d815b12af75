package deploy_test

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/lxcbot/lxcbot/internal/config"
	"github.com/lxcbot/lxcbot/internal/metrics"
)

// These tests need no Docker engine, Kubernetes or systemd: they parse the
// artefacts and check them against the names the binary really uses.

// shutdownGrace is the bot's graceful shutdown period; every stop timeout in
// the artefacts must be longer.
const shutdownGrace = 30 * time.Second

// settings are the environment variables of CONTRACT.md's configuration
// table, as internal/config names them.
var settings = []string{
	config.EnvDatabaseURL, config.EnvRedisURL, config.EnvEncryptionKey, config.EnvHTTPAddr,
	config.EnvTemplatesDir, config.EnvAdmins, config.EnvLogLevel, config.EnvLogFormat,
	config.EnvSlackBotToken, config.EnvSlackSigningSecret, config.EnvSlackAppToken, config.EnvSlackAPIURL,
	config.EnvDiscordBotToken, config.EnvDiscordAppID, config.EnvDiscordGateway, config.EnvDiscordPublicKey,
	config.EnvDiscordAPIURL, config.EnvDiscordGuildID,
}

// secretSettings are the settings that also accept <NAME>_FILE.
var secretSettings = []string{
	config.EnvDatabaseURL, config.EnvRedisURL, config.EnvEncryptionKey,
	config.EnvSlackBotToken, config.EnvSlackSigningSecret, config.EnvSlackAppToken, config.EnvDiscordBotToken,
}

// knownVariable reports whether lxcbot reads name.
func knownVariable(name string) bool {
	if name == config.EnvConfigFile || slices.Contains(settings, name) {
		return true
	}
	base, ok := strings.CutSuffix(name, "_FILE")
	return ok && slices.Contains(secretSettings, base)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(path))
	require.NoError(t, err)
	return string(b)
}

func decodeYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(readFile(t, path)), &m), path)
	require.NotNil(t, m, path)
	return m
}

// get walks a decoded YAML document along keys.
func get(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for i, k := range keys {
		m, ok := v.(map[string]any)
		require.True(t, ok, "%s is not a mapping", strings.Join(keys[:i], "."))
		v, ok = m[k]
		require.True(t, ok, "%s is missing", strings.Join(keys[:i+1], "."))
	}
	return v
}

func strs(t *testing.T, v any) []string {
	t.Helper()
	list, ok := v.([]any)
	require.True(t, ok, "%v is not a list", v)
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = strings.TrimSpace(toString(e))
	}
	return out
}

func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func TestComposeServices(t *testing.T) {
	t.Parallel()
	doc := decodeYAML(t, "compose.yaml")
	services := get(t, doc, "services").(map[string]any)
	for _, name := range []string{"postgres", "redis", "migrate", "lxcbot", "worker"} {
		require.Contains(t, services, name)
	}

	require.Regexp(t, `^postgres:1[56]`, get(t, services, "postgres", "image"))
	require.Contains(t, strs(t, get(t, services, "postgres", "healthcheck", "test")), "pg_isready")
	require.Contains(t, get(t, services, "postgres", "volumes").([]any)[0], ":/var/lib/postgresql/data")
	require.Regexp(t, `^redis:7`, get(t, services, "redis", "image"))
	require.Equal(t, []string{"CMD", "redis-cli", "ping"}, strs(t, get(t, services, "redis", "healthcheck", "test")))

	require.Equal(t, []string{"migrate", "up"}, strs(t, get(t, services, "migrate", "command")))
	require.Equal(t, "no", get(t, services, "migrate", "restart"))

	serve := strs(t, get(t, services, "lxcbot", "command"))
	require.Equal(t, "serve", serve[0])
	require.Contains(t, serve, "--no-worker", "workers run in their own service")
	require.Contains(t, serve, "--no-migrate", "the migrate service migrates")
	require.Contains(t, strs(t, get(t, services, "lxcbot", "ports"))[0], ":8080")
	require.Equal(t, []string{"CMD", "/lxcbot", "healthcheck"}, strs(t, get(t, services, "lxcbot", "healthcheck", "test")))

	require.Equal(t, []string{"worker"}, strs(t, get(t, services, "worker", "command")))
	replicas, ok := get(t, services, "worker", "deploy", "replicas").(int)
	require.True(t, ok)
	require.GreaterOrEqual(t, replicas, 2)
	worker := services["worker"].(map[string]any)
	require.NotContains(t, worker, "container_name", "a fixed name prevents --scale")
	require.NotContains(t, worker, "ports", "a fixed host port prevents --scale")
	require.Equal(t, true, get(t, worker, "healthcheck", "disable"), "workers serve no HTTP, so the image's /healthz check cannot pass")

	for _, name := range []string{"lxcbot", "worker"} {
		deps := get(t, services, name, "depends_on").(map[string]any)
		require.Equal(t, "service_healthy", get(t, deps, "postgres", "condition"), name)
		require.Equal(t, "service_healthy", get(t, deps, "redis", "condition"), name)
		require.Equal(t, "service_completed_successfully", get(t, deps, "migrate", "condition"), name)
	}
	require.Equal(t, "service_healthy", get(t, services, "migrate", "depends_on", "postgres", "condition"))
}

func TestComposeBotContainers(t *testing.T) {
	t.Parallel()
	doc := decodeYAML(t, "compose.yaml")
	services := get(t, doc, "services").(map[string]any)
	declared := get(t, doc, "secrets").(map[string]any)
	for name, s := range declared {
		require.Equal(t, "./secrets/"+name, get(t, s, "file"), "secret %s", name)
	}

	for _, name := range []string{"migrate", "lxcbot", "worker"} {
		svc := services[name].(map[string]any)
		env := get(t, svc, "environment").(map[string]any)
		for k, v := range env {
			require.True(t, knownVariable(k), "%s sets %s, which lxcbot does not read", name, k)
			if strings.HasSuffix(k, "_FILE") {
				id, ok := strings.CutPrefix(toString(v), "/run/secrets/")
				require.True(t, ok, "%s: %s=%v is not a compose secret", name, k, v)
				require.Contains(t, strs(t, get(t, svc, "secrets")), id, "%s: %s needs secret %s", name, k, id)
				require.Contains(t, declared, id)
			}
		}
		require.Equal(t, "/etc/lxcbot/config.yaml", env[config.EnvConfigFile], name)
		volumes := strs(t, get(t, svc, "volumes"))
		require.Contains(t, volumes, "./config.yaml:/etc/lxcbot/config.yaml:ro", name)
		require.Contains(t, volumes, "./templates:"+toString(env[config.EnvTemplatesDir])+":ro", name)
		require.Equal(t, []string{".env"}, strs(t, get(t, svc, "env_file")), name)
		require.Equal(t, true, get(t, svc, "read_only"), name)
		require.Equal(t, []string{"ALL"}, strs(t, get(t, svc, "cap_drop")), name)
		grace, err := time.ParseDuration(toString(get(t, svc, "stop_grace_period")))
		require.NoError(t, err)
		require.Greater(t, grace, shutdownGrace, name)
		require.Equal(t, "deploy/Dockerfile", get(t, svc, "build", "dockerfile"), name)
	}
}

// envFileNames returns the variables an env file sets or shows commented out
// (#NAME=value).
func envFileNames(t *testing.T, path string) []string {
	t.Helper()
	var names []string
	re := regexp.MustCompile(`^#?([A-Z][A-Z0-9_]*)=`)
	sc := bufio.NewScanner(strings.NewReader(readFile(t, path)))
	for sc.Scan() {
		if m := re.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil {
			names = append(names, m[1])
		}
	}
	require.NotEmpty(t, names, path)
	return names
}

func TestComposeEnvExampleCoversEverySetting(t *testing.T) {
	t.Parallel()
	names := envFileNames(t, ".env.example")
	compose := readFile(t, "compose.yaml")
	env := map[string]bool{}
	for _, svc := range []string{"lxcbot", "worker"} {
		for k := range get(t, decodeYAML(t, "compose.yaml"), "services", svc, "environment").(map[string]any) {
			env[k] = true
		}
	}
	for _, n := range names {
		if strings.HasPrefix(n, "DEPLOY_") {
			require.Contains(t, compose, "${"+n+":-", "%s is listed but compose.yaml does not use it", n)
			continue
		}
		require.True(t, knownVariable(n), ".env.example lists %s, which lxcbot does not read", n)
		require.False(t, slices.Contains(secretSettings, n), ".env.example must not hold secret %s; use %s_FILE", n, n)
	}
	for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+)`).FindAllStringSubmatch(compose, -1) {
		require.Contains(t, names, m[1], "compose.yaml uses ${%s}", m[1])
	}
	for _, s := range settings {
		listed := slices.Contains(names, s) || slices.Contains(names, s+"_FILE") || env[s] || env[s+"_FILE"]
		require.True(t, listed, "%s is neither in .env.example nor set by compose.yaml", s)
	}
}

func TestSystemdEnvExample(t *testing.T) {
	t.Parallel()
	for _, n := range envFileNames(t, "systemd/lxcbot.env.example") {
		require.True(t, knownVariable(n), "lxcbot.env.example lists %s, which lxcbot does not read", n)
		require.False(t, slices.Contains(secretSettings, n), "secrets are credentials, not %s in the env file", n)
	}
}

// unitDirectives parses a systemd unit into section.key -> values.
func unitDirectives(t *testing.T, path string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(readFile(t, path)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			require.True(t, ok, "%s: %q", path, line)
			out[section+"."+k] = append(out[section+"."+k], v)
		}
	}
	return out
}

func TestSystemdUnits(t *testing.T) {
	t.Parallel()
	for unit, exec := range map[string]string{
		"systemd/lxcbot-serve.service":   "/usr/local/bin/lxcbot serve --no-worker",
		"systemd/lxcbot-worker@.service": "/usr/local/bin/lxcbot worker",
	} {
		d := unitDirectives(t, unit)
		one := func(key string) string {
			t.Helper()
			require.Len(t, d[key], 1, "%s: %s", unit, key)
			return d[key][0]
		}
		require.Equal(t, exec, one("Service.ExecStart"), unit)
		require.Equal(t, "on-failure", one("Service.Restart"), unit)
		require.Equal(t, "yes", one("Service.NoNewPrivileges"), unit)
		require.Equal(t, "strict", one("Service.ProtectSystem"), unit)
		require.Equal(t, "yes", one("Service.PrivateTmp"), unit)
		require.Equal(t, "yes", one("Service.DynamicUser"), unit)
		require.Equal(t, "/etc/lxcbot/lxcbot.env", one("Service.EnvironmentFile"), unit)
		stop, err := time.ParseDuration(one("Service.TimeoutStopSec"))
		require.NoError(t, err)
		require.Greater(t, stop, shutdownGrace, unit)
		require.Equal(t, "multi-user.target", one("Install.WantedBy"), unit)

		creds := map[string]bool{}
		for _, c := range d["Service.LoadCredential"] {
			id, src, ok := strings.Cut(c, ":")
			require.True(t, ok, c)
			require.Equal(t, "/etc/lxcbot/credentials/"+id, src)
			creds[id] = true
		}
		var files []string
		for _, e := range d["Service.Environment"] {
			k, v, ok := strings.Cut(e, "=")
			require.True(t, ok, e)
			require.True(t, knownVariable(k), "%s sets %s, which lxcbot does not read", unit, k)
			if strings.HasSuffix(k, "_FILE") {
				id, ok := strings.CutPrefix(v, "%d/")
				require.True(t, ok, "%s: %s must point into the credentials directory", unit, k)
				require.True(t, creds[id], "%s: %s needs LoadCredential=%s", unit, k, id)
				files = append(files, k)
			}
		}
		for _, k := range []string{config.EnvDatabaseURL, config.EnvRedisURL, config.EnvEncryptionKey} {
			require.Contains(t, files, k+"_FILE", unit)
		}
	}
}

// dockerfileStages splits a Dockerfile into stages of joined instructions;
// the first "stage" holds the global ARGs before the first FROM.
func dockerfileStages(t *testing.T) [][]string {
	t.Helper()
	stages := [][]string{nil}
	var cur strings.Builder
	flush := func() {
		ins := strings.TrimSpace(cur.String())
		cur.Reset()
		if ins == "" {
			return
		}
		if strings.HasPrefix(strings.ToUpper(ins), "FROM ") {
			stages = append(stages, nil)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], ins)
	}
	sc := bufio.NewScanner(strings.NewReader(readFile(t, "Dockerfile")))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue
		}
		if l, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(l + " ")
			continue
		}
		cur.WriteString(line)
		flush()
	}
	flush()
	return stages
}

func instructions(stage []string, op string) []string {
	var out []string
	for _, ins := range stage {
		if k, rest, _ := strings.Cut(ins, " "); strings.EqualFold(k, op) {
			out = append(out, strings.TrimSpace(rest))
		}
	}
	return out
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	stages := dockerfileStages(t)
	require.GreaterOrEqual(t, len(stages), 3, "multi-stage build")
	global, build, final := stages[0], stages[1], stages[len(stages)-1]

	require.Regexp(t, `golang:\$\{GO_VERSION\}|golang:1\.26`, instructions(build, "FROM")[0])
	require.Contains(t, instructions(global, "ARG"), "GO_VERSION=1.26", "the Go version of go.mod")
	require.Regexp(t, `CGO_ENABLED=0`, strings.Join(instructions(build, "ENV"), " "), "a static binary")
	run := strings.Join(instructions(build, "RUN"), "\n")
	require.Contains(t, run, "--mount=type=cache,target=/go/pkg/mod")
	require.Contains(t, run, "--mount=type=cache,target=/root/.cache/go-build")
	require.Contains(t, run, "-trimpath")
	require.Contains(t, run, "./cmd/bot")
	// The version is stamped into the same variables as the Makefile's.
	makefile := readFile(t, "../Makefile")
	for _, m := range regexp.MustCompile(`-X \$\(PKG\)(/[^=]+)=`).FindAllStringSubmatch(makefile, -1) {
		require.Contains(t, run, "-X github.com/lxcbot/lxcbot"+m[1]+"=", "ldflag of the Makefile")
	}

	from := instructions(final, "FROM")[0]
	users := instructions(final, "USER")
	require.True(t, strings.Contains(from, "distroless/static") || len(users) > 0, "final stage: %s", from)
	for _, u := range users {
		name, _, _ := strings.Cut(u, ":")
		require.NotContains(t, []string{"root", "0"}, name, "final stage runs as root")
	}
	if len(users) == 0 {
		require.Contains(t, from, ":nonroot")
	}
	require.Equal(t, []string{"--from=build /out/lxcbot /lxcbot"}, instructions(final, "COPY"))
	require.Equal(t, []string{"8080"}, instructions(final, "EXPOSE"))
	require.Equal(t, []string{`["/lxcbot"]`}, instructions(final, "ENTRYPOINT"))
	require.Equal(t, []string{`["serve"]`}, instructions(final, "CMD"))
	hc := instructions(final, "HEALTHCHECK")
	require.Len(t, hc, 1)
	require.True(t, strings.HasSuffix(hc[0], `CMD ["/lxcbot", "healthcheck"]`), hc[0])
	require.NotContains(t, strings.ToLower(strings.Join(final, "\n")), "curl")
}

func TestDockerignoreKeepsWhatTheBuildNeeds(t *testing.T) {
	t.Parallel()
	var patterns []string
	for _, l := range strings.Split(readFile(t, "../.dockerignore"), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	require.Contains(t, patterns, ".git")
	for _, needed := range []string{"go.mod", "go.sum", "cmd", "internal", "migrations", "examples"} {
		for _, p := range patterns {
			ok, err := filepath.Match(p, needed)
			require.NoError(t, err)
			require.False(t, ok || p == needed, ".dockerignore pattern %q drops %s, which the build needs", p, needed)
		}
	}
}

func TestHelmChart(t *testing.T) {
	t.Parallel()
	chart := decodeYAML(t, "helm/lxcbot/Chart.yaml")
	require.Equal(t, "v2", chart["apiVersion"])
	require.Equal(t, "lxcbot", chart["name"])
	require.Regexp(t, `^\d+\.\d+\.\d+`, chart["version"])
	values := decodeYAML(t, "helm/lxcbot/values.yaml")

	require.Equal(t, "/healthz", get(t, values, "serve", "livenessProbe", "httpGet", "path"))
	require.Equal(t, "/readyz", get(t, values, "serve", "readinessProbe", "httpGet", "path"))
	require.Equal(t, true, get(t, values, "podSecurityContext", "runAsNonRoot"))
	require.Equal(t, true, get(t, values, "securityContext", "readOnlyRootFilesystem"))
	require.Equal(t, false, get(t, values, "securityContext", "allowPrivilegeEscalation"))
	require.Equal(t, false, get(t, values, "metrics", "serviceMonitor", "enabled"))
	require.Equal(t, true, get(t, values, "podDisruptionBudget", "enabled"))
	require.Greater(t, get(t, values, "serve", "terminationGracePeriodSeconds").(int), int(shutdownGrace.Seconds()))
	require.Greater(t, get(t, values, "worker", "terminationGracePeriodSeconds").(int), int(shutdownGrace.Seconds()))
	for _, k := range []string{"serve", "worker"} {
		require.IsType(t, 0, get(t, values, k, "replicas"), "%s.replicas", k)
	}
	for k := range get(t, values, "secrets", "values").(map[string]any) {
		require.True(t, slices.Contains(secretSettings, k), "secrets.values.%s is not a secret setting", k)
	}
	for k := range get(t, values, "env").(map[string]any) {
		require.True(t, knownVariable(k), "env.%s is not a setting", k)
		require.False(t, slices.Contains(secretSettings, k), "env.%s is a secret: put it in secrets.values", k)
	}

	want := []string{"_helpers.tpl", "NOTES.txt", "deployment-serve.yaml", "deployment-worker.yaml", "service.yaml",
		"secret.yaml", "configmap.yaml", "servicemonitor.yaml", "pdb.yaml"}
	entries, err := os.ReadDir(filepath.FromSlash("helm/lxcbot/templates"))
	require.NoError(t, err)
	var have []string
	for _, e := range entries {
		have = append(have, e.Name())
	}
	for _, w := range want {
		require.Contains(t, have, w)
	}

	valueRef := regexp.MustCompile(`\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)`)
	open := regexp.MustCompile(`\{\{-?\s*(if|range|with|define)\b`)
	end := regexp.MustCompile(`\{\{-?\s*end\s*-?\}\}`)
	for _, name := range have {
		text := readFile(t, "helm/lxcbot/templates/"+name)
		require.Equal(t, strings.Count(text, "{{"), strings.Count(text, "}}"), "%s: unbalanced {{ }}", name)
		require.Equal(t, len(open.FindAllString(text, -1)), len(end.FindAllString(text, -1)),
			"%s: every if, range, with and define needs an end", name)
		// Every value a template reads is declared (and so documented) in values.yaml.
		for _, m := range valueRef.FindAllStringSubmatch(text, -1) {
			var v any = values
			for _, k := range strings.Split(strings.TrimPrefix(m[1], "."), ".") {
				mm, ok := v.(map[string]any)
				require.True(t, ok, "%s reads .Values%s below a value that is not a mapping", name, m[1])
				v, ok = mm[k]
				require.True(t, ok, "%s reads .Values%s, which values.yaml does not declare", name, m[1])
			}
		}
	}
}

// TestConfigExampleLoads runs the example configuration file through the
// real loader, with its secret files present.
func TestConfigExampleLoads(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	text := readFile(t, "config.example.yaml")
	for _, name := range []string{"pve1_token", "pve1_ssh_key"} {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte("placeholder-"+name+"\n"), 0o600))
		require.Contains(t, text, "/run/secrets/"+name)
		text = strings.ReplaceAll(text, "/run/secrets/"+name, filepath.ToSlash(p))
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(text), 0o600))
	cfg, err := config.Load(func(k string) (string, bool) {
		if k == config.EnvConfigFile {
			return cfgPath, true
		}
		return "", false
	})
	require.NoError(t, err)
	require.Len(t, cfg.Nodes, 1)
	n, ok := cfg.DefaultNode()
	require.True(t, ok)
	require.Equal(t, "pve1", n.Name)
	require.NotEmpty(t, n.TLSFingerprint)
	require.NotEmpty(t, n.SSH.HostKey)
}

// TestOperationsGuideNamesEveryMetric keeps docs/operations.md's metric list
// in step with internal/metrics.
func TestOperationsGuideNamesEveryMetric(t *testing.T) {
	t.Parallel()
	guide := readFile(t, "../docs/operations.md")
	m := metrics.New()
	v := reflect.ValueOf(m).Elem()
	collectorType := reflect.TypeFor[prometheus.Collector]()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	var names []string
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.Type().Implements(collectorType) || f.Type() == reflect.TypeFor[*prometheus.Registry]() {
			continue
		}
		ch := make(chan *prometheus.Desc, 8)
		f.Interface().(prometheus.Collector).Describe(ch)
		close(ch)
		for d := range ch {
			match := fqName.FindStringSubmatch(d.String())
			require.NotNil(t, match, d.String())
			names = append(names, match[1])
		}
	}
	require.NotEmpty(t, names)
	for _, n := range names {
		require.Contains(t, guide, "`"+n+"`", "docs/operations.md does not list metric %s", n)
	}
}
