package portstest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// AdminHarness is an empty admin store with the player store it reads, a way to store raid
// records from any time, and the store's clock.
type AdminHarness struct {
	Users ports.UserStore
	Admin ports.AdminStore
	// AddRaids stores the raid records as given (at most one in progress), in order, and
	// returns them with the ids the store gave them; successful raids add their score to
	// their player's total.
	AddRaids func(t *testing.T, rs []raids.Raid) []raids.Raid
	// Now is the store's clock, the one it judges deadlines by.
	Now func() time.Time
}

// adminWorld is the data the admin suite reads.
type adminWorld struct {
	h       AdminHarness
	now     time.Time
	players []users.User
	raids   []raids.Raid // as stored
	nick    map[int64]string
}

var adminLevels = []raids.Level{{Level: 0, Score: 20}, {Level: 1, Score: 47}, {Level: 2, Score: 85}}

// seedAdmin registers players whose nicknames share beginnings in different cases and
// scripts, and 61 raids over a month: cleared and failed ones at every level, some entered
// at the same moment, and last an in-progress raid whose deadline passed without anything
// recording it.
func seedAdmin(t *testing.T, h AdminHarness) *adminWorld {
	t.Helper()
	w := &adminWorld{h: h, nick: map[int64]string{}}
	for _, n := range []string{"Alice", "alicia", "Bob", "al_x", "Ärger", "Zed"} {
		p := NewPlayer(t, h.Users, n)
		w.players = append(w.players, p)
		w.nick[p.ID] = p.Nickname
	}
	w.now = h.Now().UTC().Truncate(time.Microsecond)
	base := w.now.Add(-30 * 24 * time.Hour)
	limit := 3 * time.Minute
	var records []raids.Raid
	enter := base
	for i := range 60 {
		if i%10 != 4 { // every tenth raid starts with the one before it: ties on enter time
			enter = base.Add(time.Duration(i) * 3 * time.Hour)
		}
		lvl := adminLevels[i%3]
		r := raids.Raid{
			UserID: w.players[(i*i+i/4)%len(w.players)].ID, Level: lvl.Level, LevelScore: lvl.Score,
			EnterTime: enter, Deadline: enter.Add(limit), TimeLimit: limit,
		}
		if (i/2)%3 == 1 {
			r.Status, r.EndTime = raids.StatusFail, ptrTo(r.Deadline)
		} else {
			r.Status, r.Score, r.EndTime = raids.StatusSuccess, lvl.Score, ptrTo(enter.Add(time.Minute))
		}
		records = append(records, r)
	}
	stale := base.Add(61 * 3 * time.Hour)
	records = append(records, raids.Raid{
		UserID: w.players[0].ID, Level: 2, LevelScore: 85, Status: raids.StatusInProgress,
		EnterTime: stale, Deadline: stale.Add(limit), TimeLimit: limit,
	})
	w.raids = h.AddRaids(t, records)
	return w
}

func ptrTo[T any](v T) *T { return &v }

// now is each stored raid as it stands now, with its player's nickname.
func (w *adminWorld) current() []raids.Raid {
	out := make([]raids.Raid, len(w.raids))
	for i, r := range w.raids {
		r = r.At(w.now)
		r.Nickname = w.nick[r.UserID]
		out[i] = r
	}
	return out
}

// want is the raids matching f in order, worked out here independently of the stores.
func (w *adminWorld) want(f ports.RaidFilter, order ports.RaidOrder) []raids.Raid {
	var out []raids.Raid
	for _, r := range w.current() {
		key, wantKey := users.NicknameKey(r.Nickname), users.NicknameKey(f.Player)
		switch {
		case f.UserID != 0 && r.UserID != f.UserID,
			f.Player != "" && f.PlayerExact && key != wantKey,
			f.Player != "" && !f.PlayerExact && !strings.HasPrefix(key, wantKey),
			!f.Status.IsZero() && r.Status != f.Status,
			f.Level != nil && r.Level != *f.Level,
			!f.From.IsZero() && r.EnterTime.Before(f.From),
			!f.To.IsZero() && !r.EnterTime.Before(f.To):
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b raids.Raid) int {
		switch order {
		case ports.RaidsOldestFirst:
			return cmp.Or(a.EnterTime.Compare(b.EnterTime), cmp.Compare(a.ID, b.ID))
		case ports.RaidsBestScoreFirst:
			return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.ID, a.ID))
		}
		return cmp.Or(b.EnterTime.Compare(a.EnterTime), cmp.Compare(b.ID, a.ID))
	})
	return out
}

