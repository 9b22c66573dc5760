// Package raids holds the rules of the boss raid: the static data, a raid's life from entry to
// success or failure, and the ranking. It has no I/O; every rule that depends on time takes `now`.
package raids

import (
	"errors"
	"fmt"
	"time"
)

// Errors the raid rules and the stores report.
var (
	ErrUnknownLevel     = errors.New("no such level in the boss raid data")
	ErrBusy             = errors.New("another player is inside the boss raid")
	ErrNotFound         = errors.New("raid not found")
	ErrExpired          = errors.New("the raid's time limit has passed")
	ErrNotInProgress    = errors.New("the raid has already ended")
	ErrLevelMismatch    = errors.New("level does not match the raid's level")
	ErrNotRanked        = errors.New("the ranking is not available")
	ErrPlayerNotInRanks = errors.New("player is not in the ranking")
)

// BusyError says who is inside when an entry is refused. errors.Is(err, ErrBusy) holds.
type BusyError struct {
	UserID int64
	RaidID int64
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("%v (player %d, raid %d)", ErrBusy, e.UserID, e.RaidID)
}

func (e *BusyError) Unwrap() error { return ErrBusy }

// Status is where a raid stands. The zero value is not a status.
type Status struct{ name string }

var (
	StatusInProgress = Status{"in_progress"}
	StatusSuccess    = Status{"success"}
	StatusFail       = Status{"fail"}
)

// ParseStatus turns a stored or requested status name into a Status.
func ParseStatus(s string) (Status, error) {
	for _, st := range []Status{StatusInProgress, StatusSuccess, StatusFail} {
		if st.name == s {
			return st, nil
		}
	}
	return Status{}, fmt.Errorf("unknown raid status %q", s)
}

func (s Status) String() string { return s.name }

// IsZero reports whether s was never set.
func (s Status) IsZero() bool { return s.name == "" }

// Raid is one attempt of one player at the boss. It keeps the level, limit and score it was
// entered under, so later changes to the boss data never rewrite history.
type Raid struct {
	ID         int64
	UserID     int64
	Nickname   string
	Level      int
	LevelScore int // what clearing this raid is worth, fixed at entry
	Score      int // 0 until the raid succeeds
	Status     Status
	EnterTime  time.Time
	Deadline   time.Time
	EndTime    *time.Time // nil while in progress
	TimeLimit  time.Duration
}

// Deadline is when a raid entered at enter under limit stops being in progress.
func Deadline(enter time.Time, limit time.Duration) time.Time {
	return enter.Add(limit)
}

// InProgressAt reports whether the raid is still running at now: a raid is in progress
// while now < deadline, whatever a sweeper has or has not recorded yet.
func (r Raid) InProgressAt(now time.Time) bool {
	return r.Status == StatusInProgress && now.Before(r.Deadline)
}

// At returns the raid as it stands at now: an in-progress raid whose deadline has passed
// is a failed raid that ended at its deadline.
func (r Raid) At(now time.Time) Raid {
	if r.Status == StatusInProgress && !now.Before(r.Deadline) {
		r.Status = StatusFail
		end := r.Deadline
		r.EndTime = &end
		r.Score = 0
	}
	return r
}

// End clears the raid for player by at now. level, when given, must be the raid's level.
// It returns the raid as it must be stored and the reason it was refused, if it was: an
// expired raid comes back failed together with ErrExpired, so the caller records the failure.
// The order of checks is the API's: not found, then level, then state.
func (r Raid) End(by int64, level *int, now time.Time) (Raid, error) {
	if r.UserID != by {
		return r, ErrNotFound // someone else's raid looks like no raid at all
	}
	if level != nil && *level != r.Level {
		return r, ErrLevelMismatch
	}
	r = r.At(now)
	switch r.Status {
	case StatusFail:
		return r, ErrExpired
	case StatusSuccess:
		return r, ErrNotInProgress
	}
	r.Status = StatusSuccess
	r.Score = r.LevelScore
	end := now
	r.EndTime = &end
	return r, nil
}

// Changed reports whether other differs from r in what a store keeps of a raid's outcome:
// status, score and end time.
func (r Raid) Changed(other Raid) bool {
	if r.Status != other.Status || r.Score != other.Score {
		return true
	}
	if (r.EndTime == nil) != (other.EndTime == nil) {
		return true
	}
	return r.EndTime != nil && !r.EndTime.Equal(*other.EndTime)
}
