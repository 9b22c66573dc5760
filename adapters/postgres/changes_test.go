package postgres_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/ports"
	"github.com/bossraid/bossraid/ports/portstest"
)

// following starts a feed and returns the changes it reports, once it is connected.
func following(t *testing.T, ping time.Duration, slow time.Duration) (changes func() []ports.Change) {
	t.Helper()
	timing := postgres.DefaultFeedTiming()
	timing.PingEvery = ping
	return followingAt(t, testURL, timing, slow)
}

func followingAt(t *testing.T, dsn string, timing postgres.FeedTiming, slow time.Duration) (changes func() []ports.Change) {
	t.Helper()
	feed := postgres.NewChangeFeed(dsn, slog.New(slog.DiscardHandler)).WithTiming(timing)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var got []ports.Change
	done := make(chan struct{})
	go func() {
		defer close(done)
		feed.Follow(ctx, func(c ports.Change) {
			time.Sleep(slow)
			mu.Lock()
			got = append(got, c)
			mu.Unlock()
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	changes = func() []ports.Change {
		mu.Lock()
		defer mu.Unlock()
		return append([]ports.Change(nil), got...)
	}
	waitFor(t, "the feed to connect", func() bool { return lastState(changes()) == ports.ChangesFollowed })
	return changes
}

// lastState is the last ChangesFollowed or ChangesLost reported.
func lastState(changes []ports.Change) ports.ChangeKind {
	for i := len(changes) - 1; i >= 0; i-- {
		if k := changes[i].Kind; k == ports.ChangesFollowed || k == ports.ChangesLost {
			return k
		}
	}
	return 0
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestChangeFeedReportsSignOutsAndRaids(t *testing.T) {
	changes := following(t, time.Second, 0)
	alice := portstest.NewPlayer(t, postgres.NewUsers(testDB), "feedalice")
	if _, err := postgres.NewSessions(testDB).EndAllSessions(context.Background(), alice.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the sign-out", func() bool {
		for _, c := range changes() {
			if c.Kind == ports.PlayerChanged && c.UserID == alice.ID {
				return true
			}
		}
		return false
	})
	if _, err := testDB.Exec(`SELECT pg_notify('bossraid_changes', 'raid:1')`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the raid change", func() bool {
		for _, c := range changes() {
			if c.Kind == ports.RaidChanged {
				return true
			}
		}
		return false
	})
}

// TestChangeFeedKeepsReadingUnderAFlood: a slow consumer and frequent pings must never stop the
// feed's connection from reading, or Postgres blocks on it (and DROP DATABASE hangs behind it).
func TestChangeFeedKeepsReadingUnderAFlood(t *testing.T) {
	changes := following(t, time.Millisecond, 50*time.Microsecond)
	const flood = 3000
	if _, err := testDB.Exec(`SELECT pg_notify('bossraid_changes', 'player:' || n) FROM generate_series(1, $1) n`, flood); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every notification", func() bool {
		n := 0
		for _, c := range changes() {
			if c.Kind == ports.PlayerChanged {
				n++
			}
		}
		return n == flood
	})
}

// TestOneNotificationPerRaidTransaction: a transaction touching many raids sends one
// notification, so a bulk load cannot flood the instances.
func TestOneNotificationPerRaidTransaction(t *testing.T) {
	changes := following(t, time.Second, 0)
	ids := newPlayers(t, 1)
	if _, err := testDB.Exec(`
		INSERT INTO raids (user_id, level, level_score, time_limit, status, score, enter_time, deadline, end_time)
		SELECT $1, 0, 20, interval '1 minute', 'success', 20, now() - interval '1 hour' * n,
		       now() - interval '1 hour' * n + interval '1 minute', now() - interval '1 hour' * n + interval '30 seconds'
		FROM generate_series(1, 500) n`, ids[0]); err != nil {
		t.Fatal(err)
	}
	waitForMarker(t, changes)
	n := 0
	for _, c := range changes() {
		if c.Kind == ports.RaidChanged {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("500 raids in one transaction sent %d notifications, want 1", n)
	}
}

func TestChangeFeedContract(t *testing.T) {
	portstest.RunChangeFeed(t, func(t *testing.T) portstest.ChangeFeedStores {
		emptyDatabase(t)
		return portstest.ChangeFeedStores{
			Feed:  postgres.NewChangeFeed(testURL, slog.New(slog.DiscardHandler)),
			Users: postgres.NewUsers(testDB), Sessions: postgres.NewSessions(testDB), Raids: postgres.NewRaids(testDB),
			Queue: postgres.NewQueue(testDB),
		}
	})
}

// TestRaisedTotalsAreReported: a raised total is named with its new value, a lowered or
// unchanged one is not sent, and a statement raising more than a thousand totals sends one
// "start again" (lost, then followed) instead of a flood.
func TestRaisedTotalsAreReported(t *testing.T) {
	emptyDatabase(t)
	changes := following(t, time.Second, 0)
	ids := newPlayers(t, 2)
	for _, q := range []string{
		`UPDATE users SET total_score = 30 WHERE id = $1`,
		`UPDATE users SET total_score = 10 WHERE id = $1`, // lowered: not sent
		`UPDATE users SET total_score = 10 WHERE id = $1`, // unchanged: not sent
		`UPDATE users SET total_score = 47 WHERE id = $1`,
	} {
		if _, err := testDB.Exec(q, ids[0]); err != nil {
			t.Fatal(err)
		}
	}
	waitForMarker(t, changes)
	var totals []int64
	for _, c := range changes() {
		if c.Kind == ports.TotalChanged && c.UserID == ids[0] {
			totals = append(totals, c.Total)
		}
	}
	if fmt.Sprint(totals) != "[30 47]" {
		t.Fatalf("reported totals %v, want [30 47]", totals)
	}

	if _, err := testDB.Exec(`
		INSERT INTO users (email, nickname, nickname_key, password_hash, total_score)
		SELECT 'bulk' || n || '@example.com', 'bulk' || n, 'bulk' || n, 'x', n FROM generate_series(1, 1001) n`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the bulk insert's restart", func() bool {
		cs := changes()
		return len(cs) >= 2 && cs[len(cs)-2].Kind == ports.ChangesLost && cs[len(cs)-1].Kind == ports.ChangesFollowed
	})
	for _, c := range changes() {
		if c.Kind == ports.TotalChanged && c.UserID != ids[0] {
			t.Fatalf("the bulk insert named a total: %+v", c)
		}
	}
}

// waitForMarker sends a notification of its own and waits for it: everything notified
// before it has been reported by then.
func waitForMarker(t *testing.T, changes func() []ports.Change) {
	t.Helper()
	if _, err := testDB.Exec(`SELECT pg_notify('bossraid_changes', 'player:-1')`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the marker", func() bool {
		for _, c := range changes() {
			if c.Kind == ports.PlayerChanged && c.UserID == -1 {
				return true
			}
		}
		return false
	})
}
