package memory_test

import (
	"testing"

	"github.com/bossraid/bossraid/adapters/memory"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestChangeFeedContract(t *testing.T) {
	portstest.RunChangeFeed(t, func(*testing.T) portstest.ChangeFeedStores {
		s := memory.NewStore(newStepClock())
		return portstest.ChangeFeedStores{Feed: s.Changes(), Users: s, Sessions: s, Raids: s, Queue: s}
	})
}
