package memory_test

import (
	"testing"

	"github.com/bossraid/bossraid/adapters/memory"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestTotalsRankingContract(t *testing.T) {
	portstest.RunTotalsRanking(t, func(*testing.T) portstest.RankingHarness {
		s := memory.NewStore(newStepClock())
		return portstest.RankingHarness{Users: s, Raids: s, Totals: s}
	})
}
