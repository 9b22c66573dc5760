package portstest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// QueueHarness is an empty raid store with its queue, the stores of the players, and a way
// to let the store's time pass (as RaidHarness's Advance).
type QueueHarness struct {
	Users    ports.UserStore
	Sessions ports.SessionStore
	Raids    ports.RaidStore
	Queue    ports.RaidQueue
	Advance  func(t *testing.T, d time.Duration)
}

// suiteTurn is how long a turn lasts in the suite.
const suiteTurn = time.Minute

// RunRaidQueue checks a ports.RaidQueue together with the RaidStore whose entries it orders.
func RunRaidQueue(t *testing.T, newHarness func(t *testing.T) QueueHarness) {
	ctx := context.Background()
	raidsOf := func(h QueueHarness) RaidHarness {
		return RaidHarness{Users: h.Users, Raids: h.Raids, Advance: h.Advance}
	}

	t.Run("nobody inside and nobody waiting: joining is refused, entering works", func(t *testing.T) {
		h := newHarness(t)
		p := NewPlayer(t, h.Users, "Hero")
		if _, err := h.Queue.JoinQueue(ctx, p.ID, suiteTurn); !errors.Is(err, raids.ErrRaidFree) {
			t.Fatalf("JoinQueue on a free raid = %v, want raids.ErrRaidFree", err)
		}
		requireLine(t, h, nil, 0)
		enter(t, raidsOf(h), p.ID)
	})

	t.Run("players wait in the order they joined; once each; not the one inside", func(t *testing.T) {
		h := newHarness(t)
		inside, a, b := NewPlayer(t, h.Users, "Inside"), NewPlayer(t, h.Users, "Alpha"), NewPlayer(t, h.Users, "Bravo")
		enter(t, raidsOf(h), inside.ID)
		if _, err := h.Queue.JoinQueue(ctx, inside.ID, suiteTurn); !errors.Is(err, raids.ErrInsideRaid) {
			t.Fatalf("the player inside joins: %v, want raids.ErrInsideRaid", err)
		}
		join(t, h, a.ID, 1)
		join(t, h, b.ID, 2)
		if _, err := h.Queue.JoinQueue(ctx, a.ID, suiteTurn); !errors.Is(err, raids.ErrAlreadyQueued) {
			t.Fatalf("joining twice: %v, want raids.ErrAlreadyQueued", err)
		}
		l := requireLine(t, h, []int64{a.ID, b.ID}, 0)
		if l.Waiting[0].Nickname != "Alpha" || l.Waiting[0].Turn != suiteTurn || l.Waiting[0].JoinedAt.IsZero() ||
			l.Waiting[1].JoinedAt.Before(l.Waiting[0].JoinedAt) {
			t.Fatalf("line = %+v", l.Waiting)
		}
		if _, err := h.Queue.JoinQueue(ctx, 1<<40, suiteTurn); !errors.Is(err, users.ErrNotFound) {
			t.Fatalf("an unknown player joins: %v, want users.ErrNotFound", err)
		}
	})

	t.Run("when the raid is cleared only the head may enter, until the turn ends", func(t *testing.T) {
		h := newHarness(t)
		inside, a, b := NewPlayer(t, h.Users, "Inside"), NewPlayer(t, h.Users, "Alpha"), NewPlayer(t, h.Users, "Bravo")
		stranger := NewPlayer(t, h.Users, "Stranger")
		r := enter(t, raidsOf(h), inside.ID)
		join(t, h, a.ID, 1)
		join(t, h, b.ID, 2)
		before := requireLine(t, h, []int64{a.ID, b.ID}, 0)
		cleared, _ := clearRaid(t, raidsOf(h), r)
		l := requireLine(t, h, []int64{a.ID, b.ID}, a.ID)
		if !l.Reservation.Since.Equal(*cleared.EndTime) || l.Reservation.Until.Sub(l.Reservation.Since) != suiteTurn ||
			l.Reservation.Nickname != "Alpha" {
			t.Fatalf("reservation %+v, want Alpha's from the clear at %v for %v", l.Reservation, cleared.EndTime, suiteTurn)
		}
		for _, who := range []int64{b.ID, stranger.ID, inside.ID} {
			_, err := h.Raids.EnterRaid(ctx, who, suiteLevel, suiteLimit)
			requireReserved(t, err, a.ID, l.Reservation.Until)
		}
		got := enter(t, raidsOf(h), a.ID)
		if got.UserID != a.ID {
			t.Fatalf("the holder entered as %d", got.UserID)
		}
		after := requireLine(t, h, []int64{b.ID}, 0)
		if after.TurnsTaken != before.TurnsTaken+1 || after.TurnsLapsed != before.TurnsLapsed {
			t.Fatalf("turns taken %d→%d lapsed %d→%d, want one taken", before.TurnsTaken, after.TurnsTaken, before.TurnsLapsed, after.TurnsLapsed)
		}
		_, err := h.Raids.EnterRaid(ctx, b.ID, suiteLevel, suiteLimit)
		requireBusy(t, err, a.ID, got.ID)
	})

	t.Run("a raid past its deadline frees the turn at its deadline", func(t *testing.T) {
		h := newHarness(t)
		inside, a := NewPlayer(t, h.Users, "Inside"), NewPlayer(t, h.Users, "Alpha")
		r := enter(t, raidsOf(h), inside.ID)
		join(t, h, a.ID, 1)
		h.Advance(t, suiteLimit+time.Second)
		l := requireLine(t, h, []int64{a.ID}, a.ID)
		expired := raidByID(t, raidsOf(h), r.ID)
		if !l.Reservation.Since.Equal(expired.Deadline) {
			t.Fatalf("turn from %v, want the deadline %v", l.Reservation.Since, expired.Deadline)
		}
		_, err := h.Raids.EnterRaid(ctx, inside.ID, suiteLevel, suiteLimit)
		requireReserved(t, err, a.ID, l.Reservation.Until)
		enter(t, raidsOf(h), a.ID)
	})

	t.Run("a turn not taken passes to the next, and the last one frees the raid for all", func(t *testing.T) {
		h := newHarness(t)
		_, a, b, first := alphaHoldsTheTurn(t, h)
		stranger := NewPlayer(t, h.Users, "Stranger")
		h.Advance(t, suiteTurn+time.Second)
		l := requireLine(t, h, []int64{b.ID}, b.ID)
		if l.Reservation.Since.Sub(first.Reservation.Until) != -(suiteTurn+time.Second) && // the store moved its times back
			!l.Reservation.Since.Equal(first.Reservation.Until) {
			t.Fatalf("Bravo's turn from %v, want when Alpha's ended (%v)", l.Reservation.Since, first.Reservation.Until)
		}
		if l.Reservation.Until.Sub(l.Reservation.Since) != suiteTurn {
			t.Fatalf("Bravo's turn %+v is not a whole turn", l.Reservation)
		}
		if l.TurnsLapsed != first.TurnsLapsed+1 {
			t.Fatalf("turns lapsed %d→%d, want one more", first.TurnsLapsed, l.TurnsLapsed)
		}
		_, err := h.Raids.EnterRaid(ctx, a.ID, suiteLevel, suiteLimit)
		requireReserved(t, err, b.ID, l.Reservation.Until)
		if err := h.Queue.LeaveQueue(ctx, a.ID); !errors.Is(err, raids.ErrNotQueued) {
			t.Fatalf("the lapsed player leaves: %v, want raids.ErrNotQueued", err)
		}
		h.Advance(t, suiteTurn+time.Second)
		last := requireLine(t, h, nil, 0)
		if last.TurnsLapsed != first.TurnsLapsed+2 {
			t.Fatalf("turns lapsed %d→%d, want two more", first.TurnsLapsed, last.TurnsLapsed)
		}
		if _, err := h.Queue.JoinQueue(ctx, a.ID, suiteTurn); !errors.Is(err, raids.ErrRaidFree) {
			t.Fatalf("joining once every turn lapsed: %v, want raids.ErrRaidFree", err)
		}
		enter(t, raidsOf(h), stranger.ID)
	})

	t.Run("a holder who leaves passes the turn on at once, in full", func(t *testing.T) {
		h := newHarness(t)
		_, a, b, first := alphaHoldsTheTurn(t, h)
		h.Advance(t, 10*time.Second)
		if err := h.Queue.LeaveQueue(ctx, a.ID); err != nil {
			t.Fatalf("LeaveQueue: %v", err)
		}
		l := requireLine(t, h, []int64{b.ID}, b.ID)
		// From the leave, not from Alpha's start (which a store that moved its times back
		// now keeps 10 s earlier, and one that moved its clock keeps where it was).
		if l.Reservation.Until.Sub(l.Reservation.Since) != suiteTurn || !l.Reservation.Since.After(first.Reservation.Since) {
			t.Fatalf("Bravo's turn %+v after Alpha's %+v left: want a whole turn from the leave", l.Reservation, first.Reservation)
		}
		if l.TurnsLapsed != first.TurnsLapsed || l.TurnsTaken != first.TurnsTaken {
			t.Fatalf("a leave counted as a turn: %+v → %+v", first, l)
		}
		enter(t, raidsOf(h), b.ID)
	})

	t.Run("leaving and joining again goes to the back", func(t *testing.T) {
		h := newHarness(t)
		inside := NewPlayer(t, h.Users, "Inside")
		a, b, c := NewPlayer(t, h.Users, "Alpha"), NewPlayer(t, h.Users, "Bravo"), NewPlayer(t, h.Users, "Charlie")
		enter(t, raidsOf(h), inside.ID)
		join(t, h, a.ID, 1)
		join(t, h, b.ID, 2)
		join(t, h, c.ID, 3)
		if err := h.Queue.LeaveQueue(ctx, a.ID); err != nil {
			t.Fatalf("LeaveQueue: %v", err)
		}
		if err := h.Queue.LeaveQueue(ctx, a.ID); !errors.Is(err, raids.ErrNotQueued) {
			t.Fatalf("leaving twice: %v, want raids.ErrNotQueued", err)
		}
		join(t, h, a.ID, 3)
		requireLine(t, h, []int64{b.ID, c.ID, a.ID}, 0)
	})

	t.Run("signing out everywhere leaves the line", func(t *testing.T) {
		h := newHarness(t)
		inside, a, b, _ := alphaHoldsTheTurn(t, h)
		if _, err := h.Sessions.EndAllSessions(ctx, a.ID); err != nil {
			t.Fatalf("EndAllSessions: %v", err)
		}
		l := requireLine(t, h, []int64{b.ID}, b.ID)
		if l.Reservation.Until.Sub(l.Reservation.Since) != suiteTurn {
			t.Fatalf("Bravo's turn %+v is not a whole turn", l.Reservation)
		}
		if _, err := h.Sessions.EndAllSessions(ctx, inside.ID); err != nil { // not waiting: nothing to leave
			t.Fatalf("EndAllSessions: %v", err)
		}
	})

	t.Run("simultaneous joins line up in the order they were taken, each place once", func(t *testing.T) {
		h := newHarness(t)
		inside := NewPlayer(t, h.Users, "Inside")
		enter(t, raidsOf(h), inside.ID)
		const n = 40
		ids := make([]int64, n)
		for i := range ids {
			ids[i] = NewPlayer(t, h.Users, fmt.Sprintf("w%d", i)).ID
		}
		places := make([]int, n)
		errs := make([]error, n)
		Simultaneously(n, func(i int) {
			places[i], errs[i] = h.Queue.JoinQueue(ctx, ids[i], suiteTurn)
		})
		// A join may wait for every other one; one that could not get its turn while the store
		// is overloaded says so (ports.ErrUnavailable) and is not in the line. Every other one is.
		joined := 0
		for i, err := range errs {
			switch {
			case err == nil:
				joined++
			case errors.Is(err, ports.ErrUnavailable):
				t.Logf("join %d: %v", i, err)
			default:
				t.Fatalf("join %d: %v", i, err)
			}
		}
		if joined < n/2 {
			t.Fatalf("only %d of %d simultaneous joins got in", joined, n)
		}
		want := make([]int64, joined)
		for i, pos := range places {
			if errs[i] != nil {
				continue
			}
			if pos < 1 || pos > joined || want[pos-1] != 0 {
				t.Fatalf("join %d was given place %d twice or out of range (%v)", i, pos, places)
			}
			want[pos-1] = ids[i]
		}
		requireLine(t, h, want, 0)
	})

	t.Run("while a turn is held, simultaneous entries from others are all refused", func(t *testing.T) {
		h := newHarness(t)
		inside, a := NewPlayer(t, h.Users, "Inside"), NewPlayer(t, h.Users, "Alpha")
		const n = 30
		ids := make([]int64, n)
		for i := range ids {
			ids[i] = NewPlayer(t, h.Users, fmt.Sprintf("o%d", i)).ID
		}
		r := enter(t, raidsOf(h), inside.ID)
		join(t, h, a.ID, 1)
		clearRaid(t, raidsOf(h), r)
		var others atomic.Int32
		Simultaneously(n+1, func(i int) {
			if i == n {
				return
			}
			if _, err := h.Raids.EnterRaid(ctx, ids[i], suiteLevel, suiteLimit); errors.Is(err, raids.ErrReserved) {
				others.Add(1)
			}
		})
		if others.Load() != n {
			t.Fatalf("%d of %d entries were refused as reserved", others.Load(), n)
		}
		enter(t, raidsOf(h), a.ID)
	})
}

