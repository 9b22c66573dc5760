package portstest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// TotalsRanking is a ranking that is also the source of every total, as the Postgres totals
// (and the memory store) are.
type TotalsRanking interface {
	ports.Ranking
	ports.TotalsSource
}

// RankingHarness is an empty ranking over the totals its players earn by clearing raids in
// Raids.
type RankingHarness struct {
	Users  ports.UserStore
	Raids  ports.RaidStore
	Totals TotalsRanking
}

// RunTotalsRanking checks a ranking that is computed from the players' totals, against
// core's pure ranking rules (raids.Rank).
func RunTotalsRanking(t *testing.T, newHarness func(t *testing.T) RankingHarness) {
	ctx := context.Background()

	t.Run("players without points are outside the ranking", func(t *testing.T) {
		h := newHarness(t)
		p := NewPlayer(t, h.Users, "Hero")
		top, err := h.Totals.Top(ctx, raids.TopSize)
		if err != nil || len(top) != 0 {
			t.Fatalf("Top with nobody scoring = %v, %v", top, err)
		}
		for _, id := range []int64{p.ID, p.ID + 1000} {
			if _, err := h.Totals.StandingOf(ctx, id); !errors.Is(err, raids.ErrPlayerNotInRanks) {
				t.Fatalf("StandingOf(%d): got %v, want ErrPlayerNotInRanks", id, err)
			}
		}
		calls := 0
		if err := h.Totals.EachTotal(ctx, 10, func(ts []raids.Total) error { calls += len(ts); return nil }); err != nil || calls != 0 {
			t.Fatalf("EachTotal gave %d totals, %v; want none", calls, err)
		}
	})

	t.Run("ties share a ranking and the next one skips", func(t *testing.T) {
		h := newHarness(t)
		ids := seedTotals(t, h, []int64{47, 85, 47, 20, 0})
		top, err := h.Totals.Top(ctx, raids.TopSize)
		if err != nil {
			t.Fatalf("Top: %v", err)
		}
		want := []raids.Standing{
			{UserID: ids[1], TotalScore: 85, Ranking: 0},
			{UserID: ids[0], TotalScore: 47, Ranking: 1},
			{UserID: ids[2], TotalScore: 47, Ranking: 1},
			{UserID: ids[3], TotalScore: 20, Ranking: 3},
		}
		requireStandings(t, "Top(10)", top, want)
		st, err := h.Totals.StandingOf(ctx, ids[2])
		if err != nil || st != want[2] {
			t.Fatalf("StandingOf = %+v, %v; want %+v", st, err, want[2])
		}
	})

	t.Run("agrees with the ranking rules, ties around the top 10 included", func(t *testing.T) {
		for _, seed := range []uint64{1, 2, 3} {
			t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
				h := newHarness(t)
				totals := tiedTotals(rand.New(rand.NewPCG(seed, seed)), 40)
				ids := seedTotals(t, h, totals)
				var oracle []raids.Total
				for i, id := range ids {
					oracle = append(oracle, raids.Total{UserID: id, TotalScore: totals[i]})
				}
				RequireRankingMatches(t, h.Totals, oracle)
			})
		}
	})

	t.Run("each total comes once, in batches no larger than asked", func(t *testing.T) {
		h := newHarness(t)
		totals := tiedTotals(rand.New(rand.NewPCG(9, 9)), 30)
		ids := seedTotals(t, h, totals)
		want := map[int64]int64{}
		for i, id := range ids {
			if totals[i] > 0 {
				want[id] = totals[i]
			}
		}
		for _, batch := range []int{1, 7, len(want), 1000} {
			got := map[int64]int64{}
			err := h.Totals.EachTotal(ctx, batch, func(ts []raids.Total) error {
				if len(ts) == 0 || len(ts) > batch {
					return fmt.Errorf("a batch of %d totals, asked for %d", len(ts), batch)
				}
				for _, tt := range ts {
					if _, dup := got[tt.UserID]; dup {
						return fmt.Errorf("player %d given twice", tt.UserID)
					}
					got[tt.UserID] = tt.TotalScore
				}
				return nil
			})
			if err != nil {
				t.Fatalf("EachTotal(%d): %v", batch, err)
			}
			if !maps.Equal(got, want) {
				t.Fatalf("EachTotal(%d) = %v, want %v", batch, got, want)
			}
		}
		errStop := errors.New("stop")
		calls := 0
		err := h.Totals.EachTotal(ctx, 3, func([]raids.Total) error { calls++; return errStop })
		if !errors.Is(err, errStop) || calls != 1 {
			t.Fatalf("EachTotal with a failing fn: %v after %d calls; want fn's error after 1", err, calls)
		}
	})
}

