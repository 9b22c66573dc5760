// Package wiring builds the game's object graph — adapters composed around the use cases — in one
// place. The server, the test stacks, the fuzz harness and the benchmarks all build through
// Build, so a new port or a new decorator is one edit here.
package wiring

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bossraid/bossraid/adapters/bossdata"
	"github.com/bossraid/bossraid/adapters/clock"
	"github.com/bossraid/bossraid/adapters/eventhub"
	"github.com/bossraid/bossraid/adapters/fallback"
	"github.com/bossraid/bossraid/adapters/hot"
	"github.com/bossraid/bossraid/adapters/images"
	"github.com/bossraid/bossraid/adapters/jwt"
	"github.com/bossraid/bossraid/adapters/memory"
	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/adapters/redis"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// Inputs are what the graph is built from: configuration and the connections already open.
type Inputs struct {
	Settings   app.Settings
	Boss       raids.BossData       // the boss raid data in force, loaded and validated
	BossSource ports.BossDataSource // where a reload reads it; nil: the built-in data
	Hasher     ports.PasswordHasher
	Secret     []byte // the key material the API tokens are signed with
	Clock      ports.Clock
	Metrics    ports.GameMetrics // nil counts nothing
	Logger     *slog.Logger      // nil discards

	// DB and Redis are the production stores. With DB nil every store is in memory (fuzzing,
	// fast tests) and Redis is not used.
	DB    *sql.DB
	Redis goredis.UniversalClient
	// DatabaseURL is where the change feed listens; "" (and Changes nil) runs without it, so
	// nothing is cached.
	DatabaseURL string
	// Changes replaces the change feed built from DatabaseURL.
	Changes ports.ChangeFeed
	// Throttle replaces the shared throttle (tests of its outage).
	Throttle ports.Throttle
}

// Graph is a built instance.
type Graph struct {
	App    *app.App
	Queue  *app.Queue
	Images ports.ImageStore
	// Events is the instance's event hub: the live lobby watches it.
	Events *eventhub.Hub
	// Memory holds every store when Inputs.DB was nil; its change feed is followed then.
	Memory  *memory.Store
	cache   *hot.Cache
	ranking *fallback.Ranking
	memory  *hot.Ranking // the ranking in memory, around ranking
	run     func(ctx context.Context, sweepEvery time.Duration)
}

// FollowingChanges reports whether the instance hears other instances' changes, and so
// answers token checks and the raid status from memory.
func (g *Graph) FollowingChanges() bool { return g.cache.Following() }

// RankingInMemory reports whether the ranking is answered from memory: the change feed is
// followed and every total has been loaded.
func (g *Graph) RankingInMemory() bool { return g.memory.Loaded() }

// EnsureRanking rebuilds the leaderboard now if it cannot answer or missed a write, as Run
// does every few seconds.
func (g *Graph) EnsureRanking(ctx context.Context) error { return g.ranking.Ensure(ctx) }

// Run does the instance's background work until ctx ends: relaying the other instances'
// events, following the change feed, keeping the leaderboard built and sweeping expired raids
// every sweepEvery (0 disables the sweeper).
func (g *Graph) Run(ctx context.Context, sweepEvery time.Duration) { g.run(ctx, sweepEvery) }

