package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/internal/testenv"
)

// testDB is this package's own fresh, migrated database, opened the way the app opens it.
var (
	testDB  *sql.DB
	testURL string
)

// racePool is how many connections the simultaneous-entry tests press on the database with,
// split over two pools as two app instances would be; it leaves room under max_connections
// (100 here) for the packages tested beside this one.
const racePool = 50

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	d, err := testenv.NewDatabase("adapters_postgres")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := d.Drop(); err != nil {
			fmt.Fprintln(os.Stderr, "drop test database:", err)
		}
	}()
	testURL = d.URL
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	testDB, err = postgres.Open(ctx, d.URL, postgres.Options{MaxOpenConns: 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer testDB.Close()
	return m.Run()
}

// emptyDatabase removes every row, so each contract subtest starts from nothing. Identities
// are not restarted, so ids of different tables never line up by accident.
func emptyDatabase(t testing.TB) {
	t.Helper()
	if _, err := testDB.Exec(`TRUNCATE users, profile_images, refresh_tokens, raids, sessions CASCADE`); err != nil {
		t.Fatalf("empty database: %v", err)
	}
	if _, err := testDB.Exec(`UPDATE raid_queue_state SET turn_from = NULL`); err != nil {
		t.Fatalf("empty database: %v", err)
	}
}

// advance lets d pass for the raid store and its queue by moving every stored time d into the past:
// the store's clock is the database's now(), which a test cannot move.
func advance(t *testing.T, d time.Duration) {
	t.Helper()
	for _, q := range []string{`
		UPDATE raids SET enter_time = enter_time - $1::interval, deadline = deadline - $1::interval,
			end_time = end_time - $1::interval`,
		`UPDATE raid_queue SET joined_at = joined_at - $1::interval`,
		`UPDATE raid_queue_state SET turn_from = turn_from - $1::interval`,
	} {
		if _, err := testDB.Exec(q, fmt.Sprintf("%d microseconds", d.Microseconds())); err != nil {
			t.Fatalf("advance %v: %v", d, err)
		}
	}
}
