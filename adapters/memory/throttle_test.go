package memory

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bossraid/bossraid/ports"
	"github.com/bossraid/bossraid/ports/portstest"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) pass(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestThrottleContract(t *testing.T) {
	portstest.RunThrottle(t, func(*testing.T) (ports.Throttle, func(time.Duration)) {
		clock := newFakeClock()
		return NewThrottle(clock), clock.pass
	})
}

func TestThrottleForgetsEndedWindows(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	th := NewThrottle(clock)
	for i := range 1000 {
		if _, _, err := th.Reserve(ctx, fmt.Sprintf("signin:address:%d", i), 10, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	clock.pass(time.Minute)
	if _, _, err := th.Reserve(ctx, "signin:account:late@example.com", 10, time.Minute); err != nil {
		t.Fatal(err)
	}
	if n := th.Keys(); n != 1 {
		t.Fatalf("keys after the windows ended: %d, want 1", n)
	}
}

func TestThrottleStaysWithinItsBound(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	th := NewThrottle(clock)
	th.maxKeys = 100
	// The first key's window ends soonest, so it is the one given up when the throttle is full.
	if _, _, err := th.Reserve(ctx, "soonest", 10, time.Minute); err != nil {
		t.Fatal(err)
	}
	for i := range 150 {
		if _, _, err := th.Reserve(ctx, fmt.Sprintf("k%d", i), 10, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if n := th.Keys(); n != 100 {
		t.Fatalf("keys: %d, want the bound 100", n)
	}
	if n, _, _ := th.Count(ctx, "soonest"); n != 0 {
		t.Fatalf("the window closest to its end should have been given up, has %d", n)
	}
	if n, _, _ := th.Count(ctx, "k149"); n != 1 {
		t.Fatalf("the newest key: %d attempts, want 1", n)
	}
}