// Build composes the adapters around the use cases.
func Build(in Inputs) (*Graph, error) {
	if in.Hasher == nil {
		return nil, errors.New("wiring: no password hasher")
	}
	if in.Clock == nil {
		in.Clock = clock.System{}
	}
	if in.Logger == nil {
		in.Logger = slog.New(slog.DiscardHandler)
	}
	if in.BossSource == nil {
		in.BossSource = bossdata.New("", nil)
	}
	tokens, err := jwt.New(jwt.DeriveKey(in.Secret, jwt.TokensPurpose))
	if err != nil {
		return nil, err
	}
	deps := app.Deps{
		Clock: in.Clock, Tokens: hot.NewTokens(tokens), Hasher: in.Hasher, Images: images.New(),
		BossSource: in.BossSource,
		Metrics:    in.Metrics, Logger: in.Logger,
	}
	g := &Graph{cache: hot.New(in.Clock)}
	changes := in.Changes
	var board ports.Leaderboard
	var totals fallback.Totals
	var line ports.RaidQueue
	var remote ports.Events
	if in.DB == nil {
		store := memory.NewStore(in.Clock)
		if changes == nil {
			changes = store.Changes()
		}
		g.Memory, g.Images = store, store
		deps.Users, deps.Sessions, deps.Raids, deps.Admin, totals = store, store, store, store, store
		deps.Charts, line = store, store
		deps.Throttle, board, remote = memory.NewThrottle(in.Clock), memory.NewLeaderboard(), memory.NewEvents()
	} else {
		g.Images = postgres.NewImages(in.DB)
		deps.Users, deps.Sessions = postgres.NewUsers(in.DB), postgres.NewSessions(in.DB)
		raidStore := postgres.NewRaids(in.DB)
		deps.Raids, deps.Records, deps.Admin, totals = raidStore, raidStore, postgres.NewAdmin(in.DB), postgres.NewTotals(in.DB)
		deps.Charts, line = postgres.NewCharts(in.DB), postgres.NewQueue(in.DB)
		deps.Throttle, board, remote = redis.NewThrottle(in.Redis), redis.NewLeaderboard(in.Redis), redis.NewEvents(in.Redis)
		if changes == nil && in.DatabaseURL != "" {
			changes = postgres.NewChangeFeed(in.DatabaseURL, in.Logger)
		}
	}
	hotUsers := g.cache.Users(deps.Users)
	deps.Users, deps.Accounts = hotUsers, hotUsers
	deps.Sessions, deps.Raids = g.cache.Sessions(deps.Sessions), g.cache.Raids(deps.Raids)
	// Every status reads the line: memory answers between changes.
	line = g.cache.Queue(line)
	if in.Throttle != nil {
		deps.Throttle = in.Throttle
	}
	// The local count stands in while the shared one cannot answer, so an outage does not
	// open the gates.
	deps.Throttle = fallback.NewThrottle(deps.Throttle, memory.NewThrottle(in.Clock), in.Logger)
	// The leaderboard answers the ranking; the totals stand in while it cannot, and rebuild it.
	g.ranking = fallback.NewRanking(board, totals, in.Metrics, in.Logger)
	// Memory answers it while the change feed keeps every instance's copy exact.
	g.memory = g.cache.Ranking(g.ranking, totals, in.Logger)
	deps.Standings, deps.Leaderboard, deps.Totals = g.memory, board, totals
	g.Events = eventhub.New(remote, in.Logger)
	deps.Events = g.Events
	a, err := app.New(deps, in.Settings, in.Boss)
	if err != nil {
		return nil, err
	}
	g.App = a
	queueMetrics, _ := in.Metrics.(app.QueueMetrics)
	if g.Queue, err = app.NewQueue(app.QueueDeps{Line: line, Announce: g.Events.Publish, Metrics: queueMetrics}, in.Settings.QueueTurn); err != nil {
		return nil, err
	}
	g.run = func(ctx context.Context, sweepEvery time.Duration) {
		var wg sync.WaitGroup
		// Boss data reloaded on another instance comes into force here before the lobby re-reads.
		wg.Go(func() { g.Events.Run(ctx, a.Raids.ApplyEvent) })
		wg.Go(func() { g.ranking.Run(ctx) })
		if sweepEvery > 0 {
			wg.Go(func() { sweep(ctx, a.Raids, sweepEvery, in.Logger) })
		}
		if changes != nil {
			wg.Go(func() { g.cache.Follow(ctx, changes) })
		}
		wg.Wait()
	}
	return g, nil
}

// sweep records expired raids as failed every so often until ctx ends. It only tidies: every
// read already judges by the deadline.
func sweep(ctx context.Context, a *app.Raids, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := a.SweepExpired(ctx); err != nil && ctx.Err() == nil {
				log.Warn("sweeping expired raids failed", "err", err)
			}
		}
	}
}
