package portstest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// RaidHarness is an empty raid store, the player store its raids belong to, and a way to let
// the store's time pass.
type RaidHarness struct {
	Users ports.UserStore
	Raids ports.RaidStore
	// Advance moves the store's clock d forward (or, equivalently, moves every stored time d
	// into the past).
	Advance func(t *testing.T, d time.Duration)
}

// The raid the suites play: level 1 of the default boss data.
var (
	suiteLevel = raids.Level{Level: 1, Score: 47}
	suiteLimit = 3 * time.Minute
)

// RunRaidStore checks a ports.RaidStore.
func RunRaidStore(t *testing.T, newHarness func(t *testing.T) RaidHarness) {
	ctx := context.Background()

	t.Run("entering starts a raid in progress until its deadline", func(t *testing.T) {
		h := newHarness(t)
		p := NewPlayer(t, h.Users, "Hero")
		r := enter(t, h, p.ID)
		if r.ID <= 0 || r.UserID != p.ID || r.Nickname != "Hero" || r.Level != suiteLevel.Level ||
			r.LevelScore != suiteLevel.Score || r.Score != 0 || r.Status != raids.StatusInProgress ||
			r.EndTime != nil || r.TimeLimit != suiteLimit || r.EnterTime.IsZero() ||
			!r.Deadline.Equal(raids.Deadline(r.EnterTime, suiteLimit)) {
			t.Fatalf("EnterRaid = %+v", r)
		}
		requireSameRaid(t, raidByID(t, h, r.ID), r)
		cur, ok, err := h.Raids.CurrentRaid(ctx)
		if err != nil || !ok {
			t.Fatalf("CurrentRaid = %v, %v", ok, err)
		}
		requireSameRaid(t, cur, r)
	})

	t.Run("nobody inside, no current raid", func(t *testing.T) {
		h := newHarness(t)
		if _, ok, err := h.Raids.CurrentRaid(ctx); ok || err != nil {
			t.Fatalf("CurrentRaid on an empty store = %v, %v", ok, err)
		}
	})

	t.Run("one player at a time, the player inside included", func(t *testing.T) {
		h := newHarness(t)
		p, other := NewPlayer(t, h.Users, "Hero"), NewPlayer(t, h.Users, "Other")
		r := enter(t, h, p.ID)
		for _, who := range []int64{other.ID, p.ID} {
			_, err := h.Raids.EnterRaid(ctx, who, raids.Level{Level: 0, Score: 20}, suiteLimit)
			requireBusy(t, err, p.ID, r.ID)
		}
		if page, n, err := h.Raids.History(ctx, other.ID, 0, 10); err != nil || n != 0 || len(page) != 0 {
			t.Fatalf("a refused entry left history %v, %d, %v", page, n, err)
		}
	})

	t.Run("the time limit round-trips to the microsecond", func(t *testing.T) {
		h := newHarness(t)
		p := NewPlayer(t, h.Users, "Hero")
		limit := 90*time.Second + 250*time.Millisecond + 7*time.Microsecond
		r, err := h.Raids.EnterRaid(ctx, p.ID, suiteLevel, limit)
		if err != nil {
			t.Fatalf("EnterRaid: %v", err)
		}
		if r.TimeLimit != limit || r.Deadline.Sub(r.EnterTime) != limit {
			t.Fatalf("limit %v, deadline-enter %v, want %v", r.TimeLimit, r.Deadline.Sub(r.EnterTime), limit)
		}
		if got := raidByID(t, h, r.ID); got.TimeLimit != limit {
			t.Fatalf("stored limit %v, want %v", got.TimeLimit, limit)
		}
	})

	t.Run("clearing scores the level once and frees the raid", func(t *testing.T) {
		h := newHarness(t)
		p, other := NewPlayer(t, h.Users, "Hero"), NewPlayer(t, h.Users, "Other")
		r := enter(t, h, p.ID)
		var sawNow time.Time
		got, total, err := h.Raids.UpdateRaid(ctx, r.ID, func(r raids.Raid, now time.Time) (raids.Raid, error) {
			sawNow = now
			return r.End(p.ID, nil, now)
		})
		if err != nil {
			t.Fatalf("End: %v", err)
		}
		if got.Status != raids.StatusSuccess || got.Score != suiteLevel.Score || got.EndTime == nil ||
			!got.EndTime.Equal(sawNow) || got.Nickname != "Hero" || total != int64(suiteLevel.Score) {
			t.Fatalf("End = %+v, total %d", got, total)
		}
		if sawNow.Before(r.EnterTime) || !sawNow.Before(r.Deadline) {
			t.Fatalf("change saw now %v outside [%v, %v)", sawNow, r.EnterTime, r.Deadline)
		}
		requireSameRaid(t, raidByID(t, h, r.ID), got)
		requireTotal(t, h.Users, p.ID, int64(suiteLevel.Score))

		again, total, err := h.Raids.UpdateRaid(ctx, r.ID, func(r raids.Raid, now time.Time) (raids.Raid, error) {
			return r.End(p.ID, nil, now)
		})
		if !errors.Is(err, raids.ErrNotInProgress) || total != int64(suiteLevel.Score) {
			t.Fatalf("second End: %v, total %d; want ErrNotInProgress and the same total", err, total)
		}
		requireSameRaid(t, again, got)
		requireTotal(t, h.Users, p.ID, int64(suiteLevel.Score))
		if _, ok, _ := h.Raids.CurrentRaid(ctx); ok {
			t.Fatal("a cleared raid is still current")
		}
		enter(t, h, other.ID)
	})

	t.Run("totals add up over every cleared raid", func(t *testing.T) {
		h := newHarness(t)
		p := NewPlayer(t, h.Users, "Hero")
		want := int64(0)
		for i, lvl := range []raids.Level{{Level: 0, Score: 20}, {Level: 2, Score: 85}, {Level: 1, Score: 47}} {
			r, err := h.Raids.EnterRaid(ctx, p.ID, lvl, suiteLimit)
			if err != nil {
				t.Fatalf("EnterRaid: %v", err)
			}
			if i == 1 {
				h.Advance(t, suiteLimit) // this one fails and scores nothing
				if _, err := h.Raids.SweepExpired(ctx); err != nil {
					t.Fatalf("SweepExpired: %v", err)
				}
				continue
			}
			_, total := clearRaid(t, h, r)
			want += int64(lvl.Score)
			if total != want {
				t.Fatalf("total after raid %d = %d, want %d", i, total, want)
			}
		}
		requireTotal(t, h.Users, p.ID, want)
	})

	t.Run("an expired raid reads as failed at its deadline everywhere, swept or not", func(t *testing.T) {
		h := newHarness(t)
		p := NewPlayer(t, h.Users, "Hero")
		r := enter(t, h, p.ID)
		h.Advance(t, suiteLimit)
		failed := raidByID(t, h, r.ID)
		requireFailedAtDeadline(t, failed)
		if _, ok, err := h.Raids.CurrentRaid(ctx); ok || err != nil {
			t.Fatalf("CurrentRaid after the deadline = %v, %v", ok, err)
		}
		page, n, err := h.Raids.History(ctx, p.ID, 0, 10)
		if err != nil || n != 1 || len(page) != 1 {
			t.Fatalf("History = %v, %d, %v", page, n, err)
		}
		requireSameRaid(t, page[0], failed)

		for range 2 { // asking again gives the same answer
			got, total, err := h.Raids.UpdateRaid(ctx, r.ID, func(r raids.Raid, now time.Time) (raids.Raid, error) {
				return r.End(p.ID, nil, now)
			})
			if !errors.Is(err, raids.ErrExpired) || total != 0 {
				t.Fatalf("End after the deadline: %v, total %d; want ErrExpired, 0", err, total)
			}
			requireSameRaid(t, got, failed)
		}
		requireSameRaid(t, raidByID(t, h, r.ID), failed)
		requireTotal(t, h.Users, p.ID, 0)
		if n, err := h.Raids.SweepExpired(ctx); err != nil || n != 0 {
			t.Fatalf("SweepExpired after End recorded the failure = %d, %v; want 0", n, err)
		}
	})

	t.Run("a raid is in progress until its deadline, not after", func(t *testing.T) {
		h := newHarness(t)
		p := NewPlayer(t, h.Users, "Hero")
		r := enter(t, h, p.ID)
		h.Advance(t, suiteLimit-10*time.Second)
		if cur, ok, err := h.Raids.CurrentRaid(ctx); !ok || err != nil || cur.ID != r.ID {
			t.Fatalf("CurrentRaid 10s before the deadline = %v, %v", ok, err)
		}
		if got := raidByID(t, h, r.ID); got.Status != raids.StatusInProgress {
			t.Fatalf("status 10s before the deadline = %v", got.Status)
		}
		h.Advance(t, 10*time.Second)
		if _, ok, _ := h.Raids.CurrentRaid(ctx); ok {
			t.Fatal("CurrentRaid at the deadline still reports the raid")
		}
	})

	t.Run("entering after an expiry records the failure", func(t *testing.T) {
		h := newHarness(t)
		p, other := NewPlayer(t, h.Users, "Hero"), NewPlayer(t, h.Users, "Other")
		r := enter(t, h, p.ID)
		h.Advance(t, suiteLimit+time.Second)
		next := enter(t, h, other.ID)
		if next.ID == r.ID {
			t.Fatal("the new raid reused the expired one's id")
		}
		requireFailedAtDeadline(t, raidByID(t, h, r.ID))
		if n, err := h.Raids.SweepExpired(ctx); err != nil || n != 0 {
			t.Fatalf("SweepExpired after the entry closed the expired raid = %d, %v; want 0", n, err)
		}
	})

	t.Run("sweeping records expired raids only", func(t *testing.T) {
		h := newHarness(t)
		a, b, c := NewPlayer(t, h.Users, "Alpha"), NewPlayer(t, h.Users, "Beta"), NewPlayer(t, h.Users, "Gamma")
		cleared, _ := clearRaid(t, h, enter(t, h, a.ID))
		expired := enter(t, h, b.ID)
		h.Advance(t, suiteLimit)
		if n, err := h.Raids.SweepExpired(ctx); err != nil || n != 1 {
			t.Fatalf("SweepExpired = %d, %v; want 1", n, err)
		}
		requireFailedAtDeadline(t, raidByID(t, h, expired.ID))
		requireSameRaidLater(t, raidByID(t, h, cleared.ID), cleared)
		running := enter(t, h, c.ID)
		if n, err := h.Raids.SweepExpired(ctx); err != nil || n != 0 {
			t.Fatalf("second SweepExpired = %d, %v; want 0", n, err)
		}
		requireSameRaid(t, raidByID(t, h, running.ID), running)
	})

	t.Run("change sees the raid as it stands at the store's now", func(t *testing.T) {
		h := newHarness(t)
		p := NewPlayer(t, h.Users, "Hero")
		r := enter(t, h, p.ID)
		h.Advance(t, suiteLimit+time.Second)
		errLook := errors.New("just looking")
		var saw raids.Raid
		var sawNow time.Time
		got, _, err := h.Raids.UpdateRaid(ctx, r.ID, func(r raids.Raid, now time.Time) (raids.Raid, error) {
			saw, sawNow = r, now
			return r, errLook
		})
		if !errors.Is(err, errLook) {
			t.Fatalf("UpdateRaid returned %v, want change's error", err)
		}
		requireFailedAtDeadline(t, saw)
		if sawNow.Sub(saw.Deadline) < time.Second {
			t.Fatalf("change saw now %v, only %v past the deadline %v", sawNow, sawNow.Sub(saw.Deadline), saw.Deadline)
		}
		requireSameRaid(t, got, saw)
		requireSameRaid(t, raidByID(t, h, r.ID), saw)
	})

	t.Run("a refusal that changes nothing stores nothing", func(t *testing.T) {
		h := newHarness(t)
		p, other := NewPlayer(t, h.Users, "Hero"), NewPlayer(t, h.Users, "Other")
		r := enter(t, h, p.ID)
		wrongLevel := r.Level + 1
		for _, try := range []struct {
			by    int64
			level *int
			want  error
		}{{other.ID, nil, raids.ErrNotFound}, {p.ID, &wrongLevel, raids.ErrLevelMismatch}} {
			got, total, err := h.Raids.UpdateRaid(ctx, r.ID, func(r raids.Raid, now time.Time) (raids.Raid, error) {
				return r.End(try.by, try.level, now)
			})
			if !errors.Is(err, try.want) || total != 0 {
				t.Fatalf("End by %d: %v, total %d; want %v", try.by, err, total, try.want)
			}
			requireSameRaid(t, got, r)
		}
		requireSameRaid(t, raidByID(t, h, r.ID), r)
		clearRaid(t, h, r) // still clearable by its player
	})

	t.Run("a refusal that records a result stores it", func(t *testing.T) {
		h := newHarness(t)
		p := NewPlayer(t, h.Users, "Hero")
		r := enter(t, h, p.ID)
		errGaveUp := errors.New("gave up")
		got, total, err := h.Raids.UpdateRaid(ctx, r.ID, func(r raids.Raid, now time.Time) (raids.Raid, error) {
			r.Status, r.EndTime = raids.StatusFail, &now
			return r, errGaveUp
		})
		if !errors.Is(err, errGaveUp) || total != 0 || got.Status != raids.StatusFail || got.EndTime == nil {
			t.Fatalf("UpdateRaid = %+v, %d, %v", got, total, err)
		}
		requireSameRaid(t, raidByID(t, h, r.ID), got)
		if _, ok, _ := h.Raids.CurrentRaid(ctx); ok {
			t.Fatal("a failed raid is still current")
		}
	})

	t.Run("an unknown raid is not found and change is not called", func(t *testing.T) {
		h := newHarness(t)
		p := NewPlayer(t, h.Users, "Hero")
		r := enter(t, h, p.ID)
		_, _, err := h.Raids.UpdateRaid(ctx, r.ID+1000, func(r raids.Raid, now time.Time) (raids.Raid, error) {
			t.Error("change called for an unknown raid")
			return r, nil
		})
		if !errors.Is(err, raids.ErrNotFound) {
			t.Fatalf("UpdateRaid unknown id: got %v, want ErrNotFound", err)
		}
		if _, err := h.Raids.RaidByID(ctx, r.ID+1000); !errors.Is(err, raids.ErrNotFound) {
			t.Fatalf("RaidByID unknown id: got %v, want ErrNotFound", err)
		}
	})

	t.Run("history is the player's own, newest first, in pages", func(t *testing.T) {
		h := newHarness(t)
		p, other := NewPlayer(t, h.Users, "Hero"), NewPlayer(t, h.Users, "Other")
		var ids []int64 // oldest first
		for i := range 5 {
			r := enter(t, h, p.ID)
			ids = append(ids, r.ID)
			switch {
			case i == 4: // the newest stays in progress
			case i%2 == 0:
				clearRaid(t, h, r)
			default:
				h.Advance(t, suiteLimit) // expires, never swept
			}
			if i < 4 {
				clearRaid(t, h, enter(t, h, other.ID))
			}
		}
		wantStatus := []raids.Status{raids.StatusSuccess, raids.StatusFail, raids.StatusSuccess, raids.StatusFail, raids.StatusInProgress}
		for _, pg := range []struct{ offset, limit, want int }{{0, 2, 2}, {2, 2, 2}, {4, 2, 1}, {0, 100, 5}, {5, 10, 0}, {50, 10, 0}} {
			page, n, err := h.Raids.History(ctx, p.ID, pg.offset, pg.limit)
			if err != nil {
				t.Fatalf("History(%d, %d): %v", pg.offset, pg.limit, err)
			}
			if n != 5 || len(page) != pg.want {
				t.Fatalf("History(%d, %d) gave %d raids of %d; want %d of 5", pg.offset, pg.limit, len(page), n, pg.want)
			}
			for i, r := range page {
				k := len(ids) - 1 - pg.offset - i
				requireSameRaid(t, r, raidByID(t, h, ids[k]))
				if r.Status != wantStatus[k] {
					t.Fatalf("raid %d of history is %v, want %v", k, r.Status, wantStatus[k])
				}
			}
		}
		if page, n, err := h.Raids.History(ctx, p.ID+1000, 0, 10); err != nil || n != 0 || len(page) != 0 {
			t.Fatalf("History of nobody = %v, %d, %v", page, n, err)
		}
	})

	t.Run("simultaneous entries admit exactly one player", func(t *testing.T) {
		h := newHarness(t)
		const n = 20
		players := make([]int64, n)
		for i := range players {
			players[i] = NewPlayer(t, h.Users, fmt.Sprintf("racer%d", i)).ID
		}
		results := make([]raids.Raid, n)
		errs := make([]error, n)
		Simultaneously(n, func(i int) {
			results[i], errs[i] = h.Raids.EnterRaid(ctx, players[i], suiteLevel, suiteLimit)
		})
		winner := -1
		for i, err := range errs {
			if err == nil {
				if winner >= 0 {
					t.Fatalf("players %d and %d both entered", players[winner], players[i])
				}
				winner = i
			}
		}
		if winner < 0 {
			t.Fatal("nobody entered")
		}
		for i, err := range errs {
			if i != winner {
				requireBusy(t, err, players[winner], results[winner].ID)
			}
		}
	})

	t.Run("simultaneous clears score exactly once", func(t *testing.T) {
		h := newHarness(t)
		p := NewPlayer(t, h.Users, "Hero")
		r := enter(t, h, p.ID)
		const n = 20
		errs := make([]error, n)
		totals := make([]int64, n)
		Simultaneously(n, func(i int) {
			_, totals[i], errs[i] = h.Raids.UpdateRaid(ctx, r.ID, func(r raids.Raid, now time.Time) (raids.Raid, error) {
				return r.End(p.ID, nil, now)
			})
		})
		cleared := 0
		for i, err := range errs {
			switch {
			case err == nil:
				cleared++
			case !errors.Is(err, raids.ErrNotInProgress):
				t.Fatalf("clear %d: %v", i, err)
			}
			if totals[i] != int64(suiteLevel.Score) {
				t.Fatalf("clear %d saw total %d, want %d", i, totals[i], suiteLevel.Score)
			}
		}
		if cleared != 1 {
			t.Fatalf("%d clears succeeded, want 1", cleared)
		}
		requireTotal(t, h.Users, p.ID, int64(suiteLevel.Score))
	})
}

