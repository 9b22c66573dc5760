package memory_test

import (
	"testing"

	"github.com/bossraid/bossraid/adapters/memory"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestAdminStoreContract(t *testing.T) {
	portstest.RunAdminStore(t, func(*testing.T) portstest.AdminHarness {
		clock := newStepClock()
		s := memory.NewStore(clock)
		return portstest.AdminHarness{
			Users: s, Admin: s, Now: clock.Now,
			AddRaids: func(t *testing.T, rs []raids.Raid) []raids.Raid {
				t.Helper()
				out := make([]raids.Raid, len(rs))
				for i, r := range rs {
					var err error
					if out[i], err = s.AddRaidRecord(r); err != nil {
						t.Fatalf("AddRaidRecord: %v", err)
					}
				}
				return out
			},
		}
	})
}