// RequireRankingMatches compares every answer of r with raids.Rank over the same totals.
func RequireRankingMatches(t *testing.T, r ports.Ranking, totals []raids.Total) {
	t.Helper()
	ctx := context.Background()
	ranked := raids.Rank(totals)
	for _, n := range []int{0, 1, 9, raids.TopSize, raids.TopSize + 1, raids.TopSize + 2, len(ranked), len(ranked) + 5} {
		top, err := r.Top(ctx, n)
		if err != nil {
			t.Fatalf("Top(%d): %v", n, err)
		}
		requireStandings(t, fmt.Sprintf("Top(%d)", n), top, ranked[:min(n, len(ranked))])
	}
	byID := map[int64]raids.Standing{}
	for _, st := range ranked {
		byID[st.UserID] = st
	}
	for _, tt := range totals {
		st, err := r.StandingOf(ctx, tt.UserID)
		want, ranks := byID[tt.UserID]
		switch {
		case !ranks && !errors.Is(err, raids.ErrPlayerNotInRanks):
			t.Fatalf("StandingOf(%d) with total %d: %+v, %v; want ErrPlayerNotInRanks", tt.UserID, tt.TotalScore, st, err)
		case ranks && (err != nil || st != want):
			t.Fatalf("StandingOf(%d) = %+v, %v; want %+v", tt.UserID, st, err, want)
		}
	}
}

// tiedTotals draws n totals (some 0) where the 10th and 11th best are likely to tie: a
// handful of high scores, then a crowd on a few values just below them.
func tiedTotals(rng *rand.Rand, n int) []int64 {
	totals := make([]int64, n)
	for i := range totals {
		switch {
		case i < 6:
			totals[i] = 300 + rng.Int64N(100)
		case i < 18:
			totals[i] = []int64{200, 200, 152, 152, 152, 105}[rng.IntN(6)]
		case i < n-5:
			totals[i] = 20 + 27*rng.Int64N(4)
		}
	}
	rng.Shuffle(len(totals), func(i, j int) { totals[i], totals[j] = totals[j], totals[i] })
	return totals
}

// seedTotals registers one player per total and has each earn it by clearing raids; it
// returns their ids in the same order.
func seedTotals(t *testing.T, h RankingHarness, totals []int64) []int64 {
	t.Helper()
	ctx := context.Background()
	ids := make([]int64, len(totals))
	for i, total := range totals {
		ids[i] = NewPlayer(t, h.Users, fmt.Sprintf("ranker%d", i)).ID
		// Two raids for even totals, so totals are sums, not single scores.
		scores := []int64{total}
		if total > 0 && total%2 == 0 {
			scores = []int64{total / 2, total / 2}
		}
		for _, score := range scores {
			r, err := h.Raids.EnterRaid(ctx, ids[i], raids.Level{Level: 0, Score: int(score)}, time.Minute)
			if err != nil {
				t.Fatalf("EnterRaid: %v", err)
			}
			if _, _, err := h.Raids.UpdateRaid(ctx, r.ID, func(r raids.Raid, now time.Time) (raids.Raid, error) {
				return r.End(r.UserID, nil, now)
			}); err != nil {
				t.Fatalf("End: %v", err)
			}
		}
	}
	return ids
}

func requireStandings(t *testing.T, what string, got, want []raids.Standing) {
	t.Helper()
	strip := func(ss []raids.Standing) []raids.Standing {
		out := slices.Clone(ss)
		for i := range out {
			out[i].Nickname = "" // rankings leave names to the caller
		}
		return out
	}
	if !slices.Equal(strip(got), strip(want)) {
		t.Fatalf("%s =\n%+v\nwant\n%+v", what, got, want)
	}
}
