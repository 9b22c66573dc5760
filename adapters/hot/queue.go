package hot

import (
	"context"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// Queue answers the raid queue's line from memory between changes: every status request
// reads it, and it changes only when someone joins, leaves or enters (a committed change the
// feed reports, or one this instance made) or when time alone moves it on (a turn ends, the
// raid in progress runs out). Joining and leaving still go to the store, which decides.
type Queue struct {
	ports.RaidQueue
	c *Cache
}

var _ ports.RaidQueue = (*Queue)(nil)

// Queue wraps next.
func (c *Cache) Queue(next ports.RaidQueue) *Queue { return &Queue{RaidQueue: next, c: c} }

// cachedLine is a line as the store judged it, good until any change is heard (the cache's
// generation moves on) or until the moment it would change by time alone (zero: none).
type cachedLine struct {
	gen   uint64
	line  raids.Line
	until time.Time
}

// Line returns the line the store judged last, while nothing can have changed it (its Now
// set to this read's time), else asks the store.
func (q *Queue) Line(ctx context.Context) (raids.Line, error) {
	now := q.c.clock.Now()
	if l, ok := q.c.cachedLine(now); ok {
		l.Now = now
		return l, nil
	}
	gen, caching := q.c.generation()
	l, err := q.RaidQueue.Line(ctx)
	if err != nil || !caching {
		return l, err
	}
	if until, ok := q.c.lineGoodUntil(l, now); ok {
		q.c.storeLine(gen, l, until)
	}
	return l, nil
}

// JoinQueue joins through the store; this instance forgets the line at once.
func (q *Queue) JoinQueue(ctx context.Context, userID int64, turn time.Duration) (int, error) {
	defer q.c.forgetLine()
	return q.RaidQueue.JoinQueue(ctx, userID, turn)
}

// LeaveQueue leaves through the store; this instance forgets the line at once.
func (q *Queue) LeaveQueue(ctx context.Context, userID int64) error {
	defer q.c.forgetLine()
	return q.RaidQueue.LeaveQueue(ctx, userID)
}

func (c *Cache) cachedLine(now time.Time) (raids.Line, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.line
	if !c.enabled || l == nil || l.gen != c.gen || (!l.until.IsZero() && !now.Before(l.until)) {
		return raids.Line{}, false
	}
	return l.line, true
}

// lineGoodUntil is when l stops being true by time alone: the end of the turn held; while
// people wait behind a raid in progress, its deadline (the cached raid's: without it the line
// is not kept); never, while nobody waits.
func (c *Cache) lineGoodUntil(l raids.Line, now time.Time) (time.Time, bool) {
	switch {
	case l.Reservation != nil:
		return l.Reservation.Until, true
	case len(l.Waiting) == 0:
		return time.Time{}, true
	}
	r, known := c.currentRaid(now)
	if !known || r == nil {
		return time.Time{}, false
	}
	return r.Deadline, true
}

func (c *Cache) storeLine(gen uint64, l raids.Line, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.enabled && gen == c.gen {
		c.line = &cachedLine{gen: gen, line: l, until: until}
	}
}

func (c *Cache) forgetLine() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.line = nil
}
