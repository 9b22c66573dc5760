package memory_test

import (
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/memory"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestRaidQueueContract(t *testing.T) {
	portstest.RunRaidQueue(t, func(*testing.T) portstest.QueueHarness {
		clock := newStepClock()
		s := memory.NewStore(clock)
		return portstest.QueueHarness{
			Users: s, Sessions: s, Raids: s, Queue: s,
			Advance: func(_ *testing.T, d time.Duration) { clock.advance(d) },
		}
	})
}
