package raids

import (
	"errors"
	"fmt"
	"time"
)

// The queue's rules (issue 14). Players wait in a line while the raid is busy; when it frees,
// the head of the line alone may enter for a short turn, and a turn not taken passes to the
// next. Stores keep only facts (who waits in which order with which turn length, when the
// raid last freed, when the head's turn may start at the earliest) and judge the rest with
// LineAt, so a turn that lapsed is lapsed for every reader without anything sweeping it.
//
// Decided here:
//   - A holder who leaves (or signs out everywhere) during their turn passes it on at once:
//     the next player's window starts then, in full.
//   - A lapsed player is out of the line; joining again puts them at the back.
//   - Entering the raid takes the player out of the line.

// Errors of the queue.
var (
	ErrReserved      = errors.New("the boss raid is reserved for the player whose turn it is")
	ErrRaidFree      = errors.New("the boss raid is free and nobody is waiting: just enter")
	ErrAlreadyQueued = errors.New("you are already waiting in line")
	ErrNotQueued     = errors.New("you are not waiting in line")
	ErrInsideRaid    = errors.New("you are inside the boss raid")
)

// ReservedError says whose turn it is when an entry is refused. errors.Is(err, ErrReserved) holds.
type ReservedError struct {
	UserID int64
	Until  time.Time
}

func (e *ReservedError) Error() string {
	return fmt.Sprintf("%v (player %d, until %s)", ErrReserved, e.UserID, e.Until.UTC().Format(time.RFC3339Nano))
}

func (e *ReservedError) Unwrap() error { return ErrReserved }

// Waiting is one player in the line as stored: the order is the order the joins committed.
type Waiting struct {
	UserID   int64
	Nickname string
	JoinedAt time.Time
	Turn     time.Duration // how long this player's turn lasts, fixed when they joined
}

// Reservation is a turn being held: only UserID may enter, from Since until Until.
type Reservation struct {
	UserID   int64
	Nickname string
	Since    time.Time
	Until    time.Time
}

// Line is the queue as it stands at Now.
type Line struct {
	Now     time.Time
	Waiting []Waiting // in order; the head first; lapsed players left out
	// Reservation is the head's turn, nil while the raid is busy or nobody waits.
	Reservation *Reservation
	// Lapsed is how many players at the head of the stored line lost their turn without
	// entering; a writing store removes them.
	Lapsed int
	// TurnsTaken and TurnsLapsed count every turn ever entered and every turn ever lapsed
	// (the ones in Lapsed included).
	TurnsTaken, TurnsLapsed int64
}

// Position is the player's place in the line, 1 for the head, 0 when not waiting.
func (l Line) Position(userID int64) int {
	for i, w := range l.Waiting {
		if w.UserID == userID {
			return i + 1
		}
	}
	return 0
}

// LineAt judges a stored line at now. busy says whether a raid is in progress at now. When
// it is not, the head's turn starts at since (the later of when the raid freed and when the
// head's turn may start at the earliest, e.g. the moment the holder before it left) and each
// turn not taken passes on when it ends: the next one starts then.
func LineAt(stored []Waiting, busy bool, since, now time.Time) Line {
	l := Line{Now: now, Waiting: stored}
	if busy {
		return l
	}
	start := since
	for _, w := range stored {
		end := start.Add(w.Turn)
		if now.Before(end) {
			l.Reservation = &Reservation{UserID: w.UserID, Nickname: w.Nickname, Since: start, Until: end}
			break
		}
		l.Lapsed++
		start = end
	}
	l.Waiting = stored[l.Lapsed:]
	return l
}

// CheckEntry says whether userID may enter the raid given the line: anyone while no turn is
// held, and only the holder while one is. Returns *ReservedError.
func (l Line) CheckEntry(userID int64) error {
	if r := l.Reservation; r != nil && r.UserID != userID {
		return &ReservedError{UserID: r.UserID, Until: r.Until}
	}
	return nil
}

// CheckJoin says whether userID may join the line: not while inside the raid (inside is the
// player in the raid now, 0 when it is free), not twice, and not while the raid is free and
// nobody waits. Returns ErrInsideRaid, ErrAlreadyQueued or ErrRaidFree.
func (l Line) CheckJoin(userID, inside int64) error {
	switch {
	case inside == userID:
		return ErrInsideRaid
	case l.Position(userID) > 0:
		return ErrAlreadyQueued
	case inside == 0 && len(l.Waiting) == 0:
		return ErrRaidFree
	}
	return nil
}
