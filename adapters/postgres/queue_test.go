package postgres_test

import (
	"testing"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestRaidQueueContract(t *testing.T) {
	portstest.RunRaidQueue(t, func(t *testing.T) portstest.QueueHarness {
		emptyDatabase(t)
		return portstest.QueueHarness{
			Users: postgres.NewUsers(testDB), Sessions: postgres.NewSessions(testDB),
			Raids: postgres.NewRaids(testDB), Queue: postgres.NewQueue(testDB), Advance: advance,
		}
	})
}
