package faults

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bossraid/bossraid/adapters/redis"
)

// CheckRecords checks what must hold of the stored records whatever happened to the
// processes: at most one raid in progress; each raid's status, score and end time agree (a
// success scored its level's score, anything else scored 0, only an unfinished raid lacks an
// end time, a failure ends at its deadline); and every player's total is the sum of their
// successful raids. It returns every violation found.
func CheckRecords(ctx context.Context, db *sql.DB) error {
	var errs []error
	checks := []struct{ what, query string }{
		{"raids in progress at once", `SELECT count(*) FROM raids WHERE status = 'in_progress' HAVING count(*) > 1`},
		{"successes not scored their level's score", `SELECT count(*) FROM raids WHERE status = 'success' AND score <> level_score`},
		{"unfinished or failed raids with a score", `SELECT count(*) FROM raids WHERE status <> 'success' AND score <> 0`},
		{"end times that disagree with the status", `SELECT count(*) FROM raids WHERE (status = 'in_progress') <> (end_time IS NULL)`},
		{"failures not ended at their deadline", `SELECT count(*) FROM raids WHERE status = 'fail' AND end_time <> deadline`},
		{"successes ended after their deadline", `SELECT count(*) FROM raids WHERE status = 'success' AND end_time > deadline`},
		{"players whose total is not the sum of their successes", `
			SELECT count(*) FROM users u
			LEFT JOIN (SELECT user_id, sum(score) AS s FROM raids WHERE status = 'success' GROUP BY user_id) t ON t.user_id = u.id
			WHERE u.total_score <> coalesce(t.s, 0)`},
	}
	for _, c := range checks {
		var n int
		err := db.QueryRowContext(ctx, c.query).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("check %s: %w", c.what, err)
		}
		if n > 0 {
			errs = append(errs, fmt.Errorf("%d %s", n, c.what))
		}
	}
	return errors.Join(errs...)
}

// Standing is a ranking entry as the API shows it.
type Standing struct {
	Ranking    int64  `json:"ranking"`
	UserID     int64  `json:"user_id"`
	Nickname   string `json:"nickname"`
	TotalScore int64  `json:"total_score"`
}

// RankingAnswer is the body of GET /api/raids/ranking.
type RankingAnswer struct {
	Top []Standing `json:"top_10_ranker"`
	// Mine is null when the player is outside the top 10.
	Mine *Standing `json:"my_ranking"`
}

// Oracle is the ranking computed by SQL rank() straight from users.total_score.
type Oracle struct {
	Top    []Standing
	ByUser map[int64]Standing // every player with points
}

// SQLRanking computes the ranking SPEC.md §1 defines with SQL rank().
func SQLRanking(ctx context.Context, db *sql.DB) (Oracle, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT rank() OVER (ORDER BY total_score DESC) - 1, id, nickname, total_score
		FROM users WHERE total_score > 0
		ORDER BY total_score DESC, id`)
	if err != nil {
		return Oracle{}, err
	}
	defer rows.Close()
	o := Oracle{ByUser: map[int64]Standing{}}
	for rows.Next() {
		var s Standing
		if err := rows.Scan(&s.Ranking, &s.UserID, &s.Nickname, &s.TotalScore); err != nil {
			return Oracle{}, err
		}
		if len(o.Top) < 10 {
			o.Top = append(o.Top, s)
		}
		o.ByUser[s.UserID] = s
	}
	return o, rows.Err()
}

// Check compares an API ranking answer, asked by player, with the oracle.
func (o Oracle) Check(body []byte, player int64) error {
	var got RankingAnswer
	if err := json.Unmarshal(body, &got); err != nil {
		return fmt.Errorf("ranking body %q: %w", body, err)
	}
	var diffs []string
	if len(got.Top) != len(o.Top) {
		diffs = append(diffs, fmt.Sprintf("top has %d players, SQL %d", len(got.Top), len(o.Top)))
	}
	for i := range min(len(got.Top), len(o.Top)) {
		if got.Top[i] != o.Top[i] {
			diffs = append(diffs, fmt.Sprintf("top[%d] = %+v, SQL %+v", i, got.Top[i], o.Top[i]))
		}
	}
	want, ranked := o.ByUser[player]
	switch {
	case ranked && want.Ranking < 10:
		if got.Mine == nil || *got.Mine != want {
			diffs = append(diffs, fmt.Sprintf("my_ranking of %d = %+v, SQL %+v", player, got.Mine, want))
		}
	case got.Mine != nil:
		diffs = append(diffs, fmt.Sprintf("my_ranking of %d = %+v, want null (SQL: %+v, ranked %v)", player, *got.Mine, want, ranked))
	}
	if len(diffs) > 0 {
		return errors.New(strings.Join(diffs, "; "))
	}
	return nil
}

// RankingSetAgrees checks the Redis ranking set itself (not the API, which may fall back to
// Postgres) against SQL rank() for every ranked player.
func RankingSetAgrees(ctx context.Context, db *sql.DB, rdb goredis.UniversalClient) error {
	oracle, err := SQLRanking(ctx, db)
	if err != nil {
		return err
	}
	top, err := redis.NewLeaderboard(rdb).Top(ctx, len(oracle.ByUser)+10)
	if err != nil {
		return fmt.Errorf("ranking set: %w", err)
	}
	if len(top) != len(oracle.ByUser) {
		return fmt.Errorf("ranking set holds %d players, SQL ranks %d", len(top), len(oracle.ByUser))
	}
	for _, s := range top {
		want := oracle.ByUser[s.UserID]
		if s.TotalScore != want.TotalScore || s.Ranking != want.Ranking {
			return fmt.Errorf("player %d: ranking set says %+v, SQL %+v", s.UserID, s, want)
		}
	}
	return nil
}
