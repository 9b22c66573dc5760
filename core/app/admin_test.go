package app_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// adminWorld is a world whose app answers admin queries from the memory store, with an admin
// and some players.
type adminWorld struct {
	*world
	admin   app.Player
	players []app.Player
}

func newAdminWorld(t *testing.T, players int) *adminWorld {
	t.Helper()
	w := &adminWorld{world: newWorld(t, nil)}
	ctx := context.Background()
	w.signUp(t, "boss")
	if _, err := w.store.SetRole(ctx, "boss@example.com", users.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	u, err := w.store.UserByEmail(ctx, "boss@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if w.admin, err = w.app.Accounts.PlayerByID(ctx, u.ID, u.TokenVersion); err != nil || !w.admin.IsAdmin() {
		t.Fatalf("admin = %+v, %v", w.admin, err)
	}
	for i := range players {
		p, _ := w.signUp(t, fmt.Sprintf("hero%02d", i))
		w.players = append(w.players, p)
	}
	return w
}

// play makes n raids through the use cases, a second apart: most cleared, every third one left
// to expire (and the last one, when it expires, never swept).
func (w *adminWorld) play(t *testing.T, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		p := w.players[i%len(w.players)]
		r, err := w.app.Raids.EnterRaid(ctx, p, i%3)
		if err != nil {
			t.Fatalf("raid %d: %v", i, err)
		}
		if i%3 == 2 {
			w.clock.Advance(r.TimeLimit)
		} else if _, err := w.app.Raids.EndRaid(ctx, p, r.ID, nil); err != nil {
			t.Fatalf("end raid %d: %v", i, err)
		}
		w.clock.Advance(time.Second)
	}
}

func TestAdminUseCasesRefuseNonAdmins(t *testing.T) {
	w := newAdminWorld(t, 1)
	ctx := context.Background()
	player := w.players[0]
	var refused app.RaidExport
	calls := map[string]func() error{
		"ListRaids":   func() error { _, err := w.app.Admin.ListRaids(ctx, player, app.RaidListQuery{}); return err },
		"RaidDetail":  func() error { _, err := w.app.Admin.RaidDetail(ctx, player, 1); return err },
		"TopRaiders":  func() error { _, err := w.app.Admin.TopRaiders(ctx, player, ports.RaidFilter{}, 0); return err },
		"ListPlayers": func() error { _, err := w.app.Admin.ListPlayers(ctx, player, app.PlayerListQuery{}); return err },
		"PlayerDetail": func() error {
			_, err := w.app.Admin.PlayerDetail(ctx, player, player.ID)
			return err
		},
		"AdminDashboard":      func() error { _, err := w.app.Admin.Dashboard(ctx, player); return err },
		"AdminBossData":       func() error { _, err := w.app.Admin.BossData(player); return err },
		"AdminReloadBossData": func() error { _, err := w.app.Admin.ReloadBossData(ctx, player); return err },
		"AdminRebuildRanking": func() error { _, err := w.app.Admin.RebuildRanking(ctx, player); return err },
		"AdminRankingCheck":   func() error { _, err := w.app.Admin.RankingCheck(ctx, player); return err },
		"ExportRaids": func() error {
			var err error
			refused, err = w.app.Admin.ExportRaids(ctx, player, ports.RaidFilter{}, ports.RaidOrder{})
			return err
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("%s as a player: %v, want ErrForbidden", name, err)
		}
	}
	if refused.Raids != nil {
		t.Fatal("a refused export yields raids")
	}
	// The visitor (no player) is refused too.
	if _, err := w.app.Admin.ListRaids(ctx, app.Player{}, app.RaidListQuery{}); !errors.Is(err, app.ErrForbidden) {
		t.Fatalf("ListRaids for nobody: %v", err)
	}
	// The admin gets through.
	if _, err := w.app.Admin.Dashboard(ctx, w.admin); err != nil {
		t.Fatal(err)
	}
}

