package memory_test

import (
	"sync"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/memory"
	"github.com/bossraid/bossraid/ports/portstest"
)

// stepClock is moved by hand; it starts off the microsecond grid so the store's rounding shows.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func newStepClock() *stepClock {
	return &stepClock{now: time.Date(2026, 11, 25, 12, 0, 0, 123456789, time.UTC)}
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestRaidStoreContract(t *testing.T) {
	portstest.RunRaidStore(t, func(*testing.T) portstest.RaidHarness {
		clock := newStepClock()
		s := memory.NewStore(clock)
		return portstest.RaidHarness{
			Users: s, Raids: s,
			Advance: func(_ *testing.T, d time.Duration) { clock.advance(d) },
		}
	})
}
