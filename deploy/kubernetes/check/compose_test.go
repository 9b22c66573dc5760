package check

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"sigs.k8s.io/yaml"
)

// composeFile is the part of the Compose specification docker-compose.yml uses; decoding is
// strict, so a field this struct does not know is a typo or a new feature to add here.
type composeFile struct {
	Name     string                     `json:"name"`
	Services map[string]composeService  `json:"services"`
	Volumes  map[string]json.RawMessage `json:"volumes"`
}

type composeService struct {
	Build       string            `json:"build"`
	Image       string            `json:"image"`
	Profiles    []string          `json:"profiles"`
	Restart     string            `json:"restart"`
	User        string            `json:"user"`
	Entrypoint  []string          `json:"entrypoint"`
	Command     []string          `json:"command"`
	Environment map[string]string `json:"environment"`
	Ports       []string          `json:"ports"`
	Volumes     []string          `json:"volumes"`
	DependsOn   map[string]struct {
		Condition string `json:"condition"`
	} `json:"depends_on"`
	Healthcheck *struct {
		Test     []string `json:"test"`
		Interval string   `json:"interval"`
		Timeout  string   `json:"timeout"`
		Retries  int      `json:"retries"`
		Disable  bool     `json:"disable"`
	} `json:"healthcheck"`
}

// readCompose decodes docker-compose.yml strictly, less its x- extension blocks (anchors).
func readCompose(t *testing.T) composeFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repo, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// Not yaml.UnmarshalStrict here: it counts a key that overrides one merged in by `<<: *app`
	// as a duplicate, and YAML (and Compose) allow that. Unknown fields are still refused below.
	asJSON, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(asJSON, &top); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for k := range top {
		if strings.HasPrefix(k, "x-") {
			delete(top, k)
		}
	}
	rest, err := json.Marshal(top)
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	dec := json.NewDecoder(bytes.NewReader(rest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return f
}

// No Docker engine runs on these machines: this checks the file's shape, not that it starts.
func TestComposeFile(t *testing.T) {
	app := readApp(t)
	f := readCompose(t)

	// The single-server default: what `docker compose up` starts, with no profile.
	for _, name := range []string{"postgres", "redis", "migrate", "app1", "app2", "proxy"} {
		s, ok := f.Services[name]
		if !ok {
			t.Errorf("service %s is gone", name)
		} else if len(s.Profiles) > 0 {
			t.Errorf("service %s has profiles %v: the default `docker compose up` would lose it", name, s.Profiles)
		}
	}
	// The "ha" profile: a Postgres standby, a Redis replica and an odd number (≥ 3) of Sentinels.
	sentinels := 0
	for name, s := range f.Services {
		if strings.HasPrefix(name, "sentinel-") {
			sentinels++
		}
		if (name == "postgres-standby" || name == "redis-replica" || strings.HasPrefix(name, "sentinel-")) && !slices.Equal(s.Profiles, []string{"ha"}) {
			t.Errorf("service %s: profiles %v, want [ha]", name, s.Profiles)
		}
	}
	for _, name := range []string{"postgres-standby", "redis-replica"} {
		if _, ok := f.Services[name]; !ok {
			t.Errorf("the ha profile has no %s", name)
		}
	}
	if sentinels < 3 || sentinels%2 == 0 {
		t.Errorf("%d Sentinels: want an odd number, at least 3, so a majority can agree", sentinels)
	}

	for name, s := range f.Services {
		// Images are pinned by tag; only the app, built here, is not pulled.
		if s.Build == "" {
			if _, tag := splitImage(s.Image); tag == "" || tag == "latest" {
				t.Errorf("service %s: image %q is not pinned to a tag", name, s.Image)
			}
		}
		for dep := range s.DependsOn {
			if _, ok := f.Services[dep]; !ok {
				t.Errorf("service %s depends on %s, which does not exist", name, dep)
			}
		}
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, "./") {
				if _, err := os.Stat(filepath.Join(repo, src)); err != nil {
					t.Errorf("service %s mounts %s: %v", name, src, err)
				}
			} else if _, ok := f.Volumes[src]; !ok {
				t.Errorf("service %s mounts the volume %s, which is not declared", name, src)
			}
		}
		// The app's settings: names the binary reads.
		if s.Build != "" {
			for env := range s.Environment {
				if !app.settings[env] {
					t.Errorf("service %s: environment variable %s is not read by bossraid", name, env)
				}
			}
		}
	}

	checkHAEnv(t, f, sentinels)
}

