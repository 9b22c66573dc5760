package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/bossraid/bossraid/adapters/http/clientip"
	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/adapters/redis"
)

// Config is every setting, read once from the environment and validated before anything starts.
type Config struct {
	Env             string // development, test or production
	DatabaseURL     string
	RedisURL        string
	HTTPAddr        string
	BossData        string // file path or http(s) URL; "" is the built-in data
	SecretKey       string
	DevSecret       bool // SecretKey is the built-in development key
	LogLevel        slog.Level
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	SessionLifetime time.Duration
	CookieSecure    bool
	TrustProxy      bool
	TrustedProxies  []netip.Prefix
	LiveStreamsMax  int
	WriteTimeout    time.Duration
	SweepInterval   time.Duration
	ShutdownTimeout time.Duration
	ShutdownDelay   time.Duration
	DBMaxConns      int
	DBTimeout       time.Duration
	SignUpLimit     int // sign-ups allowed per client address in SignUpWindow
	SignUpWindow    time.Duration
	QueueTurn       time.Duration // how long the head of the raid queue holds the door
}

// devSecretKey signs tokens when SECRET_KEY is unset outside production; never use it for real.
const devSecretKey = "bossraid-development-secret-key-do-not-use-in-production"

// Setting documents one environment variable; the README's table is written from this list.
type Setting struct {
	Name, Default, Meaning string
}

// Settings lists every environment variable the server reads.
func Settings() []Setting {
	return []Setting{
		{"APP_ENV", "development", "development, test or production (production refuses the development secret)"},
		{"DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bossraid?sslmode=disable", "Postgres: all durable state; a postgres:// URL or key=value settings, with several hosts to fail over (see Running in production)"},
		{"REDIS_URL", "redis://127.0.0.1:6379/0", "Redis: ranking set, caches, rate limits, live updates; one server, Sentinel (master_name=) or Cluster (cluster=true)"},
		{"HTTP_ADDR", "127.0.0.1:8080", "address to listen on"},
		{"BOSSRAID_DATA", "(built in)", "boss raid data: a file path or an http(s) URL in the original format"},
		{"SECRET_KEY", "(development key, with a warning)", "at least 32 characters; every signing key derives from it; the same on every instance"},
		{"LOG_LEVEL", "info", "debug, info, warn or error"},
		{"ACCESS_TOKEN_TTL", "15m", "lifetime of API access tokens"},
		{"REFRESH_TOKEN_TTL", "168h", "lifetime of API refresh tokens"},
		{"SESSION_LIFETIME", "168h", "lifetime of web sessions"},
		{"COOKIE_SECURE", "true in production", "mark session cookies Secure (serve behind TLS)"},
		{"TRUST_PROXY", "false", "take the client address from X-Forwarded-For (only behind your proxy)"},
		{"TRUSTED_PROXIES", "loopback and private networks", "with TRUST_PROXY, the CIDRs of your proxies: the client is the right-most X-Forwarded-For address outside them"},
		{"LIVE_STREAMS_MAX", "10000", "live-lobby streams one instance holds open; beyond it 503 and the page polls instead"},
		{"HTTP_WRITE_TIMEOUT", "30s", "longest a response (not a live stream) may take to be written to a slow client"},
		{"SWEEP_INTERVAL", "1s", "how often expired raids are recorded as failed (0 disables; reads never depend on it)"},
		{"SHUTDOWN_TIMEOUT", "15s", "how long in-flight requests may take to finish on SIGTERM"},
		{"SHUTDOWN_DELAY", "0s", "on SIGTERM, how long /readyz answers 503 before the listener closes (let load balancers notice)"},
		{"DB_MAX_CONNS", "20", "Postgres connections per instance"},
		{"DB_TIMEOUT", "2s", "longest a statement may run; a database that stops answering gives 503 about this long after"},
		{"SIGNUP_LIMIT", "20", "sign-ups allowed per client address in SIGNUP_WINDOW, answered or refused (429 beyond); raise it for loadgen without -seed"},
		{"SIGNUP_WINDOW", "1h", "the window SIGNUP_LIMIT counts in; it starts at an address's first sign-up"},
		{"QUEUE_TURN", "20s", "how long the head of the raid queue alone may enter once the raid frees; then the turn passes to the next in line"},
	}
}

