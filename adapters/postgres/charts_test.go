package postgres_test

import (
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestChartStoreContract(t *testing.T) {
	portstest.RunChartStore(t, func(t *testing.T) portstest.ChartHarness {
		emptyDatabase(t)
		return portstest.ChartHarness{
			Charts: postgres.NewCharts(testDB),
			AdminHarness: portstest.AdminHarness{
				Users: postgres.NewUsers(testDB), Admin: postgres.NewAdmin(testDB),
				AddRaids: addRaids,
				Now:      func() time.Time { return dbNow(t) },
			},
		}
	})
}