func join(t *testing.T, h QueueHarness, userID int64, want int) {
	t.Helper()
	pos, err := h.Queue.JoinQueue(context.Background(), userID, suiteTurn)
	if err != nil || pos != want {
		t.Fatalf("JoinQueue(%d) = %d, %v; want place %d", userID, pos, err, want)
	}
}

// requireLine checks who waits, in order, and who holds the turn (0: nobody).
func requireLine(t *testing.T, h QueueHarness, want []int64, holder int64) raids.Line {
	t.Helper()
	l, err := h.Queue.Line(context.Background())
	if err != nil {
		t.Fatalf("Line: %v", err)
	}
	got := make([]int64, len(l.Waiting))
	for i, w := range l.Waiting {
		got[i] = w.UserID
		if l.Position(w.UserID) != i+1 {
			t.Fatalf("Position(%d) = %d, want %d", w.UserID, l.Position(w.UserID), i+1)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(append([]int64{}, want...)) {
		t.Fatalf("line %v, want %v", got, want)
	}
	switch {
	case holder == 0 && l.Reservation != nil:
		t.Fatalf("reservation %+v, want none", l.Reservation)
	case holder != 0 && (l.Reservation == nil || l.Reservation.UserID != holder):
		t.Fatalf("reservation %+v, want player %d's", l.Reservation, holder)
	case holder != 0 && !l.Now.Before(l.Reservation.Until):
		t.Fatalf("reservation %+v has ended at %v", l.Reservation, l.Now)
	}
	return l
}

func requireReserved(t *testing.T, err error, holder int64, until time.Time) {
	t.Helper()
	reserved, ok := errors.AsType[*raids.ReservedError](err)
	if !ok || !errors.Is(err, raids.ErrReserved) {
		t.Fatalf("got %v, want *raids.ReservedError", err)
	}
	if reserved.UserID != holder || !reserved.Until.Equal(until) {
		t.Fatalf("reserved for %d until %v, want %d until %v", reserved.UserID, reserved.Until, holder, until)
	}
}

// alphaHoldsTheTurn plays the start most cases share: Inside enters, Alpha and Bravo join,
// Inside clears, and it is Alpha's turn.
func alphaHoldsTheTurn(t *testing.T, h QueueHarness) (inside, a, b users.User, l raids.Line) {
	t.Helper()
	inside, a, b = NewPlayer(t, h.Users, "Inside"), NewPlayer(t, h.Users, "Alpha"), NewPlayer(t, h.Users, "Bravo")
	r := enter(t, RaidHarness{Users: h.Users, Raids: h.Raids, Advance: h.Advance}, inside.ID)
	join(t, h, a.ID, 1)
	join(t, h, b.ID, 2)
	clearRaid(t, RaidHarness{Users: h.Users, Raids: h.Raids, Advance: h.Advance}, r)
	return inside, a, b, requireLine(t, h, []int64{a.ID, b.ID}, a.ID)
}
