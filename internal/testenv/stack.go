package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bossraid/bossraid/adapters/argon2id"
	"github.com/bossraid/bossraid/adapters/clock"
	"github.com/bossraid/bossraid/adapters/eventhub"
	httpserver "github.com/bossraid/bossraid/adapters/http"
	"github.com/bossraid/bossraid/adapters/redis"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/internal/wiring"
	"github.com/bossraid/bossraid/ports"
)

// The package's database, made by Main.
var (
	pkgDB *Database
)

// Main is a test package's TestMain: it creates the package's own migrated database, runs the
// tests and drops it. Any failure to reach Postgres fails the run.
func Main(m *testing.M, name string) {
	d, err := NewDatabase(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		os.Exit(1)
	}
	pkgDB = d
	code := m.Run()
	if err := d.Drop(); err != nil {
		fmt.Fprintln(os.Stderr, "testenv: drop database:", err)
	}
	os.Exit(code)
}

// PackageDatabase is the database Main made.
func PackageDatabase(t testing.TB) *Database {
	t.Helper()
	if pkgDB == nil {
		t.Fatal("testenv: call testenv.Main(m, name) from TestMain first")
	}
	return pkgDB
}

// StackOptions tune a Stack.
type StackOptions struct {
	// RedisDB is the package's Redis database number (see Redis).
	RedisDB int
	// BossData replaces the built-in boss raid data (e.g. a 2-second limit).
	BossData *raids.BossData
	// BossSource is where an admin's reload reads the boss data; nil: the built-in data.
	BossSource ports.BossDataSource
	// Settings replace app.DefaultSettings; without them the sign-up limit is lifted.
	Settings *app.Settings
	// QueueTurn replaces the settings' turn of the raid queue (a short one for tests).
	QueueTurn time.Duration
	// SweepInterval runs the sweeper; 0 leaves it off so reads must judge deadlines themselves.
	SweepInterval time.Duration
	// FrontDoors adds front doors (the web pages) built on the stack.
	FrontDoors func(st *Stack) []httpserver.FrontDoor
	// KeepData skips emptying the database and Redis (a second instance on the same data).
	KeepData bool
	// Logger receives the app's logs; nil discards them.
	Logger *slog.Logger
	// Metrics counts what the use cases do; nil counts nothing.
	Metrics ports.GameMetrics
	// Observe wraps every routed request (the metrics middleware); nil adds nothing.
	Observe func(route string, next http.Handler) http.Handler
}

// Stack is a whole Boss Raid instance over the package's Postgres database and a Redis
// database: the same adapters as production, served by an httptest server.
type Stack struct {
	App    *app.App
	Queue  *app.Queue
	DB     *sql.DB
	Redis  *goredis.Client
	Server *httptest.Server
	HTTP   *httpserver.Server
	URL    string
	// Stop is closed when the stack shuts down; live streams end with it.
	Stop <-chan struct{}
	// Events is the instance's event hub, which the live lobby watches.
	Events *eventhub.Hub
	// EnsureRanking rebuilds the leaderboard now if it cannot answer, as the instance does
	// every few seconds.
	EnsureRanking func(ctx context.Context) error

	close func()
}

// NewStack starts an instance on emptied data and stops it when the test ends.
func NewStack(t testing.TB, opts StackOptions) *Stack {
	t.Helper()
	db := PackageDatabase(t)
	rdb, err := Redis(opts.RedisDB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	if !opts.KeepData {
		Reset(t, db.DB)
	} else if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	st, err := newStack(db, rdb, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.close)
	return st
}

// TokenSecret is the key material the stacks sign API tokens with.
const TokenSecret = "testenv-secret-key-of-at-least-32-characters"

// Reset empties every table so a test starts from nothing.
func Reset(t testing.TB, db *sql.DB) {
	t.Helper()
	_, err := db.Exec(`TRUNCATE raids, refresh_tokens, profile_images, sessions, users RESTART IDENTITY CASCADE;
		UPDATE raid_queue_state SET turn_from = NULL, turns_taken = 0, turns_lapsed = 0`)
	if err != nil {
		t.Fatalf("testenv: reset database: %v", err)
	}
}

func newStack(pkg *Database, rdb *goredis.Client, opts StackOptions) (*Stack, error) {
	db := pkg.DB
	boss := raids.DefaultBossData()
	if opts.BossData != nil {
		boss = *opts.BossData
	}
	settings := app.DefaultSettings()
	// Tests sign many players up from one loopback address; those of the limit set Settings.
	settings.SignUpAddressLimit = 1_000_000
	if opts.Settings != nil {
		settings = *opts.Settings
	}
	if opts.QueueTurn != 0 {
		settings.QueueTurn = opts.QueueTurn
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Cheap hashing parameters keep tests fast; the code path is the production one.
	hasher, err := argon2id.New(argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	if err != nil {
		return nil, err
	}
	g, err := wiring.Build(wiring.Inputs{
		Settings: settings, Boss: boss, BossSource: opts.BossSource, Hasher: hasher, Secret: []byte(TokenSecret),
		Clock: clock.System{}, Metrics: opts.Metrics, Logger: log,
		DB: db, Redis: rdb, DatabaseURL: pkg.URL,
	})
	if err != nil {
		return nil, err
	}
	a := g.App
	stop := make(chan struct{})
	st := &Stack{App: a, Queue: g.Queue, DB: db, Redis: rdb, Stop: stop, Events: g.Events, EnsureRanking: g.EnsureRanking}
	var frontDoors []httpserver.FrontDoor
	if opts.FrontDoors != nil {
		frontDoors = opts.FrontDoors(st)
	}
	st.HTTP = httpserver.New(httpserver.Config{
		App: a, Queue: g.Queue, Images: g.Images, Logger: log, FrontDoors: frontDoors,
		Observe: opts.Observe,
		Checks: []httpserver.Check{
			{Name: "postgres", Ping: db.PingContext},
			{Name: "redis", Ping: func(ctx context.Context) error { return redis.Ping(ctx, rdb) }},
		},
	})
	// The production connection settings (timeouts included), as cmd/bossraid serves.
	st.Server = httptest.NewUnstartedServer(st.HTTP)
	st.Server.Config = st.HTTP.HTTPServer("", 0)
	st.Server.Start()
	st.URL = st.Server.URL

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { g.Run(ctx, opts.SweepInterval) })
	// Tests start when the instance hears other instances and ranks from memory, as a
	// production one soon does.
	for deadline := time.Now().Add(5 * time.Second); !g.FollowingChanges() || !g.RankingInMemory(); {
		if time.Now().After(deadline) {
			st.Server.Close()
			cancel()
			wg.Wait()
			return nil, fmt.Errorf("testenv: the change feed did not connect")
		}
		time.Sleep(2 * time.Millisecond)
	}
	st.close = func() {
		close(stop)
		st.Server.Close()
		cancel()
		wg.Wait()
	}
	return st, nil
}
