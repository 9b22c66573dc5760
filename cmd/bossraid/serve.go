package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bossraid/bossraid/adapters/argon2id"
	"github.com/bossraid/bossraid/adapters/bossdata"
	"github.com/bossraid/bossraid/adapters/clock"
	httpserver "github.com/bossraid/bossraid/adapters/http"
	"github.com/bossraid/bossraid/adapters/http/apidocs"
	"github.com/bossraid/bossraid/adapters/http/metrics"
	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/adapters/redis"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/internal/wiring"
	"github.com/bossraid/bossraid/ports"
)

// defaultMemoryLimit is the Go runtime's soft memory limit unless GOMEMLIMIT is set.
const defaultMemoryLimit = 100 << 20

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.Env == "production" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(httpserver.WithRequestID(h))
}

// deps are the open connections a command works with.
type deps struct {
	cfg   Config
	log   *slog.Logger
	db    *sql.DB
	redis goredis.UniversalClient
	// gameMetrics counts what the use cases do (serve sets it); nil counts nothing.
	gameMetrics ports.GameMetrics
}

func (d *deps) Close() {
	if d.redis != nil {
		_ = d.redis.Close()
	}
	if d.db != nil {
		_ = d.db.Close()
	}
}

// connect opens Postgres (required) and Redis (optional: losing it costs speed, not service).
func connect(ctx context.Context, cfg Config, log *slog.Logger, needRedis bool) (*deps, error) {
	opts := postgres.DefaultOptions()
	opts.MaxOpenConns = cfg.DBMaxConns
	opts.StatementTimeout = cfg.DBTimeout
	opts.LockTimeout = min(opts.LockTimeout, cfg.DBTimeout)
	db, err := openPostgresWithRetry(ctx, cfg.DatabaseURL, opts, log)
	if err != nil {
		return nil, err
	}
	d := &deps{cfg: cfg, log: log, db: db}
	if !needRedis {
		return d, nil
	}
	redis.LogTo(log) // go-redis's own lines (failed dials during an outage) go to debug
	d.redis, err = redis.Open(ctx, cfg.RedisURL)
	if d.redis == nil {
		d.Close()
		return nil, err
	}
	if err != nil {
		log.Warn("Redis is not reachable; serving from Postgres until it is", "err", err)
	}
	return d, nil
}

// openPostgresWithRetry waits a little for a database that is still starting (compose, CI).
func openPostgresWithRetry(ctx context.Context, url string, opts postgres.Options, log *slog.Logger) (*sql.DB, error) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		db, err := postgres.Open(ctx, url, opts)
		if err == nil {
			return db, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("cannot reach Postgres (DATABASE_URL): %w", err)
		}
		log.Warn("waiting for Postgres", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// buildApp wires the adapters into the use cases.
func buildApp(ctx context.Context, d *deps, boss *bossdata.Source) (*wiring.Graph, error) {
	data, err := boss.LoadBossData(ctx)
	if err != nil {
		return nil, err
	}
	hasher, err := argon2id.New(argon2id.OWASP())
	if err != nil {
		return nil, err
	}
	settings := app.DefaultSettings()
	settings.AccessTokenTTL = d.cfg.AccessTokenTTL
	settings.RefreshTokenTTL = d.cfg.RefreshTokenTTL
	settings.SignUpAddressLimit, settings.SignUpWindow = d.cfg.SignUpLimit, d.cfg.SignUpWindow
	settings.QueueTurn = d.cfg.QueueTurn
	return wiring.Build(wiring.Inputs{
		Settings: settings, Boss: data, BossSource: boss, Hasher: hasher,
		Secret: []byte(d.cfg.SecretKey), Clock: clock.System{}, Metrics: d.gameMetrics, Logger: d.log,
		DB: d.db, Redis: d.redis, DatabaseURL: d.cfg.DatabaseURL,
	})
}

func serve(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	if getenv("GOMEMLIMIT") == "" {
		// A soft limit keeps the heap, Argon2id's 19 MiB per hash included, inside a small
		// container; GOMEMLIMIT in the environment overrides it.
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	if cfg.DevSecret {
		log.Warn("SECRET_KEY is not set: using the built-in DEVELOPMENT key. Tokens and sessions are forgeable by anyone who reads the source. Set SECRET_KEY (32+ characters) before exposing this server.")
	}
	boss := bossdata.New(cfg.BossData, nil)
	if _, err := boss.LoadBossData(ctx); err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	d, err := connect(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := postgres.CheckSchema(ctx, d.db); err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	m := metrics.New()
	if err := m.CollectDB(d.db, "bossraid"); err != nil {
		return err
	}
	d.gameMetrics = m
	g, err := buildApp(ctx, d, boss)
	if err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	a := g.App

	stopStreams := make(chan struct{})
	frontDoors, err := buildFrontDoors(d, g, stopStreams)
	if err != nil {
		return err
	}
	frontDoors = append([]httpserver.FrontDoor{m, apidocs.New(log)}, frontDoors...)
	srv := httpserver.New(httpserver.Config{
		App:            a,
		Queue:          g.Queue,
		Images:         g.Images,
		Logger:         log,
		TrustProxy:     cfg.TrustProxy,
		TrustedProxies: cfg.TrustedProxies,
		FrontDoors:     frontDoors,
		Observe:        m.Observe,
		Checks: []httpserver.Check{
			{Name: "postgres", Ping: d.db.PingContext},
			{Name: "redis", Ping: func(ctx context.Context) error { return redis.Ping(ctx, d.redis) }},
		},
	})
	httpSrv := srv.HTTPServer(cfg.HTTPAddr, cfg.WriteTimeout)
	var once sync.Once
	httpSrv.RegisterOnShutdown(func() { once.Do(func() { close(stopStreams) }) })

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR: %w", err)
	}
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	bg.Go(func() { g.Run(bgCtx, cfg.SweepInterval) })

	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	log.Info("Boss Raid is serving", "addr", ln.Addr().String(), "env", cfg.Env, "boss_data", boss.Location())

	select {
	case err := <-serveErr:
		stopBackground()
		bg.Wait()
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	// Shutdown order: stop being ready, let in-flight requests finish, stop the background
	// work, then close Redis and Postgres (deferred).
	log.Info("shutting down")
	srv.ShutDown()
	if cfg.ShutdownDelay > 0 {
		// Keep serving while load balancers see /readyz fail and stop sending new players.
		time.Sleep(cfg.ShutdownDelay)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		log.Warn("in-flight requests did not finish in time", "err", err)
	}
	stopBackground()
	bg.Wait()
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}
