package memory

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/bossraid/bossraid/ports"
)

// DefaultThrottleKeys bounds how many keys a Throttle counts at once. Each attempt costs an
// attacker a password hash, so windows (15 minutes) run out long before this many fill up.
const DefaultThrottleKeys = 100_000

// Throttle is ports.Throttle in process memory. Besides tests, it is the fallback that keeps
// counting sign-in failures and sign-ups while Redis is down, so it forgets expired windows as
// it goes and never holds more than its bound of keys.
type Throttle struct {
	clock   ports.Clock
	maxKeys int

	mu      sync.Mutex
	windows map[string]*window
	ending  windowHeap // the same windows, soonest end first
}

type window struct {
	key   string
	count int
	ends  time.Time
	index int // in the heap
}

var _ ports.Throttle = (*Throttle)(nil)

// NewThrottle returns an empty throttle that reads time from clock.
func NewThrottle(clock ports.Clock) *Throttle {
	return &Throttle{clock: clock, maxKeys: DefaultThrottleKeys, windows: map[string]*window{}}
}

// Reserve counts one attempt for key unless it already has limit in its window; the check
// and the count happen under one lock.
func (t *Throttle) Reserve(_ context.Context, key string, limit int, length time.Duration) (bool, time.Duration, error) {
	if err := checkReserve(limit, length); err != nil {
		return false, 0, err
	}
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.forgetEnded(now)
	if w, ok := t.windows[key]; ok {
		if w.count >= limit {
			return false, w.ends.Sub(now), nil
		}
		w.count++
		return true, w.ends.Sub(now), nil
	}
	if len(t.windows) >= t.maxKeys {
		// Full: the window closest to its end is the cheapest to give up.
		t.remove(t.ending[0])
	}
	w := &window{key: key, count: 1, ends: now.Add(length)}
	t.windows[key] = w
	heap.Push(&t.ending, w)
	return true, length, nil
}

func checkReserve(limit int, length time.Duration) error {
	if limit < 1 {
		return fmt.Errorf("memory: throttle limit %d is below 1", limit)
	}
	if length < time.Millisecond {
		return fmt.Errorf("memory: throttle window %v is shorter than a millisecond", length)
	}
	return nil
}

// Release gives back one attempt counted for key.
func (t *Throttle) Release(_ context.Context, key string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if w, ok := t.windows[key]; ok {
		if w.count--; w.count <= 0 {
			t.remove(w)
		}
	}
	return nil
}

// Count returns key's count in its current window and the time left in it.
func (t *Throttle) Count(_ context.Context, key string) (int, time.Duration, error) {
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.forgetEnded(now)
	w, ok := t.windows[key]
	if !ok {
		return 0, 0, nil
	}
	return w.count, w.ends.Sub(now), nil
}

// Reset forgets key's failures.
func (t *Throttle) Reset(_ context.Context, key string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if w, ok := t.windows[key]; ok {
		t.remove(w)
	}
	return nil
}

// Keys returns how many keys are being counted.
func (t *Throttle) Keys() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.windows)
}

func (t *Throttle) forgetEnded(now time.Time) {
	for len(t.ending) > 0 && !now.Before(t.ending[0].ends) {
		t.remove(t.ending[0])
	}
}

func (t *Throttle) remove(w *window) {
	heap.Remove(&t.ending, w.index)
	delete(t.windows, w.key)
}

type windowHeap []*window

func (h windowHeap) Len() int           { return len(h) }
func (h windowHeap) Less(i, j int) bool { return h[i].ends.Before(h[j].ends) }
func (h windowHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h *windowHeap) Push(x any) {
	w := x.(*window)
	w.index = len(*h)
	*h = append(*h, w)
}

func (h *windowHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return w
}
