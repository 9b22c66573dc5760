package postgres_test

import (
	"testing"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestSessionStoreContract(t *testing.T) {
	portstest.RunSessionStore(t, func(t *testing.T) portstest.SessionHarness {
		emptyDatabase(t)
		return portstest.SessionHarness{Users: postgres.NewUsers(testDB), Sessions: postgres.NewSessions(testDB)}
	})
}