func TestAdminRaidPagesWalkEveryRaidOnceBothWays(t *testing.T) {
	w := newAdminWorld(t, 4)
	w.play(t, 23)
	ctx := context.Background()
	for _, order := range ports.RaidOrders() {
		all, err := w.app.Admin.ListRaids(ctx, w.admin, app.RaidListQuery{Order: order, Limit: app.MaxAdminPageSize})
		if err != nil || len(all.Raids) != 23 || all.Next != nil || all.Prev != nil {
			t.Fatalf("one page of everything by %s: %d raids, next %v, prev %v, %v", order, len(all.Raids), all.Next, all.Prev, err)
		}
		var forward []raids.Raid
		var pages []app.RaidList
		q := app.RaidListQuery{Order: order, Limit: 5}
		for {
			page, err := w.app.Admin.ListRaids(ctx, w.admin, q)
			if err != nil {
				t.Fatal(err)
			}
			if (len(pages) == 0) != (page.Prev == nil) {
				t.Fatalf("page %d by %s: prev %v", len(pages), order, page.Prev)
			}
			pages = append(pages, page)
			forward = append(forward, page.Raids...)
			if page.Next == nil {
				break
			}
			q.After = page.Next
		}
		if len(pages) != 5 || !sameIDs(forward, all.Raids) {
			t.Fatalf("forward by %s over %d pages: %v, want %v", order, len(pages), raidIDs(forward), raidIDs(all.Raids))
		}
		// Back from the last page, each previous page is the one seen on the way forward.
		page := pages[len(pages)-1]
		for i := len(pages) - 2; i >= 0; i-- {
			if page.Prev == nil {
				t.Fatalf("page %d by %s has no previous page", i+1, order)
			}
			prev, err := w.app.Admin.ListRaids(ctx, w.admin, app.RaidListQuery{Order: order, Limit: 5, Before: page.Prev})
			if err != nil {
				t.Fatal(err)
			}
			if !sameIDs(prev.Raids, pages[i].Raids) || prev.Next == nil || (i == 0) != (prev.Prev == nil) {
				t.Fatalf("back to page %d by %s: %v (prev %v), want %v", i, order, raidIDs(prev.Raids), prev.Prev, raidIDs(pages[i].Raids))
			}
			page = prev
		}
	}
}

func TestAdminRaidFiltersJudgeTheDeadline(t *testing.T) {
	w := newAdminWorld(t, 3)
	w.play(t, 9) // raids 3, 6 and 9 (ids) expire; the last is never swept
	ctx := context.Background()
	fails, err := w.app.Admin.ListRaids(ctx, w.admin, app.RaidListQuery{Filter: ports.RaidFilter{Status: raids.StatusFail}})
	if err != nil {
		t.Fatal(err)
	}
	if got := raidIDs(fails.Raids); !slices.Equal(got, []int64{9, 6, 3}) {
		t.Fatalf("failed raids: %v, want [9 6 3]", got)
	}
	if r := fails.Raids[0]; r.EndTime == nil || !r.EndTime.Equal(r.Deadline) {
		t.Fatalf("the unswept raid reads %+v, want ended at its deadline", r)
	}
	two := 2
	hero1 := ports.RaidFilter{Player: "HERO01", PlayerExact: true, Level: &two}
	got, err := w.app.Admin.ListRaids(ctx, w.admin, app.RaidListQuery{Filter: hero1})
	if err != nil || len(got.Raids) != 0 {
		t.Fatalf("hero01 at level 2: %v, %v", raidIDs(got.Raids), err) // hero01 plays level 1 only
	}
	top, err := w.app.Admin.TopRaiders(ctx, w.admin, ports.RaidFilter{Status: raids.StatusFail}, 0)
	if err != nil || len(top) != 1 || top[0].Nickname != "hero02" || top[0].Raids.Fail != 3 {
		t.Fatalf("who failed most: %+v, %v", top, err)
	}
}