func enter(t *testing.T, h RaidHarness, userID int64) raids.Raid {
	t.Helper()
	r, err := h.Raids.EnterRaid(context.Background(), userID, suiteLevel, suiteLimit)
	if err != nil {
		t.Fatalf("EnterRaid(%d): %v", userID, err)
	}
	return r
}

// clearRaid ends r successfully for its player and returns it with the player's new total.
func clearRaid(t *testing.T, h RaidHarness, r raids.Raid) (raids.Raid, int64) {
	t.Helper()
	got, total, err := h.Raids.UpdateRaid(context.Background(), r.ID, func(r raids.Raid, now time.Time) (raids.Raid, error) {
		return r.End(r.UserID, nil, now)
	})
	if err != nil {
		t.Fatalf("End(%d): %v", r.ID, err)
	}
	return got, total
}

func raidByID(t *testing.T, h RaidHarness, id int64) raids.Raid {
	t.Helper()
	r, err := h.Raids.RaidByID(context.Background(), id)
	if err != nil {
		t.Fatalf("RaidByID(%d): %v", id, err)
	}
	return r
}

func requireBusy(t *testing.T, err error, userID, raidID int64) {
	t.Helper()
	var busy *raids.BusyError
	if !errors.As(err, &busy) || !errors.Is(err, raids.ErrBusy) {
		t.Fatalf("got %v, want *raids.BusyError", err)
	}
	if busy.UserID != userID || busy.RaidID != raidID {
		t.Fatalf("busy says player %d in raid %d, want player %d in raid %d", busy.UserID, busy.RaidID, userID, raidID)
	}
}

