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
	}))
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, name := range []string{"APP_ENV", "DATABASE_URL", "REDIS_URL", "HTTP_ADDR", "SECRET_KEY", "LOG_LEVEL",
		"ACCESS_TOKEN_TTL", "SWEEP_INTERVAL", "COOKIE_SECURE", "DB_MAX_CONNS", "SHUTDOWN_DELAY",
		"SIGNUP_LIMIT", "SIGNUP_WINDOW", "TRUSTED_PROXIES", "LIVE_STREAMS_MAX", "HTTP_WRITE_TIMEOUT"} {
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
