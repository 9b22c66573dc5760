package postgres_test

import (
	"testing"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestUserStoreContract(t *testing.T) {
	portstest.RunUserStore(t, func(t *testing.T) portstest.UserHarness {
		emptyDatabase(t)
		return portstest.UserHarness{Users: postgres.NewUsers(testDB)}
	})
}