func requireFailedAtDeadline(t *testing.T, r raids.Raid) {
	t.Helper()
	if r.Status != raids.StatusFail || r.Score != 0 || r.EndTime == nil || !r.EndTime.Equal(r.Deadline) {
		t.Fatalf("raid %d is %v with score %d, ended %v; want failed at its deadline %v", r.ID, r.Status, r.Score, r.EndTime, r.Deadline)
	}
}

func requireTotal(t *testing.T, s ports.UserStore, userID, want int64) {
	t.Helper()
	u, err := s.UserByID(context.Background(), userID)
	if err != nil {
		t.Fatalf("UserByID(%d): %v", userID, err)
	}
	if u.TotalScore != want {
		t.Fatalf("player %d total %d, want %d", userID, u.TotalScore, want)
	}
}

func requireSameRaid(t *testing.T, got, want raids.Raid) {
	t.Helper()
	sameEnd := (got.EndTime == nil) == (want.EndTime == nil) && (got.EndTime == nil || got.EndTime.Equal(*want.EndTime))
	if got.ID != want.ID || got.UserID != want.UserID || got.Nickname != want.Nickname || got.Level != want.Level ||
		got.LevelScore != want.LevelScore || got.Score != want.Score || got.Status != want.Status ||
		!got.EnterTime.Equal(want.EnterTime) || !got.Deadline.Equal(want.Deadline) || !sameEnd ||
		got.TimeLimit != want.TimeLimit {
		t.Fatalf("got raid %s, want %s", describe(got), describe(want))
	}
}

func describe(r raids.Raid) string {
	end := "nil"
	if r.EndTime != nil {
		end = r.EndTime.String()
	}
	return fmt.Sprintf("{id %d player %d %q level %d/%d score %d %v enter %v deadline %v end %s limit %v}",
		r.ID, r.UserID, r.Nickname, r.Level, r.LevelScore, r.Score, r.Status, r.EnterTime, r.Deadline, end, r.TimeLimit)
}

// requireSameRaidLater compares a raid read after Advance with one read before: a store may
// let time pass by moving its stored times back, so only their distances must match.
func requireSameRaidLater(t *testing.T, got, want raids.Raid) {
	t.Helper()
	shift := got.EnterTime.Sub(want.EnterTime)
	want.EnterTime = want.EnterTime.Add(shift)
	want.Deadline = want.Deadline.Add(shift)
	if want.EndTime != nil {
		end := want.EndTime.Add(shift)
		want.EndTime = &end
	}
	requireSameRaid(t, got, want)
}
