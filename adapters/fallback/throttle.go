// Package fallback holds adapters that keep the game served when a fast dependency fails: they
// implement a port by asking the shared service first and a slower or local stand-in when it
// cannot answer.
package fallback

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/bossraid/bossraid/ports"
)

// maxLocalKeys bounds how many keys with local reservations are remembered before the
// forgotten ones (nothing left counted locally) are dropped.
const maxLocalKeys = 10_000

// Throttle counts in the shared throttle, shared by every instance; while it cannot answer, the
// process-local one counts instead, so an outage does not open the gates. A reservation is
// given back to the throttle that holds it; Reset forgets a key in both.
type Throttle struct {
	shared, local ports.Throttle
	log           *slog.Logger

	mu        sync.Mutex
	heldLocal map[string]int // reservations the local throttle holds, per key
}

var _ ports.Throttle = (*Throttle)(nil)

// NewThrottle counts in shared and falls back to local.
func NewThrottle(shared, local ports.Throttle, log *slog.Logger) *Throttle {
	return &Throttle{shared: shared, local: local, log: log, heldLocal: map[string]int{}}
}

// Reserve counts one attempt in the shared throttle, or in the local one while the shared one
// fails.
func (t *Throttle) Reserve(ctx context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	ok, resetIn, err := t.shared.Reserve(ctx, key, limit, window)
	if err == nil {
		return ok, resetIn, nil
	}
	t.log.Warn("throttle unavailable, counting locally", "err", err)
	ok, resetIn, err = t.local.Reserve(ctx, key, limit, window)
	if err == nil && ok {
		t.mu.Lock()
		if len(t.heldLocal) >= maxLocalKeys {
			t.dropForgotten(ctx)
		}
		t.heldLocal[key]++
		t.mu.Unlock()
	}
	return ok, resetIn, err
}

// dropForgotten forgets the keys the local throttle no longer counts; t.mu is held.
func (t *Throttle) dropForgotten(ctx context.Context) {
	for k := range t.heldLocal {
		if n, _, err := t.local.Count(ctx, k); err == nil && n == 0 {
			delete(t.heldLocal, k)
		}
	}
}

// Release gives the attempt back to the throttle that counted it.
func (t *Throttle) Release(ctx context.Context, key string) error {
	t.mu.Lock()
	local := t.heldLocal[key] > 0
	if local {
		if t.heldLocal[key]--; t.heldLocal[key] == 0 {
			delete(t.heldLocal, key)
		}
	}
	t.mu.Unlock()
	if local {
		return t.local.Release(ctx, key)
	}
	return t.shared.Release(ctx, key)
}

// Count is the shared throttle's count, or the local one's while the shared one fails.
func (t *Throttle) Count(ctx context.Context, key string) (int, time.Duration, error) {
	n, resetIn, err := t.shared.Count(ctx, key)
	if err != nil {
		return t.local.Count(ctx, key)
	}
	return n, resetIn, nil
}

// Reset forgets key in both throttles; the shared one's failure is reported.
func (t *Throttle) Reset(ctx context.Context, key string) error {
	t.mu.Lock()
	delete(t.heldLocal, key)
	t.mu.Unlock()
	_ = t.local.Reset(ctx, key)
	return t.shared.Reset(ctx, key)
}
