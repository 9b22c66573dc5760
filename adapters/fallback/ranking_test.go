package fallback_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/fallback"
	"github.com/bossraid/bossraid/adapters/memory"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// flakyBoard is a leaderboard whose server can go down.
type flakyBoard struct {
	*memory.Leaderboard
	mu   sync.Mutex
	down bool
}

func (b *flakyBoard) setDown(down bool) {
	b.mu.Lock()
	b.down = down
	b.mu.Unlock()
}

func (b *flakyBoard) err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down {
		return ports.ErrUnavailable
	}
	return nil
}

func (b *flakyBoard) Top(ctx context.Context, n int) ([]raids.Standing, error) {
	if err := b.err(); err != nil {
		return nil, err
	}
	return b.Leaderboard.Top(ctx, n)
}

func (b *flakyBoard) StandingOf(ctx context.Context, id int64) (raids.Standing, error) {
	if err := b.err(); err != nil {
		return raids.Standing{}, err
	}
	return b.Leaderboard.StandingOf(ctx, id)
}

func (b *flakyBoard) SetTotal(ctx context.Context, id, total int64) error {
	if err := b.err(); err != nil {
		return err
	}
	return b.Leaderboard.SetTotal(ctx, id, total)
}

// rebuilds counts the rebuilds the metrics saw.
type rebuilds struct {
	mu      sync.Mutex
	players []int
}

func (*rebuilds) RaidEntered()      {}
func (*rebuilds) RaidCleared()      {}
func (*rebuilds) RaidsFailed(int)   {}
func (*rebuilds) EnterRefusedBusy() {}
func (r *rebuilds) RankingRebuilt(n int, _ time.Duration) {
	r.mu.Lock()
	r.players = append(r.players, n)
	r.mu.Unlock()
}

func (r *rebuilds) seen() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.players)
}

// totals is the source of truth: every player's total, ranked on each read.
type totals struct {
	mu sync.Mutex
	m  map[int64]int64
}

func (s *totals) set(id, total int64) {
	s.mu.Lock()
	s.m[id] = total
	s.mu.Unlock()
}

func (s *totals) ranked() []raids.Standing {
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []raids.Total
	for id, t := range s.m {
		list = append(list, raids.Total{UserID: id, TotalScore: t})
	}
	return raids.Rank(list)
}

func (s *totals) Top(_ context.Context, n int) ([]raids.Standing, error) {
	r := s.ranked()
	return r[:min(n, len(r))], nil
}

func (s *totals) StandingOf(_ context.Context, id int64) (raids.Standing, error) {
	for _, st := range s.ranked() {
		if st.UserID == id {
			return st, nil
		}
	}
	return raids.Standing{}, raids.ErrPlayerNotInRanks
}

func (s *totals) EachTotal(_ context.Context, _ int, fn func([]raids.Total) error) error {
	var list []raids.Total
	for _, st := range s.ranked() {
		list = append(list, raids.Total{UserID: st.UserID, TotalScore: st.TotalScore})
	}
	return fn(list)
}

// rankingWorld is three players with points in the totals (30, 20, 20) and one without.
type rankingWorld struct {
	board   *flakyBoard
	totals  *totals
	metrics *rebuilds
	ranking *fallback.Ranking
	ids     []int64
}

func newRankingWorld(t *testing.T) *rankingWorld {
	t.Helper()
	ctx := context.Background()
	w := &rankingWorld{board: &flakyBoard{Leaderboard: memory.NewLeaderboard()}, totals: &totals{m: map[int64]int64{}}, metrics: &rebuilds{}}
	w.ranking = fallback.NewRanking(w.board, w.totals, w.metrics, slog.New(slog.DiscardHandler))
	w.ids = []int64{11, 12, 13, 14}
	for i, total := range []int64{30, 20, 20} {
		w.totals.set(w.ids[i], total)
	}
	if _, err := w.ranking.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *rankingWorld) board3(t *testing.T, userID int64) ([]raids.Standing, raids.Standing) {
	t.Helper()
	top, mine, err := w.ranking.Board(context.Background(), raids.TopSize, userID)
	if err != nil {
		t.Fatal(err)
	}
	return top, mine
}

