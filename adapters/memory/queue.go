package memory

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

var _ ports.RaidQueue = (*Store)(nil)

// queueState is the line as stored, the facts the Postgres store keeps in raid_queue and
// raid_queue_state.
type queueState struct {
	waiting     []raids.Waiting // in order of joining; nicknames are read from users
	turnFrom    time.Time       // zero while nobody waits
	turnsTaken  int64
	turnsLapsed int64
}

// line needs s.mu held: the line judged at now, with the player inside the raid (0 when free).
func (s *Store) line(now time.Time) (raids.Line, int64) {
	var inside int64
	var freed time.Time
	if n := len(s.raids); n > 0 {
		last := s.raids[n-1]
		if last.InProgressAt(now) {
			inside = last.UserID
		}
		freed = last.Deadline
		if last.EndTime != nil {
			freed = *last.EndTime
		}
	}
	since := freed
	if s.queue.turnFrom.After(since) {
		since = s.queue.turnFrom
	}
	stored := make([]raids.Waiting, len(s.queue.waiting))
	for i, w := range s.queue.waiting {
		w.Nickname = s.users[w.UserID].Nickname
		stored[i] = w
	}
	l := raids.LineAt(stored, inside != 0, since, now)
	l.TurnsTaken, l.TurnsLapsed = s.queue.turnsTaken, s.queue.turnsLapsed+int64(l.Lapsed)
	return l, inside
}

// tidyLine needs s.mu held: it judges the line at now and removes the lapsed players, as a
// writing Postgres transaction does.
func (s *Store) tidyLine(now time.Time) (raids.Line, int64) {
	l, inside := s.line(now)
	if l.Lapsed == 0 {
		return l, inside
	}
	s.queue.waiting = s.queue.waiting[l.Lapsed:]
	s.queue.turnsLapsed += int64(l.Lapsed)
	s.queue.turnFrom = time.Time{}
	if r := l.Reservation; r != nil {
		s.queue.turnFrom = r.Since
	}
	l.Lapsed = 0
	return l, inside
}

// leaveLine needs s.mu held and l tidied at now: it takes the player out, passing a held
// turn on at once. It reports whether they were waiting.
func (s *Store) leaveLine(l raids.Line, userID int64, now time.Time) bool {
	i := slices.IndexFunc(s.queue.waiting, func(w raids.Waiting) bool { return w.UserID == userID })
	if i < 0 {
		return false
	}
	s.queue.waiting = slices.Delete(s.queue.waiting, i, i+1)
	switch {
	case len(s.queue.waiting) == 0:
		s.queue.turnFrom = time.Time{}
	case l.Reservation != nil && l.Reservation.UserID == userID:
		s.queue.turnFrom = now
	}
	return true
}

// JoinQueue puts the player at the back of the line.
func (s *Store) JoinQueue(_ context.Context, userID int64, turn time.Duration) (int, error) {
	turn = turn.Truncate(time.Microsecond)
	if turn <= 0 {
		return 0, errors.New("join queue: the turn is shorter than a microsecond")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	l, inside := s.tidyLine(now)
	if _, ok := s.users[userID]; !ok {
		return 0, users.ErrNotFound
	}
	if err := l.CheckJoin(userID, inside); err != nil {
		return 0, err
	}
	s.queue.waiting = append(s.queue.waiting, raids.Waiting{UserID: userID, JoinedAt: now, Turn: turn})
	s.changes.Report(ports.Change{Kind: ports.QueueChanged})
	return len(l.Waiting) + 1, nil
}

// LeaveQueue takes the player out of the line.
func (s *Store) LeaveQueue(_ context.Context, userID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	l, _ := s.tidyLine(now)
	if !s.leaveLine(l, userID, now) {
		return raids.ErrNotQueued
	}
	s.changes.Report(ports.Change{Kind: ports.QueueChanged})
	return nil
}

// Line returns the line as it stands now.
func (s *Store) Line(context.Context) (raids.Line, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, _ := s.line(s.now())
	return l, nil
}

// checkLine needs s.mu held: EnterRaid's queue rules. It refuses everyone but the holder of a
// turn and returns the tidied line.
func (s *Store) checkLine(userID int64, now time.Time) (raids.Line, error) {
	l, _ := s.tidyLine(now)
	return l, l.CheckEntry(userID)
}

// takeTurn needs s.mu held: the player who entered leaves the line, counting the turn they held.
func (s *Store) takeTurn(l raids.Line, userID int64, now time.Time) {
	s.leaveLine(l, userID, now)
	if l.Reservation != nil && l.Reservation.UserID == userID {
		s.queue.turnsTaken++
	}
}
