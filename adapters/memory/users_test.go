package memory_test

import (
	"testing"

	"github.com/bossraid/bossraid/adapters/memory"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestUserStoreContract(t *testing.T) {
	portstest.RunUserStore(t, func(*testing.T) portstest.UserHarness {
		return portstest.UserHarness{Users: memory.NewStore(newStepClock())}
	})
}