// waitRebuilt waits until the metrics saw want rebuilds (the one a reader starts runs on its own).
func (w *rankingWorld) waitRebuilt(t *testing.T, want int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); len(w.metrics.seen()) < want; {
		if time.Now().After(deadline) {
			t.Fatalf("rebuilds seen %v, want %d", w.metrics.seen(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRankingAnswersFromTheTotalsWhileTheLeaderboardCannotAndRebuildsIt(t *testing.T) {
	w := newRankingWorld(t)
	wantTop, wantMine := w.board3(t, w.ids[1])
	if len(wantTop) != 3 || wantTop[0].UserID != w.ids[0] || wantMine.Ranking != 1 || wantMine.TotalScore != 20 {
		t.Fatalf("from the leaderboard: top %+v, mine %+v", wantTop, wantMine)
	}
	w.board.Forget() // the leaderboard was flushed
	top, mine := w.board3(t, w.ids[1])
	if !slices.Equal(top, wantTop) || mine != wantMine {
		t.Fatalf("from the totals: top %+v mine %+v, want %+v %+v", top, mine, wantTop, wantMine)
	}
	w.waitRebuilt(t, 2) // the first Rebuild, then the one the reader started
	if got, err := w.board.Top(context.Background(), raids.TopSize); err != nil || !slices.Equal(got, wantTop) {
		t.Fatalf("leaderboard after the background rebuild: %+v, %v", got, err)
	}
	if _, mine := w.board3(t, w.ids[3]); mine != (raids.Standing{UserID: w.ids[3]}) {
		t.Fatalf("a player without points: %+v", mine)
	}
	if _, mine := w.board3(t, 0); mine != (raids.Standing{}) {
		t.Fatalf("nobody: %+v", mine)
	}
}

func TestALostWriteMakesTheRankingStaleUntilRebuilt(t *testing.T) {
	w := newRankingWorld(t)
	ctx := context.Background()
	if err := w.ranking.Ensure(ctx); err != nil || len(w.metrics.seen()) != 1 {
		t.Fatalf("a built, fresh leaderboard is left alone: %v, rebuilds %v", err, w.metrics.seen())
	}
	w.board.setDown(true)
	w.totals.set(w.ids[3], 50) // committed, while the leaderboard is down
	w.ranking.Record(ctx, w.ids[3], 50)
	if err := w.ranking.Ensure(ctx); !errors.Is(err, ports.ErrUnavailable) || len(w.metrics.seen()) != 1 {
		t.Fatalf("while the leaderboard is down: %v, rebuilds %v", err, w.metrics.seen())
	}
	w.board.setDown(false)
	if top, _ := w.board3(t, 0); top[0].UserID == w.ids[3] {
		t.Fatal("the lost write reached the leaderboard")
	}
	if err := w.ranking.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if got := w.metrics.seen(); !slices.Equal(got, []int{3, 4}) {
		t.Fatalf("rebuilds counted %v, want [3 4]", got)
	}
	top, mine := w.board3(t, w.ids[3])
	if top[0].UserID != w.ids[3] || mine.Ranking != 0 || mine.TotalScore != 50 {
		t.Fatalf("after the rebuild: top %+v, mine %+v", top, mine)
	}
	if err := w.ranking.Ensure(ctx); err != nil || len(w.metrics.seen()) != 2 {
		t.Fatalf("the rebuild cleared the stale mark: %v, rebuilds %v", err, w.metrics.seen())
	}
}

func TestRunBuildsTheLeaderboardAtOnce(t *testing.T) {
	w := newRankingWorld(t)
	w.board.Forget()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.ranking.Run(ctx) }()
	w.waitRebuilt(t, 2)
	cancel()
	<-done
	if _, err := w.board.Top(context.Background(), 1); err != nil {
		t.Fatalf("leaderboard after Run: %v", err)
	}
}
