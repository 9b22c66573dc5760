package app

import (
	"context"
	"time"

	"github.com/bossraid/bossraid/ports"
)

// What the charts show.
const (
	chartHours = 7 * 24 // raids per hour: the last 7 days, the current hour last
	chartDays  = 7      // players active per day
	// totalsBuckets is the most bars the distribution of totals has.
	totalsBuckets = 10
	// progressPoints is about how many points a player's running total is drawn with,
	// however many raids they played: the store samples them.
	progressPoints = 120
)

// HourOutcomes is the raids entered in one hour, every level together.
type HourOutcomes struct {
	Hour  time.Time // UTC
	Raids ports.RaidCounts
}

// AdminCharts are the figures of the admin overview's charts.
type AdminCharts struct {
	Hours  []HourOutcomes     // every hour of the last 7 days, oldest first, the current one last
	Levels []ports.LevelCount // the same hours' raids by level: every level of the boss data
	Totals ports.Histogram    // every player by total score
	Active []ports.DayCount   // players who entered a raid, each of the last 7 UTC days, today last
}

// Charts reads the admin overview's charts. ErrForbidden for non-admins.
func (a *Admin) Charts(ctx context.Context, p Player) (AdminCharts, error) {
	if err := requireAdmin(p); err != nil {
		return AdminCharts{}, err
	}
	now := a.clock.Now().UTC()
	to := now.Truncate(time.Hour).Add(time.Hour)
	from := to.Add(-chartHours * time.Hour)
	rows, err := a.charts.RaidHours(ctx, from, to)
	if err != nil {
		return AdminCharts{}, err
	}
	var c AdminCharts
	for h := range chartHours {
		c.Hours = append(c.Hours, HourOutcomes{Hour: from.Add(time.Duration(h) * time.Hour)})
	}
	for _, l := range a.raids.BossData().Levels {
		c.Levels = addLevel(c.Levels, l.Level, ports.RaidCounts{})
	}
	for _, r := range rows {
		h := &c.Hours[int(r.Hour.Sub(from)/time.Hour)]
		h.Raids = sumCounts(h.Raids, r.Raids)
		c.Levels = addLevel(c.Levels, r.Level, r.Raids)
	}

	dayTo := now.Truncate(24 * time.Hour).Add(24 * time.Hour)
	dayFrom := dayTo.Add(-chartDays * 24 * time.Hour)
	days, err := a.charts.ActivePlayers(ctx, dayFrom, dayTo)
	if err != nil {
		return AdminCharts{}, err
	}
	for d := range chartDays {
		c.Active = append(c.Active, ports.DayCount{Day: dayFrom.Add(time.Duration(d) * 24 * time.Hour)})
	}
	for _, d := range days {
		c.Active[int(d.Day.Sub(dayFrom)/(24*time.Hour))].N = d.N
	}

	if c.Totals, err = a.charts.TotalScores(ctx, totalsBuckets); err != nil {
		return AdminCharts{}, err
	}
	return c, nil
}

// PlayerCharts are the figures of a player's charts.
type PlayerCharts struct {
	Progress []ports.ProgressPoint // from (0, 0), sampled for players with many raids
	Levels   []ports.LevelCount    // levels ascending
}

// PlayerCharts reads the charts of the player's public page.
func (a *Raids) PlayerCharts(ctx context.Context, userID int64) (PlayerCharts, error) {
	points, err := a.charts.PlayerProgress(ctx, userID, progressPoints)
	if err != nil {
		return PlayerCharts{}, err
	}
	levels, err := a.charts.PlayerLevels(ctx, userID)
	if err != nil {
		return PlayerCharts{}, err
	}
	return PlayerCharts{Progress: append([]ports.ProgressPoint{{}}, points...), Levels: levels}, nil
}

// addLevel adds c to level's counts in the ascending list cs.
func addLevel(cs []ports.LevelCount, level int, c ports.RaidCounts) []ports.LevelCount {
	for i := range cs {
		if cs[i].Level == level {
			cs[i].Raids = sumCounts(cs[i].Raids, c)
			return cs
		}
		if cs[i].Level > level {
			return append(cs[:i], append([]ports.LevelCount{{Level: level, Raids: c}}, cs[i:]...)...)
		}
	}
	return append(cs, ports.LevelCount{Level: level, Raids: c})
}

func sumCounts(a, b ports.RaidCounts) ports.RaidCounts {
	return ports.RaidCounts{InProgress: a.InProgress + b.InProgress, Success: a.Success + b.Success, Fail: a.Fail + b.Fail}
}
