package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestRaidStoreContract(t *testing.T) {
	portstest.RunRaidStore(t, func(t *testing.T) portstest.RaidHarness {
		emptyDatabase(t)
		return portstest.RaidHarness{Users: postgres.NewUsers(testDB), Raids: postgres.NewRaids(testDB), Advance: advance}
	})
}

var level2 = raids.Level{Level: 2, Score: 85}

// newPlayers registers n players and returns their ids.
func newPlayers(t testing.TB, n int) []int64 {
	t.Helper()
	store := postgres.NewUsers(testDB)
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = portstest.NewPlayer(t, store, fmt.Sprintf("player%d", i)).ID
	}
	return ids
}

func endBy(userID int64) func(r raids.Raid, now time.Time) (raids.Raid, error) {
	return func(r raids.Raid, now time.Time) (raids.Raid, error) { return r.End(userID, nil, now) }
}

// twoInstances returns raid stores on two separate pools, as two app instances have.
func twoInstances(t *testing.T) [2]*postgres.Raids {
	t.Helper()
	var out [2]*postgres.Raids
	for i := range out {
		db, err := postgres.Open(context.Background(), testURL, postgres.Options{MaxOpenConns: racePool / 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		out[i] = postgres.NewRaids(db)
	}
	return out
}

// The one-player rule rests on the partial unique index alone: 200 players on two instances
// press enter at the same moment, round after round, and exactly one gets in each time.
func TestExactlyOneWinnerAmongSimultaneousEntries(t *testing.T) {
	emptyDatabase(t)
	ctx := context.Background()
	store := postgres.NewRaids(testDB)
	instances := twoInstances(t)
	const players, rounds = 200, 20
	ids := newPlayers(t, players)

	var took []time.Duration
	var winners []raids.Raid
	for round := range rounds {
		entered := make([]raids.Raid, players)
		errs := make([]error, players)
		began := time.Now()
		portstest.Simultaneously(players, func(i int) {
			entered[i], errs[i] = instances[i%2].EnterRaid(ctx, ids[i], level2, time.Minute)
		})
		took = append(took, time.Since(began))

		winner := -1
		for i, err := range errs {
			if err != nil {
				continue
			}
			if winner >= 0 {
				t.Fatalf("round %d: players %d and %d both entered", round, ids[winner], ids[i])
			}
			winner = i
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody entered; first error: %v", round, errs[0])
		}
		w := entered[winner]
		for i, err := range errs {
			if i == winner {
				continue
			}
			var busy *raids.BusyError
			if !errors.As(err, &busy) {
				t.Fatalf("round %d: player %d got %v, want *raids.BusyError", round, ids[i], err)
			}
			if busy.UserID != w.UserID || busy.RaidID != w.ID {
				t.Fatalf("round %d: busy names player %d raid %d, the winner is player %d raid %d",
					round, busy.UserID, busy.RaidID, w.UserID, w.ID)
			}
		}
		winners = append(winners, w)
		// Every other round ends by a clear, the rest by the deadline passing, so the next
		// round's entries also race to close an expired raid.
		if round%2 == 0 {
			if _, _, err := store.UpdateRaid(ctx, w.ID, endBy(w.UserID)); err != nil {
				t.Fatalf("round %d: clear: %v", round, err)
			}
		} else {
			advance(t, time.Minute)
		}
	}

	var inProgress, success, fail int
	if err := testDB.QueryRow(`SELECT count(*) FILTER (WHERE status = 'in_progress'),
		count(*) FILTER (WHERE status = 'success'), count(*) FILTER (WHERE status = 'fail') FROM raids`,
	).Scan(&inProgress, &success, &fail); err != nil {
		t.Fatal(err)
	}
	// The last round's raid expired but nobody entered after it, so its row was never closed.
	if success != rounds/2 || fail != rounds/2-1 || inProgress != 1 {
		t.Fatalf("stored raids: %d success, %d fail, %d in progress; want %d, %d, 1", success, fail, inProgress, rounds/2, rounds/2-1)
	}
	last, err := store.RaidByID(ctx, winners[rounds-1].ID)
	if err != nil || last.Status != raids.StatusFail {
		t.Fatalf("the last, expired raid reads %v, %v; want fail", last.Status, err)
	}

	sorted := slices.Clone(took)
	slices.Sort(sorted)
	var sum time.Duration
	for _, d := range took {
		sum += d
	}
	t.Logf("%d rounds of %d simultaneous entries (two pools, %d connections in all): min %v, median %v, mean %v, max %v; all rounds: %v",
		rounds, players, racePool, sorted[0].Round(time.Millisecond), sorted[len(sorted)/2].Round(time.Millisecond),
		(sum / rounds).Round(time.Millisecond), sorted[len(sorted)-1].Round(time.Millisecond), roundAll(took))
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}

func TestSimultaneousClearsScoreOnce(t *testing.T) {
	emptyDatabase(t)
	ctx := context.Background()
	instances := twoInstances(t)
	p := newPlayers(t, 1)[0]
	r, err := instances[0].EnterRaid(ctx, p, level2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	errs := make([]error, n)
	totals := make([]int64, n)
	portstest.Simultaneously(n, func(i int) {
		_, totals[i], errs[i] = instances[i%2].UpdateRaid(ctx, r.ID, endBy(p))
	})
	cleared := 0
	for i, err := range errs {
		switch {
		case err == nil:
			cleared++
		case !errors.Is(err, raids.ErrNotInProgress):
			t.Fatalf("clear %d: %v", i, err)
		}
		if totals[i] != int64(level2.Score) {
			t.Fatalf("clear %d saw total %d, want %d", i, totals[i], level2.Score)
		}
	}
	if cleared != 1 {
		t.Fatalf("%d of %d simultaneous clears succeeded, want 1", cleared, n)
	}
	var total int64
	var score int
	if err := testDB.QueryRow(`SELECT u.total_score, r.score FROM users u JOIN raids r ON r.user_id = u.id WHERE r.id = $1`,
		r.ID).Scan(&total, &score); err != nil {
		t.Fatal(err)
	}
	if total != int64(level2.Score) || score != level2.Score {
		t.Fatalf("total %d, raid score %d; want %d once", total, score, level2.Score)
	}
}

// Real time, no sweeper: a raid whose deadline passed is failed for every read, and clearing it
// records the failure.
func TestExpiredRaidIsFailedEverywhereWithoutSweeping(t *testing.T) {
	emptyDatabase(t)
	ctx := context.Background()
	store := postgres.NewRaids(testDB)
	p := newPlayers(t, 1)[0]
	r, err := store.EnterRaid(ctx, p, level2, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)

	storedStatus := func() (string, *time.Time) {
		t.Helper()
		var status string
		var end *time.Time
		if err := testDB.QueryRow(`SELECT status, end_time FROM raids WHERE id = $1`, r.ID).Scan(&status, &end); err != nil {
			t.Fatal(err)
		}
		return status, end
	}
	if status, _ := storedStatus(); status != "in_progress" {
		t.Fatalf("row status %q before any write; the test needs it unswept", status)
	}
	failedAtDeadline := func(where string, got raids.Raid) {
		t.Helper()
		if got.Status != raids.StatusFail || got.EndTime == nil || !got.EndTime.Equal(r.Deadline) || got.Score != 0 {
			t.Fatalf("%s: %v ended %v score %d; want fail at %v", where, got.Status, got.EndTime, got.Score, r.Deadline)
		}
	}
	byID, err := store.RaidByID(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	failedAtDeadline("RaidByID", byID)
	page, _, err := store.History(ctx, p, 0, 10)
	if err != nil || len(page) != 1 {
		t.Fatalf("History: %v, %v", page, err)
	}
	failedAtDeadline("History", page[0])
	if _, ok, err := store.CurrentRaid(ctx); ok || err != nil {
		t.Fatalf("CurrentRaid = %v, %v; want none", ok, err)
	}

	got, total, err := store.UpdateRaid(ctx, r.ID, endBy(p))
	if !errors.Is(err, raids.ErrExpired) || total != 0 {
		t.Fatalf("End after the deadline: %v, total %d; want ErrExpired, 0", err, total)
	}
	failedAtDeadline("End", got)
	status, end := storedStatus()
	if status != "fail" || end == nil || !end.Equal(r.Deadline) {
		t.Fatalf("stored %q ended %v; want fail at the deadline %v", status, end, r.Deadline)
	}
}

func TestUnknownPlayerCannotEnter(t *testing.T) {
	emptyDatabase(t)
	_, err := postgres.NewRaids(testDB).EnterRaid(context.Background(), 1<<40, level2, time.Minute)
	if !errors.Is(err, users.ErrNotFound) {
		t.Fatalf("got %v, want users.ErrNotFound", err)
	}
}

// An entry that had to wait for the previous raid to be cleared starts when it gets in, not
// when its transaction began: the stored raids never overlap (the chaos soak found raids
// entered milliseconds before the one before them ended).
func TestAnEntryThatWaitedStartsAfterTheRaidBeforeIt(t *testing.T) {
	emptyDatabase(t)
	ctx := context.Background()
	store := postgres.NewRaids(testDB)
	ids := newPlayers(t, 2)
	first, err := store.EnterRaid(ctx, ids[0], level2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	// A clear of the first raid is under way (row changed, not committed) when the second
	// player's entry begins; the entry waits on the one-raid index until the clear commits.
	clearing, err := testDB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = clearing.Rollback() }()
	if _, err := clearing.ExecContext(ctx,
		`UPDATE raids SET status = 'success', score = level_score, end_time = now() WHERE id = $1`, first.ID); err != nil {
		t.Fatal(err)
	}
	type result struct {
		r   raids.Raid
		err error
	}
	entered := make(chan result, 1)
	go func() {
		r, err := store.EnterRaid(ctx, ids[1], level2, time.Minute)
		entered <- result{r, err}
	}()
	waitUntilAnEntryWaitsOnALock(t)
	if _, err := clearing.ExecContext(ctx,
		`UPDATE raids SET end_time = clock_timestamp() WHERE id = $1`, first.ID); err != nil {
		t.Fatal(err)
	}
	if err := clearing.Commit(); err != nil {
		t.Fatal(err)
	}

	second := <-entered
	if second.err != nil {
		t.Fatalf("the waiting entry: %v", second.err)
	}
	cleared, err := store.RaidByID(ctx, first.ID)
	if err != nil || cleared.EndTime == nil {
		t.Fatalf("first raid after the clear: %+v, %v", cleared, err)
	}
	if second.r.EnterTime.Before(*cleared.EndTime) {
		t.Fatalf("the second raid entered at %v, %v before the first ended at %v",
			second.r.EnterTime, cleared.EndTime.Sub(second.r.EnterTime), *cleared.EndTime)
	}
	if !second.r.Deadline.Equal(raids.Deadline(second.r.EnterTime, time.Minute)) {
		t.Fatalf("deadline %v is not a minute after the entry %v", second.r.Deadline, second.r.EnterTime)
	}
	stored, err := store.RaidByID(ctx, second.r.ID)
	if err != nil || !stored.EnterTime.Equal(second.r.EnterTime) || !stored.Deadline.Equal(second.r.Deadline) {
		t.Fatalf("stored %+v, %v; returned %+v", stored, err, second.r)
	}
}

// waitUntilAnEntryWaitsOnALock returns once a backend of this database is blocked on a lock.
func waitUntilAnEntryWaitsOnALock(t *testing.T) {
	t.Helper()
	for range 1000 {
		var n int
		if err := testDB.QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no entry ever waited on the one-raid index")
}
