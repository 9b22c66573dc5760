package portstest

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// Totals is a ports.TotalsSource over a list, in batches of the size the caller asks for.
// Between, when set, runs after each batch is handed over, where a real rebuild streaming
// from Postgres lets other players' writes land.
type Totals struct {
	List    []raids.Total
	Between func() error
}

// EachTotal hands the list out in batches.
func (s Totals) EachTotal(ctx context.Context, batch int, fn func([]raids.Total) error) error {
	if batch <= 0 {
		batch = 1000
	}
	for chunk := range slices.Chunk(s.List, batch) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(slices.Clone(chunk)); err != nil {
			return err
		}
		if s.Between != nil {
			if err := s.Between(); err != nil {
				return err
			}
		}
	}
	return nil
}

// RunLeaderboard runs the contract of ports.Leaderboard. newLeaderboard is called once per
// subtest and returns an empty leaderboard that was never rebuilt.
func RunLeaderboard(t *testing.T, newLeaderboard func(t *testing.T) ports.Leaderboard) {
	ctx := context.Background()

	t.Run("not ranked before the first rebuild", func(t *testing.T) {
		lb := newLeaderboard(t)
		if err := lb.SetTotal(ctx, 1, 40); err != nil {
			t.Fatal(err)
		}
		if _, err := lb.Top(ctx, raids.TopSize); !errors.Is(err, raids.ErrNotRanked) {
			t.Fatalf("Top before rebuild: got %v, want ErrNotRanked", err)
		}
		if _, err := lb.StandingOf(ctx, 1); !errors.Is(err, raids.ErrNotRanked) {
			t.Fatalf("StandingOf before rebuild: got %v, want ErrNotRanked", err)
		}
	})

	t.Run("an empty ranking answers", func(t *testing.T) {
		lb := newLeaderboard(t)
		rebuild(t, lb, nil, 0)
		top, err := lb.Top(ctx, raids.TopSize)
		if err != nil || len(top) != 0 {
			t.Fatalf("Top of nobody: %v, %v", top, err)
		}
		if _, err := lb.StandingOf(ctx, 1); !errors.Is(err, raids.ErrPlayerNotInRanks) {
			t.Fatalf("StandingOf nobody: got %v, want ErrPlayerNotInRanks", err)
		}
	})

	t.Run("ties share a ranking and the next one skips", func(t *testing.T) {
		lb := newLeaderboard(t)
		rebuild(t, lb, []raids.Total{scored(4, 10), scored(3, 50), scored(1, 100), scored(2, 50), scored(5, 0)}, 4)
		want := []raids.Standing{
			{UserID: 1, TotalScore: 100, Ranking: 0},
			{UserID: 2, TotalScore: 50, Ranking: 1},
			{UserID: 3, TotalScore: 50, Ranking: 1},
			{UserID: 4, TotalScore: 10, Ranking: 3},
		}
		checkTop(t, lb, raids.TopSize, want)
		checkTop(t, lb, 2, want[:2])
		checkTop(t, lb, 0, nil)
		for _, s := range want {
			checkStanding(t, lb, s)
		}
		for _, id := range []int64{5, 99} {
			if _, err := lb.StandingOf(ctx, id); !errors.Is(err, raids.ErrPlayerNotInRanks) {
				t.Errorf("StandingOf(%d): got %v, want ErrPlayerNotInRanks", id, err)
			}
		}
	})

	t.Run("equal totals list by user id ascending", func(t *testing.T) {
		lb := newLeaderboard(t)
		ids := []int64{30, math.MaxInt64, 7, 1_000_000_007, 12, 1}
		var totals []raids.Total
		for _, id := range ids {
			totals = append(totals, raids.Total{UserID: id, TotalScore: 40})
		}
		rebuild(t, lb, totals, len(ids))
		slices.Sort(ids)
		var want []raids.Standing
		for _, id := range ids {
			want = append(want, raids.Standing{UserID: id, TotalScore: 40})
		}
		checkTop(t, lb, raids.TopSize, want)
	})

	t.Run("SetTotal raises, never lowers, ignores zero", func(t *testing.T) {
		lb := newLeaderboard(t)
		rebuild(t, lb, []raids.Total{scored(1, 10)}, 1)
		for _, w := range []struct{ id, total int64 }{{1, 5}, {2, 0}, {1, 20}, {1, 20}, {2, 15}, {3, -4}} {
			if err := lb.SetTotal(ctx, w.id, w.total); err != nil {
				t.Fatalf("SetTotal(%d, %d): %v", w.id, w.total, err)
			}
		}
		checkTop(t, lb, raids.TopSize, []raids.Standing{
			{UserID: 1, TotalScore: 20, Ranking: 0},
			{UserID: 2, TotalScore: 15, Ranking: 1},
		})
		if _, err := lb.StandingOf(ctx, 3); !errors.Is(err, raids.ErrPlayerNotInRanks) {
			t.Fatalf("StandingOf after a negative total: got %v, want ErrPlayerNotInRanks", err)
		}
	})

	t.Run("rebuild replaces the ranking with the source", func(t *testing.T) {
		lb := newLeaderboard(t)
		rebuild(t, lb, []raids.Total{scored(1, 10), scored(2, 20)}, 2)
		rebuild(t, lb, []raids.Total{scored(2, 5), scored(3, 7)}, 2)
		checkTop(t, lb, raids.TopSize, []raids.Standing{
			{UserID: 3, TotalScore: 7, Ranking: 0},
			{UserID: 2, TotalScore: 5, Ranking: 1},
		})
		if _, err := lb.StandingOf(ctx, 1); !errors.Is(err, raids.ErrPlayerNotInRanks) {
			t.Fatalf("a player the source no longer has: got %v, want ErrPlayerNotInRanks", err)
		}
	})

	t.Run("writes during a rebuild are kept and readers see the old ranking", func(t *testing.T) {
		lb := newLeaderboard(t)
		old := []raids.Standing{{UserID: 9, TotalScore: 500, Ranking: 0}}
		rebuild(t, lb, []raids.Total{scored(9, 500)}, 1)
		var list []raids.Total
		for id := int64(1); id <= 2500; id++ {
			list = append(list, raids.Total{UserID: id, TotalScore: id % 37})
		}
		once := sync.Once{}
		src := Totals{List: list, Between: func() error {
			once.Do(func() {
				checkTop(t, lb, raids.TopSize, old)
				// Committed after the snapshot began: a newcomer and a raise of a listed player.
				for _, w := range []struct{ id, total int64 }{{5000, 77}, {36, 1000}, {9, 600}} {
					if err := lb.SetTotal(ctx, w.id, w.total); err != nil {
						t.Errorf("SetTotal during rebuild: %v", err)
					}
				}
			})
			return nil
		}}
		n, err := lb.Rebuild(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		model := modelOf(list)
		model[5000], model[36], model[9] = 77, 1000, 600
		if want := len(raids.Rank(totalsOf(model))); n != want {
			t.Errorf("Rebuild returned %d players, want %d", n, want)
		}
		compare(t, lb, model, []int64{5000, 36, 9, 37, 1})
	})

	t.Run("a failed rebuild keeps the old ranking", func(t *testing.T) {
		lb := newLeaderboard(t)
		want := []raids.Standing{{UserID: 2, TotalScore: 30, Ranking: 0}}
		rebuild(t, lb, []raids.Total{scored(2, 30)}, 1)
		broken := errors.New("database went away")
		_, err := lb.Rebuild(ctx, Totals{List: []raids.Total{scored(1, 99)}, Between: func() error { return broken }})
		if !errors.Is(err, broken) {
			t.Fatalf("Rebuild from a failing source: got %v, want it to wrap the source's error", err)
		}
		checkTop(t, lb, raids.TopSize, want)
		rebuild(t, lb, []raids.Total{scored(1, 99)}, 1) // nothing left locked
	})

	t.Run("simultaneous rebuilds all succeed", func(t *testing.T) {
		lb := newLeaderboard(t)
		var list []raids.Total
		for id := int64(1); id <= 3000; id++ {
			list = append(list, raids.Total{UserID: id, TotalScore: id%50 + 1})
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				n, err := lb.Rebuild(ctx, Totals{List: list})
				if err != nil || n != len(list) {
					t.Errorf("Rebuild: %d, %v; want %d", n, err, len(list))
				}
			})
		}
		wg.Wait()
		compare(t, lb, modelOf(list), []int64{1, 50, 3000})
	})

	t.Run("agrees with raids.Rank on random totals", func(t *testing.T) {
		seed := rand.Uint64()
		t.Logf("seed %d", seed)
		rng := rand.New(rand.NewPCG(seed, 42))
		for round := range 12 {
			lb := newLeaderboard(t)
			model, list := randomTotals(rng, round)
			n, err := lb.Rebuild(ctx, Totals{List: list})
			if err != nil {
				t.Fatal(err)
			}
			if want := len(raids.Rank(totalsOf(model))); n != want {
				t.Fatalf("round %d: Rebuild returned %d, want %d", round, n, want)
			}
			compare(t, lb, model, nil)
			// Later wins, some lower than what is recorded (late or repeated writes).
			for range 150 {
				id := rng.Int64N(int64(len(list))+40) + 1
				total := rng.Int64N(12)
				if err := lb.SetTotal(ctx, id, total); err != nil {
					t.Fatal(err)
				}
				model[id] = max(model[id], total)
			}
			compare(t, lb, model, nil)
			if t.Failed() {
				t.Fatalf("round %d disagrees with raids.Rank (seed %d)", round, seed)
			}
		}
	})
}

