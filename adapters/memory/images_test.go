package memory_test

import (
	"testing"

	"github.com/bossraid/bossraid/adapters/memory"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestImageStoreContract(t *testing.T) {
	portstest.RunImageStore(t, func(*testing.T) portstest.ImageHarness {
		s := memory.NewStore(newStepClock())
		return portstest.ImageHarness{Users: s, Images: s}
	})
}
