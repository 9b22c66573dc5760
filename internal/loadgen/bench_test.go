package loadgen_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bossraid/bossraid/adapters/argon2id"
	"github.com/bossraid/bossraid/adapters/jwt"
	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/adapters/redis"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/internal/loadgen"
	"github.com/bossraid/bossraid/internal/testenv"
	"github.com/bossraid/bossraid/internal/wiring"
	"github.com/bossraid/bossraid/ports"
)

// Benchmarks of the hot paths with the production adapters over the test Postgres and Redis.
// Each use case runs twice where it matters: "cached" is the instance as served (the change
// feed keeps token checks and the raid status in memory), "postgres" is the same instance
// without the change feed, so every call goes to the database as it did before the cache.
//
//	go test -run '^$' -bench . -benchmem ./internal/loadgen/
//	go test -run '^$' -bench 'HTTP/status' -cpuprofile cpu.prof ./internal/loadgen/

// benchWorld is a seeded stack, a signed-in player and a second app without the cache.
type benchWorld struct {
	st     *testenv.Stack
	cold   *app.App // the same adapters, no change feed: every token check reads Postgres
	access string
	player app.Player
	api    *loadgen.API
}

const benchPlayers, benchRaids = 2000, 10000

func newBenchWorld(b *testing.B) *benchWorld {
	b.Helper()
	st := testenv.NewStack(b, testenv.StackOptions{RedisDB: redisDB})
	ctx := context.Background()
	if _, err := loadgen.Seed(ctx, st.DB, loadgen.SeedOptions{Players: benchPlayers, Raids: benchRaids, RandSeed: 3}); err != nil {
		b.Fatal(err)
	}
	if _, err := st.App.Ranking.Rebuild(ctx); err != nil {
		b.Fatal(err)
	}
	cr := loadgen.SeedCredentials(benchPlayers / 2)
	pair, err := st.App.Accounts.SignIn(ctx, cr.Email, cr.Password, "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	p, err := st.App.Accounts.Authenticate(ctx, pair.Access)
	if err != nil {
		b.Fatal(err)
	}
	w := &benchWorld{st: st, access: pair.Access, player: p, api: apiFor(b, st, 128)}
	w.cold = coldApp(b, st)
	return w
}

// coldApp builds an instance like testenv's but without the change feed, so nothing is cached.
func coldApp(b *testing.B, st *testenv.Stack) *app.App {
	b.Helper()
	hasher, err := argon2id.New(argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	if err != nil {
		b.Fatal(err)
	}
	g, err := wiring.Build(wiring.Inputs{
		Settings: app.DefaultSettings(), Boss: raids.DefaultBossData(), Hasher: hasher,
		Secret: []byte(testenv.TokenSecret), DB: st.DB, Redis: st.Redis,
	})
	if err != nil {
		b.Fatal(err)
	}
	a := g.App
	return a
}

func BenchmarkTokenVerify(b *testing.B) {
	tokens, err := jwt.New(jwt.DeriveKey([]byte("testenv-secret-key-of-at-least-32-characters"), jwt.TokensPurpose))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	tok, err := tokens.Sign(ports.TokenClaims{Kind: ports.TokenAccess, UserID: 42, Version: 1, ID: "x",
		IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := tokens.Verify(tok, ports.TokenAccess); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkAuthenticate(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	for _, v := range []struct {
		name string
		app  *app.App
	}{{"cached", w.st.App}, {"postgres", w.cold}} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := v.app.Accounts.Authenticate(ctx, w.access); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkStatus(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	if _, err := w.st.App.Raids.EnterRaid(ctx, w.player, 1); err != nil { // someone inside: the status names them
		b.Fatal(err)
	}
	for _, v := range []struct {
		name string
		app  *app.App
	}{{"cached", w.st.App}, {"postgres", w.cold}} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if st, err := v.app.Raids.Status(ctx); err != nil || st.CanEnter {
						b.Errorf("status %+v %v", st, err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkRanking(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	b.Run("redis", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if v, err := w.st.App.Ranking.Of(ctx, w.player); err != nil || len(v.Top) != 10 {
					b.Errorf("ranking %+v %v", v, err)
					return
				}
			}
		})
	})
	// What every ranking costs while Redis is down or being rebuilt.
	b.Run("postgres-fallback", func(b *testing.B) {
		totals := postgres.NewTotals(w.st.DB)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				top, err := totals.Top(ctx, raids.TopSize)
				if err == nil {
					_, err = totals.StandingOf(ctx, w.player.ID)
				}
				if err != nil || len(top) != 10 {
					b.Errorf("ranking from Postgres: %d %v", len(top), err)
					return
				}
			}
		})
	})
}

// One player entering and clearing the raid, over and over: two write transactions each.
func BenchmarkEnterEnd(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r, err := w.st.App.Raids.EnterRaid(ctx, w.player, 1)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.st.App.Raids.EndRaid(ctx, w.player, r.ID, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// Whole requests over loopback HTTP through the server's handler, 64 at a time (as the
// targets in docs/PERFORMANCE.md); healthz is the ceiling they are compared with.
func BenchmarkHTTP(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	for _, route := range []struct{ name, path, token string }{
		{"healthz", "/healthz", ""},
		{"status", "/api/raids/status", w.access},
		{"ranking", "/api/raids/ranking", w.access},
	} {
		b.Run(route.name, func(b *testing.B) {
			b.SetParallelism(32) // × GOMAXPROCS (2 here) = 64 requests in flight
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if r := w.api.Do(ctx, http.MethodGet, route.path, route.token, nil, false); r.Status != http.StatusOK {
						b.Errorf("%s: %d %v", route.path, r.Status, r.Err)
						return
					}
				}
			})
		})
	}
}

// rankingInOneTrip is a prototype of the fix docs/PERFORMANCE.md recommends: the top 10, the
// player's total and the count above it in one script, one round trip instead of two. It reads
// the keys adapters/redis keeps (bossraid:{ranking}, bossraid:{ranking}:ready).
var rankingInOneTrip = goredis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 0 then return false end
local top = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not score then return {top} end
return {top, score, redis.call('ZCOUNT', KEYS[1], '(' .. score, '+inf')}`)

// The Redis side of one ranking answer: today's two round trips against the one-script prototype.
func BenchmarkRankingRedisTrips(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	lb := redis.NewLeaderboard(w.st.Redis)
	member := fmt.Sprintf("%019d", math.MaxInt64-w.player.ID)
	b.Run("two-trips", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := lb.Top(ctx, raids.TopSize); err != nil {
					b.Error(err)
					return
				}
				if _, err := lb.StandingOf(ctx, w.player.ID); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("one-script", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				res, err := rankingInOneTrip.Run(ctx, w.st.Redis, []string{"bossraid:{ranking}", "bossraid:{ranking}:ready"},
					raids.TopSize, member).Slice()
				if err != nil || len(res) != 3 {
					b.Errorf("%v %v", res, err)
					return
				}
			}
		})
	})
}

// The common answer of a crowded raid: someone is inside and every other enter is refused.
// Each refusal is a Postgres transaction today (close expired, insert that does nothing, look
// who is inside); the burst of docs/PERFORMANCE.md is 999 of them per round.
func BenchmarkEnterBusy(b *testing.B) {
	w := newBenchWorld(b)
	ctx := context.Background()
	if _, err := w.st.App.Raids.EnterRaid(ctx, w.player, 1); err != nil {
		b.Fatal(err)
	}
	other, err := w.st.App.Accounts.SignIn(ctx, loadgen.SeedCredentials(1).Email, loadgen.SeedPassword, "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	p, err := w.st.App.Accounts.Authenticate(ctx, other.Access)
	if err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(10) // × GOMAXPROCS: about the 20 connections of the pool, all busy
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := w.st.App.Raids.EnterRaid(ctx, p, 0); !errors.Is(err, raids.ErrBusy) {
				b.Errorf("enter while someone is inside: %v", err)
				return
			}
		}
	})
}
