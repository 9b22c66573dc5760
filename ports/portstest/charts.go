package portstest

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// ChartHarness is an empty chart store with what seeds it (the admin suite's seeding; its
// Admin may be nil).
type ChartHarness struct {
	AdminHarness
	Charts ports.ChartStore
}

// RunChartStore checks a ports.ChartStore against figures worked out here from the raids the
// suite stored. newHarness is called once per subtest and must return empty stores.
func RunChartStore(t *testing.T, newHarness func(t *testing.T) ChartHarness) {
	ctx := context.Background()

	t.Run("raids per hour, level and status now", func(t *testing.T) {
		h := newHarness(t)
		w := seedAdmin(t, h.AdminHarness)
		for _, span := range [][2]time.Time{
			{w.now.Add(-40 * 24 * time.Hour).Truncate(time.Hour), w.now.Truncate(time.Hour).Add(time.Hour)},
			{w.now.Add(-7 * 24 * time.Hour).Truncate(time.Hour), w.now.Truncate(time.Hour).Add(time.Hour)},
			{w.now.Add(-20 * 24 * time.Hour).Truncate(time.Hour), w.now.Add(-10 * 24 * time.Hour).Truncate(time.Hour)},
		} {
			want := map[[2]int64]ports.RaidCounts{}
			for _, r := range w.current() {
				if r.EnterTime.Before(span[0]) || !r.EnterTime.Before(span[1]) {
					continue
				}
				k := [2]int64{r.EnterTime.Unix() / 3600, int64(r.Level)}
				c := want[k]
				c.Add(r.Status)
				want[k] = c
			}
			got, err := h.Charts.RaidHours(ctx, span[0], span[1])
			if err != nil {
				t.Fatal(err)
			}
			gotMap := map[[2]int64]ports.RaidCounts{}
			for i, c := range got {
				if i > 0 && !got[i-1].Hour.Before(c.Hour) && got[i-1].Level >= c.Level {
					t.Errorf("rows out of order at %d: %+v then %+v", i, got[i-1], c)
				}
				if c.Hour.Location() != time.UTC || !c.Hour.Equal(c.Hour.Truncate(time.Hour)) {
					t.Errorf("hour %v is not a UTC hour", c.Hour)
				}
				gotMap[[2]int64{c.Hour.Unix() / 3600, int64(c.Level)}] = c.Raids
			}
			if !reflect.DeepEqual(gotMap, want) {
				t.Errorf("RaidHours(%v, %v) = %v, want %v", span[0], span[1], gotMap, want)
			}
		}
	})

	t.Run("distinct players per day", func(t *testing.T) {
		h := newHarness(t)
		w := seedAdmin(t, h.AdminHarness)
		to := w.now.Truncate(24 * time.Hour).Add(24 * time.Hour)
		from := to.Add(-40 * 24 * time.Hour)
		seen := map[time.Time]map[int64]bool{}
		for _, r := range w.raids {
			day := r.EnterTime.UTC().Truncate(24 * time.Hour)
			if seen[day] == nil {
				seen[day] = map[int64]bool{}
			}
			seen[day][r.UserID] = true
		}
		var want []ports.DayCount
		for day, ps := range seen {
			want = append(want, ports.DayCount{Day: day, N: len(ps)})
		}
		slices.SortFunc(want, func(a, b ports.DayCount) int { return a.Day.Compare(b.Day) })
		got, err := h.Charts.ActivePlayers(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ActivePlayers = %v, want %v", got, want)
		}
		if got, err := h.Charts.ActivePlayers(ctx, to, to.Add(24*time.Hour)); err != nil || len(got) != 0 {
			t.Errorf("ActivePlayers of an empty day = %v, %v", got, err)
		}
	})

	t.Run("players by total score", func(t *testing.T) {
		h := newHarness(t)
		if got, err := h.Charts.TotalScores(ctx, 10); err != nil || len(got.Counts) != 0 {
			t.Errorf("TotalScores with no players = %+v, %v", got, err)
		}
		w := seedAdmin(t, h.AdminHarness)
		totals := map[int64]int64{}
		for _, r := range w.raids {
			totals[r.UserID] += int64(r.Score)
		}
		var highest int64
		for _, p := range w.players {
			highest = max(highest, totals[p.ID])
		}
		got, err := h.Charts.TotalScores(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		want := ports.Histogram{Width: ports.TotalsWidth(highest, 10)}
		want.Counts = make([]int, highest/want.Width+1)
		for _, p := range w.players {
			want.Counts[totals[p.ID]/want.Width]++
		}
		if !reflect.DeepEqual(got, want) || len(got.Counts) > 10 {
			t.Errorf("TotalScores = %+v, want %+v (highest %d)", got, want, highest)
		}
	})

	t.Run("a player's running total and levels", func(t *testing.T) {
		h := newHarness(t)
		w := seedAdmin(t, h.AdminHarness)
		for _, p := range w.players {
			var mine []raids.Raid
			for _, r := range w.current() {
				if r.UserID == p.ID {
					mine = append(mine, r)
				}
			}
			for _, points := range []int{1, 3, 1000} {
				step := ports.ProgressStep(int64(len(mine)), points)
				var want []ports.ProgressPoint
				var total int64
				for i, r := range mine {
					total += int64(r.Score)
					if seq := int64(i + 1); seq%step == 0 || i == len(mine)-1 {
						want = append(want, ports.ProgressPoint{Seq: seq, Total: total})
					}
				}
				got, err := h.Charts.PlayerProgress(ctx, p.ID, points)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("PlayerProgress(%s, %d) = %v, want %v", p.Nickname, points, got, want)
				}
				if len(got) > points+1 {
					t.Errorf("PlayerProgress(%s, %d) gave %d points", p.Nickname, points, len(got))
				}
			}
			var levels []ports.LevelCount
			for _, r := range mine {
				i := slices.IndexFunc(levels, func(c ports.LevelCount) bool { return c.Level == r.Level })
				if i < 0 {
					levels = append(levels, ports.LevelCount{Level: r.Level})
					i = len(levels) - 1
				}
				levels[i].Raids.Add(r.Status)
			}
			slices.SortFunc(levels, func(a, b ports.LevelCount) int { return a.Level - b.Level })
			got, err := h.Charts.PlayerLevels(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, levels) {
				t.Errorf("PlayerLevels(%s) = %v, want %v", p.Nickname, got, levels)
			}
		}
	})
}
