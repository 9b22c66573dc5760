package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestAdminStoreContract(t *testing.T) {
	// A nickname prefix's raids are listed by merging each player's own page when few players
	// match, through the whole table's index when many do; both must answer the same.
	for _, admin := range []struct {
		name  string
		store func() *postgres.Admin
	}{
		{"as built", func() *postgres.Admin { return postgres.NewAdmin(testDB) }},
		{"never merging players", func() *postgres.Admin { return postgres.NewAdminMergingAtMost(testDB, -1) }},
	} {
		t.Run(admin.name, func(t *testing.T) {
			portstest.RunAdminStore(t, func(t *testing.T) portstest.AdminHarness {
				emptyDatabase(t)
				return portstest.AdminHarness{
					Users: postgres.NewUsers(testDB), Admin: admin.store(),
					AddRaids: addRaids,
					Now:      func() time.Time { return dbNow(t) },
				}
			})
		})
	}
}

// addRaids inserts raid records as they are, in order, and adds the scores to the totals.
func addRaids(t *testing.T, rs []raids.Raid) []raids.Raid {
	t.Helper()
	tx, err := testDB.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	out := make([]raids.Raid, len(rs))
	for i, r := range rs {
		if err := tx.QueryRow(`
			INSERT INTO raids (user_id, level, level_score, time_limit, status, score, enter_time, deadline, end_time)
			VALUES ($1, $2, $3, $4::interval, $5, $6, $7, $8, $9)
			RETURNING id`,
			r.UserID, r.Level, r.LevelScore, fmt.Sprintf("%d microseconds", r.TimeLimit.Microseconds()),
			r.Status.String(), r.Score, r.EnterTime, r.Deadline, r.EndTime,
		).Scan(&r.ID); err != nil {
			t.Fatalf("insert raid %+v: %v", r, err)
		}
		if _, err := tx.Exec(`UPDATE users SET total_score = total_score + $2 WHERE id = $1`, r.UserID, r.Score); err != nil {
			t.Fatal(err)
		}
		out[i] = r
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return out
}

func dbNow(t *testing.T) time.Time {
	t.Helper()
	var now time.Time
	if err := testDB.QueryRow(`SELECT now()`).Scan(&now); err != nil {
		t.Fatal(err)
	}
	return now.UTC()
}
