package redis_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bossraid/bossraid/adapters/redis"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestLeaderboardContract(t *testing.T) {
	portstest.RunLeaderboard(t, func(t *testing.T) ports.Leaderboard {
		return redis.NewLeaderboard(emptyRedis(t))
	})
}

// A flushed or restarted Redis must not answer from a partial set: not ranked until a
// rebuild, then the same answers as before.
func TestFlushedRankingIsNotRankedUntilRebuilt(t *testing.T) {
	ctx := context.Background()
	c := emptyRedis(t)
	lb := redis.NewLeaderboard(c)
	rng := rand.New(rand.NewPCG(7, 7))
	var list []raids.Total
	for id := int64(1); id <= 500; id++ {
		list = append(list, raids.Total{UserID: id, TotalScore: rng.Int64N(8)})
	}
	src := portstest.Totals{List: list}
	if _, err := lb.Rebuild(ctx, src); err != nil {
		t.Fatal(err)
	}
	before := answers(t, lb, list)

	if err := c.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := lb.Top(ctx, raids.TopSize); !errors.Is(err, raids.ErrNotRanked) {
		t.Fatalf("Top after FLUSHDB: got %v, want ErrNotRanked", err)
	}
	// A write that lands meanwhile must not make the partial set look ranked.
	if err := lb.SetTotal(ctx, 3, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := lb.StandingOf(ctx, 3); !errors.Is(err, raids.ErrNotRanked) {
		t.Fatalf("StandingOf after FLUSHDB: got %v, want ErrNotRanked", err)
	}
	if _, err := lb.Rebuild(ctx, src); err != nil {
		t.Fatal(err)
	}
	after := answers(t, lb, list)
	if !slices.Equal(before, after) {
		t.Fatalf("answers changed across FLUSHDB and rebuild:\nbefore %v\n after %v", before, after)
	}
}

// answers is the whole ranking as Top and StandingOf tell it.
func answers(t *testing.T, lb *redis.Leaderboard, list []raids.Total) []raids.Standing {
	t.Helper()
	out, err := lb.Top(context.Background(), len(list))
	if err != nil {
		t.Fatal(err)
	}
	for _, total := range list {
		s, err := lb.StandingOf(context.Background(), total.UserID)
		if errors.Is(err, raids.ErrPlayerNotInRanks) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// countingSource counts the rebuilds it feeds.
type countingSource struct {
	portstest.Totals
	calls atomic.Int32
}

func (s *countingSource) EachTotal(ctx context.Context, batch int, fn func([]raids.Total) error) error {
	s.calls.Add(1)
	return s.Totals.EachTotal(ctx, batch, fn)
}

// holdRebuild makes it look as if another instance were rebuilding, as rebuild number gen.
func holdRebuild(t *testing.T, gen int64) {
	t.Helper()
	ctx := context.Background()
	c := emptyRedis(t)
	if err := c.Set(ctx, redis.GenerationKey, gen, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, redis.RebuildKey, redis.BuildPrefix+"elsewhere", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
}

// finishRebuild completes the other instance's rebuild with one player, after a while.
func finishRebuild(t *testing.T, gen int64) {
	t.Helper()
	ctx := context.Background()
	time.Sleep(200 * time.Millisecond)
	p := testClient.TxPipeline()
	p.ZAdd(ctx, redis.RankingKey, goredis.Z{Score: 7, Member: redis.Member(42)})
	p.Set(ctx, redis.ReadyKey, gen, 0)
	p.Del(ctx, redis.RebuildKey)
	if _, err := p.Exec(ctx); err != nil {
		t.Error(err)
	}
}

func TestRebuildStartedAfterWeAskedIsEnough(t *testing.T) {
	holdRebuild(t, 4)
	src := &countingSource{Totals: portstest.Totals{List: []raids.Total{{UserID: 1, TotalScore: 1}}}}
	go finishRebuild(t, 5)
	n, err := redis.NewLeaderboard(testClient).Rebuild(context.Background(), src)
	if err != nil || n != 1 {
		t.Fatalf("Rebuild: %d, %v; want the other instance's 1 player", n, err)
	}
	if src.calls.Load() != 0 {
		t.Fatal("rebuilt again although the other rebuild started after we asked")
	}
}

func TestRebuildStartedBeforeWeAskedIsRepeated(t *testing.T) {
	holdRebuild(t, 5)
	src := &countingSource{Totals: portstest.Totals{List: []raids.Total{{UserID: 1, TotalScore: 1}, {UserID: 2, TotalScore: 9}}}}
	go finishRebuild(t, 5)
	n, err := redis.NewLeaderboard(testClient).Rebuild(context.Background(), src)
	if err != nil || n != 2 || src.calls.Load() != 1 {
		t.Fatalf("Rebuild: %d, %v, %d calls; want its own rebuild of 2 players", n, err, src.calls.Load())
	}
}

func TestRebuildGivesUpWaitingAtItsBound(t *testing.T) {
	holdRebuild(t, 1)
	lb := redis.NewLeaderboard(testClient)
	lb.SetMaxWait(300 * time.Millisecond)
	start := time.Now()
	_, err := lb.Rebuild(context.Background(), portstest.Totals{})
	if !errors.Is(err, redis.ErrRebuildBusy) || time.Since(start) > 2*time.Second {
		t.Fatalf("Rebuild behind a stuck one: %v after %v; want redis.ErrRebuildBusy soon", err, time.Since(start))
	}
}

// A rebuild whose lock expired (it stalled) or was flushed away must not swap in its set.
func TestRebuildThatLostItsLockKeepsTheOldRanking(t *testing.T) {
	ctx := context.Background()
	c := emptyRedis(t)
	lb := redis.NewLeaderboard(c)
	if _, err := lb.Rebuild(ctx, portstest.Totals{List: []raids.Total{{UserID: 1, TotalScore: 10}}}); err != nil {
		t.Fatal(err)
	}
	src := portstest.Totals{
		List:    []raids.Total{{UserID: 2, TotalScore: 99}},
		Between: func() error { return c.Set(ctx, redis.RebuildKey, redis.BuildPrefix+"thief", time.Minute).Err() },
	}
	if _, err := lb.Rebuild(ctx, src); err == nil {
		t.Fatal("Rebuild after losing its lock: want an error")
	}
	top, err := lb.Top(ctx, raids.TopSize)
	if err != nil || len(top) != 1 || top[0].UserID != 1 {
		t.Fatalf("Top after the lost rebuild: %v, %v; want the old ranking", top, err)
	}
	builds, err := c.Keys(ctx, redis.BuildPrefix+"*").Result()
	if err != nil || len(builds) != 0 {
		t.Fatalf("build sets left behind: %v, %v", builds, err)
	}
}

// millionTotals streams totals for a million players without holding them all.
type millionTotals struct{ players int64 }

func (s millionTotals) EachTotal(ctx context.Context, batch int, fn func([]raids.Total) error) error {
	buf := make([]raids.Total, 0, batch)
	for id := int64(1); id <= s.players; id++ {
		buf = append(buf, raids.Total{UserID: id, TotalScore: id%5000 + 1})
		if len(buf) == batch || id == s.players {
			if err := fn(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return nil
}

func TestRebuildOfAMillionPlayersIsQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("heavy: rebuilds a million players")
	}
	ctx := context.Background()
	lb := redis.NewLeaderboard(emptyRedis(t))
	start := time.Now()
	n, err := lb.Rebuild(ctx, millionTotals{players: 1_000_000})
	took := time.Since(start)
	if err != nil || n != 1_000_000 {
		t.Fatalf("Rebuild: %d, %v", n, err)
	}
	t.Logf("rebuilt %d players in %v", n, took)
	if took > 60*time.Second {
		t.Fatalf("rebuild took %v, want well under 60s", took)
	}
	// Totals 1..5000, 200 players each: the top 10 are the 200 with 5000, by id.
	top, err := lb.Top(ctx, raids.TopSize)
	if err != nil || len(top) != 10 || top[0] != (raids.Standing{UserID: 4999, TotalScore: 5000}) ||
		top[9] != (raids.Standing{UserID: 9*5000 + 4999, TotalScore: 5000}) {
		t.Fatalf("Top: %v, %v", top, err)
	}
	s, err := lb.StandingOf(ctx, 5000) // total 1: everyone else above
	if err != nil || s.Ranking != 1_000_000-200 {
		t.Fatalf("StandingOf the lowest: %+v, %v", s, err)
	}
}

func BenchmarkSetTotal(b *testing.B) {
	ctx := context.Background()
	lb := redis.NewLeaderboard(testClient)
	if _, err := lb.Rebuild(ctx, millionTotals{players: 100_000}); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(8) // many requests at once, as a loaded server has
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := int64(1); pb.Next(); i++ {
			if err := lb.SetTotal(ctx, i%100_000+1, i); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkTopAndStanding(b *testing.B) {
	ctx := context.Background()
	lb := redis.NewLeaderboard(testClient)
	if _, err := lb.Rebuild(ctx, millionTotals{players: 100_000}); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(8) // many requests at once, as a loaded server has
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := int64(1); pb.Next(); i++ {
			if _, err := lb.Top(ctx, raids.TopSize); err != nil {
				b.Fatal(err)
			}
			if _, err := lb.StandingOf(ctx, i%100_000+1); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestBoardAgreesWithTopAndStandingOf: the one-trip read answers what the two reads answer.
func TestBoardAgreesWithTopAndStandingOf(t *testing.T) {
	ctx := context.Background()
	lb := redis.NewLeaderboard(emptyRedis(t))
	if _, _, err := lb.Board(ctx, 10, 1); !errors.Is(err, raids.ErrNotRanked) {
		t.Fatalf("before any rebuild: %v", err)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	var list []raids.Total
	for id := int64(1); id <= 60; id++ {
		list = append(list, raids.Total{UserID: id, TotalScore: int64(rng.IntN(6)) * 20})
	}
	if _, err := lb.Rebuild(ctx, portstest.Totals{List: list}); err != nil {
		t.Fatal(err)
	}
	wantTop, err := lb.Top(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	for id := int64(0); id <= 61; id++ {
		top, mine, err := lb.Board(ctx, 10, id)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(top, wantTop) {
			t.Fatalf("Board top = %+v, Top = %+v", top, wantTop)
		}
		want, err := lb.StandingOf(ctx, id)
		if errors.Is(err, raids.ErrPlayerNotInRanks) {
			want, err = raids.Standing{UserID: id}, nil
		}
		if err != nil || mine != want {
			t.Fatalf("player %d: Board standing %+v, StandingOf %+v (%v)", id, mine, want, err)
		}
	}
}
