package hot

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// Ranking wraps a ports.Standings: while the change feed is followed and every total has been
// loaded, Board answers from memory, exactly as SQL rank() over the totals would. Its own
// writes (Record) show at once; other instances' arrive with the feed (TotalChanged). While
// the feed is lost or the totals are loading, the wrapped ranking answers.
type Ranking struct {
	next   ports.Standings
	totals ports.TotalsSource
	log    *slog.Logger

	mu    sync.RWMutex
	b     *board // nil while the feed is lost
	ready bool   // b holds every total
	gen   uint64 // moves on whenever b is replaced or dropped, so a stale load stops
	// follow is the feed's context, for the loads it starts; nil while not followed.
	follow     context.Context
	cancelLoad context.CancelFunc
}

var _ ports.Standings = (*Ranking)(nil)

// Loading tuning.
const (
	loadBatch = 10_000
	loadRetry = time.Second
)

// Ranking wraps next; totals is where the memory is loaded from. Follow keeps it exact.
func (c *Cache) Ranking(next ports.Standings, totals ports.TotalsSource, log *slog.Logger) *Ranking {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Ranking{next: next, totals: totals, log: log}
	c.mu.Lock()
	c.rankings = append(c.rankings, r)
	c.mu.Unlock()
	return r
}

// Board answers from memory once loaded, else from the wrapped ranking.
func (r *Ranking) Board(ctx context.Context, n int, userID int64) ([]raids.Standing, raids.Standing, error) {
	r.mu.RLock()
	if r.ready && n <= topKept {
		top, mine := r.b.read(n, userID)
		r.mu.RUnlock()
		return top, mine, nil
	}
	r.mu.RUnlock()
	return r.next.Board(ctx, n, userID)
}

// Record shows the total here at once and hands it on.
func (r *Ranking) Record(ctx context.Context, userID, total int64) {
	r.mu.Lock()
	if r.b != nil {
		r.b.raise(userID, total)
	}
	r.mu.Unlock()
	r.next.Record(ctx, userID, total)
}

// Rebuild rebuilds the wrapped ranking and loads the memory again from the totals.
func (r *Ranking) Rebuild(ctx context.Context) (int, error) {
	n, err := r.next.Rebuild(ctx)
	r.mu.Lock()
	if r.follow != nil {
		r.startLoad()
	}
	r.mu.Unlock()
	return n, err
}

// Loaded reports whether Board answers from memory.
func (r *Ranking) Loaded() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.ready
}

// apply is called by Cache.Follow for every change, from the feed's goroutine.
func (r *Ranking) apply(ctx context.Context, ch ports.Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ch.Kind {
	case ports.ChangesFollowed:
		r.follow = ctx
		r.startLoad()
	case ports.ChangesLost:
		r.stop()
	case ports.TotalChanged:
		if r.b != nil {
			r.b.raise(ch.UserID, ch.Total)
		}
	}
}

// stop drops the memory; r.mu held.
func (r *Ranking) stop() {
	r.gen++
	if r.cancelLoad != nil {
		r.cancelLoad()
		r.cancelLoad = nil
	}
	r.b, r.ready, r.follow = nil, false, nil
}

// startLoad replaces the memory with an empty board and loads every total into it in the
// background; totals reported meanwhile go into it too, and the highest wins. r.mu held.
func (r *Ranking) startLoad() {
	follow := r.follow
	r.stop()
	r.follow = follow
	ctx, cancel := context.WithCancel(follow)
	r.b, r.cancelLoad = newBoard(), cancel
	gen, b := r.gen, r.b
	go r.load(ctx, gen, b)
}

var errStaleLoad = errors.New("hot: ranking load superseded")

func (r *Ranking) load(ctx context.Context, gen uint64, b *board) {
	start := time.Now()
	for {
		err := r.totals.EachTotal(ctx, loadBatch, func(batch []raids.Total) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.gen != gen {
				return errStaleLoad
			}
			for _, t := range batch {
				b.raise(t.UserID, t.TotalScore)
			}
			return nil
		})
		if err == nil {
			r.mu.Lock()
			if r.gen == gen {
				r.ready = true
				r.log.Info("ranking loaded into memory", "players", b.players, "took", time.Since(start))
			}
			r.mu.Unlock()
			return
		}
		if errors.Is(err, errStaleLoad) || ctx.Err() != nil {
			return
		}
		r.log.Warn("loading the ranking into memory failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(loadRetry):
		}
	}
}
