package memory_test

import (
	"testing"

	"github.com/bossraid/bossraid/adapters/memory"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestAdminStoreContract(t *testing.T) {
	portstest.RunAdminStore(t, func(*testing.T) portstest.AdminHarness {
		h, _ := adminHarness()
		return h
	})
}

func TestChartStoreContract(t *testing.T) {
	portstest.RunChartStore(t, func(*testing.T) portstest.ChartHarness {
		h, s := adminHarness()
		return portstest.ChartHarness{AdminHarness: h, Charts: s}
	})
}

// adminHarness is an empty store that takes raid records as they are.
func adminHarness() (portstest.AdminHarness, *memory.Store) {
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
	}, s
}