func TestAdminQueriesAreValidated(t *testing.T) {
	w := newAdminWorld(t, 1)
	ctx := context.Background()
	now := w.clock.Now()
	neg := -1
	k := ports.RaidKey{ID: 1}
	for name, q := range map[string]app.RaidListQuery{
		"to":     {Filter: ports.RaidFilter{From: now, To: now}},
		"level":  {Filter: ports.RaidFilter{Level: &neg}},
		"limit":  {Limit: app.MaxAdminPageSize + 1},
		"after":  {After: &k, Before: &k},
		"player": {Filter: ports.RaidFilter{Player: string(make([]byte, 300))}},
	} {
		_, err := w.app.Admin.ListRaids(ctx, w.admin, q)
		if ve, ok := errors.AsType[*app.ValidationError](err); !ok || ve.Fields[name] == "" {
			t.Errorf("%s: %v, want a validation error on %s", name, err, name)
		}
	}
	if _, err := w.app.Admin.ListPlayers(ctx, w.admin, app.PlayerListQuery{Limit: -1}); !errors.Is(err, app.ErrValidation) {
		t.Errorf("players limit -1: %v", err)
	}
	if _, err := w.app.Admin.ExportRaids(ctx, w.admin, ports.RaidFilter{Level: &neg}, ports.RaidOrder{}); !errors.Is(err, app.ErrValidation) {
		t.Errorf("export with level -1: %v", err)
	}
}

// The export reads a thousand raids at a time: 2,001 raids cross two batch boundaries.
func TestExportRaidsGivesBackTheListedRaids(t *testing.T) {
	w := newAdminWorld(t, 7)
	w.play(t, 2001)
	ctx := context.Background()
	one := 1
	for _, c := range []struct {
		filter ports.RaidFilter
		order  ports.RaidOrder
		want   int
	}{
		{ports.RaidFilter{}, ports.RaidOrder{}, 2001},
		{ports.RaidFilter{}, ports.RaidsBestScoreFirst, 2001},
		{ports.RaidFilter{Status: raids.StatusFail}, ports.RaidsOldestFirst, 667},
		{ports.RaidFilter{Player: "hero0", Level: &one}, ports.RaidsNewestFirst, 667},
		{ports.RaidFilter{Player: "nobody"}, ports.RaidsNewestFirst, 0},
	} {
		export, err := w.app.Admin.ExportRaids(ctx, w.admin, c.filter, c.order)
		if err != nil {
			t.Fatal(err)
		}
		if !export.Now.Equal(w.clock.Now()) {
			t.Fatalf("export asked for at %v, now is %v", export.Now, w.clock.Now())
		}
		var got []raids.Raid
		for r, err := range export.Raids {
			if err != nil {
				t.Fatalf("export %+v: %v", c.filter, err)
			}
			got = append(got, r)
		}
		if len(got) != c.want {
			t.Fatalf("export %+v: %d rows; want %d", c.filter, len(got), c.want)
		}
		listed := listEvery(t, w, c.filter, c.order)
		if len(got) != len(listed) {
			t.Fatalf("export has %d rows, the list %d", len(got), len(listed))
		}
		for i := range got {
			if !reflect.DeepEqual(got[i], listed[i]) {
				t.Fatalf("row %d: %+v, want %+v", i, got[i], listed[i])
			}
		}
	}
}

func listEvery(t *testing.T, w *adminWorld, f ports.RaidFilter, order ports.RaidOrder) []raids.Raid {
	t.Helper()
	var all []raids.Raid
	q := app.RaidListQuery{Filter: f, Order: order, Limit: app.MaxAdminPageSize}
	for {
		page, err := w.app.Admin.ListRaids(context.Background(), w.admin, q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Raids...)
		if page.Next == nil {
			return all
		}
		q.After = page.Next
	}
}

