package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lib/pq"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestTotalsRankingContract(t *testing.T) {
	portstest.RunTotalsRanking(t, func(t *testing.T) portstest.RankingHarness {
		emptyDatabase(t)
		return portstest.RankingHarness{Users: postgres.NewUsers(testDB), Raids: postgres.NewRaids(testDB), Totals: postgres.NewTotals(testDB)}
	})
}

// Totals must agree with core's ranking rules and with Postgres's own rank() over the same
// rows, on many players crowding the 10th/11th places.
func TestTotalsAgreeWithRankRulesAndSQLRank(t *testing.T) {
	for _, seed := range []uint64{11, 12, 13, 14, 15} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			emptyDatabase(t)
			rng := rand.New(rand.NewPCG(seed, 0))
			totals := seedRandomTotals(t, rng, 300)
			totalsRanking := postgres.NewTotals(testDB)
			portstest.RequireRankingMatches(t, totalsRanking, totals)

			top, err := totalsRanking.Top(context.Background(), len(totals))
			if err != nil {
				t.Fatal(err)
			}
			if want := sqlRank(t); !slices.Equal(top, want) {
				t.Fatalf("Top =\n%v\nSQL rank() =\n%v", top, want)
			}
		})
	}
}

// seedRandomTotals writes n players with totals straight into users: the ranking reads only
// total_score, and 300 players through the raid store would only slow the test. A block of
// equal totals sits across places 8 to 13 and about a fifth of the players have no points.
func seedRandomTotals(t *testing.T, rng *rand.Rand, n int) []raids.Total {
	t.Helper()
	scores := make([]int64, n)
	for i := range scores {
		switch {
		case i < 7:
			scores[i] = 1000 + rng.Int64N(500)
		case i < 14:
			scores[i] = 900
		case i < n*4/5:
			scores[i] = 20 * (1 + rng.Int64N(40))
		}
	}
	rng.Shuffle(n, func(i, j int) { scores[i], scores[j] = scores[j], scores[i] })
	rows, err := testDB.Query(`
		INSERT INTO users (email, nickname, nickname_key, password_hash, total_score)
		SELECT 'r' || i || '@example.com', 'r' || i, 'r' || i, 'hash', s
		FROM unnest($1::bigint[]) WITH ORDINALITY AS x(s, i)
		ORDER BY i
		RETURNING id, total_score`, pq.Array(scores))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var totals []raids.Total
	for rows.Next() {
		var tt raids.Total
		if err := rows.Scan(&tt.UserID, &tt.TotalScore); err != nil {
			t.Fatal(err)
		}
		totals = append(totals, tt)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(totals) != n {
		t.Fatalf("seeded %d players, want %d", len(totals), n)
	}
	return totals
}

// sqlRank is the ranking as Postgres's rank() window function has it, written independently
// of the adapter's query.
func sqlRank(t *testing.T) []raids.Standing {
	t.Helper()
	rows, err := testDB.Query(`
		SELECT id, total_score, rank() OVER w - 1
		FROM users WHERE total_score > 0
		WINDOW w AS (ORDER BY total_score DESC)
		ORDER BY total_score DESC, id ASC`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []raids.Standing
	for rows.Next() {
		var st raids.Standing
		if err := rows.Scan(&st.UserID, &st.TotalScore, &st.Ranking); err != nil {
			t.Fatal(err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
