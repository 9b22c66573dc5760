package memory_test

import (
	"testing"

	"github.com/bossraid/bossraid/adapters/memory"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestSessionStoreContract(t *testing.T) {
	portstest.RunSessionStore(t, func(*testing.T) portstest.SessionHarness {
		s := memory.NewStore(newStepClock())
		return portstest.SessionHarness{Users: s, Sessions: s}
	})
}