// randomTotals draws players whose totals crowd around the 10th and 11th places.
func randomTotals(rng *rand.Rand, round int) (map[int64]int64, []raids.Total) {
	players := 20 + rng.IntN(300)
	model := map[int64]int64{}
	for id := int64(1); id <= int64(players); id++ {
		switch round % 3 {
		case 0: // few distinct totals: ties everywhere, also across the boundary
			model[id] = rng.Int64N(6)
		case 1: // a wide range with some zeros
			model[id] = max(rng.Int64N(1_000_000)-100_000, 0)
		default: // nine leaders, then a crowd tied on the 10th place
			switch {
			case id <= 9:
				model[id] = 1000 - id
			case id <= 9+int64(1+rng.IntN(5)):
				model[id] = 500
			default:
				model[id] = rng.Int64N(500)
			}
		}
	}
	list := make([]raids.Total, 0, len(model))
	for id, total := range model {
		if total > 0 {
			list = append(list, raids.Total{UserID: id, TotalScore: total})
		}
	}
	rng.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
	return model, list
}

func scored(userID, total int64) raids.Total {
	return raids.Total{UserID: userID, TotalScore: total}
}

func modelOf(list []raids.Total) map[int64]int64 {
	m := map[int64]int64{}
	for _, t := range list {
		m[t.UserID] = max(m[t.UserID], t.TotalScore)
	}
	return m
}

