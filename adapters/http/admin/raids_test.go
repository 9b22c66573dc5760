package admin_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/i18n"
	views "github.com/bossraid/bossraid/views/admin"
	"github.com/bossraid/bossraid/views/component"
)

// world is a site with an admin signed in and 301 raids of three players over two weeks: most
// cleared, many failed, and last one entered an hour ago whose deadline passed unrecorded.
type world struct {
	*site
	admin   *client
	players []account
	now     time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	s := newSite(t)
	boss := s.signUp("boss")
	s.setRole(boss, users.RoleAdmin)
	w := &world{site: s, admin: s.signedIn(boss)}
	for _, n := range []string{"alpha", "Alfred", "bravo"} {
		w.players = append(w.players, s.signUp(n))
	}
	if err := s.DB.QueryRow(`SELECT date_trunc('second', now())`).Scan(&w.now); err != nil {
		t.Fatal(err)
	}
	w.now = w.now.UTC()
	tx := must(s.DB.Begin())
	defer func() { _ = tx.Rollback() }()
	for i := range 300 {
		p := w.players[(i*i+i/7)%3]
		level := i % 3
		score := []int{20, 47, 85}[level]
		enter := w.now.Add(-time.Duration(300-i) * time.Hour)
		status, gained, end := "success", score, enter.Add(time.Minute)
		if i%4 == 1 || (p.Nickname == "bravo" && i%3 == 0) {
			status, gained, end = "fail", 0, enter.Add(3*time.Minute)
		}
		if _, err := tx.Exec(`
			INSERT INTO raids (user_id, level, level_score, time_limit, status, score, enter_time, deadline, end_time)
			VALUES ($1, $2, $3, interval '3 minutes', $4, $5, $6::timestamptz, $6::timestamptz + interval '3 minutes', $7)`,
			p.ID, level, score, status, gained, enter, end); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`UPDATE users SET total_score = total_score + $2 WHERE id = $1`, p.ID, gained); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Exec(`
		INSERT INTO raids (user_id, level, level_score, time_limit, status, enter_time, deadline)
		VALUES ($1, 2, 85, interval '3 minutes', 'in_progress', $2::timestamptz, $2::timestamptz + interval '3 minutes')`,
		w.players[0].ID, w.now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return w
}

// statusNow is the status as it stands now, written the way an operator would in psql.
const statusNow = `CASE WHEN r.status = 'in_progress' AND r.deadline <= now() THEN 'fail' ELSE r.status END`

// want lists raid ids straight from the database: the expectation, independent of the app.
func (w *world) want(t *testing.T, where, order string, args ...any) []int64 {
	t.Helper()
	rows, err := w.DB.QueryContext(context.Background(), `
		SELECT r.id FROM raids r JOIN users u ON u.id = r.user_id WHERE `+where+` ORDER BY `+order, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// listedRaid is a row of the raids table as the page shows it.
type listedRaid struct {
	ID       int64
	Nickname string
	Status   string
	Score    string
}

func raidRows(p page) []listedRaid {
	var out []listedRaid
	p.doc.Find(testid("raid-row")).Each(func(_ int, s *goquery.Selection) {
		id, _ := strconv.ParseInt(s.AttrOr("data-id", ""), 10, 64)
		out = append(out, listedRaid{
			ID: id, Nickname: strings.TrimSpace(s.Find(testid("raid-player")).Text()),
			Status: strings.TrimSpace(s.Find(testid("status")).Text()), Score: strings.TrimSpace(s.Find(testid("raid-score")).Text()),
		})
	})
	return out
}

func idsOf(rows []listedRaid) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

// walk follows Next links from path to the last page, then Previous links back to the first,
// checking both ways see the same pages.
func (w *world) walk(t *testing.T, path string) []listedRaid {
	t.Helper()
	var pages [][]listedRaid
	var all []listedRaid
	for next := path; next != ""; {
		p := w.admin.ok(next)
		rows := raidRows(p)
		if len(pages) > 0 && p.attr(testid("prev"), "href") == "" {
			t.Fatalf("page %d has no Previous link", len(pages)+1)
		}
		pages = append(pages, rows)
		all = append(all, rows...)
		next = p.attr(testid("next"), "href")
		if len(pages) > 500 {
			t.Fatal("the pages do not end")
		}
		if next == "" {
			for i := len(pages) - 2; i >= 0; i-- {
				prev := p.attr(testid("prev"), "href")
				if prev == "" {
					t.Fatalf("page %d has no Previous link", i+2)
				}
				p = w.admin.ok(prev)
				if got := idsOf(raidRows(p)); !slices.Equal(got, idsOf(pages[i])) {
					t.Fatalf("back on page %d: %v, forward it was %v", i+1, got, idsOf(pages[i]))
				}
			}
			if p.attr(testid("prev"), "href") != "" {
				t.Fatal("the first page, reached going back, has a Previous link")
			}
		}
	}
	return all
}

func TestRaidPagesVisitEveryFilteredRaidOnceInOrder(t *testing.T) {
	w := newWorld(t)
	week := w.now.Add(-7 * 24 * time.Hour)
	for _, c := range []struct {
		name  string
		query url.Values
		where string
		order string
		args  []any
	}{
		{"everything", url.Values{}, "true", "r.enter_time DESC, r.id DESC", nil},
		{"failed in the last week, 7 a page", url.Values{"status": {"fail"}, "from": {views.FormInput(week)}, "limit": {"7"}},
			statusNow + " = 'fail' AND r.enter_time >= $1", "r.enter_time DESC, r.id DESC", []any{week.Truncate(time.Minute)}},
		{"players beginning with al, oldest first", url.Values{"player": {"AL"}, "sort": {"oldest"}, "limit": {"25"}},
			"lower(u.nickname) LIKE 'al%'", "r.enter_time, r.id", nil},
		{"alpha's level-2 raids by score", url.Values{"player": {"alpha"}, "exact": {"1"}, "level": {"2"}, "sort": {"score"}, "limit": {"9"}},
			"u.nickname = 'alpha' AND r.level = 2", "r.score DESC, r.id DESC", nil},
		{"cleared between two days", url.Values{"status": {"success"}, "from": {"2026-01-01T00:00"}, "to": {views.FormInput(w.now.Add(-48 * time.Hour))}},
			statusNow + " = 'success' AND r.enter_time < $1", "r.enter_time DESC, r.id DESC", []any{w.now.Add(-48 * time.Hour).Truncate(time.Minute)}},
		{"in progress", url.Values{"status": {"in_progress"}}, statusNow + " = 'in_progress'", "r.id", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := w.want(t, c.where, c.order, c.args...)
			got := w.walk(t, views.WithQuery(views.PathRaids, c.query))
			if !slices.Equal(idsOf(got), want) {
				t.Fatalf("listed %d raids %v,\nwant %d %v", len(got), idsOf(got), len(want), want)
			}
			if c.name != "in progress" && len(want) < 10 {
				t.Fatalf("the seed gives only %d raids here", len(want))
			}

			// The export of the same filter parses back to the same rows.
			res := w.admin.get(views.WithQuery(views.PathRaidsCSV, c.query))
			if res.status() != http.StatusOK || !strings.HasPrefix(res.resp.Header.Get("Content-Disposition"), `attachment; filename="raids-`) {
				t.Fatalf("export: %d %v", res.status(), res.resp.Header)
			}
			records, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(records)-1 != len(got) {
				t.Fatalf("export has %d rows, the list %d", len(records)-1, len(got))
			}
			for i, rec := range records[1:] {
				r := got[i]
				if rec[0] != strconv.FormatInt(r.ID, 10) || rec[2] != r.Nickname || component.StatusLabel(context.Background(), rec[4]) != r.Status || rec[5] != r.Score {
					t.Fatalf("export row %d: %q, listed %+v", i, rec, r)
				}
			}
		})
	}
}

func TestTheExpiredRaidReadsAsFailedEverywhere(t *testing.T) {
	w := newWorld(t)
	stale := w.want(t, "r.status = 'in_progress'", "r.id")
	if len(stale) != 1 {
		t.Fatalf("stored in progress: %v", stale)
	}
	p := w.admin.ok(views.RaidPath(stale[0]))
	if got := p.text(testid("raid-detail") + " " + testid("status")); got != "Failed" {
		t.Fatalf("the expired raid's page says %q", got)
	}
	first := raidRows(w.admin.ok(views.PathRaids + "?status=fail"))[0]
	if first.ID != stale[0] || first.Status != "Failed" {
		t.Fatalf("the newest failed raid is %+v, want the expired one (%d)", first, stale[0])
	}
	if rows := raidRows(w.admin.ok(views.PathRaids + "?status=in_progress")); len(rows) != 0 {
		t.Fatalf("in progress: %+v", rows)
	}
	dash := w.admin.ok(views.PathDashboard)
	if got := dash.text(testid("inside")); !strings.Contains(got, "Nobody") {
		t.Fatalf("the dashboard says inside: %q", got)
	}
	if got := dash.text(testid("raids-count")); got != "301" {
		t.Fatalf("the dashboard counts %s raids", got)
	}
}

// "Who played the most failed raids last week" is one link from the dashboard.
func TestWhoFailedMostLastWeekIsOneClickAway(t *testing.T) {
	w := newWorld(t)
	dash := w.admin.ok(views.PathDashboard)
	var href string
	dash.doc.Find(testid("questions") + " a").Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), "failed the most raids in the last 7 days") {
			href = s.AttrOr("href", "")
		}
	})
	if href == "" {
		t.Fatalf("no such question on the dashboard: %s", dash.text(testid("questions")))
	}
	week := w.now.Add(-7 * 24 * time.Hour).Truncate(time.Minute)
	rows, err := w.DB.Query(`
		SELECT u.nickname, count(*) FROM raids r JOIN users u ON u.id = r.user_id
		WHERE `+statusNow+` = 'fail' AND r.enter_time >= $1
		GROUP BY u.id, u.nickname ORDER BY count(*) DESC, u.id`, week)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for rows.Next() {
		var n string
		var c int
		if err := rows.Scan(&n, &c); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("%s %d", n, c))
	}
	_ = rows.Close()

	p := w.admin.ok(href)
	var got []string
	p.doc.Find(testid("raider-row")).Each(func(_ int, s *goquery.Selection) {
		got = append(got, strings.TrimSpace(s.Find(testid("raider")).Text())+" "+strings.TrimSpace(s.Find(testid("count-total")).Text()))
	})
	if !slices.Equal(got, want) || len(want) < 2 {
		t.Fatalf("players by failed raids last week: %v, want %v", got, want)
	}
	// Each player's link lists exactly those raids.
	link := p.attr(testid("raider-row")+" td:last-child a", "href")
	n, _ := strconv.Atoi(strings.Fields(want[0])[1])
	if listed := w.walk(t, link); len(listed) != n || listed[0].Nickname != strings.Fields(want[0])[0] {
		t.Fatalf("%s lists %d raids, want %d of %s", link, len(listed), n, want[0])
	}
}