// LoadConfig reads the configuration through getenv. Every bad value is reported at once.
func LoadConfig(getenv func(string) string) (Config, error) {
	var errs []error
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	duration := func(name, def string, least time.Duration) time.Duration {
		raw := get(name, def)
		d, err := time.ParseDuration(raw)
		if err != nil || d < least {
			errs = append(errs, fmt.Errorf("%s=%q: want a duration of at least %s, like %s", name, raw, least, def))
		}
		return d
	}
	c := Config{
		Env:         get("APP_ENV", "development"),
		DatabaseURL: get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bossraid?sslmode=disable"),
		RedisURL:    get("REDIS_URL", "redis://127.0.0.1:6379/0"),
		HTTPAddr:    get("HTTP_ADDR", "127.0.0.1:8080"),
		BossData:    get("BOSSRAID_DATA", ""),
		SecretKey:   getenv("SECRET_KEY"),
	}
	switch c.Env {
	case "development", "test", "production":
	default:
		errs = append(errs, fmt.Errorf("APP_ENV=%q: want development, test or production", c.Env))
	}
	if _, err := postgres.ParseDSN(c.DatabaseURL); err != nil {
		errs = append(errs, fmt.Errorf("DATABASE_URL: want a postgres:// URL or key=value settings: %w", err))
	}
	if _, err := redis.ParseURL(c.RedisURL); err != nil {
		errs = append(errs, fmt.Errorf("REDIS_URL: %w (forms: redis://host:6379/0; Sentinel redis://s1:26379/0?master_name=NAME&addr=s2:26379; Cluster redis://h1:7000?cluster=true&addr=h2:7001)", err))
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("HTTP_ADDR=%q: want host:port, like 127.0.0.1:8080", c.HTTPAddr))
	}
	switch {
	case c.SecretKey == "" && c.Env == "production":
		errs = append(errs, errors.New("SECRET_KEY is required when APP_ENV=production"))
	case c.SecretKey == "":
		c.SecretKey, c.DevSecret = devSecretKey, true
	case len(c.SecretKey) < 32:
		errs = append(errs, errors.New("SECRET_KEY must be at least 32 characters"))
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", getenv("LOG_LEVEL")))
	}
	c.AccessTokenTTL = duration("ACCESS_TOKEN_TTL", "15m", time.Minute)
	c.RefreshTokenTTL = duration("REFRESH_TOKEN_TTL", "168h", time.Minute)
	c.SessionLifetime = duration("SESSION_LIFETIME", "168h", time.Minute)
	c.SweepInterval = duration("SWEEP_INTERVAL", "1s", 0)
	c.ShutdownTimeout = duration("SHUTDOWN_TIMEOUT", "15s", 0)
	c.ShutdownDelay = duration("SHUTDOWN_DELAY", "0s", 0)
	c.DBTimeout = duration("DB_TIMEOUT", "2s", 100*time.Millisecond)
	c.CookieSecure = parseBool("COOKIE_SECURE", get("COOKIE_SECURE", strconv.FormatBool(c.Env == "production")), &errs)
	c.TrustProxy = parseBool("TRUST_PROXY", get("TRUST_PROXY", "false"), &errs)
	c.WriteTimeout = duration("HTTP_WRITE_TIMEOUT", "30s", time.Second)
	trusted, err := clientip.ParsePrefixes(get("TRUSTED_PROXIES", clientip.DefaultTrustedProxies))
	if err != nil {
		errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %w", err))
	}
	c.TrustedProxies = trusted
	streams, err := strconv.Atoi(get("LIVE_STREAMS_MAX", "10000"))
	if err != nil || streams < 1 || streams > 1_000_000 {
		errs = append(errs, fmt.Errorf("LIVE_STREAMS_MAX=%q: want a number from 1 to 1000000", getenv("LIVE_STREAMS_MAX")))
	}
	c.LiveStreamsMax = streams
	maxConns, err := strconv.Atoi(get("DB_MAX_CONNS", "20"))
	if err != nil || maxConns < 2 || maxConns > 500 {
		errs = append(errs, fmt.Errorf("DB_MAX_CONNS=%q: want a number from 2 to 500", getenv("DB_MAX_CONNS")))
	}
	c.DBMaxConns = maxConns
	c.SignUpWindow = duration("SIGNUP_WINDOW", "1h", time.Second)
	c.QueueTurn = duration("QUEUE_TURN", "20s", 100*time.Millisecond)
	signUpLimit, err := strconv.Atoi(get("SIGNUP_LIMIT", "20"))
	if err != nil || signUpLimit < 1 {
		errs = append(errs, fmt.Errorf("SIGNUP_LIMIT=%q: want a whole number of at least 1", getenv("SIGNUP_LIMIT")))
	}
	c.SignUpLimit = signUpLimit
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration:\n  %w", errors.Join(errs...))
	}
	return c, nil
}

func parseBool(name, raw string, errs *[]error) bool {
	b, err := strconv.ParseBool(raw)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s=%q: want true or false", name, raw))
	}
	return b
}