func (w *adminWorld) player(nickname string) users.User {
	for _, p := range w.players {
		if p.Nickname == nickname {
			return p
		}
	}
	panic("no player " + nickname)
}

// RunAdminStore checks a ports.AdminStore. newHarness is called once per subtest and must
// return stores with no players and no raids.
func RunAdminStore(t *testing.T, newHarness func(t *testing.T) AdminHarness) {
	ctx := context.Background()

	t.Run("every raid is listed with its player as it stands now", func(t *testing.T) {
		w := seedAdmin(t, newHarness(t))
		got := listAll(t, w.h.Admin, ports.RaidQuery{Order: ports.RaidsNewestFirst, Limit: 1000})
		requireRaids(t, "all raids", got, w.want(ports.RaidFilter{}, ports.RaidsNewestFirst))
		stale := got[0]
		if stale.ID != w.raids[len(w.raids)-1].ID {
			t.Fatalf("newest raid is %d, want the last one entered", stale.ID)
		}
		requireFailedAtDeadline(t, stale)
	})

	t.Run("a raid past its deadline counts as failed, however it is stored", func(t *testing.T) {
		w := seedAdmin(t, newHarness(t))
		stale := w.raids[len(w.raids)-1].ID
		fails := listAll(t, w.h.Admin, ports.RaidQuery{
			Filter: ports.RaidFilter{Status: raids.StatusFail}, Order: ports.RaidsNewestFirst, Limit: 1000})
		if len(fails) == 0 || fails[0].ID != stale {
			t.Fatalf("failed raids do not start with the expired one (%d): %v", stale, ids(fails))
		}
		requireRaids(t, "failed raids", fails, w.want(ports.RaidFilter{Status: raids.StatusFail}, ports.RaidsNewestFirst))
		if inside := listAll(t, w.h.Admin, ports.RaidQuery{
			Filter: ports.RaidFilter{Status: raids.StatusInProgress}, Order: ports.RaidsNewestFirst, Limit: 10}); len(inside) != 0 {
			t.Fatalf("raids in progress: %v, want none", ids(inside))
		}
		var want ports.RaidCounts
		for _, r := range w.current() {
			want.Add(r.Status)
		}
		if want.InProgress != 0 || want.Fail == 0 || want.Success == 0 {
			t.Fatalf("the seed is not what this test needs: %+v", want)
		}
		requireCounts(t, w.h.Admin, ports.RaidFilter{}, want)
		requireCounts(t, w.h.Admin, ports.RaidFilter{Status: raids.StatusFail}, ports.RaidCounts{Fail: want.Fail})
		requireCounts(t, w.h.Admin, ports.RaidFilter{Status: raids.StatusInProgress}, ports.RaidCounts{})
	})

	t.Run("a raid before its deadline is in progress", func(t *testing.T) {
		h := newHarness(t)
		p := NewPlayer(t, h.Users, "Hero")
		now := h.Now().UTC().Truncate(time.Microsecond)
		live := h.AddRaids(t, []raids.Raid{{
			UserID: p.ID, Level: 1, LevelScore: 47, Status: raids.StatusInProgress,
			EnterTime: now.Add(-time.Minute), Deadline: now.Add(time.Hour), TimeLimit: time.Hour + time.Minute,
		}})[0]
		got := listAll(t, h.Admin, ports.RaidQuery{Filter: ports.RaidFilter{Status: raids.StatusInProgress}, Order: ports.RaidsNewestFirst, Limit: 10})
		if len(got) != 1 || got[0].ID != live.ID || got[0].Status != raids.StatusInProgress || got[0].EndTime != nil {
			t.Fatalf("raids in progress: %+v, want raid %d", got, live.ID)
		}
		requireCounts(t, h.Admin, ports.RaidFilter{}, ports.RaidCounts{InProgress: 1})
		requireCounts(t, h.Admin, ports.RaidFilter{Status: raids.StatusFail}, ports.RaidCounts{})
	})

	t.Run("filters select what they say", func(t *testing.T) {
		w := seedAdmin(t, newHarness(t))
		mid := w.raids[20].EnterTime
		later := w.raids[41].EnterTime
		tie := w.raids[14].EnterTime // raids 13 and 14 were entered at the same moment
		two := 2
		for _, f := range []ports.RaidFilter{
			{Player: "al"}, {Player: "AL"}, {Player: "al_"}, {Player: "ali"}, {Player: "ali", PlayerExact: true},
			{Player: "ALICE", PlayerExact: true}, {Player: "är"}, {Player: "ÄRGER", PlayerExact: true},
			{Player: "nobody"}, {Player: "%"}, {Player: "_"},
			{UserID: w.player("Bob").ID}, {UserID: w.player("Bob").ID, Player: "al"},
			{Status: raids.StatusSuccess}, {Status: raids.StatusFail}, {Level: &two},
			{From: mid}, {To: mid}, {From: mid, To: later}, {From: tie, To: tie.Add(time.Microsecond)},
			{Player: "al", Status: raids.StatusFail, Level: &two, From: mid},
		} {
			t.Run(describeFilter(f), func(t *testing.T) {
				want := w.want(f, ports.RaidsNewestFirst)
				got := listAll(t, w.h.Admin, ports.RaidQuery{Filter: f, Order: ports.RaidsNewestFirst, Limit: 1000})
				requireRaids(t, describeFilter(f), got, want)
				var counts ports.RaidCounts
				for _, r := range want {
					counts.Add(r.Status)
				}
				requireCounts(t, w.h.Admin, f, counts)
			})
		}
		if n := len(w.want(ports.RaidFilter{From: tie, To: tie.Add(time.Microsecond)}, ports.RaidsNewestFirst)); n != 2 {
			t.Fatalf("the seed's tie holds %d raids, want 2", n)
		}
	})

	t.Run("pages visit every row exactly once, in order, both ways", func(t *testing.T) {
		w := seedAdmin(t, newHarness(t))
		for _, order := range ports.RaidOrders() {
			for _, f := range []ports.RaidFilter{{}, {Player: "al"}, {Status: raids.StatusFail, From: w.raids[10].EnterTime}} {
				t.Run(order.String()+" "+describeFilter(f), func(t *testing.T) {
					want := w.want(f, order)
					for _, size := range []int{1, 7, len(want), len(want) + 1} {
						requireRaids(t, fmt.Sprintf("forward by %d", size), walk(t, w.h.Admin, f, order, size, false), want)
						back := walk(t, w.h.Admin, f, order, size, true)
						slices.Reverse(back)
						requireRaids(t, fmt.Sprintf("backward by %d", size), back, want)
					}
					if len(want) < 3 {
						t.Fatalf("the seed gives only %d rows", len(want))
					}
					// From a row in the middle, each way: the rows past it and the rows before it.
					k := ports.KeyOf(want[len(want)/2])
					after := listAll(t, w.h.Admin, ports.RaidQuery{Filter: f, Order: order, After: &k, Limit: 1000})
					requireRaids(t, "after the middle", after, want[len(want)/2+1:])
					before := listAll(t, w.h.Admin, ports.RaidQuery{Filter: f, Order: order, After: &k, Backward: true, Limit: 2})
					requireRaids(t, "just before the middle", before, []raids.Raid{want[len(want)/2-1], want[len(want)/2-2]})
				})
			}
		}
	})

	t.Run("a list without an order is refused", func(t *testing.T) {
		h := newHarness(t)
		if _, err := h.Admin.ListRaids(ctx, ports.RaidQuery{Limit: 10}); err == nil {
			t.Fatal("ListRaids without an order answered")
		}
		if _, err := h.Admin.ListPlayers(ctx, ports.PlayerQuery{Limit: 10}); err == nil {
			t.Fatal("ListPlayers without an order answered")
		}
	})

	t.Run("top raiders are the players with the most matching raids", func(t *testing.T) {
		w := seedAdmin(t, newHarness(t))
		for _, f := range []ports.RaidFilter{{}, {Status: raids.StatusFail}, {Player: "al", From: w.raids[30].EnterTime}, {Player: "nobody"}} {
			byPlayer := map[int64]*ports.PlayerRaidCount{}
			for _, r := range w.want(f, ports.RaidsNewestFirst) {
				if byPlayer[r.UserID] == nil {
					byPlayer[r.UserID] = &ports.PlayerRaidCount{UserID: r.UserID, Nickname: r.Nickname}
				}
				byPlayer[r.UserID].Raids.Add(r.Status)
			}
			var want []ports.PlayerRaidCount
			for _, pc := range byPlayer {
				want = append(want, *pc)
			}
			slices.SortFunc(want, func(a, b ports.PlayerRaidCount) int {
				return cmp.Or(cmp.Compare(b.Raids.Total(), a.Raids.Total()), cmp.Compare(a.UserID, b.UserID))
			})
			for _, n := range []int{100, 3} {
				got, err := w.h.Admin.TopRaiders(ctx, f, n)
				if err != nil {
					t.Fatalf("TopRaiders: %v", err)
				}
				if w := want[:min(n, len(want))]; !slices.Equal(got, w) {
					t.Fatalf("TopRaiders(%s, %d) = %+v, want %+v", describeFilter(f), n, got, w)
				}
			}
		}
	})

	t.Run("players are found by the beginning of their nickname or email", func(t *testing.T) {
		w := seedAdmin(t, newHarness(t))
		raidCount := map[int64]int{}
		total := map[int64]int64{}
		for _, r := range w.raids {
			raidCount[r.UserID]++
			total[r.UserID] += int64(r.Score)
		}
		for _, c := range []struct {
			search string
			want   []string
		}{
			{"", []string{"Alice", "alicia", "Bob", "al_x", "Ärger", "Zed"}},
			{"al", []string{"Alice", "alicia", "al_x"}},
			{"ALI", []string{"Alice", "alicia"}},
			{"al_", []string{"al_x"}},
			{"%", nil},
			{"är", []string{"Ärger"}},
			{"  bob ", []string{"Bob"}},
			{"p", []string{"Alice", "alicia", "Bob", "al_x", "Ärger", "Zed"}}, // every email begins with p
			{strings.ToUpper(w.player("Zed").Email), []string{"Zed"}},
			{"nobody", nil},
		} {
			for _, order := range ports.PlayerOrders() {
				got, err := w.h.Admin.ListPlayers(ctx, ports.PlayerQuery{Search: c.search, Order: order, Limit: 100})
				if err != nil {
					t.Fatalf("ListPlayers(%q): %v", c.search, err)
				}
				var want []ports.PlayerRow
				for _, n := range c.want {
					u := w.player(n)
					u.PasswordHash, u.TotalScore = "", total[u.ID]
					want = append(want, ports.PlayerRow{User: u, RaidCount: raidCount[u.ID]})
				}
				slices.SortFunc(want, func(a, b ports.PlayerRow) int {
					if order == ports.PlayersBestTotalFirst {
						return cmp.Or(cmp.Compare(b.User.TotalScore, a.User.TotalScore), cmp.Compare(b.User.ID, a.User.ID))
					}
					return cmp.Compare(b.User.ID, a.User.ID)
				})
				requirePlayers(t, fmt.Sprintf("search %q by %s", c.search, order), got, want)
				if c.search != "" || order != ports.PlayersBestTotalFirst {
					continue
				}
				// Page through everyone three at a time, both ways.
				var walked []ports.PlayerRow
				var after *ports.PlayerKey
				for range len(want) + 1 {
					page, err := w.h.Admin.ListPlayers(ctx, ports.PlayerQuery{Order: order, After: after, Limit: 3})
					if err != nil {
						t.Fatal(err)
					}
					if len(page) == 0 {
						break
					}
					walked = append(walked, page...)
					after = ptrTo(ports.PlayerKeyOf(page[len(page)-1].User))
				}
				requirePlayers(t, "forward pages", walked, want)
				last := ports.PlayerKeyOf(want[len(want)-1].User)
				back, err := w.h.Admin.ListPlayers(ctx, ports.PlayerQuery{Order: order, After: &last, Backward: true, Limit: 2})
				if err != nil {
					t.Fatal(err)
				}
				requirePlayers(t, "backward page", back, []ports.PlayerRow{want[len(want)-2], want[len(want)-3]})
			}
		}
		n, err := w.h.Admin.CountPlayers(ctx)
		if err != nil || n != len(w.players) {
			t.Fatalf("CountPlayers = %d, %v; want %d", n, err, len(w.players))
		}
	})
}