func TestBadFiltersAreShownNotListed(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		query, field string
	}{
		{"level=two", "level"},
		{"status=lost", "status"},
		{"from=yesterday", "from"},
		{"from=2026-11-25T10:00&to=2026-11-25T09:00", "to"},
		{"sort=random", "sort"},
		{"after=12_x", "page"},
		{"limit=5000", "page"},
	} {
		p := w.admin.get(views.PathRaids + "?" + c.query)
		if p.status() != http.StatusBadRequest || p.text(testid("error-"+c.field)) == "" || len(raidRows(p)) != 0 {
			t.Errorf("%s: %d, error %q, %d rows", c.query, p.status(), p.text(testid("error-"+c.field)), len(raidRows(p)))
		}
		if c.field == "page" {
			continue // the export is the whole selection: it has no pages
		}
		if res := w.admin.get(views.PathRaidsCSV + "?" + c.query); res.status() != http.StatusBadRequest ||
			res.resp.Header.Get("Content-Disposition") != "" {
			t.Errorf("export %s: %d %v", c.query, res.status(), res.resp.Header)
		}
	}
	// What was typed stays in the form.
	p := w.admin.get(views.PathRaids + "?player=alp&level=two")
	if p.attr(`input[name="player"]`, "value") != "alp" {
		t.Fatal("the form forgot the player")
	}
}

