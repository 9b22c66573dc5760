package page

import (
	"context"

	"github.com/bossraid/bossraid/i18n"
	"github.com/bossraid/bossraid/views/component"
)

// ProgressPoint is a player's total after their Seq-th raid.
type ProgressPoint struct {
	Seq, Total int64
}

// DrawPlayerCharts draws a player's running total (points from (0, 0), sampled for players
// with many raids, raids apart) and their raids by level and outcome.
func DrawPlayerCharts(ctx context.Context, progress []ProgressPoint, levels []component.LevelOutcomes) (component.StepChart, component.BarChart) {
	c := component.StepChart{
		ID: "chart-progress", Title: i18n.T(ctx, "chart.progress.title"), Desc: i18n.T(ctx, "chart.progress.desc"),
		Head:  []string{i18n.T(ctx, "chart.col.raid_no"), i18n.T(ctx, "chart.col.total")},
		Class: "chart-gold",
	}
	for _, p := range progress {
		c.Points = append(c.Points, [2]int64{p.Seq, p.Total})
		if p.Seq > 0 {
			c.Rows = append(c.Rows, []string{component.Num(ctx, p.Seq), component.Num(ctx, p.Total)})
		}
	}
	if n := len(progress); n > 2 && progress[n-1].Seq > int64(n-1) {
		c.Note = i18n.T(ctx, "chart.progress.sampled", i18n.Args{"Step": component.Num(ctx, progress[1].Seq)})
	}
	return c, component.OutcomesByLevel(ctx, "chart-outcomes", levels)
}
