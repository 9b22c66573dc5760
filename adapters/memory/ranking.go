package memory

import (
	"cmp"
	"context"
	"slices"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

var (
	_ ports.Ranking      = (*Store)(nil)
	_ ports.TotalsSource = (*Store)(nil)
)

// totals needs s.mu held; it lists every player's total by id.
func (s *Store) totals() []raids.Total {
	out := make([]raids.Total, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, raids.Total{UserID: u.ID, TotalScore: u.TotalScore})
	}
	slices.SortFunc(out, func(a, b raids.Total) int { return cmp.Compare(a.UserID, b.UserID) })
	return out
}

// Top returns the first n ranked players with their competition rankings.
func (s *Store) Top(_ context.Context, n int) ([]raids.Standing, error) {
	s.mu.Lock()
	ranked := raids.Rank(s.totals())
	s.mu.Unlock()
	return ranked[:min(max(n, 0), len(ranked))], nil
}

// StandingOf returns the player's total and how many players have a strictly higher one.
func (s *Store) StandingOf(_ context.Context, userID int64) (raids.Standing, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[userID]
	if !ok || u.TotalScore <= 0 {
		return raids.Standing{}, raids.ErrPlayerNotInRanks
	}
	st := raids.Standing{UserID: userID, TotalScore: u.TotalScore}
	for _, o := range s.users {
		if o.TotalScore > u.TotalScore {
			st.Ranking++
		}
	}
	return st, nil
}

// EachTotal hands every total above 0 to fn in batches of at most batch players, by id.
func (s *Store) EachTotal(ctx context.Context, batch int, fn func([]raids.Total) error) error {
	if batch <= 0 {
		batch = 1000
	}
	s.mu.Lock()
	all := slices.DeleteFunc(s.totals(), func(t raids.Total) bool { return t.TotalScore <= 0 })
	s.mu.Unlock()
	for chunk := range slices.Chunk(all, batch) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(slices.Clone(chunk)); err != nil {
			return err
		}
	}
	return nil
}