func TestPlayersSearchAndDetail(t *testing.T) {
	w := newWorld(t)
	p := w.admin.ok(views.PathPlayers + "?q=AL")
	var names []string
	p.doc.Find(testid("player")).Each(func(_ int, s *goquery.Selection) { names = append(names, s.Text()) })
	if !slices.Equal(names, []string{"Alfred", "alpha"}) {
		t.Fatalf("search AL: %v", names)
	}
	if p := w.admin.ok(views.PathPlayers + "?q=bravo@"); p.text(testid("player")) != "bravo" {
		t.Fatalf("search by email: %q", p.text(testid("player")))
	}

	// Everyone, two a page, best total first, both ways.
	var totals []int
	var seen []string
	for next := views.PathPlayers + "?sort=total&limit=2"; next != ""; {
		p := w.admin.ok(next)
		p.doc.Find(testid("player-row")).Each(func(_ int, s *goquery.Selection) {
			seen = append(seen, s.Find(testid("player")).Text())
			totals = append(totals, must(strconv.Atoi(strings.ReplaceAll(s.Find(testid("player-total")).Text(), ",", "")))) // grouped: 4,282
		})
		next = p.attr(testid("next"), "href")
	}
	if len(seen) != 4 || !slices.IsSortedFunc(totals, func(a, b int) int { return b - a }) {
		t.Fatalf("players by total: %v %v", seen, totals)
	}

	alpha := w.players[0]
	d := w.admin.ok(views.PlayerPath(alpha.ID))
	var count, fails, total int
	if err := w.DB.QueryRow(`SELECT count(*), count(*) FILTER (WHERE `+statusNow+` = 'fail'), (SELECT total_score FROM users WHERE id = $1)
		FROM raids r WHERE r.user_id = $1`, alpha.ID).Scan(&count, &fails, &total); err != nil {
		t.Fatal(err)
	}
	num := i18n.For(i18n.Default).Num // English groups digits: 4,282
	if d.text(testid("player-raids")) != num(count) || d.text(testid("player-fail")) != num(fails) ||
		d.text(testid("player-total")) != num(total) || d.text(testid("player-email")) != alpha.Email {
		t.Fatalf("alpha's page: raids %s fail %s total %s email %s; want %d %d %d %s", d.text(testid("player-raids")),
			d.text(testid("player-fail")), d.text(testid("player-total")), d.text(testid("player-email")), count, fails, total, alpha.Email)
	}
	if listed := w.walk(t, d.attr(testid("player-raids-link"), "href")); len(listed) != count {
		t.Fatalf("alpha's raids link lists %d, want %d", len(listed), count)
	}
	if res := w.admin.get(views.PlayerPath(99999)); res.status() != http.StatusNotFound {
		t.Fatalf("unknown player: %d", res.status())
	}
	if res := w.admin.get(views.RaidPath(99999)); res.status() != http.StatusNotFound {
		t.Fatalf("unknown raid: %d", res.status())
	}
}
