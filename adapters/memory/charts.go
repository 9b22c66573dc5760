package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

var _ ports.ChartStore = (*Store)(nil)

// RaidHours counts the raids entered in [from, to) by hour, level and status now.
func (s *Store) RaidHours(_ context.Context, from, to time.Time) ([]ports.HourCount, error) {
	type key struct {
		hour  int64
		level int
	}
	counts := map[key]*ports.RaidCounts{}
	s.mu.Lock()
	for _, r := range s.matchingRaids(ports.RaidFilter{From: from, To: to}) {
		k := key{r.EnterTime.Unix() / 3600, r.Level}
		if counts[k] == nil {
			counts[k] = &ports.RaidCounts{}
		}
		counts[k].Add(r.Status)
	}
	s.mu.Unlock()
	out := make([]ports.HourCount, 0, len(counts))
	for k, c := range counts {
		out = append(out, ports.HourCount{Hour: time.Unix(k.hour*3600, 0).UTC(), Level: k.level, Raids: *c})
	}
	slices.SortFunc(out, func(a, b ports.HourCount) int {
		return cmp.Or(a.Hour.Compare(b.Hour), cmp.Compare(a.Level, b.Level))
	})
	return out, nil
}

// ActivePlayers counts the distinct players who entered a raid on each day in [from, to).
func (s *Store) ActivePlayers(_ context.Context, from, to time.Time) ([]ports.DayCount, error) {
	seen := map[int64]map[int64]bool{}
	s.mu.Lock()
	for _, r := range s.matchingRaids(ports.RaidFilter{From: from, To: to}) {
		day := r.EnterTime.Unix() / 86400
		if seen[day] == nil {
			seen[day] = map[int64]bool{}
		}
		seen[day][r.UserID] = true
	}
	s.mu.Unlock()
	out := make([]ports.DayCount, 0, len(seen))
	for day, players := range seen {
		out = append(out, ports.DayCount{Day: time.Unix(day*86400, 0).UTC(), N: len(players)})
	}
	slices.SortFunc(out, func(a, b ports.DayCount) int { return a.Day.Compare(b.Day) })
	return out, nil
}

// TotalScores counts every player by total score.
func (s *Store) TotalScores(_ context.Context, buckets int) (ports.Histogram, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var highest int64
	for _, u := range s.users {
		highest = max(highest, u.TotalScore)
	}
	h := ports.Histogram{Width: ports.TotalsWidth(highest, buckets)}
	if len(s.users) == 0 {
		return h, nil
	}
	h.Counts = make([]int, highest/h.Width+1)
	for _, u := range s.users {
		h.Counts[max(u.TotalScore, 0)/h.Width]++
	}
	return h, nil
}

// PlayerProgress returns the player's running total after every step-th raid and their last.
func (s *Store) PlayerProgress(_ context.Context, userID int64, points int) ([]ports.ProgressPoint, error) {
	s.mu.Lock()
	rows := s.matchingRaids(ports.RaidFilter{UserID: userID})
	s.mu.Unlock()
	slices.SortFunc(rows, func(a, b raids.Raid) int { return cmp.Compare(a.ID, b.ID) })
	step := ports.ProgressStep(int64(len(rows)), points)
	var out []ports.ProgressPoint
	var total int64
	for i, r := range rows {
		total += int64(r.Score)
		if seq := int64(i + 1); seq%step == 0 || seq == int64(len(rows)) {
			out = append(out, ports.ProgressPoint{Seq: seq, Total: total})
		}
	}
	return out, nil
}

// PlayerLevels counts the player's raids by level and status now.
func (s *Store) PlayerLevels(_ context.Context, userID int64) ([]ports.LevelCount, error) {
	s.mu.Lock()
	rows := s.matchingRaids(ports.RaidFilter{UserID: userID})
	s.mu.Unlock()
	var out []ports.LevelCount
	for _, r := range rows {
		i, found := slices.BinarySearchFunc(out, r.Level, func(c ports.LevelCount, l int) int { return cmp.Compare(c.Level, l) })
		if !found {
			out = slices.Insert(out, i, ports.LevelCount{Level: r.Level})
		}
		out[i].Raids.Add(r.Status)
	}
	return out, nil
}
