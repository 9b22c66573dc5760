package app

import (
	"context"
	"fmt"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// DefaultQueueTurn is how long the head of the queue holds the door (QUEUE_TURN).
const DefaultQueueTurn = 20 * time.Second

// QueueMetrics counts what happens in the raid queue. The store's totals are shared by
// every instance, so they are reported as they stand, not counted per instance.
type QueueMetrics interface {
	QueueObserved(length int, turnsTaken, turnsLapsed int64)
}

// QueueDeps are what the queue's use cases run on.
type QueueDeps struct {
	Line ports.RaidQueue
	// Announce tells every instance's live pages that the line changed; nil tells nobody.
	Announce func(ctx context.Context, e ports.Event)
	Metrics  QueueMetrics // nil counts nothing
}

// Queue is the fair line for the boss raid: players join while someone is inside, and when
// the raid frees the head alone may enter for a turn (core/raids' queue rules; the store
// decides, EnterRaid included). Build it with NewQueue; it is safe for concurrent use.
type Queue struct {
	deps QueueDeps
	turn time.Duration
}

// NewQueue builds the queue's use cases; turn is how long a turn lasts (0: DefaultQueueTurn).
func NewQueue(deps QueueDeps, turn time.Duration) (*Queue, error) {
	if turn == 0 {
		turn = DefaultQueueTurn
	}
	if turn < time.Millisecond {
		return nil, fmt.Errorf("app: the queue's turn %v is shorter than a millisecond", turn)
	}
	if deps.Announce == nil {
		deps.Announce = func(context.Context, ports.Event) {}
	}
	return &Queue{deps: deps, turn: turn}, nil
}

// Turn is how long a turn lasts.
func (q *Queue) Turn() time.Duration { return q.turn }

// Join puts the player at the back of the line and returns their place (1 for the head).
// raids.ErrRaidFree when nobody is inside and nobody waits (just enter), raids.ErrAlreadyQueued,
// raids.ErrInsideRaid.
func (q *Queue) Join(ctx context.Context, p Player) (int, error) {
	pos, err := q.deps.Line.JoinQueue(ctx, p.ID, q.turn)
	if err != nil {
		return 0, err
	}
	q.deps.Announce(ctx, ports.Event{Kind: ports.EventRaid})
	return pos, nil
}

// Leave takes the player out of the line; a holder leaving passes the turn on at once.
// raids.ErrNotQueued when they were not waiting.
func (q *Queue) Leave(ctx context.Context, p Player) error {
	if err := q.deps.Line.LeaveQueue(ctx, p.ID); err != nil {
		return err
	}
	q.deps.Announce(ctx, ports.Event{Kind: ports.EventRaid})
	return nil
}

// QueueStatus is the line as one player sees it.
type QueueStatus struct {
	Now      time.Time // the store's clock when it judged the line
	Length   int
	Position int // the player's place, 0 when not waiting
	// Reservation is the turn being held, nil while the raid is busy or nobody waits.
	Reservation *raids.Reservation
	Turn        time.Duration // how long a turn lasts for a player joining now
}

// MyTurn reports whether the player holds the turn now.
func (s QueueStatus) MyTurn(p Player) bool {
	return s.Reservation != nil && s.Reservation.UserID == p.ID
}

// Status returns the line as the player sees it; the zero Player sees it from outside.
func (q *Queue) Status(ctx context.Context, p Player) (QueueStatus, error) {
	l, err := q.Line(ctx)
	if err != nil {
		return QueueStatus{}, err
	}
	return QueueStatus{
		Now: l.Now, Length: len(l.Waiting), Position: l.Position(p.ID), Reservation: l.Reservation, Turn: q.turn,
	}, nil
}

// Line returns the whole line with the turn counts (the admin pages).
func (q *Queue) Line(ctx context.Context) (raids.Line, error) {
	l, err := q.deps.Line.Line(ctx)
	if err != nil {
		return raids.Line{}, err
	}
	if q.deps.Metrics != nil {
		q.deps.Metrics.QueueObserved(len(l.Waiting), l.TurnsTaken, l.TurnsLapsed)
	}
	return l, nil
}
