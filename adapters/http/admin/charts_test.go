package admin_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/bossraid/bossraid/ports"
	views "github.com/bossraid/bossraid/views/admin"
	"github.com/bossraid/bossraid/views/component"
)

// figures are the rows of a chart's table, cell by cell, after checking the chart is a
// figure with a caption naming an SVG image with a description.
func figures(t *testing.T, p page, id string) [][]string {
	t.Helper()
	fig := p.doc.Find(`figure` + testid(id))
	if fig.Length() != 1 {
		t.Fatalf("%s: %d figures", id, fig.Length())
	}
	svg := fig.Find(`svg[role="img"]`)
	labels := strings.Fields(svg.AttrOr("aria-labelledby", ""))
	if svg.Length() != 1 || len(labels) != 2 {
		t.Fatalf("%s: the svg is not an image named by its caption and description", id)
	}
	if got := strings.TrimSpace(fig.Find("figcaption#" + labels[0]).Text()); got == "" {
		t.Fatalf("%s: no caption %s", id, labels[0])
	}
	if got := strings.TrimSpace(svg.Find("desc#" + labels[1]).Text()); got == "" {
		t.Fatalf("%s: no description %s", id, labels[1])
	}
	if fig.Find("details summary").Length() != 1 {
		t.Fatalf("%s: the figures are not in a details", id)
	}
	var rows [][]string
	fig.Find("details " + testid(id+"-table") + " tbody tr").Each(func(_ int, tr *goquery.Selection) {
		var row []string
		tr.Find("th, td").Each(func(_ int, c *goquery.Selection) { row = append(row, strings.TrimSpace(c.Text())) })
		rows = append(rows, row)
	})
	return rows
}

