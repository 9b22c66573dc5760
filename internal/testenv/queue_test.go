package testenv_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/internal/testenv"
	"github.com/bossraid/bossraid/ports"
)

// The raid queue (issue 14) across two instances: both decide through Postgres, so every rule
// must hold whichever instance each player's requests reach.

// twoQueueInstances is twoInstances with the given turn length.
func twoQueueInstances(t *testing.T, turn time.Duration) (a, b *testenv.Stack) {
	a = testenv.NewStack(t, testenv.StackOptions{RedisDB: redisDB, QueueTurn: turn})
	b = testenv.NewStack(t, testenv.StackOptions{RedisDB: redisDB, QueueTurn: turn, KeepData: true})
	return a, b
}

// crowd registers n players straight in the database (no password is ever checked).
func crowd(t *testing.T, st *testenv.Stack, n int) []app.Player {
	t.Helper()
	rows, err := st.DB.Query(`
		INSERT INTO users (email, nickname, nickname_key, password_hash)
		SELECT 'crowd' || i || '@example.com', 'crowd' || i, 'crowd' || i, 'x' FROM generate_series(1, $1) i
		RETURNING id, nickname`, n)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []app.Player
	for rows.Next() {
		var p app.Player
		if err := rows.Scan(&p.ID, &p.Nickname); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil || len(out) != n {
		t.Fatalf("crowd: %d players, %v", len(out), err)
	}
	return out
}

// inProgress counts the raids stored in progress: never more than one.
func inProgress(t *testing.T, st *testenv.Stack) int {
	t.Helper()
	var n int
	if err := st.DB.QueryRow(`SELECT count(*) FROM raids WHERE status = 'in_progress'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func mustJoin(t *testing.T, st *testenv.Stack, p app.Player, want int) {
	t.Helper()
	pos, err := st.Queue.Join(context.Background(), p)
	if err != nil || pos != want {
		t.Fatalf("%s joins: place %d, %v; want %d", p.Nickname, pos, err, want)
	}
}

func requireLineOf(t *testing.T, st *testenv.Stack, want ...app.Player) raids.Line {
	t.Helper()
	l, err := st.Queue.Line(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Waiting) != len(want) {
		t.Fatalf("line of %d, want %d: %+v", len(l.Waiting), len(want), l.Waiting)
	}
	for i, w := range l.Waiting {
		if w.UserID != want[i].ID {
			t.Fatalf("place %d is player %d, want %s (%d)", i+1, w.UserID, want[i].Nickname, want[i].ID)
		}
	}
	return l
}

// rush runs fn for every player at the same moment, half of them through each instance.
func rush(players []app.Player, a, b *testenv.Stack, fn func(i int, st *testenv.Stack, p app.Player)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, p := range players {
		st := a
		if i%2 == 1 {
			st = b
		}
		wg.Go(func() {
			<-start
			fn(i, st, p)
		})
	}
	close(start)
	wg.Wait()
}

// waitForDatabaseClock returns once the database's clock has reached t.
func waitForDatabaseClock(t *testing.T, st *testenv.Stack, at time.Time) {
	t.Helper()
	for {
		var reached bool
		if err := st.DB.QueryRow(`SELECT clock_timestamp() >= $1`, at).Scan(&reached); err != nil {
			t.Fatal(err)
		}
		if reached {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestQueueTurnRefusesEveryoneButItsHolderAcrossInstances(t *testing.T) {
	a, b := twoQueueInstances(t, time.Hour)
	ctx := context.Background()
	players := crowd(t, a, 1002)
	inside, holder, others := players[0], players[1], players[2:]
	r, err := a.App.Raids.EnterRaid(ctx, inside, 1)
	if err != nil {
		t.Fatal(err)
	}
	mustJoin(t, b, holder, 1)
	if _, err := a.App.Raids.EndRaid(ctx, inside, r.ID, nil); err != nil {
		t.Fatal(err)
	}
	line := requireLineOf(t, b, holder)
	if line.Reservation == nil || line.Reservation.UserID != holder.ID {
		t.Fatalf("after the clear the turn is %+v, want %s's", line.Reservation, holder.Nickname)
	}
	// 1,000 players of the crowd rush the free raid, half through each instance.
	var reserved, entered atomic.Int32
	var wrong sync.Map
	rush(others, a, b, func(i int, st *testenv.Stack, p app.Player) {
		_, err := st.App.Raids.EnterRaid(ctx, p, 0)
		var res *raids.ReservedError
		switch {
		case err == nil:
			entered.Add(1)
		case errors.As(err, &res) && res.UserID == holder.ID && res.Until.Equal(line.Reservation.Until):
			reserved.Add(1)
		default:
			wrong.Store(p.ID, err)
		}
	})
	wrong.Range(func(k, v any) bool {
		t.Errorf("player %v: %v, want raid_reserved", k, v)
		return true
	})
	if entered.Load() != 0 || reserved.Load() != int32(len(others)) {
		t.Fatalf("%d entered and %d were refused as reserved, of %d", entered.Load(), reserved.Load(), len(others))
	}
	if n := inProgress(t, a); n != 0 {
		t.Fatalf("%d raids in progress during the turn", n)
	}
	// The holder still enters, through either instance.
	got, err := a.App.Raids.EnterRaid(ctx, holder, 2)
	if err != nil {
		t.Fatalf("the holder enters: %v", err)
	}
	if got.UserID != holder.ID || inProgress(t, a) != 1 {
		t.Fatalf("entered %+v, %d in progress", got, inProgress(t, a))
	}
	requireLineOf(t, a)
	if _, err := b.App.Raids.EnterRaid(ctx, others[0], 0); !errors.Is(err, raids.ErrBusy) {
		t.Fatalf("with the holder inside: %v, want raid_busy", err)
	}
}

func TestQueueOrderIsCommitOrderAcrossInstances(t *testing.T) {
	a, b := twoQueueInstances(t, time.Hour)
	ctx := context.Background()
	players := crowd(t, a, 101)
	inside, waiting := players[0], players[1:]
	// The joins wait for each other on the queue lock; a production-sized pool is enough and
	// leaves the shared server's connection slots to the other test packages.
	a.DB.SetMaxOpenConns(20)
	t.Cleanup(func() { a.DB.SetMaxOpenConns(0) })
	if _, err := a.App.Raids.EnterRaid(ctx, inside, 1); err != nil {
		t.Fatal(err)
	}
	places := make([]int, len(waiting))
	errs := make([]error, len(waiting))
	rush(waiting, a, b, func(i int, st *testenv.Stack, p app.Player) {
		places[i], errs[i] = st.Queue.Join(ctx, p)
	})
	// A join that could not have its turn at the lock within the database timeout (a machine
	// under load) is refused as unavailable and is not in the line; every other one is.
	var joined []int
	for i, err := range errs {
		switch {
		case err == nil:
			joined = append(joined, i)
		case errors.Is(err, ports.ErrUnavailable):
			t.Logf("%s joins: %v", waiting[i].Nickname, err)
		default:
			t.Fatalf("%s joins: %v", waiting[i].Nickname, err)
		}
	}
	if len(joined) < len(waiting)/2 {
		t.Fatalf("only %d of %d simultaneous joins got in", len(joined), len(waiting))
	}
	// The place each join was given is its place in the line (one each), and the line is in
	// the order the joins committed: each join holds the queue lock until it commits and is
	// timed by the database once it has it, so the times never go back along the line.
	want := make([]app.Player, len(joined))
	for _, i := range joined {
		pos := places[i]
		if pos < 1 || pos > len(joined) || want[pos-1].ID != 0 {
			t.Fatalf("%s was given place %d: twice or out of range", waiting[i].Nickname, pos)
		}
		want[pos-1] = waiting[i]
	}
	l := requireLineOf(t, b, want...)
	for i := 1; i < len(l.Waiting); i++ {
		if l.Waiting[i].JoinedAt.Before(l.Waiting[i-1].JoinedAt) {
			t.Fatalf("place %d joined at %v, before place %d at %v", i+1, l.Waiting[i].JoinedAt, i, l.Waiting[i-1].JoinedAt)
		}
	}
}

func TestLapsedTurnPassesOnAcrossInstances(t *testing.T) {
	const turn = 300 * time.Millisecond
	a, b := twoQueueInstances(t, turn)
	ctx := context.Background()
	players := crowd(t, a, 4)
	inside, first, second, stranger := players[0], players[1], players[2], players[3]
	r, err := a.App.Raids.EnterRaid(ctx, inside, 1)
	if err != nil {
		t.Fatal(err)
	}
	mustJoin(t, a, first, 1)
	mustJoin(t, b, second, 2)
	if _, err := b.App.Raids.EndRaid(ctx, inside, r.ID, nil); err != nil {
		t.Fatal(err)
	}
	l := requireLineOf(t, a, first, second)
	if l.Reservation == nil || l.Reservation.UserID != first.ID || l.Reservation.Until.Sub(l.Reservation.Since) != turn {
		t.Fatalf("turn %+v, want %s's for %v", l.Reservation, first.Nickname, turn)
	}
	firstUntil := l.Reservation.Until
	waitForDatabaseClock(t, a, firstUntil)
	// Nothing swept the line: every reader sees the lapse.
	for _, st := range []*testenv.Stack{a, b} {
		l := requireLineOf(t, st, second)
		if l.Reservation == nil || l.Reservation.UserID != second.ID || !l.Reservation.Since.Equal(firstUntil) {
			t.Fatalf("after the first turn lapsed: %+v, want %s's from %v", l.Reservation, second.Nickname, firstUntil)
		}
	}
	if _, err := b.App.Raids.EnterRaid(ctx, first, 0); !errors.Is(err, raids.ErrReserved) {
		t.Fatalf("the lapsed player enters: %v, want raid_reserved", err)
	}
	if _, err := a.App.Raids.EnterRaid(ctx, stranger, 0); !errors.Is(err, raids.ErrReserved) {
		t.Fatalf("a stranger enters: %v, want raid_reserved", err)
	}
	got, err := b.App.Raids.EnterRaid(ctx, second, 0)
	if err != nil || got.UserID != second.ID {
		t.Fatalf("the next in line enters: %+v, %v", got, err)
	}
	if inProgress(t, a) != 1 {
		t.Fatal("not exactly one raid in progress")
	}
}

func TestLastLapsedTurnOpensTheRaidToAll(t *testing.T) {
	const turn = 200 * time.Millisecond
	a, b := twoQueueInstances(t, turn)
	ctx := context.Background()
	players := crowd(t, a, 3)
	inside, waiting, stranger := players[0], players[1], players[2]
	r, err := a.App.Raids.EnterRaid(ctx, inside, 1)
	if err != nil {
		t.Fatal(err)
	}
	mustJoin(t, b, waiting, 1)
	if _, err := a.App.Raids.EndRaid(ctx, inside, r.ID, nil); err != nil {
		t.Fatal(err)
	}
	l := requireLineOf(t, b, waiting)
	waitForDatabaseClock(t, b, l.Reservation.Until)
	requireLineOf(t, a)
	if _, err := a.Queue.Join(ctx, waiting); !errors.Is(err, raids.ErrRaidFree) {
		t.Fatalf("joining a free raid nobody waits for: %v, want raid_free", err)
	}
	if got, err := b.App.Raids.EnterRaid(ctx, stranger, 0); err != nil || got.UserID != stranger.ID {
		t.Fatalf("with the line empty anyone enters: %+v, %v", got, err)
	}
}

func TestLeavingAndJoiningAgainGoesToTheBackAcrossInstances(t *testing.T) {
	a, b := twoQueueInstances(t, time.Hour)
	ctx := context.Background()
	players := crowd(t, a, 4)
	inside, p1, p2, p3 := players[0], players[1], players[2], players[3]
	r, err := a.App.Raids.EnterRaid(ctx, inside, 1)
	if err != nil {
		t.Fatal(err)
	}
	mustJoin(t, a, p1, 1)
	mustJoin(t, b, p2, 2)
	mustJoin(t, a, p3, 3)
	if err := b.Queue.Leave(ctx, p1); err != nil {
		t.Fatal(err)
	}
	mustJoin(t, b, p1, 3)
	requireLineOf(t, a, p2, p3, p1)
	// The holder leaving passes the turn on at once, for a whole turn.
	if _, err := b.App.Raids.EndRaid(ctx, inside, r.ID, nil); err != nil {
		t.Fatal(err)
	}
	before := requireLineOf(t, b, p2, p3, p1)
	if before.Reservation == nil || before.Reservation.UserID != p2.ID {
		t.Fatalf("turn %+v, want %s's", before.Reservation, p2.Nickname)
	}
	if err := a.Queue.Leave(ctx, p2); err != nil {
		t.Fatal(err)
	}
	after := requireLineOf(t, b, p3, p1)
	if after.Reservation == nil || after.Reservation.UserID != p3.ID || after.Reservation.Since.Before(before.Now) ||
		after.Reservation.Until.Sub(after.Reservation.Since) != time.Hour {
		t.Fatalf("after the holder left: %+v (line read at %v), want %s's whole turn from the leave", after.Reservation, before.Now, p3.Nickname)
	}
	if err := a.Queue.Leave(ctx, p2); !errors.Is(err, raids.ErrNotQueued) {
		t.Fatalf("leaving twice: %v, want not queued", err)
	}
}

func TestSigningOutLeavesTheQueue(t *testing.T) {
	a, b := twoQueueInstances(t, time.Hour)
	ctx := context.Background()
	inside, _ := signUp(t, a, "inside")
	waiting, pair := signUp(t, b, "waiting")
	if _, err := a.App.Raids.EnterRaid(ctx, inside, 1); err != nil {
		t.Fatal(err)
	}
	mustJoin(t, a, waiting, 1)
	if err := b.App.Accounts.SignOut(ctx, waiting, pair.Refresh); err != nil {
		t.Fatal(err)
	}
	requireLineOf(t, a)
	if _, err := a.Queue.Join(ctx, inside); !errors.Is(err, raids.ErrInsideRaid) {
		t.Fatalf("the player inside joins: %v", err)
	}
}
