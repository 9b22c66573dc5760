package admin

import (
	"context"
	"time"

	"github.com/bossraid/bossraid/i18n"
	"github.com/bossraid/bossraid/views/component"
)

// ChartFigures are the figures of the overview's charts, as the use case counted them.
type ChartFigures struct {
	Hours       []HourOutcomes            // the last 7 days, hour by hour, oldest first
	Levels      []component.LevelOutcomes // the same hours by level
	TotalsWidth int64                     // bucket i holds totals in [i·width, (i+1)·width)
	Totals      []int
	Active      []DayFigure // players who entered a raid, day by day
}

// HourOutcomes are the raids entered in one UTC hour.
type HourOutcomes struct {
	Hour time.Time
	component.Outcomes
}

// DayFigure is a figure of one UTC day.
type DayFigure struct {
	Day time.Time
	N   int
}

// Charts are the overview's charts, drawn.
type Charts struct {
	Hours, ClearRate, Totals, Active component.BarChart
}

func dayLabel(ctx context.Context, t time.Time) string {
	return i18n.T(ctx, "chart.day", i18n.Args{"Month": int(t.Month()), "Day": t.Day()})
}

// DrawCharts turns the figures into the overview's charts in the request's language.
func DrawCharts(ctx context.Context, f ChartFigures) Charts {
	var c Charts
	c.Hours = component.BarChart{
		ID: "chart-hours", Title: i18n.T(ctx, "chart.hours.title"), Desc: i18n.T(ctx, "chart.hours.desc"),
		Series: component.OutcomeSeries(ctx), Head: component.OutcomeHead(ctx, i18n.T(ctx, "chart.col.hour")),
		Note: i18n.T(ctx, "chart.hours.note"), Rows: [][]string{},
	}
	for _, h := range f.Hours {
		t := h.Hour.UTC()
		label := i18n.T(ctx, "chart.hour", i18n.Args{"Month": int(t.Month()), "Day": t.Day(), "Hour": t.Hour()})
		axis := ""
		if t.Hour() == 0 {
			axis = dayLabel(ctx, t)
		}
		bar := component.OutcomeBar(ctx, label, axis, h.Outcomes)
		c.Hours.Bars = append(c.Hours.Bars, bar)
		if h.Total() > 0 {
			c.Hours.Rows = append(c.Hours.Rows, append([]string{label}, bar.Cells...))
		}
	}

	c.ClearRate = component.BarChart{
		ID: "chart-clear-rate", Title: i18n.T(ctx, "chart.clear_rate.title"), Desc: i18n.T(ctx, "chart.clear_rate.desc"),
		Series: []component.Series{{Label: i18n.T(ctx, "chart.col.clear_rate"), Class: "chart-success"}},
		Max:    100, Unit: "%",
		Head: []string{i18n.T(ctx, "chart.col.level"), i18n.T(ctx, "chart.col.clear_rate"), i18n.T(ctx, "status.success"), i18n.T(ctx, "chart.col.ended")},
	}
	for _, l := range f.Levels {
		ended := l.Success + l.Fail
		rate := 0
		if ended > 0 {
			rate = (l.Success*100 + ended/2) / ended
		}
		c.ClearRate.Bars = append(c.ClearRate.Bars, component.Bar{
			Label: component.LevelLabel(ctx, l.Level), Axis: component.LevelLabel(ctx, l.Level), Values: []int{rate},
			Cells: []string{Percent(l.Success, ended), component.Num(ctx, l.Success), component.Num(ctx, ended)},
		})
	}

	c.Totals = component.BarChart{
		ID: "chart-totals", Title: i18n.T(ctx, "chart.totals.title"), Desc: i18n.T(ctx, "chart.totals.desc"),
		Series: []component.Series{{Label: i18n.T(ctx, "chart.col.players"), Class: "chart-gold"}},
		Head:   []string{i18n.T(ctx, "chart.col.total"), i18n.T(ctx, "chart.col.players")},
	}
	for i, n := range f.Totals {
		from := int64(i) * f.TotalsWidth
		label := component.Num(ctx, from)
		if f.TotalsWidth > 1 {
			label = i18n.T(ctx, "chart.range", i18n.Args{"From": component.Num(ctx, from), "To": component.Num(ctx, from+f.TotalsWidth-1)})
		}
		c.Totals.Bars = append(c.Totals.Bars, component.Bar{Label: label, Axis: component.Num(ctx, from), Values: []int{n}, Cells: []string{component.Num(ctx, n)}})
	}

	c.Active = component.BarChart{
		ID: "chart-active", Title: i18n.T(ctx, "chart.active.title"), Desc: i18n.T(ctx, "chart.active.desc"),
		Series: []component.Series{{Label: i18n.T(ctx, "chart.col.players"), Class: "chart-ember"}},
		Head:   []string{i18n.T(ctx, "chart.col.day"), i18n.T(ctx, "chart.col.players")},
	}
	for _, d := range f.Active {
		label := dayLabel(ctx, d.Day.UTC())
		c.Active.Bars = append(c.Active.Bars, component.Bar{Label: label, Axis: label, Values: []int{d.N}, Cells: []string{component.Num(ctx, d.N)}})
	}
	return c
}
