package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// requireExactCounters checks every maintained aggregate of migration 00006 against a scan:
// the ordinals and counters themselves, each player's history page by page and its count,
// and the admin counts for filters the counters answer.
func requireExactCounters(t *testing.T, step string, players []int64) {
	t.Helper()
	ctx := context.Background()
	if err := postgres.VerifyCounters(ctx, testDB); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	store, admin := postgres.NewRaids(testDB), postgres.NewAdmin(testDB)
	for _, p := range players {
		want := raidIDsNewestFirst(t, p)
		for _, pg := range [][2]int{{0, 3}, {1, 3}, {2, 100}, {len(want) - 1, 10}, {len(want), 10}, {len(want) + 5, 1}} {
			offset, limit := max(pg[0], 0), pg[1]
			page, n, err := store.History(ctx, p, offset, limit)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]int64, len(page))
			for i, r := range page {
				got[i] = r.ID
				if r.UserID != p {
					t.Fatalf("%s: player %d's history holds raid %+v", step, p, r)
				}
				byID, err := store.RaidByID(ctx, r.ID)
				if err != nil || byID.Status != r.Status || byID.Score != r.Score {
					t.Fatalf("%s: history shows raid %d as %v/%d, by id %v/%d (%v)", step, r.ID, r.Status, r.Score, byID.Status, byID.Score, err)
				}
			}
			w := want[min(offset, len(want)):min(offset+limit, len(want))]
			if n != len(want) || !slices.Equal(got, w) {
				t.Fatalf("%s: History(player %d, %d, %d) = %v of %d, want %v of %d", step, p, offset, limit, got, n, w, len(want))
			}
		}
	}
	now := dbNow(t)
	for _, f := range counterFilters(now) {
		got, err := admin.CountRaids(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := admin.CountRaidsByScan(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		switch f.Status {
		case raids.StatusFail:
			want = ports.RaidCounts{Fail: want.Fail}
		case raids.StatusSuccess:
			want = ports.RaidCounts{Success: want.Success}
		}
		if got != want {
			t.Fatalf("%s: CountRaids(%+v) = %+v, a scan counts %+v", step, f, got, want)
		}
	}
	var n int
	if err := testDB.QueryRow(`SELECT count(*) FROM users`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if got, err := admin.CountPlayers(ctx); err != nil || got != n {
		t.Fatalf("%s: CountPlayers = %d, %v; %d players are stored", step, got, err, n)
	}
}

// counterFilters are ranges with whole hours and part-hours at either end, empty and
// reversed-in-one-hour ranges, levels and statuses.
func counterFilters(now time.Time) []ports.RaidFilter {
	one := 1
	hour := now.Truncate(time.Hour)
	fs := []ports.RaidFilter{{}, {Level: &one}, {Status: raids.StatusFail}, {Status: raids.StatusSuccess, Level: &one}}
	for _, from := range []time.Time{{}, hour.Add(-3 * time.Hour), now.Add(-150 * time.Minute), now.Add(-time.Minute), hour} {
		for _, to := range []time.Time{{}, now.Add(time.Hour), now, now.Add(-90 * time.Minute), hour, hour.Add(time.Microsecond)} {
			if (from.IsZero() && to.IsZero()) || (!from.IsZero() && !to.IsZero() && !from.Before(to)) {
				continue
			}
			fs = append(fs, ports.RaidFilter{From: from, To: to}, ports.RaidFilter{From: from, To: to, Level: &one, Status: raids.StatusFail})
		}
	}
	return fs
}

// Enters, clears, refusals, raids left to expire and then failed by the next enter, by the
// sweeper or only by being read, and time moved across hour boundaries: after every step
// the history pages, the counts and the admin counters agree with a scan.
func TestCountersStayExactThroughEveryWayARaidEnds(t *testing.T) {
	emptyDatabase(t)
	ctx := context.Background()
	store := postgres.NewRaids(testDB)
	ps := newPlayers(t, 3)
	requireExactCounters(t, "no raids", ps)
	rng := rand.New(rand.NewPCG(13, 1))
	levels := []raids.Level{{Level: 0, Score: 20}, {Level: 1, Score: 47}, level2}
	for step := range 40 {
		p := ps[rng.IntN(len(ps))]
		r, err := store.EnterRaid(ctx, p, levels[rng.IntN(len(levels))], time.Minute)
		if err != nil {
			// Someone is inside: a refusal changes nothing.
			requireExactCounters(t, fmt.Sprintf("step %d, refused: %v", step, err), ps)
			advance(t, 2*time.Minute)
			continue
		}
		what := ""
		switch rng.IntN(5) {
		case 0, 1:
			what = "cleared"
			if _, _, err := store.UpdateRaid(ctx, r.ID, endBy(p)); err != nil {
				t.Fatal(err)
			}
		case 2:
			what = "expired, failed by the sweeper"
			advance(t, 2*time.Minute)
			if n, err := store.SweepExpired(ctx); err != nil || n != 1 {
				t.Fatalf("sweep: %d, %v", n, err)
			}
		case 3:
			what = "expired, failed only when read"
			advance(t, 2*time.Minute)
		case 4:
			what = "in progress"
		}
		requireExactCounters(t, fmt.Sprintf("step %d, %s", step, what), ps)
		if rng.IntN(4) == 0 {
			advance(t, time.Duration(rng.IntN(90))*time.Minute)
			requireExactCounters(t, fmt.Sprintf("step %d, time moved on", step), ps)
		}
	}
	advance(t, 2*time.Minute)
	if _, err := store.SweepExpired(ctx); err != nil {
		t.Fatal(err)
	}
	requireExactCounters(t, "after the last sweep", ps)
}

// A bulk load with the triggers off numbers its raids itself and recounts before it
// commits; a load that forgets to recount is caught by VerifyCounters.
func TestRecountRepairsABulkLoad(t *testing.T) {
	emptyDatabase(t)
	ps := newPlayers(t, 2)
	tx, err := testDB.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, q := range []string{
		`SET LOCAL session_replication_role = replica`,
		fmt.Sprintf(`INSERT INTO raids (user_id, seq, level, level_score, time_limit, status, score, enter_time, deadline, end_time)
			SELECT %d, g, g %% 3, 20, interval '1 minute', 'success', 20, now() - g * interval '1 hour',
				now() - g * interval '1 hour' + interval '1 minute', now() - g * interval '1 hour' + interval '30 seconds'
			FROM generate_series(1, 50) g`, ps[0]),
	} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := postgres.VerifyCounters(context.Background(), testDB); err == nil {
		t.Fatal("raids loaded without triggers and without a recount pass the check")
	}
	if _, err := testDB.Exec(`UPDATE raids r SET seq = o.place FROM (SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY id) AS place FROM raids) o WHERE r.id = o.id`); err != nil {
		t.Fatal(err)
	}
	if _, err := testDB.Exec(`SELECT bossraid_recount()`); err != nil {
		t.Fatal(err)
	}
	requireExactCounters(t, "after the recount", ps)
}

// raidIDsNewestFirst is the player's raids as a scan orders them: by id, newest first.
func raidIDsNewestFirst(t *testing.T, userID int64) []int64 {
	t.Helper()
	rows, err := testDB.Query(`SELECT id FROM raids WHERE user_id = $1 ORDER BY id DESC`, userID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// The hour numbers the counts send as values are the ones Postgres computes itself.
func TestHourNumbersMatchTheDatabase(t *testing.T) {
	base := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{
		base, base.Add(time.Microsecond), base.Add(-time.Microsecond), base.Add(59 * time.Minute),
		time.Unix(0, 0), time.Unix(-1, 0), time.Unix(-3600, 0), time.Unix(-3599, 0),
	} {
		var ceil, floor int64
		err := testDB.QueryRow(`SELECT ceil(extract(epoch FROM $1::timestamptz) / 3600)::bigint,
			floor(extract(epoch FROM $1::timestamptz) / 3600)::bigint`, at).Scan(&ceil, &floor)
		if err != nil {
			t.Fatal(err)
		}
		if got := postgres.CeilHour(at); got != ceil {
			t.Errorf("CeilHour(%s) = %d, Postgres says %d", at, got, ceil)
		}
		if got := postgres.FloorHour(at); got != floor {
			t.Errorf("FloorHour(%s) = %d, Postgres says %d", at, got, floor)
		}
	}
}

// The players active per day follow raids being deleted: one at a time, a day at a time, and
// all of a player's.
func TestPlayerDaysFollowDeletes(t *testing.T) {
	emptyDatabase(t)
	ps := newPlayers(t, 2)
	for _, p := range ps {
		// Two raids a day for three days, each statement inserting several rows at once.
		if _, err := testDB.Exec(`
			INSERT INTO raids (user_id, level, level_score, time_limit, status, score, enter_time, deadline, end_time)
			SELECT $1, 0, 20, interval '1 minute', 'success', 20, t, t + interval '1 minute', t + interval '30 seconds'
			FROM (SELECT date_trunc('day', now()) - d * interval '1 day' + h * interval '1 hour' AS t
			      FROM generate_series(1, 3) d, generate_series(1, 2) h) x`, p); err != nil {
			t.Fatal(err)
		}
	}
	requireExactCounters(t, "two players, two raids a day for three days", ps)
	steps := []struct{ what, query string }{
		{"one of a day's two raids deleted", `DELETE FROM raids WHERE id = (SELECT min(id) FROM raids WHERE user_id = $1)`},
		{"the day's other raid deleted too", `DELETE FROM raids WHERE id = (SELECT min(id) FROM raids WHERE user_id = $1)`},
		{"a whole day deleted in one statement", `DELETE FROM raids WHERE user_id = $1 AND enter_time < (SELECT min(enter_time) + interval '1 day' FROM raids WHERE user_id = $1) - interval '1 hour'`},
		{"the rest of the player's raids deleted", `DELETE FROM raids WHERE user_id = $1`},
	}
	for _, st := range steps {
		if _, err := testDB.Exec(st.query, ps[0]); err != nil {
			t.Fatalf("%s: %v", st.what, err)
		}
		// The game never deletes raids; the ordinals a deletion leaves gaps in are put back so
		// the check looks at the days.
		if _, err := testDB.Exec(`UPDATE raids r SET seq = o.place FROM (SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY id) AS place FROM raids) o WHERE r.id = o.id AND r.seq <> o.place`); err != nil {
			t.Fatal(err)
		}
		requireExactCounters(t, st.what, ps[1:])
	}
	var days int
	if err := testDB.QueryRow(`SELECT coalesce(sum(n), 0) FROM day_players`).Scan(&days); err != nil || days != 3 {
		t.Fatalf("days left counted: %d, %v; want the other player's 3", days, err)
	}
}