func totalsOf(model map[int64]int64) []raids.Total {
	var out []raids.Total
	for id, total := range model {
		out = append(out, raids.Total{UserID: id, TotalScore: total})
	}
	return out
}

// compare checks Top around the boundary and every player's standing against raids.Rank.
func compare(t *testing.T, lb ports.Leaderboard, model map[int64]int64, extra []int64) {
	t.Helper()
	want := raids.Rank(totalsOf(model))
	for _, n := range []int{1, raids.TopSize, raids.TopSize + 1, len(want) + 5} {
		checkTop(t, lb, n, want[:min(n, len(want))])
	}
	ranked := map[int64]bool{}
	for _, s := range want {
		ranked[s.UserID] = true
		checkStanding(t, lb, s)
	}
	for id := range model {
		extra = append(extra, id)
	}
	for _, id := range extra {
		if ranked[id] {
			continue
		}
		if _, err := lb.StandingOf(context.Background(), id); !errors.Is(err, raids.ErrPlayerNotInRanks) {
			t.Errorf("StandingOf(%d) with total %d: got %v, want ErrPlayerNotInRanks", id, model[id], err)
		}
	}
}

func rebuild(t *testing.T, lb ports.Leaderboard, list []raids.Total, want int) {
	t.Helper()
	n, err := lb.Rebuild(context.Background(), Totals{List: list})
	if err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	if n != want {
		t.Fatalf("Rebuild returned %d players, want %d", n, want)
	}
}

func checkTop(t *testing.T, lb ports.Leaderboard, n int, want []raids.Standing) {
	t.Helper()
	got, err := lb.Top(context.Background(), n)
	if err != nil {
		t.Errorf("Top(%d): %v", n, err)
		return
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("Top(%d):\n got %v\nwant %v", n, got, want)
	}
}

func checkStanding(t *testing.T, lb ports.Leaderboard, want raids.Standing) {
	t.Helper()
	got, err := lb.StandingOf(context.Background(), want.UserID)
	if err != nil || got != want {
		t.Errorf("StandingOf(%d): got %+v, %v; want %+v", want.UserID, got, err, want)
	}
}
