package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

var _ ports.RaidStore = (*Store)(nil)

// EnterRaid starts a raid unless one is in progress; expired ones are closed first.
func (s *Store) EnterRaid(_ context.Context, userID int64, level raids.Level, limit time.Duration) (raids.Raid, error) {
	limit = limit.Truncate(time.Microsecond)
	if limit <= 0 {
		return raids.Raid{}, fmt.Errorf("enter raid: time limit %v is not positive", limit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	line, err := s.checkLine(userID, now)
	if err != nil {
		return raids.Raid{}, err
	}
	if s.sweep(now) > 0 {
		s.changes.Report(ports.Change{Kind: ports.RaidChanged})
	}
	for _, r := range s.raids {
		if r.Status == raids.StatusInProgress {
			return raids.Raid{}, &raids.BusyError{UserID: r.UserID, RaidID: r.ID}
		}
	}
	u, ok := s.users[userID]
	if !ok {
		return raids.Raid{}, users.ErrNotFound
	}
	r := raids.Raid{
		ID: int64(len(s.raids) + 1), UserID: userID, Level: level.Level, LevelScore: level.Score,
		Status: raids.StatusInProgress, EnterTime: now, Deadline: raids.Deadline(now, limit),
		TimeLimit: limit,
	}
	s.raids = append(s.raids, r)
	s.takeTurn(line, userID, now)
	s.changes.Report(ports.Change{Kind: ports.RaidChanged})
	r.Nickname = u.Nickname
	return r, nil
}

// sweep needs s.mu held.
func (s *Store) sweep(now time.Time) int {
	n := 0
	for i, r := range s.raids {
		if r.Status == raids.StatusInProgress && !r.InProgressAt(now) {
			s.raids[i] = r.At(now)
			n++
		}
	}
	return n
}

// UpdateRaid stores what change makes of the raid, with the score difference added to the
// player's total.
func (s *Store) UpdateRaid(_ context.Context, raidID int64, change func(r raids.Raid, now time.Time) (raids.Raid, error)) (raids.Raid, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.raid(raidID)
	if !ok {
		return raids.Raid{}, 0, raids.ErrNotFound
	}
	u := s.users[stored.UserID]
	now := s.now()
	changed, changeErr := change(stored.At(now), now)
	if changed.EndTime != nil {
		end := storedTime(*changed.EndTime)
		changed.EndTime = &end
	}
	if !stored.Changed(changed) {
		return stored.At(now), u.TotalScore, changeErr
	}
	if err := checkChange(changed); err != nil {
		return raids.Raid{}, 0, err
	}
	if changed.Status == raids.StatusInProgress && stored.Status != raids.StatusInProgress {
		return raids.Raid{}, 0, fmt.Errorf("update raid %d: a finished raid cannot be put back in progress", raidID)
	}
	if u.TotalScore+int64(changed.Score-stored.Score) < 0 {
		return raids.Raid{}, 0, fmt.Errorf("update raid %d: the player's total would go below 0", raidID)
	}
	u.TotalScore += int64(changed.Score - stored.Score)
	result := stored
	result.Status, result.Score, result.EndTime = changed.Status, changed.Score, changed.EndTime
	s.raids[raidID-1] = withoutNickname(result)
	if result.Status != stored.Status {
		s.changes.Report(ports.Change{Kind: ports.RaidChanged})
	}
	if changed.Score > stored.Score {
		s.changes.Report(ports.Change{Kind: ports.TotalChanged, UserID: u.ID, Total: u.TotalScore})
	}
	return result, u.TotalScore, changeErr
}

// checkChange keeps the rules the raids table's CHECK constraints keep.
func checkChange(r raids.Raid) error {
	switch {
	case r.Status.IsZero():
		return fmt.Errorf("update raid %d: no status", r.ID)
	case r.Score < 0:
		return fmt.Errorf("update raid %d: negative score", r.ID)
	case (r.Status == raids.StatusInProgress) != (r.EndTime == nil):
		return fmt.Errorf("update raid %d: only a raid in progress has no end time", r.ID)
	case r.Status != raids.StatusSuccess && r.Score != 0:
		return fmt.Errorf("update raid %d: only a successful raid scores", r.ID)
	}
	return nil
}

func withoutNickname(r raids.Raid) raids.Raid {
	r.Nickname = ""
	return r
}

// raid needs s.mu held; it returns the stored raid with its player's nickname.
func (s *Store) raid(id int64) (raids.Raid, bool) {
	if id < 1 || id > int64(len(s.raids)) {
		return raids.Raid{}, false
	}
	r := s.raids[id-1]
	if u, ok := s.users[r.UserID]; ok {
		r.Nickname = u.Nickname
	}
	if r.EndTime != nil {
		end := *r.EndTime
		r.EndTime = &end
	}
	return r, true
}

// CurrentRaid returns the raid in progress now, if any.
func (s *Store) CurrentRaid(context.Context) (raids.Raid, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for i := len(s.raids) - 1; i >= 0; i-- {
		if s.raids[i].InProgressAt(now) {
			r, _ := s.raid(s.raids[i].ID)
			return r, true, nil
		}
	}
	return raids.Raid{}, false, nil
}

// RaidByID returns the raid as it stands now.
func (s *Store) RaidByID(_ context.Context, raidID int64) (raids.Raid, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.raid(raidID)
	if !ok {
		return raids.Raid{}, raids.ErrNotFound
	}
	return r.At(s.now()), nil
}

// History returns one page of the player's raids, newest first, and how many they have.
func (s *Store) History(_ context.Context, userID int64, offset, limit int) ([]raids.Raid, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	offset, limit = max(offset, 0), max(limit, 0)
	page := []raids.Raid{}
	count := 0
	for i := len(s.raids) - 1; i >= 0; i-- {
		if s.raids[i].UserID != userID {
			continue
		}
		if count >= offset && len(page) < limit {
			r, _ := s.raid(s.raids[i].ID)
			page = append(page, r.At(now))
		}
		count++
	}
	return page, count, nil
}

// SweepExpired records every raid past its deadline as failed at its deadline.
func (s *Store) SweepExpired(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.sweep(s.now())
	if n > 0 {
		s.changes.Report(ports.Change{Kind: ports.RaidChanged})
	}
	return n, nil
}
