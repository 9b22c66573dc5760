package fallback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// Timings of the ranking's self-repair.
const (
	// ensureEvery is how often Run checks that the leaderboard can answer and is not stale.
	ensureEvery = 2 * time.Second
	// rebuildTimeout bounds a rebuild started because a reader found the leaderboard missing.
	rebuildTimeout = 5 * time.Minute
)

// Totals is the source of truth of the ranking: it answers the ranking itself, slowly, and
// streams the totals a rebuild reads.
type Totals interface {
	ports.Ranking
	ports.TotalsSource
}

// Ranking is ports.Standings served from the leaderboard, and from the totals while the
// leaderboard cannot answer (down, flushed or not built yet): slower, never different. It
// repairs the leaderboard itself: a reader that found it missing starts one rebuild, a lost
// write marks it stale, and Run rebuilds it whenever it can answer again.
type Ranking struct {
	board   ports.Leaderboard
	totals  Totals
	metrics ports.GameMetrics
	log     *slog.Logger

	rebuilding atomic.Bool // a rebuild started by a reader is running
	stale      atomic.Bool // a write to the leaderboard failed; rebuild once it answers again
}

var _ ports.Standings = (*Ranking)(nil)

// NewRanking serves the ranking from board, falling back to totals. metrics nil counts nothing.
func NewRanking(board ports.Leaderboard, totals Totals, metrics ports.GameMetrics, log *slog.Logger) *Ranking {
	return &Ranking{board: board, totals: totals, metrics: metrics, log: log}
}

// Board answers from the leaderboard, or from the totals when the leaderboard cannot, starting
// a rebuild of the leaderboard then.
func (r *Ranking) Board(ctx context.Context, n int, userID int64) ([]raids.Standing, raids.Standing, error) {
	top, mine, err := readBoard(ctx, r.board, n, userID)
	if err == nil || ctx.Err() != nil {
		return top, mine, err
	}
	r.log.Warn("leaderboard cannot answer; using the totals", "err", err)
	r.rebuildInBackground()
	return readBoard(ctx, r.totals, n, userID)
}

// boardReader is a ranking that reads the top and one player's standing in one trip.
type boardReader interface {
	Board(ctx context.Context, n int, userID int64) ([]raids.Standing, raids.Standing, error)
}

// readBoard returns the top n and the player's standing (TotalScore 0 when the player has no
// points, zero for userID 0), in one read when src can.
func readBoard(ctx context.Context, src ports.Ranking, n int, userID int64) ([]raids.Standing, raids.Standing, error) {
	if b, ok := src.(boardReader); ok {
		return b.Board(ctx, n, userID)
	}
	top, err := src.Top(ctx, n)
	if err != nil || userID == 0 {
		return top, raids.Standing{}, err
	}
	mine, err := src.StandingOf(ctx, userID)
	if errors.Is(err, raids.ErrPlayerNotInRanks) {
		return top, raids.Standing{UserID: userID}, nil
	}
	return top, mine, err
}

// Record writes a committed total to the leaderboard. A failed write marks the leaderboard
// stale, so Run rebuilds it from the totals once it answers again.
func (r *Ranking) Record(ctx context.Context, userID, total int64) {
	if err := r.board.SetTotal(ctx, userID, total); err != nil {
		r.log.Warn("leaderboard write failed; will rebuild", "err", err)
		r.stale.Store(true)
	}
}

// Rebuild replaces the leaderboard with the totals and returns how many players it ranks.
func (r *Ranking) Rebuild(ctx context.Context) (int, error) {
	start := time.Now()
	n, err := r.board.Rebuild(ctx, r.totals)
	if err != nil {
		return 0, fmt.Errorf("rebuild ranking: %w", err)
	}
	if r.metrics != nil {
		r.metrics.RankingRebuilt(n, time.Since(start))
	}
	r.stale.Store(false)
	r.log.Info("ranking rebuilt", "players", n)
	return n, nil
}

// rebuildInBackground starts one rebuild unless one started this way is already running.
func (r *Ranking) rebuildInBackground() {
	if !r.rebuilding.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer r.rebuilding.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), rebuildTimeout)
		defer cancel()
		if _, err := r.Rebuild(ctx); err != nil {
			r.log.Warn("background ranking rebuild failed", "err", err)
		}
	}()
}

// Ensure rebuilds the leaderboard when it cannot answer (missing after a restart or a flush)
// or a write to it was lost. While it is unreachable it returns ErrUnavailable, rebuilding
// nothing.
func (r *Ranking) Ensure(ctx context.Context) error {
	_, err := r.board.Top(ctx, 1)
	if err == nil && !r.stale.Load() {
		return nil
	}
	if errors.Is(err, ports.ErrUnavailable) {
		return err
	}
	_, err = r.Rebuild(ctx)
	return err
}

// Run keeps the leaderboard built until ctx ends, checking it every few seconds.
func (r *Ranking) Run(ctx context.Context) {
	t := time.NewTicker(ensureEvery)
	defer t.Stop()
	for {
		if err := r.Ensure(ctx); err != nil && ctx.Err() == nil {
			r.log.Debug("leaderboard not ready yet", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