// listAll reads one page and fails the test on an error.
func listAll(t *testing.T, s ports.AdminStore, q ports.RaidQuery) []raids.Raid {
	t.Helper()
	got, err := s.ListRaids(context.Background(), q)
	if err != nil {
		t.Fatalf("ListRaids(%+v): %v", q, err)
	}
	return got
}

// walk reads every page of size, forward from the start or backward from the end.
func walk(t *testing.T, s ports.AdminStore, f ports.RaidFilter, order ports.RaidOrder, size int, backward bool) []raids.Raid {
	t.Helper()
	var all []raids.Raid
	var after *ports.RaidKey
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		page := listAll(t, s, ports.RaidQuery{Filter: f, Order: order, After: after, Backward: backward, Limit: size})
		if len(page) > size {
			t.Fatalf("page of %d rows, asked for %d", len(page), size)
		}
		all = append(all, page...)
		if len(page) < size {
			return all
		}
		after = ptrTo(ports.KeyOf(page[len(page)-1]))
	}
}

func requireRaids(t *testing.T, what string, got, want []raids.Raid) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d raids %v, want %d %v", what, len(got), ids(got), len(want), ids(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID {
			t.Fatalf("%s: got raids %v, want %v", what, ids(got), ids(want))
		}
		requireSameRaid(t, got[i], want[i])
	}
}

