package hot_test

import (
	"context"
	"testing"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports/portstest"
)

// The line every status reads comes from memory until it changes: a join or leave here shows
// at once, one elsewhere as soon as the feed reports it, and a turn running out without anyone
// announcing it is read again when it ends.
func TestTheLineComesFromMemoryUntilItChanges(t *testing.T) {
	s := newStore()
	here, there := newInstance(t, s, s.Changes()), newInstance(t, s, s.Changes())
	ctx := context.Background()
	alice, bob, carol := portstest.NewPlayer(t, s, "hotinside"), portstest.NewPlayer(t, s, "hotfirst"), portstest.NewPlayer(t, s, "hotsecond")
	r, err := here.raids.EnterRaid(ctx, alice.ID, raids.DefaultBossData().Levels[0], time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	line := func(in *instance) raids.Line {
		t.Helper()
		if _, _, err := in.raids.CurrentRaid(ctx); err != nil { // as the status does, first
			t.Fatal(err)
		}
		l, err := in.queue.Line(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	waiting := func(l raids.Line) []int64 {
		var ids []int64
		for _, w := range l.Waiting {
			ids = append(ids, w.UserID)
		}
		return ids
	}
	reads := func() int64 { return s.lineReads.Load() }

	settle(t, s, here, there) // the entry's own notification must not evict what is counted
	line(here)
	before := reads()
	for range 5 {
		if l := line(here); len(l.Waiting) != 0 {
			t.Fatalf("line %v, want empty", waiting(l))
		}
	}
	if n := reads() - before; n != 0 {
		t.Fatalf("5 reads of an unchanged line reached the store %d times, want 0", n)
	}

	// A join on the other instance shows here once the feed reports it.
	if _, err := there.queue.JoinQueue(ctx, bob.ID, time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other instance's join", func() bool { return len(line(here).Waiting) == 1 })
	// A join here shows here at once.
	if _, err := here.queue.JoinQueue(ctx, carol.ID, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := waiting(line(here)); len(got) != 2 || got[0] != bob.ID || got[1] != carol.ID {
		t.Fatalf("right after joining here: %v, want [%d %d]", got, bob.ID, carol.ID)
	}

	// Alice clears: Bob holds the turn, kept in memory until it ends; then it is Carol's.
	if _, _, err := here.raids.UpdateRaid(ctx, r.ID, func(r raids.Raid, now time.Time) (raids.Raid, error) {
		return r.End(alice.ID, nil, now)
	}); err != nil {
		t.Fatal(err)
	}
	settle(t, s, here)
	l := line(here)
	if l.Reservation == nil || l.Reservation.UserID != bob.ID {
		t.Fatalf("after the clear the reservation is %+v, want Bob's", l.Reservation)
	}
	before = reads()
	if l2 := line(here); l2.Reservation == nil || l2.Reservation.UserID != bob.ID || reads() != before {
		t.Fatalf("the held turn read again: %+v, %d store reads", l2.Reservation, reads()-before)
	}
	waitFor(t, "Bob's turn to lapse and Carol's to start", func() bool {
		l := line(here)
		return l.Reservation != nil && l.Reservation.UserID == carol.ID
	})
	if got := waiting(line(here)); len(got) != 1 || got[0] != carol.ID {
		t.Fatalf("after Bob's turn lapsed: %v, want [%d]", got, carol.ID)
	}
}