// query is every row of a direct SQL query, each cell as text.
func (w *world) query(t *testing.T, q string, args ...any) [][]string {
	t.Helper()
	rows := must(w.DB.Query(q, args...))
	defer rows.Close()
	cols := must(rows.Columns())
	var out [][]string
	for rows.Next() {
		cells := make([]string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range cells {
			ptrs[i] = &cells[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, cells)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func requireRows(t *testing.T, what string, got, want [][]string) {
	t.Helper()
	if !slices.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Fatalf("%s: the chart's table has\n%q\nthe database\n%q", what, got, want)
	}
}

func TestOverviewChartsShowTheDatabasesFigures(t *testing.T) {
	w := newWorld(t)
	dash := w.admin.ok(views.PathDashboard)
	hourTo := w.now.Truncate(time.Hour).Add(time.Hour)
	hourFrom := hourTo.Add(-7 * 24 * time.Hour)

	// Raids per hour by status now, straight from raids (not from the counters).
	want := w.query(t, `
		SELECT extract(month FROM h)::int || '/' || extract(day FROM h)::int || ' ' || extract(hour FROM h)::int || ':00',
			count(*) FILTER (WHERE s = 'success'), count(*) FILTER (WHERE s = 'fail'), count(*) FILTER (WHERE s = 'in_progress')
		FROM (SELECT date_trunc('hour', r.enter_time AT TIME ZONE 'UTC') AS h, `+statusNow+` AS s
			FROM raids r WHERE r.enter_time >= $1 AND r.enter_time < $2) x
		GROUP BY h ORDER BY h`, hourFrom, hourTo)
	if len(want) < 100 {
		t.Fatalf("the world has only %d hours with raids in the last week", len(want))
	}
	requireRows(t, "raids per hour", figures(t, dash, "chart-hours"), want)
	if n := dash.doc.Find(testid("chart-hours") + " rect.chart-bar").Length(); n < len(want) {
		t.Fatalf("%d bars drawn for %d hours with raids", n, len(want))
	}

	want = w.query(t, `
		SELECT 'lv ' || level || ' · ' || level, CASE WHEN ended = 0 THEN '–' ELSE round(success * 100.0 / ended)::int || '%' END,
			success, ended
		FROM (SELECT r.level, count(*) FILTER (WHERE `+statusNow+` = 'success') AS success,
				count(*) FILTER (WHERE `+statusNow+` <> 'in_progress') AS ended
			FROM raids r WHERE r.enter_time >= $1 AND r.enter_time < $2 GROUP BY r.level) x
		ORDER BY level`, hourFrom, hourTo)
	got := figures(t, dash, "chart-clear-rate")
	for i := range got { // the boss's name after the level is the view's, not the database's
		if i < len(want) {
			want[i][0] = strings.TrimSuffix(want[i][0], fmt.Sprint(i)) + component.BossName(t.Context(), i)
		}
	}
	requireRows(t, "clear rate by level", got, want)

	dayTo := w.now.Truncate(24 * time.Hour).Add(24 * time.Hour)
	want = w.query(t, `
		SELECT extract(month FROM d)::int || '/' || extract(day FROM d)::int, coalesce(n, 0)
		FROM generate_series($1::timestamp, $2::timestamp - interval '1 day', interval '1 day') d
		LEFT JOIN (SELECT date_trunc('day', enter_time AT TIME ZONE 'UTC') AS day, count(DISTINCT user_id) AS n
			FROM raids WHERE enter_time >= $3 AND enter_time < $4 GROUP BY 1) c ON c.day = d
		ORDER BY d`, dayTo.Add(-7*24*time.Hour).Format(time.DateTime), dayTo.Format(time.DateTime), dayTo.Add(-7*24*time.Hour), dayTo)
	requireRows(t, "players active per day", figures(t, dash, "chart-active"), want)

	var highest int64
	if err := w.DB.QueryRow(`SELECT max(total_score) FROM users`).Scan(&highest); err != nil {
		t.Fatal(err)
	}
	width := ports.TotalsWidth(highest, 10)
	want = w.query(t, `
		SELECT to_char(b * $1, 'FM999,999,999') || '–' || to_char(b * $1 + $1 - 1, 'FM999,999,999'), coalesce(n, 0)
		FROM generate_series(0, $2::bigint / $1) b
		LEFT JOIN (SELECT total_score / $1 AS k, count(*) AS n FROM users GROUP BY 1) c ON c.k = b
		ORDER BY b`, width, highest)
	if len(want) < 2 {
		t.Fatalf("the totals fall in %d buckets", len(want))
	}
	requireRows(t, "players by total score", figures(t, dash, "chart-totals"), want)
}

func TestPlayerChartsShowTheDatabasesFigures(t *testing.T) {
	w := newWorld(t)
	p := w.admin.ok(component.PlayerPath("alpha"))
	want := w.query(t, `
		SELECT seq, to_char(sum(score) OVER (ORDER BY seq), 'FM999,999,999') FROM raids
		WHERE user_id = (SELECT id FROM users WHERE nickname = 'alpha') ORDER BY seq`)
	if len(want) < 50 || len(want) > 120 {
		t.Fatalf("alpha has %d raids; the test wants every one drawn", len(want))
	}
	requireRows(t, "running total", figures(t, p, "chart-progress"), want)
	if d := p.attr(testid("chart-progress")+" path.chart-line", "d"); strings.Count(d, "H") != len(want) {
		t.Fatalf("the line has %d steps for %d raids: %s", strings.Count(d, "H"), len(want), d)
	}

	want = w.query(t, `
		SELECT 'lv ' || r.level, count(*) FILTER (WHERE `+statusNow+` = 'success'),
			count(*) FILTER (WHERE `+statusNow+` = 'fail'), count(*) FILTER (WHERE `+statusNow+` = 'in_progress')
		FROM raids r WHERE r.user_id = (SELECT id FROM users WHERE nickname = 'alpha') GROUP BY r.level ORDER BY r.level`)
	got := figures(t, p, "chart-outcomes")
	for i := range got {
		got[i][0], _, _ = strings.Cut(got[i][0], " · ")
	}
	requireRows(t, "outcomes by level", got, want)

	// A player with no raids has no charts.
	if n := w.admin.ok(component.PlayerPath("boss")).doc.Find("figure.chart").Length(); n != 0 {
		t.Fatalf("a player without raids has %d charts", n)
	}
}
