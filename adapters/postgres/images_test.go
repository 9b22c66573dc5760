package postgres_test

import (
	"testing"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestImageStoreContract(t *testing.T) {
	portstest.RunImageStore(t, func(t *testing.T) portstest.ImageHarness {
		emptyDatabase(t)
		return portstest.ImageHarness{Users: postgres.NewUsers(testDB), Images: postgres.NewImages(testDB)}
	})
}
