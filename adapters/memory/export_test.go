package memory

import (
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
)

// AddRaidRecord stores a raid as given, for tests that need raids from any time: its id is the
// next one. It keeps the one-raid-in-progress rule and the player's total as the raids table
// and UpdateRaid do.
func (s *Store) AddRaidRecord(r raids.Raid) (raids.Raid, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[r.UserID]
	if !ok {
		return raids.Raid{}, users.ErrNotFound
	}
	if err := checkChange(r); err != nil {
		return raids.Raid{}, err
	}
	if r.Status == raids.StatusInProgress {
		for _, other := range s.raids {
			if other.Status == raids.StatusInProgress {
				return raids.Raid{}, &raids.BusyError{UserID: other.UserID, RaidID: other.ID}
			}
		}
	}
	r.ID = int64(len(s.raids) + 1)
	r.EnterTime, r.Deadline = storedTime(r.EnterTime), storedTime(r.Deadline)
	if r.EndTime != nil {
		end := storedTime(*r.EndTime)
		r.EndTime = &end
	}
	r.TimeLimit = r.TimeLimit.Truncate(time.Microsecond)
	s.raids = append(s.raids, withoutNickname(r))
	u.TotalScore += int64(r.Score)
	r.Nickname = u.Nickname
	return r, nil
}
