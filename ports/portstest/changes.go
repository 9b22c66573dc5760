package portstest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// ChangeFeedStores are a change feed and the stores whose commits it reports.
type ChangeFeedStores struct {
	Feed     ports.ChangeFeed
	Users    ports.UserStore
	Sessions ports.SessionStore
	Raids    ports.RaidStore
	Queue    ports.RaidQueue
}

// RunChangeFeed runs the contract of ports.ChangeFeed. newFeed is called once per subtest, on
// stores with no raid in progress.
func RunChangeFeed(t *testing.T, newFeed func(t *testing.T) ChangeFeedStores) {
	t.Run("starts lost, then follows, and returns when its context ends", func(t *testing.T) {
		s := newFeed(t)
		got := follow(t, s.Feed)
		waitForChange(t, got, func(cs []ports.Change) bool { return len(cs) >= 2 && cs[1].Kind == ports.ChangesFollowed })
		if first := got()[0]; first.Kind != ports.ChangesLost {
			t.Fatalf("first report %v, want ChangesLost", first.Kind)
		}
	})

	t.Run("a sign-out reports the player", func(t *testing.T) {
		s := newFeed(t)
		p := NewPlayer(t, s.Users, "feedsignout")
		got := following(t, s.Feed)
		if _, err := s.Sessions.EndAllSessions(context.Background(), p.ID); err != nil {
			t.Fatal(err)
		}
		waitForChange(t, got, func(cs []ports.Change) bool {
			for _, c := range cs {
				if c.Kind == ports.PlayerChanged && c.UserID == p.ID {
					return true
				}
			}
			return false
		})
	})

	t.Run("an entry and its end report raid changes", func(t *testing.T) {
		s := newFeed(t)
		p := NewPlayer(t, s.Users, "feedraider")
		got := following(t, s.Feed)
		ctx := context.Background()
		r, err := s.Raids.EnterRaid(ctx, p.ID, raids.DefaultBossData().Levels[0], time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		waitForChange(t, got, countRaidChanges(1))
		if _, _, err := s.Raids.UpdateRaid(ctx, r.ID, func(r raids.Raid, now time.Time) (raids.Raid, error) {
			return r.End(p.ID, nil, now)
		}); err != nil {
			t.Fatal(err)
		}
		waitForChange(t, got, countRaidChanges(2))
	})

	t.Run("joining and leaving the queue report queue changes", func(t *testing.T) {
		s := newFeed(t)
		inside, waiting := NewPlayer(t, s.Users, "feedinside"), NewPlayer(t, s.Users, "feedwaiting")
		ctx := context.Background()
		if _, err := s.Raids.EnterRaid(ctx, inside.ID, raids.DefaultBossData().Levels[0], time.Minute); err != nil {
			t.Fatal(err)
		}
		got := following(t, s.Feed)
		if _, err := s.Queue.JoinQueue(ctx, waiting.ID, time.Minute); err != nil {
			t.Fatal(err)
		}
		waitForChange(t, got, countChanges(ports.QueueChanged, 1))
		if err := s.Queue.LeaveQueue(ctx, waiting.ID); err != nil {
			t.Fatal(err)
		}
		waitForChange(t, got, countChanges(ports.QueueChanged, 2))
	})

	t.Run("a cleared raid reports the player's new total", func(t *testing.T) {
		s := newFeed(t)
		p := NewPlayer(t, s.Users, "feedscorer")
		got := following(t, s.Feed)
		ctx := context.Background()
		var total int64
		for range 2 { // the second clear reports the sum, not the raid's score
			r, err := s.Raids.EnterRaid(ctx, p.ID, raids.DefaultBossData().Levels[1], time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if _, total, err = s.Raids.UpdateRaid(ctx, r.ID, func(r raids.Raid, now time.Time) (raids.Raid, error) {
				return r.End(p.ID, nil, now)
			}); err != nil {
				t.Fatal(err)
			}
		}
		if total != 2*int64(raids.DefaultBossData().Levels[1].Score) {
			t.Fatalf("total after two clears %d", total)
		}
		waitForChange(t, got, func(cs []ports.Change) bool {
			for _, c := range cs {
				if c.Kind == ports.TotalChanged && c.UserID == p.ID && c.Total == total {
					return true
				}
			}
			return false
		})
	})
}

func countRaidChanges(n int) func([]ports.Change) bool { return countChanges(ports.RaidChanged, n) }

func countChanges(kind ports.ChangeKind, n int) func([]ports.Change) bool {
	return func(cs []ports.Change) bool {
		seen := 0
		for _, c := range cs {
			if c.Kind == kind {
				seen++
			}
		}
		return seen >= n
	}
}

// follow runs feed.Follow until the test ends and returns what it reported so far.
func follow(t *testing.T, feed ports.ChangeFeed) func() []ports.Change {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var got []ports.Change
	done := make(chan struct{})
	go func() {
		defer close(done)
		feed.Follow(ctx, func(c ports.Change) {
			mu.Lock()
			got = append(got, c)
			mu.Unlock()
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(eventWait):
			t.Error("Follow did not return after its context ended")
		}
	})
	return func() []ports.Change {
		mu.Lock()
		defer mu.Unlock()
		return append([]ports.Change(nil), got...)
	}
}

// following is follow once the feed reports itself followed.
func following(t *testing.T, feed ports.ChangeFeed) func() []ports.Change {
	t.Helper()
	got := follow(t, feed)
	waitForChange(t, got, func(cs []ports.Change) bool {
		return len(cs) > 0 && cs[len(cs)-1].Kind == ports.ChangesFollowed
	})
	return got
}

func waitForChange(t *testing.T, got func() []ports.Change, cond func([]ports.Change) bool) {
	t.Helper()
	for deadline := time.Now().Add(eventWait); !cond(got()); {
		if time.Now().After(deadline) {
			t.Fatalf("the feed did not report it in %v; reported %v", eventWait, got())
		}
		time.Sleep(2 * time.Millisecond)
	}
}
