package hot_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/clock"
	"github.com/bossraid/bossraid/adapters/hot"
	"github.com/bossraid/bossraid/adapters/memory"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
	"github.com/bossraid/bossraid/ports/portstest"
)

// countingStore counts the reads that reach the store and can act in the middle of one.
type countingStore struct {
	*memory.Store
	userReads, raidReads, entries, lineReads atomic.Int64
	duringRead                               func() // runs after UserByID read, before it returns
}

func (s *countingStore) UserByID(ctx context.Context, id int64) (users.User, error) {
	s.userReads.Add(1)
	u, err := s.Store.UserByID(ctx, id)
	if s.duringRead != nil {
		s.duringRead()
	}
	return u, err
}

func (s *countingStore) CurrentRaid(ctx context.Context) (raids.Raid, bool, error) {
	s.raidReads.Add(1)
	return s.Store.CurrentRaid(ctx)
}

func (s *countingStore) Line(ctx context.Context) (raids.Line, error) {
	s.lineReads.Add(1)
	return s.Store.Line(ctx)
}

func (s *countingStore) EnterRaid(ctx context.Context, userID int64, l raids.Level, limit time.Duration) (raids.Raid, error) {
	s.entries.Add(1)
	return s.Store.EnterRaid(ctx, userID, l, limit)
}

// instance is one process's caches over a shared store, following the store's change feed.
type instance struct {
	cache    *hot.Cache
	users    *hot.Users
	sessions *hot.Sessions
	raids    *hot.Raids
	queue    *hot.Queue
}