// checkHAEnv holds deploy/compose/ha.env to the compose file: every variable it sets is one the
// file reads, and the URLs name the ha profile's own services and Sentinel master.
func checkHAEnv(t *testing.T, f composeFile, sentinels int) {
	t.Helper()
	compose, err := os.ReadFile(filepath.Join(repo, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	env := readEnvFile(t, filepath.Join(repo, "deploy/compose/ha.env"))
	for k := range env {
		if !strings.Contains(string(compose), "${"+k+":-") {
			t.Errorf("ha.env sets %s, which docker-compose.yml never reads", k)
		}
	}

	db, err := url.Parse(env["BOSSRAID_DATABASE_URL"])
	if err != nil {
		t.Fatalf("ha.env BOSSRAID_DATABASE_URL: %v", err)
	}
	if db.Query().Get("target_session_attrs") != "read-write" {
		t.Errorf("ha.env BOSSRAID_DATABASE_URL: want target_session_attrs=read-write")
	}
	hosts := strings.Split(db.Host, ",")
	for _, h := range hosts {
		name, _, _ := strings.Cut(h, ":")
		if _, ok := f.Services[name]; !ok {
			t.Errorf("ha.env BOSSRAID_DATABASE_URL names host %s, not a compose service", name)
		}
	}
	if len(hosts) < 2 {
		t.Errorf("ha.env BOSSRAID_DATABASE_URL names %d host, want the primary and the standby", len(hosts))
	}

	// The go-redis version the app uses reads it as a Sentinel URL: the URL's host and every
	// addr= are Sentinels, master_name the monitored primary.
	failover, err := goredis.ParseFailoverURL(env["BOSSRAID_REDIS_URL"])
	if err != nil {
		t.Fatalf("ha.env BOSSRAID_REDIS_URL: %v", err)
	}
	master := failover.MasterName
	for _, addr := range failover.SentinelAddrs {
		name, port, _ := strings.Cut(addr, ":")
		if _, ok := f.Services[name]; !ok || !strings.HasPrefix(name, "sentinel-") || port != "26379" {
			t.Errorf("ha.env BOSSRAID_REDIS_URL: %s is not one of the compose Sentinels on 26379", addr)
		}
	}
	if len(failover.SentinelAddrs) != sentinels {
		t.Errorf("ha.env BOSSRAID_REDIS_URL names %d Sentinels, compose runs %d", len(failover.SentinelAddrs), sentinels)
	}
	script, err := os.ReadFile(filepath.Join(repo, "deploy/compose/sentinel.sh"))
	if err != nil {
		t.Fatal(err)
	}
	monitor := regexp.MustCompile(`sentinel monitor (\S+) (\S+) 6379 (\d+)`).FindSubmatch(script)
	if monitor == nil || string(monitor[1]) != master {
		t.Errorf("sentinel.sh does not monitor the master %q that ha.env names", master)
	} else if _, ok := f.Services[string(monitor[2])]; !ok {
		t.Errorf("sentinel.sh monitors host %s, not a compose service", monitor[2])
	}
}

func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("%s: %q is not NAME=value", path, line)
			continue
		}
		env[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}

// The failover URL is checked with the go-redis the app is built with, not another version.
func TestSameGoRedisAsTheApp(t *testing.T) {
	version := func(gomod string) string {
		data, err := os.ReadFile(gomod)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^\s*github\.com/redis/go-redis/v9 (v\S+)`).FindSubmatch(data)
		if m == nil {
			t.Fatalf("%s does not require go-redis/v9", gomod)
		}
		return string(m[1])
	}
	if app, here := version(filepath.Join(repo, "go.mod")), version("go.mod"); app != here {
		t.Errorf("go-redis: the app uses %s, this check %s: run `go get github.com/redis/go-redis/v9@%s` here", app, here, app)
	}
}