func TestAdminPlayersAndDetail(t *testing.T) {
	w := newAdminWorld(t, 12)
	w.play(t, 30)
	ctx := context.Background()
	list, err := w.app.Admin.ListPlayers(ctx, w.admin, app.PlayerListQuery{Search: " HERO1 ", Order: ports.PlayersBestTotalFirst})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, row := range list.Players {
		names = append(names, row.User.Nickname)
		if row.User.PasswordHash != "" || row.RaidCount == 0 {
			t.Fatalf("row %+v", row)
		}
	}
	if len(names) != 2 || !slices.Contains(names, "hero10") || !slices.Contains(names, "hero11") {
		t.Fatalf("search HERO1: %v", names)
	}
	// Three pages of five cover the thirteen players.
	var seen []int64
	q := app.PlayerListQuery{Limit: 5}
	for range 4 {
		page, err := w.app.Admin.ListPlayers(ctx, w.admin, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range page.Players {
			seen = append(seen, row.User.ID)
		}
		if page.Next == nil {
			break
		}
		q.After = page.Next
	}
	if len(seen) != 13 || !slices.IsSortedFunc(seen, func(a, b int64) int { return int(b - a) }) {
		t.Fatalf("players by page: %v", seen)
	}

	hero := w.players[2]
	d, err := w.app.Admin.PlayerDetail(ctx, w.admin, hero.ID)
	if err != nil {
		t.Fatal(err)
	}
	// hero02 played raids 3, 15 and 27 (ids), all at level 2, all left to expire.
	if d.User.Nickname != "hero02" || d.User.PasswordHash != "" || d.Raids != (ports.RaidCounts{Fail: 3}) ||
		!slices.Equal(raidIDs(d.Recent), []int64{27, 15, 3}) {
		t.Fatalf("detail of hero02: %+v, recent %v", d, raidIDs(d.Recent))
	}
	if _, err := w.app.Admin.PlayerDetail(ctx, w.admin, 9999); !errors.Is(err, users.ErrNotFound) {
		t.Fatalf("unknown player: %v", err)
	}
	if _, err := w.app.Admin.RaidDetail(ctx, w.admin, 9999); !errors.Is(err, raids.ErrNotFound) {
		t.Fatalf("unknown raid: %v", err)
	}
	r, err := w.app.Admin.RaidDetail(ctx, w.admin, 27)
	if err != nil || r.Status != raids.StatusFail || r.Nickname != "hero02" {
		t.Fatalf("raid 27: %+v, %v", r, err)
	}
}

func TestAdminActionsReportWhatTheyDid(t *testing.T) {
	w := newAdminWorld(t, 3)
	w.play(t, 6)
	ctx := context.Background()
	rebuilt, err := w.app.Admin.RebuildRanking(ctx, w.admin)
	if err != nil || rebuilt.Players != 2 || rebuilt.Took <= 0 {
		t.Fatalf("rebuild: %+v, %v (hero00 and hero01 scored; hero02 only failed)", rebuilt, err)
	}
	check, err := w.app.Admin.RankingCheck(ctx, w.admin)
	if err != nil || !check.Agree || len(check.Database) != 2 || check.Database[0].Nickname == "" {
		t.Fatalf("ranking check: %+v, %v", check, err)
	}

	w.boss.err = fmt.Errorf("boss data from nowhere: %w", raids.ErrInvalidBossData)
	kept, err := w.app.Admin.ReloadBossData(ctx, w.admin)
	if !errors.Is(err, raids.ErrInvalidBossData) || kept.TimeLimit != raids.DefaultBossData().TimeLimit {
		t.Fatalf("bad reload: %+v, %v", kept, err)
	}
	w.boss.err, w.boss.data = nil, raids.BossData{TimeLimit: time.Minute, Levels: []raids.Level{{Level: 7, Score: 1}}}
	if d, err := w.app.Admin.ReloadBossData(ctx, w.admin); err != nil || d.Levels[0].Level != 7 {
		t.Fatalf("good reload: %+v, %v", d, err)
	}
	if d, err := w.app.Admin.BossData(w.admin); err != nil || d.TimeLimit != time.Minute {
		t.Fatalf("boss data after reload: %+v, %v", d, err)
	}

	dash, err := w.app.Admin.Dashboard(ctx, w.admin)
	if err != nil || dash.Players != 4 || dash.Raids.Total() != 6 || dash.LastDay.Total() != 6 || !dash.Status.CanEnter {
		t.Fatalf("dashboard: %+v, %v", dash, err)
	}
}

func raidIDs(rs []raids.Raid) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func sameIDs(a, b []raids.Raid) bool { return slices.Equal(raidIDs(a), raidIDs(b)) }
