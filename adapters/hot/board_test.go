package hot

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"testing"

	"github.com/bossraid/bossraid/core/raids"
)

// The board answers what raids.Rank (competition ranking, the SQL rank() rule) answers over
// the same totals, after every raise, with many ties and late (lower) raises.
func TestBoardAgreesWithRank(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			b := newBoard()
			totals := map[int64]int64{}
			ids := []int64{1, 2, 3, 1023, 1024, 1025, 4096, 1 << 40}
			for i := range 60 {
				ids = append(ids, int64(5000+i*37))
			}
			for step := range 2000 {
				id := ids[rng.IntN(len(ids))]
				total := totals[id] + int64(rng.IntN(4)) // some raises are repeats
				if rng.IntN(10) == 0 {
					total = int64(rng.IntN(8)) // a late notification, possibly lower
				}
				b.raise(id, total)
				totals[id] = max(totals[id], total)
				checkBoard(t, step, b, totals, ids[rng.IntN(len(ids))])
			}
		})
	}
}

func checkBoard(t *testing.T, step int, b *board, totals map[int64]int64, who int64) {
	t.Helper()
	var all []raids.Total
	for id, total := range totals {
		all = append(all, raids.Total{UserID: id, TotalScore: total})
	}
	ranked := raids.Rank(all)
	want := ranked[:min(raids.TopSize, len(ranked))]
	wantMine := raids.Standing{UserID: who}
	for _, s := range ranked {
		if s.UserID == who {
			wantMine = s
		}
	}
	for _, n := range []int{0, 3, raids.TopSize} {
		top, mine := b.read(n, who)
		if fmt.Sprint(top) != fmt.Sprint(want[:min(n, len(want))]) || mine != wantMine {
			t.Fatalf("step %d, n %d: top %v mine %v; want %v mine %v", step, n, top, mine, want[:min(n, len(want))], wantMine)
		}
	}
	if _, mine := b.read(raids.TopSize, 0); mine != (raids.Standing{}) {
		t.Fatalf("userID 0: %v", mine)
	}
	if b.players != len(ranked) {
		t.Fatalf("step %d: %d players, want %d", step, b.players, len(ranked))
	}
}

// millionBoard is a board of 1,000,000 players with ids 1…1,000,000: with distinct totals
// as the game makes them (sums of a few level scores) or spread (every total its own).
func millionBoard(spread bool) *board {
	rng := rand.New(rand.NewPCG(9, 9))
	b := newBoard()
	for id := int64(1); id <= 1_000_000; id++ {
		total := int64(20*rng.IntN(30) + 47*rng.IntN(20) + 85*rng.IntN(10) + 1)
		if spread {
			total = rng.Int64N(1 << 40)
		}
		b.raise(id, total)
	}
	return b
}

func heapBytes() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkBoardOfAMillion reads the top 10 and one player's standing, and reports the heap
// the board holds (MiB) and its distinct totals.
func BenchmarkBoardOfAMillion(b *testing.B) {
	for _, spread := range []bool{false, true} {
		name := map[bool]string{false: "game-totals", true: "spread-totals"}[spread]
		b.Run(name, func(b *testing.B) {
			before := heapBytes()
			bd := millionBoard(spread)
			held := float64(heapBytes()-before) / (1 << 20)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				bd.read(raids.TopSize, int64(i%1_000_000+1))
			}
			b.ReportMetric(held, "heap-MiB")
			b.ReportMetric(float64(len(bd.counts.key)), "distinct-totals")
			runtime.KeepAlive(bd)
		})
	}
}

// BenchmarkBoardRaise is one player's total going up, as a clear or a notification does.
func BenchmarkBoardRaise(b *testing.B) {
	bd := millionBoard(false)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		id := int64(i%1_000_000 + 1)
		bd.raise(id, bd.total(id)+20)
	}
}
