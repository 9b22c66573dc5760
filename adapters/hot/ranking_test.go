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
	"github.com/bossraid/bossraid/ports"
	"github.com/bossraid/bossraid/ports/portstest"
)

// fakeStandings is the wrapped ranking: the memory store's own ranking, counting the calls
// that reach it.
type fakeStandings struct {
	s                         *memory.Store
	boards, records, rebuilds atomic.Int64
}

func (f *fakeStandings) Board(ctx context.Context, n int, userID int64) ([]raids.Standing, raids.Standing, error) {
	f.boards.Add(1)
	top, err := f.s.Top(ctx, n)
	if err != nil || userID == 0 {
		return top, raids.Standing{}, err
	}
	mine, err := f.s.StandingOf(ctx, userID)
	if errors.Is(err, raids.ErrPlayerNotInRanks) {
		return top, raids.Standing{UserID: userID}, nil
	}
	return top, mine, err
}

func (f *fakeStandings) Record(context.Context, int64, int64) { f.records.Add(1) }

func (f *fakeStandings) Rebuild(ctx context.Context) (int, error) {
	f.rebuilds.Add(1)
	top, err := f.s.Top(ctx, 1<<30)
	return len(top), err
}

// rankingInstance is one process's memory ranking over a shared store, following feed.
func rankingInstance(t *testing.T, s *memory.Store, feed ports.ChangeFeed) (*hot.Ranking, *fakeStandings) {
	t.Helper()
	c := hot.New(clock.System{})
	wrapped := &fakeStandings{s: s}
	r := c.Ranking(wrapped, s, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Follow(ctx, feed) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "the ranking to load", r.Loaded)
	return r, wrapped
}

// clearRaid plays one raid at level and clears it in the store; the store reports the new total.
func clearRaid(t *testing.T, s *memory.Store, userID int64, level int) int64 {
	t.Helper()
	ctx := context.Background()
	r, err := s.EnterRaid(ctx, userID, raids.DefaultBossData().Levels[level], time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_, total, err := s.UpdateRaid(ctx, r.ID, func(r raids.Raid, now time.Time) (raids.Raid, error) {
		return r.End(userID, nil, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

// sameBoard compares two answers of Board.
func sameBoard(t *testing.T, got, want ports.Standings, userID int64) bool {
	t.Helper()
	ctx := context.Background()
	gotTop, gotMine, err := got.Board(ctx, raids.TopSize, userID)
	if err != nil {
		t.Fatal(err)
	}
	wantTop, wantMine, err := want.Board(ctx, raids.TopSize, userID)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(gotTop, gotMine) == fmt.Sprint(wantTop, wantMine)
}

func TestTheRankingAnswersFromMemoryWhatTheStoreAnswers(t *testing.T) {
	s := memory.NewStore(clock.System{})
	var ids []int64
	for i := range 14 {
		ids = append(ids, portstest.NewPlayer(t, s, fmt.Sprintf("ranked%02d", i)).ID)
	}
	for i, id := range ids[:6] { // before the load: 20, 47, 85, 20, 47, 85
		clearRaid(t, s, id, i%3)
	}
	r, wrapped := rankingInstance(t, s, s.Changes())
	oracle := &fakeStandings{s: s}
	before := wrapped.boards.Load()
	for step, id := range append(ids[6:], ids[:6]...) { // after: reported by the feed
		clearRaid(t, s, id, step%3)
		for _, who := range append(ids, 0) {
			waitFor(t, "the memory to agree with the store", func() bool { return sameBoard(t, r, oracle, who) })
		}
	}
	if n := wrapped.boards.Load() - before; n != 0 {
		t.Fatalf("%d reads reached the wrapped ranking once loaded, want 0", n)
	}
}

func TestRecordShowsAtOnceAndOtherInstancesHearOfIt(t *testing.T) {
	s := memory.NewStore(clock.System{})
	feed := memory.NewChangeFeed()
	here, hereWrapped := rankingInstance(t, s, feed)
	there, _ := rankingInstance(t, s, feed)
	ctx := context.Background()
	p := portstest.NewPlayer(t, s, "recorder")
	here.Record(ctx, p.ID, 50)
	if _, mine, _ := here.Board(ctx, raids.TopSize, p.ID); mine.TotalScore != 50 || mine.Ranking != 0 {
		t.Fatalf("the writing instance right after Record: %+v", mine)
	}
	if n := hereWrapped.records.Load(); n != 1 {
		t.Fatalf("Record reached the wrapped ranking %d times, want 1", n)
	}
	feed.Report(ports.Change{Kind: ports.TotalChanged, UserID: p.ID, Total: 50})
	waitFor(t, "the other instance to hear the total", func() bool {
		top, mine, _ := there.Board(ctx, raids.TopSize, p.ID)
		return len(top) == 1 && mine.TotalScore == 50
	})
	// A late, lower report changes nothing: totals never go down.
	feed.Report(ports.Change{Kind: ports.TotalChanged, UserID: p.ID, Total: 20})
	marker := portstest.NewPlayer(t, s, "marker")
	feed.Report(ports.Change{Kind: ports.TotalChanged, UserID: marker.ID, Total: 1})
	waitFor(t, "the marker", func() bool {
		top, _, _ := there.Board(ctx, raids.TopSize, 0)
		return len(top) == 2
	})
	if _, mine, _ := there.Board(ctx, raids.TopSize, p.ID); mine.TotalScore != 50 {
		t.Fatalf("after a late lower report: %+v", mine)
	}
}

func TestALostFeedHandsTheRankingToTheWrappedOne(t *testing.T) {
	s := memory.NewStore(clock.System{})
	feed := memory.NewChangeFeed()
	r, wrapped := rankingInstance(t, s, feed)
	ctx := context.Background()
	p := portstest.NewPlayer(t, s, "lostfeed")
	feed.Report(ports.Change{Kind: ports.ChangesLost})
	waitFor(t, "the memory to be dropped", func() bool { return !r.Loaded() })
	total := clearRaid(t, s, p.ID, 2) // unheard: this feed reports nothing of the store's
	before := wrapped.boards.Load()
	if _, mine, _ := r.Board(ctx, raids.TopSize, p.ID); mine.TotalScore != total {
		t.Fatalf("with the feed lost: %+v, want the store's %d", mine, total)
	}
	if wrapped.boards.Load() == before {
		t.Fatal("with the feed lost the read did not reach the wrapped ranking")
	}
	feed.Report(ports.Change{Kind: ports.ChangesFollowed})
	waitFor(t, "the memory to load again", r.Loaded)
	before = wrapped.boards.Load()
	if _, mine, _ := r.Board(ctx, raids.TopSize, p.ID); mine.TotalScore != total || wrapped.boards.Load() != before {
		t.Fatalf("after loading again: %+v (wrapped reads %d)", mine, wrapped.boards.Load()-before)
	}
}

func TestRebuildReloadsTheMemory(t *testing.T) {
	s := memory.NewStore(clock.System{})
	feed := memory.NewChangeFeed()
	r, wrapped := rankingInstance(t, s, feed)
	ctx := context.Background()
	p := portstest.NewPlayer(t, s, "rebuilt")
	total := clearRaid(t, s, p.ID, 1) // unheard
	if _, err := r.Rebuild(ctx); err != nil || wrapped.rebuilds.Load() != 1 {
		t.Fatalf("Rebuild: %v, wrapped rebuilds %d", err, wrapped.rebuilds.Load())
	}
	waitFor(t, "the memory to hold the total", func() bool {
		_, mine, _ := r.Board(ctx, raids.TopSize, p.ID)
		return r.Loaded() && mine.TotalScore == total
	})
}
