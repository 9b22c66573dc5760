package component

import (
	"context"

	"github.com/bossraid/bossraid/i18n"
)

// Outcomes are raids counted by how they ended.
type Outcomes struct {
	InProgress, Success, Fail int // in the order of ports.RaidCounts, so one converts to the other
}

// Total is every raid counted.
func (o Outcomes) Total() int { return o.Success + o.Fail + o.InProgress }

// LevelOutcomes are a level's raids by outcome.
type LevelOutcomes struct {
	Level int
	Outcomes
}

// OutcomeSeries are the stacked parts of an outcome bar: cleared, failed, in progress.
func OutcomeSeries(ctx context.Context) []Series {
	return []Series{
		{Label: i18n.T(ctx, "status.success"), Class: "chart-success"},
		{Label: i18n.T(ctx, "status.fail"), Class: "chart-fail"},
		{Label: i18n.T(ctx, "status.in_progress"), Class: "chart-in_progress"},
	}
}

// OutcomeHead is the table header of an outcome chart whose first column is first.
func OutcomeHead(ctx context.Context, first string) []string {
	return []string{first, i18n.T(ctx, "status.success"), i18n.T(ctx, "status.fail"), i18n.T(ctx, "status.in_progress")}
}

// OutcomeBar is a bar of the three outcomes, its table cells grouped for the language.
func OutcomeBar(ctx context.Context, label, axis string, o Outcomes) Bar {
	return Bar{
		Label: label, Axis: axis, Values: []int{o.Success, o.Fail, o.InProgress},
		Cells: []string{Num(ctx, o.Success), Num(ctx, o.Fail), Num(ctx, o.InProgress)},
	}
}

// LevelLabel names a level by its number and boss: "lv 1 · Ironhide Ogre".
func LevelLabel(ctx context.Context, level int) string {
	return i18n.T(ctx, "level.short", i18n.Args{"Level": level}) + " · " + BossName(ctx, level)
}

// OutcomesByLevel is the stacked bars of each level's raids by outcome.
func OutcomesByLevel(ctx context.Context, id string, levels []LevelOutcomes) BarChart {
	c := BarChart{
		ID: id, Title: i18n.T(ctx, "chart.outcomes.title"), Desc: i18n.T(ctx, "chart.outcomes.desc"),
		Series: OutcomeSeries(ctx), Head: OutcomeHead(ctx, i18n.T(ctx, "chart.col.level")),
	}
	for _, l := range levels {
		c.Bars = append(c.Bars, OutcomeBar(ctx, LevelLabel(ctx, l.Level), i18n.T(ctx, "level.short", i18n.Args{"Level": l.Level}), l.Outcomes))
	}
	return c
}
