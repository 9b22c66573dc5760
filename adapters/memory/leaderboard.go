package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// Leaderboard is ports.Leaderboard in memory, for use-case tests. Like the Redis one it
// answers raids.ErrNotRanked until its first Rebuild.
type Leaderboard struct {
	rebuild sync.Mutex // one rebuild at a time; never held with mu across a call to src

	mu     sync.Mutex
	totals map[int64]int64
	ready  bool
	build  map[int64]int64  // non-nil while a rebuild runs; SetTotal writes here too
	cache  []raids.Standing // the ranking of totals, until they change
	places map[int64]int    // user id → index in cache
}

var _ ports.Leaderboard = (*Leaderboard)(nil)

// NewLeaderboard returns an empty leaderboard that is not ranked until rebuilt.
func NewLeaderboard() *Leaderboard {
	return &Leaderboard{totals: map[int64]int64{}}
}

// SetTotal records a total; it never lowers one and ignores totals of 0 or less.
func (l *Leaderboard) SetTotal(_ context.Context, userID, total int64) error {
	if userID <= 0 {
		return fmt.Errorf("memory: set total: invalid player id %d", userID)
	}
	if total <= 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if raise(l.totals, userID, total) {
		l.cache = nil
	}
	if l.build != nil {
		raise(l.build, userID, total)
	}
	return nil
}

func raise(totals map[int64]int64, userID, total int64) bool {
	if total <= totals[userID] {
		return false
	}
	totals[userID] = total
	return true
}

// Top returns up to n players in ranking order.
func (l *Leaderboard) Top(_ context.Context, n int) ([]raids.Standing, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.rank(); err != nil {
		return nil, err
	}
	return slices.Clone(l.cache[:min(max(n, 0), len(l.cache))]), nil
}

// StandingOf returns the player's standing.
func (l *Leaderboard) StandingOf(_ context.Context, userID int64) (raids.Standing, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.rank(); err != nil {
		return raids.Standing{}, err
	}
	i, ok := l.places[userID]
	if !ok {
		return raids.Standing{}, raids.ErrPlayerNotInRanks
	}
	return l.cache[i], nil
}

// rank fills the cache with raids.Rank of the totals; the caller holds mu.
func (l *Leaderboard) rank() error {
	if !l.ready {
		return raids.ErrNotRanked
	}
	if l.cache != nil {
		return nil
	}
	totals := make([]raids.Total, 0, len(l.totals))
	for id, t := range l.totals {
		totals = append(totals, raids.Total{UserID: id, TotalScore: t})
	}
	l.cache = raids.Rank(totals)
	l.places = make(map[int64]int, len(l.cache))
	for i, s := range l.cache {
		l.places[s.UserID] = i
	}
	return nil
}

// Rebuild replaces the totals with src's; readers see the old ones until it completes.
func (l *Leaderboard) Rebuild(ctx context.Context, src ports.TotalsSource) (int, error) {
	l.rebuild.Lock()
	defer l.rebuild.Unlock()
	l.mu.Lock()
	l.build = map[int64]int64{}
	l.mu.Unlock()
	err := src.EachTotal(ctx, 1000, func(totals []raids.Total) error {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, t := range totals {
			if t.UserID > 0 && t.TotalScore > 0 {
				raise(l.build, t.UserID, t.TotalScore)
			}
		}
		return nil
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.build = nil
		return 0, err
	}
	l.totals, l.build, l.ready, l.cache = l.build, nil, true, nil
	return len(l.totals), nil
}

// Forget drops every total and the ready mark, as a Redis restart does.
func (l *Leaderboard) Forget() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.totals, l.ready, l.cache = map[int64]int64{}, false, nil
}
