package postgres_test

import (
	"context"
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
	if _, err := testDB.Exec(`SELECT pg_notify('bossraid_changes', 'player:-1')`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the marker after the bulk insert", func() bool {
		for _, c := range changes() {
			if c.Kind == ports.PlayerChanged && c.UserID == -1 {
				return true
			}
		}
		return false
	})
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
		}
	})
}
