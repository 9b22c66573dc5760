package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestConfigDefaults(t *testing.T) {
	c, err := LoadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:8080" || c.Env != "development" || !c.DevSecret || c.CookieSecure {
		t.Fatalf("defaults = %+v", c)
	}
	if c.AccessTokenTTL != 15*time.Minute || c.SweepInterval != time.Second || c.DBMaxConns != 20 {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestConfigProduction(t *testing.T) {
	if _, err := LoadConfig(env(map[string]string{"APP_ENV": "production"})); err == nil ||
		!strings.Contains(err.Error(), "SECRET_KEY is required") {
		t.Fatalf("production without SECRET_KEY: %v", err)
	}
	c, err := LoadConfig(env(map[string]string{"APP_ENV": "production", "SECRET_KEY": strings.Repeat("k", 32)}))
	if err != nil || c.DevSecret || !c.CookieSecure {
		t.Fatalf("production = %+v, %v", c, err)
	}
}

func TestConfigReportsEveryBadValue(t *testing.T) {
	_, err := LoadConfig(env(map[string]string{
		"APP_ENV":            "staging",
		"DATABASE_URL":       "mysql://x",
		"REDIS_URL":          "http://x",
		"HTTP_ADDR":          "8080",
		"SECRET_KEY":         "short",
		"LOG_LEVEL":          "loud",
		"ACCESS_TOKEN_TTL":   "10",
		"SWEEP_INTERVAL":     "-1s",
		"COOKIE_SECURE":      "maybe",
		"DB_MAX_CONNS":       "1",
		"SHUTDOWN_DELAY":     "soon",
		"TRUSTED_PROXIES":    "10.0.0.0/8,the-load-balancer",
		"LIVE_STREAMS_MAX":   "0",
		"HTTP_WRITE_TIMEOUT": "0s",
		"SIGNUP_LIMIT":       "0",
		"SIGNUP_WINDOW":      "1ms",
		"QUEUE_TURN":         "10ms",
	}))
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, name := range []string{"APP_ENV", "DATABASE_URL", "REDIS_URL", "HTTP_ADDR", "SECRET_KEY", "LOG_LEVEL",
		"ACCESS_TOKEN_TTL", "SWEEP_INTERVAL", "COOKIE_SECURE", "DB_MAX_CONNS", "SHUTDOWN_DELAY",
		"SIGNUP_LIMIT", "SIGNUP_WINDOW", "TRUSTED_PROXIES", "LIVE_STREAMS_MAX", "HTTP_WRITE_TIMEOUT", "QUEUE_TURN"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the error does not name %s:\n%v", name, err)
		}
	}
}

func TestSettingsListEveryVariable(t *testing.T) {
	readme := map[string]bool{}
	for _, s := range Settings() {
		readme[s.Name] = true
	}
	// Every variable LoadConfig reads must be documented in Settings (and so in the README).
	seen := map[string]bool{}
	_, _ = LoadConfig(func(k string) string { seen[k] = true; return "" })
	for k := range seen {
		if !readme[k] {
			t.Errorf("%s is read but not documented in Settings()", k)
		}
	}
}

func TestREADMEDocumentsEverySetting(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Settings() {
		if !strings.Contains(string(raw), "| `"+s.Name+"` |") {
			t.Errorf("README.md's configuration table lacks %s", s.Name)
		}
	}
}

// REDIS_URL takes one server, a Sentinel-managed primary or a Redis Cluster; a URL that is
// none of them, or mixes them, stops the server with a message saying what to write.
func TestConfigRedisURLForms(t *testing.T) {
	for _, ok := range []string{
		"redis://127.0.0.1:6379/0",
		"rediss://:secret@redis.example.internal:6380/2",
		"redis://sentinel-1:26379/0?master_name=bossraid&addr=sentinel-2:26379&addr=sentinel-3:26379",
		"redis://sentinel-user:sentinel-pass@s1:26379/1?master_name=bossraid&password=primary-pass",
		"redis://h1:7000?cluster=true&addr=h2:7001&addr=h3:7002",
		"rediss://user:pass@cfg.example.internal:6379/0?cluster=true",
	} {
		if _, err := LoadConfig(env(map[string]string{"REDIS_URL": ok})); err != nil {
			t.Errorf("REDIS_URL=%s refused: %v", ok, err)
		}
	}
	for bad, says := range map[string]string{
		"http://x":                                    "redis:// or rediss://",
		"redis://h1:7000?addr=h2:7001":                "master_name=NAME for Sentinel or cluster=true",
		"redis://h1:7000/3?cluster=true":              "only database 0",
		"redis://h1:7000?cluster=yes":                 "cluster=true",
		"redis://s1:26379?master_name=":               "master_name is empty",
		"redis://s1:26379?master_name=m&cluster=true": "both cluster=true and master_name",
		"redis://s1:26379?master_name=m&addr=s2":      "addr",
		"redis://h:6379/0?dial_timout=1s":             "dial_timout",
	} {
		_, err := LoadConfig(env(map[string]string{"REDIS_URL": bad}))
		if err == nil || !strings.Contains(err.Error(), "REDIS_URL") || !strings.Contains(err.Error(), says) {
			t.Errorf("REDIS_URL=%s: %v; want an error saying %q", bad, err, says)
		}
	}
}

// The compose "ha" profile's failover URL is one the server accepts.
func TestComposeHARedisURLIsAccepted(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/compose/ha.env")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "BOSSRAID_REDIS_URL="); ok {
			if _, err := LoadConfig(env(map[string]string{"REDIS_URL": v})); err != nil {
				t.Fatalf("ha.env's REDIS_URL refused: %v", err)
			}
			return
		}
	}
	t.Fatal("ha.env names no BOSSRAID_REDIS_URL")
}
