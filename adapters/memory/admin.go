package memory

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

var _ ports.AdminStore = (*Store)(nil)

// matchingRaids needs s.mu held; it returns every raid matching f as it stands now, with its
// player's nickname.
func (s *Store) matchingRaids(f ports.RaidFilter) []raids.Raid {
	now := s.now()
	var out []raids.Raid
	for _, stored := range s.raids {
		r, _ := s.raid(stored.ID)
		if f.Matches(r, r.Nickname, now) {
			out = append(out, r.At(now))
		}
	}
	return out
}

// ListRaids returns one page of the raids matching q.Filter in q.Order.
func (s *Store) ListRaids(_ context.Context, q ports.RaidQuery) ([]raids.Raid, error) {
	if q.Order.IsZero() {
		return nil, errors.New("list raids: no order")
	}
	s.mu.Lock()
	rows := s.matchingRaids(q.Filter)
	s.mu.Unlock()
	compare := func(a, b raids.Raid) int { return q.Order.Compare(ports.KeyOf(a), ports.KeyOf(b)) }
	if q.Backward {
		compare = func(a, b raids.Raid) int { return q.Order.Compare(ports.KeyOf(b), ports.KeyOf(a)) }
	}
	return page(rows, compare, q.After != nil, func(r raids.Raid) int {
		return compare(r, raids.Raid{ID: q.After.ID, EnterTime: q.After.EnterTime, Score: q.After.Score})
	}, q.Limit), nil
}

// page sorts rows, keeps those past the cursor (when there is one) and returns up to limit.
func page[T any](rows []T, compare func(a, b T) int, hasCursor bool, toCursor func(T) int, limit int) []T {
	slices.SortFunc(rows, compare)
	out := make([]T, 0, min(max(limit, 0), len(rows)))
	for _, r := range rows {
		if len(out) >= limit {
			break
		}
		if hasCursor && toCursor(r) <= 0 {
			continue
		}
		out = append(out, r)
	}
	return out
}

// CountRaids counts the raids matching f by their status now.
func (s *Store) CountRaids(_ context.Context, f ports.RaidFilter) (ports.RaidCounts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var c ports.RaidCounts
	for _, r := range s.matchingRaids(f) {
		c.Add(r.Status)
	}
	return c, nil
}

// TopRaiders returns the players with the most raids matching f.
func (s *Store) TopRaiders(_ context.Context, f ports.RaidFilter, n int) ([]ports.PlayerRaidCount, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byPlayer := map[int64]*ports.PlayerRaidCount{}
	for _, r := range s.matchingRaids(f) {
		pc, ok := byPlayer[r.UserID]
		if !ok {
			pc = &ports.PlayerRaidCount{UserID: r.UserID, Nickname: r.Nickname}
			byPlayer[r.UserID] = pc
		}
		pc.Raids.Add(r.Status)
	}
	out := make([]ports.PlayerRaidCount, 0, len(byPlayer))
	for _, pc := range byPlayer {
		out = append(out, *pc)
	}
	slices.SortFunc(out, func(a, b ports.PlayerRaidCount) int {
		return cmp.Or(cmp.Compare(b.Raids.Total(), a.Raids.Total()), cmp.Compare(a.UserID, b.UserID))
	})
	return out[:min(max(n, 0), len(out))], nil
}

// ListPlayers returns one page of the players found by q.Search in q.Order.
func (s *Store) ListPlayers(_ context.Context, q ports.PlayerQuery) ([]ports.PlayerRow, error) {
	if q.Order.IsZero() {
		return nil, errors.New("list players: no order")
	}
	s.mu.Lock()
	raidCounts := map[int64]int{}
	for _, r := range s.raids {
		raidCounts[r.UserID]++
	}
	search := strings.TrimSpace(q.Search)
	email := users.NormalizeEmail(search)
	var rows []ports.PlayerRow
	for _, u := range s.users {
		if !ports.NicknameMatches(u.Nickname, search, false) && !strings.HasPrefix(u.Email, email) {
			continue
		}
		row := ports.PlayerRow{User: *u, RaidCount: raidCounts[u.ID]}
		row.User.PasswordHash = ""
		rows = append(rows, row)
	}
	s.mu.Unlock()
	compare := func(a, b ports.PlayerRow) int {
		return q.Order.Compare(ports.PlayerKeyOf(a.User), ports.PlayerKeyOf(b.User))
	}
	if q.Backward {
		compare = func(a, b ports.PlayerRow) int {
			return q.Order.Compare(ports.PlayerKeyOf(b.User), ports.PlayerKeyOf(a.User))
		}
	}
	return page(rows, compare, q.After != nil, func(r ports.PlayerRow) int {
		return compare(r, ports.PlayerRow{User: users.User{ID: q.After.ID, TotalScore: q.After.TotalScore}})
	}, q.Limit), nil
}

// CountPlayers counts every registered player.
func (s *Store) CountPlayers(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.users), nil
}