func newInstance(t *testing.T, s *countingStore, feed ports.ChangeFeed) *instance {
	t.Helper()
	c := hot.New(clock.System{})
	in := &instance{cache: c, users: c.Users(s), sessions: c.Sessions(s), raids: c.Raids(s), queue: c.Queue(s)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Follow(ctx, feed) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "the cache to follow", c.Following)
	return in
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func newStore() *countingStore { return &countingStore{Store: memory.NewStore(clock.System{})} }

func TestAccountsComeFromMemoryUntilAChange(t *testing.T) {
	s := newStore()
	here, there := newInstance(t, s, s.Changes()), newInstance(t, s, s.Changes())
	ctx := context.Background()
	p := portstest.NewPlayer(t, s, "hotalice")
	for range 3 {
		if _, err := there.users.AccountByID(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.userReads.Load(); n != 1 {
		t.Fatalf("3 token checks read the store %d times, want 1", n)
	}
	v, err := here.sessions.EndAllSessions(ctx, p.ID) // a sign-out on another instance
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other instance to see the sign-out", func() bool {
		u, err := there.users.AccountByID(ctx, p.ID)
		return err == nil && u.TokenVersion == v
	})
	if u, _ := here.users.AccountByID(ctx, p.ID); u.TokenVersion != v || u.PasswordHash != "" {
		t.Fatalf("the signing-out instance: version %d hash %q, want %d and none", u.TokenVersion, u.PasswordHash, v)
	}
}

func TestAFillThatReadBeforeAnEvictionIsNotKept(t *testing.T) {
	s := newStore()
	in := newInstance(t, s, memory.NewChangeFeed())
	ctx := context.Background()
	p := portstest.NewPlayer(t, s, "hotbob")
	var v int64
	s.duringRead = func() { // the sign-out commits while the first read is on its way back
		s.duringRead = nil
		var err error
		if v, err = in.sessions.EndAllSessions(ctx, p.ID); err != nil {
			t.Error(err)
		}
	}
	if _, err := in.users.AccountByID(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	u, err := in.users.AccountByID(ctx, p.ID)
	if err != nil || u.TokenVersion != v {
		t.Fatalf("after the sign-out: version %d (%v), want %d", u.TokenVersion, err, v)
	}
}

func TestALostFeedTurnsTheCacheOff(t *testing.T) {
	s := newStore()
	feed := memory.NewChangeFeed()
	in := newInstance(t, s, feed)
	ctx := context.Background()
	p := portstest.NewPlayer(t, s, "hotcarol")
	if _, err := in.users.AccountByID(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	feed.Report(ports.Change{Kind: ports.ChangesLost})
	waitFor(t, "the cache to go off", func() bool { return !in.cache.Following() })
	v, err := s.EndAllSessions(ctx, p.ID) // unheard: the feed is lost
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := in.users.AccountByID(ctx, p.ID); u.TokenVersion != v {
		t.Fatalf("with the feed lost: version %d, want %d from the store", u.TokenVersion, v)
	}
	feed.Report(ports.Change{Kind: ports.ChangesFollowed})
	waitFor(t, "the cache to be back", in.cache.Following)
	if u, _ := in.users.AccountByID(ctx, p.ID); u.TokenVersion != v {
		t.Fatalf("after following again: version %d, want %d", u.TokenVersion, v)
	}
}

// settle waits until every instance has applied the notifications of what was done so far
// (the feed delivers in order: a sign-out reported after them has reached it), so a late one
// cannot evict what the test is about to count.
func settle(t *testing.T, s *countingStore, ins ...*instance) {
	t.Helper()
	ctx := context.Background()
	marker := portstest.NewPlayer(t, s, fmt.Sprintf("marker%d", time.Now().UnixNano()%1_000_000_000))
	for _, in := range ins { // cached now, so only the sign-out's notification moves it on
		waitFor(t, "the instance to cache the marker", func() bool {
			_, err := in.users.AccountByID(ctx, marker.ID)
			return err == nil && in.cache.Following()
		})
	}
	v, err := s.EndAllSessions(ctx, marker.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range ins {
		waitFor(t, "the instance to apply what came before", func() bool {
			u, err := in.users.AccountByID(ctx, marker.ID)
			return err == nil && u.TokenVersion == v
		})
	}
}

func TestAKnownRaidRefusesEntriesFromMemory(t *testing.T) {
	s := newStore()
	in := newInstance(t, s, s.Changes())
	ctx := context.Background()
	alice, bob := portstest.NewPlayer(t, s, "hotraider"), portstest.NewPlayer(t, s, "hotrusher")
	level := raids.DefaultBossData().Levels[0]
	r, err := in.raids.EnterRaid(ctx, alice.ID, level, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// The entry's own notification, arriving after it, evicts what the instance knew; past
	// that, the raid is learned once more and every refusal comes from memory.
	settle(t, s, in)
	if _, _, err := in.raids.CurrentRaid(ctx); err != nil {
		t.Fatal(err)
	}
	s.entries.Store(1)
	s.raidReads.Store(0)
	for range 5 {
		var busy *raids.BusyError
		if _, err := in.raids.EnterRaid(ctx, bob.ID, level, time.Minute); !errors.As(err, &busy) || busy.RaidID != r.ID {
			t.Fatalf("entry while Alice is inside: %v, want busy with raid %d", err, r.ID)
		}
	}
	if n := s.entries.Load(); n != 1 {
		t.Fatalf("the store saw %d entries, want 1 (the refusals come from memory)", n)
	}
	if cur, inside, err := in.raids.CurrentRaid(ctx); err != nil || !inside || cur.ID != r.ID || cur.Nickname != alice.Nickname {
		t.Fatalf("CurrentRaid = %+v %v %v, want Alice's raid", cur, inside, err)
	}
	if n := s.raidReads.Load(); n != 0 {
		t.Fatalf("the status read the store %d times, want 0", n)
	}
	if _, _, err := in.raids.UpdateRaid(ctx, r.ID, func(r raids.Raid, now time.Time) (raids.Raid, error) {
		return r.End(alice.ID, nil, now)
	}); err != nil {
		t.Fatal(err)
	}
	if _, inside, err := in.raids.CurrentRaid(ctx); err != nil || inside {
		t.Fatalf("after the end: inside %v (%v), want free", inside, err)
	}
	if _, err := in.raids.EnterRaid(ctx, bob.ID, level, time.Minute); err != nil {
		t.Fatalf("Bob after the end: %v", err)
	}
}

// countingTokens counts signature checks.
type countingTokens struct {
	ports.Tokens
	verifies atomic.Int64
}

func (c *countingTokens) Verify(token string, kind ports.TokenKind) (ports.TokenClaims, error) {
	c.verifies.Add(1)
	if token != "good" {
		return ports.TokenClaims{}, ports.ErrInvalidToken
	}
	return ports.TokenClaims{Kind: kind, UserID: 7}, nil
}

func TestAccessTokensAreVerifiedOnce(t *testing.T) {
	inner := &countingTokens{}
	tokens := hot.NewTokens(inner)
	for range 3 {
		if cl, err := tokens.Verify("good", ports.TokenAccess); err != nil || cl.UserID != 7 {
			t.Fatalf("Verify = %+v %v", cl, err)
		}
		if _, err := tokens.Verify("forged", ports.TokenAccess); !errors.Is(err, ports.ErrInvalidToken) {
			t.Fatalf("forged token: %v", err)
		}
		if _, err := tokens.Verify("good", ports.TokenRefresh); err != nil {
			t.Fatal(err)
		}
	}
	if n := inner.verifies.Load(); n != 1+3+3 {
		t.Fatalf("%d signature checks, want 7 (one for the cached access token, every forged and refresh one)", n)
	}
}

// A thousand players rush a free raid on two instances at once: exactly one gets in, and the
// store sees at most two entries per instance (the gate lets one through; a loser learns who is
// inside). Once the instance knows, refusals cost the store nothing.
func TestARushCostsTheStoreAFewEntriesPerInstance(t *testing.T) {
	s := newStore()
	instances := []*instance{newInstance(t, s, s.Changes()), newInstance(t, s, s.Changes())}
	ctx := context.Background()
	const rushers = 1000
	players := make([]users.User, rushers)
	for i := range players {
		players[i] = portstest.NewPlayer(t, s, fmt.Sprintf("rusher%04d", i))
	}
	level := raids.DefaultBossData().Levels[0]
	var won, busy, other atomic.Int64
	portstest.Simultaneously(rushers, func(i int) {
		_, err := instances[i%2].raids.EnterRaid(ctx, players[i].ID, level, time.Minute)
		switch {
		case err == nil:
			won.Add(1)
		case errors.Is(err, raids.ErrBusy):
			busy.Add(1)
		default:
			other.Add(1)
			t.Error(err)
		}
	})
	if won.Load() != 1 || busy.Load() != rushers-1 {
		t.Fatalf("%d got in, %d were refused as busy, %d failed otherwise; want 1 and %d", won.Load(), busy.Load(), other.Load(), rushers-1)
	}
	if n := s.entries.Load(); n > 2*int64(len(instances)) {
		t.Fatalf("the store saw %d entries for %d rushers on %d instances, want at most %d", n, rushers, len(instances), 2*len(instances))
	}
	// The rush's own notifications may still evict what an instance learned: wait until each
	// has applied them (a sign-out reported after them has reached it), then let each learn.
	marker := players[0]
	for _, in := range instances {
		if _, err := in.users.AccountByID(ctx, marker.ID); err != nil {
			t.Fatal(err)
		}
	}
	v, err := s.EndAllSessions(ctx, marker.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range instances {
		waitFor(t, "the instance to apply the rush's notifications", func() bool {
			u, err := in.users.AccountByID(ctx, marker.ID)
			return err == nil && u.TokenVersion == v
		})
		if _, err := in.raids.EnterRaid(ctx, players[1].ID, level, time.Minute); !errors.Is(err, raids.ErrBusy) {
			t.Fatalf("a late rusher: %v, want busy", err)
		}
	}
	before := s.entries.Load()
	for i := range 100 {
		if _, err := instances[i%2].raids.EnterRaid(ctx, players[i].ID, level, time.Minute); !errors.Is(err, raids.ErrBusy) {
			t.Fatalf("a late rusher: %v, want busy", err)
		}
	}
	if n := s.entries.Load() - before; n != 0 {
		t.Fatalf("100 refusals on instances that know the raid is taken reached the store %d times, want 0", n)
	}
}