func requireCounts(t *testing.T, s ports.AdminStore, f ports.RaidFilter, want ports.RaidCounts) {
	t.Helper()
	got, err := s.CountRaids(context.Background(), f)
	if err != nil {
		t.Fatalf("CountRaids: %v", err)
	}
	if got != want {
		t.Fatalf("CountRaids(%s) = %+v, want %+v", describeFilter(f), got, want)
	}
}

func requirePlayers(t *testing.T, what string, got, want []ports.PlayerRow) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d players %v, want %d %v", what, len(got), nicknames(got), len(want), nicknames(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.RaidCount != w.RaidCount {
			t.Fatalf("%s: %s has %d raids, want %d", what, g.User.Nickname, g.RaidCount, w.RaidCount)
		}
		requireSameUser(t, g.User, w.User)
	}
}

func ids(rs []raids.Raid) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func nicknames(rows []ports.PlayerRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.User.Nickname
	}
	return out
}

func describeFilter(f ports.RaidFilter) string {
	var parts []string
	if f.UserID != 0 {
		parts = append(parts, fmt.Sprintf("user %d", f.UserID))
	}
	if f.Player != "" {
		kind := "prefix"
		if f.PlayerExact {
			kind = "exact"
		}
		parts = append(parts, fmt.Sprintf("player %s %q", kind, f.Player))
	}
	if !f.Status.IsZero() {
		parts = append(parts, f.Status.String())
	}
	if f.Level != nil {
		parts = append(parts, fmt.Sprintf("level %d", *f.Level))
	}
	if !f.From.IsZero() {
		parts = append(parts, "from "+f.From.Format(time.RFC3339Nano))
	}
	if !f.To.IsZero() {
		parts = append(parts, "to "+f.To.Format(time.RFC3339Nano))
	}
	if len(parts) == 0 {
		return "everything"
	}
	return strings.Join(parts, ", ")
}
