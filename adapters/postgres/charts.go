package postgres

import (
	"context"
	"database/sql"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// Charts is the ports.ChartStore on the counters of migration 00006 and the indexes of
// 00006 and 00007.
type Charts struct {
	db *sql.DB
}

// NewCharts returns the chart queries on db.
func NewCharts(db *sql.DB) *Charts { return &Charts{db: db} }

var _ ports.ChartStore = (*Charts)(nil)

// RaidHours reads the hours from raid_hours (one primary-key range) and moves the raid stored
// in progress, when its deadline passed, to the failed raids of its hour.
func (s *Charts) RaidHours(ctx context.Context, from, to time.Time) ([]ports.HourCount, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `
		SELECT hour, level, status, n FROM raid_hours
		WHERE hour >= bossraid_raid_hour($1) AND hour < bossraid_raid_hour($2) AND n <> 0
		UNION ALL
		SELECT bossraid_raid_hour(enter_time), level, 'expired', 1 FROM raids
		WHERE status = 'in_progress' AND deadline <= now() AND enter_time >= $1 AND enter_time < $2
		ORDER BY 1, 2`, from, to)
	if err != nil {
		return nil, dbError("raid hours", err)
	}
	defer func() { _ = rows.Close() }()
	var out []ports.HourCount
	for rows.Next() {
		var hour int64
		var level int
		var status string
		var n int
		if err := rows.Scan(&hour, &level, &status, &n); err != nil {
			return nil, dbError("raid hours", err)
		}
		at := time.Unix(hour*3600, 0).UTC()
		if k := len(out) - 1; k < 0 || !out[k].Hour.Equal(at) || out[k].Level != level {
			out = append(out, ports.HourCount{Hour: at, Level: level})
		}
		c := &out[len(out)-1].Raids
		switch status {
		case "expired":
			c.InProgress -= n
			c.Fail += n
		case raids.StatusInProgress.String():
			c.InProgress += n
		case raids.StatusSuccess.String():
			c.Success += n
		case raids.StatusFail.String():
			c.Fail += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("raid hours", err)
	}
	return out, nil
}

// ActivePlayers reads the days of day_players (migration 00010) in the range: one
// primary-key range of at most one row per day, however many raids the days hold.
func (s *Charts) ActivePlayers(ctx context.Context, from, to time.Time) ([]ports.DayCount, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `
		SELECT day, n FROM day_players WHERE day >= $1 AND day < $2 AND n <> 0 ORDER BY day`,
		utcDay(from), utcDay(to))
	if err != nil {
		return nil, dbError("active players", err)
	}
	defer func() { _ = rows.Close() }()
	var out []ports.DayCount
	for rows.Next() {
		var day int64
		var n int
		if err := rows.Scan(&day, &n); err != nil {
			return nil, dbError("active players", err)
		}
		out = append(out, ports.DayCount{Day: time.Unix(day*86400, 0).UTC(), N: n})
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("active players", err)
	}
	return out, nil
}

// utcDay numbers the UTC day t falls in as bossraid_raid_day does.
func utcDay(t time.Time) int64 { return floorDiv(t.Unix(), 86400) }

// TotalScores reads the highest total from users_total, then counts the players per bucket
// in an index-only scan of the same index.
func (s *Charts) TotalScores(ctx context.Context, buckets int) (ports.Histogram, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	var highest sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT max(total_score) FROM users`).Scan(&highest); err != nil {
		return ports.Histogram{}, dbError("total scores", err)
	}
	h := ports.Histogram{Width: ports.TotalsWidth(highest.Int64, buckets)}
	if !highest.Valid {
		return h, nil
	}
	h.Counts = make([]int, highest.Int64/h.Width+1)
	rows, err := s.db.QueryContext(ctx, `
		SELECT greatest(total_score, 0) / $1, count(*) FROM users GROUP BY 1`, h.Width)
	if err != nil {
		return ports.Histogram{}, dbError("total scores", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var bucket int64
		var n int
		if err := rows.Scan(&bucket, &n); err != nil {
			return ports.Histogram{}, dbError("total scores", err)
		}
		if bucket < int64(len(h.Counts)) { // a total raised since the max was read waits for the next look
			h.Counts[bucket] += n
		}
	}
	if err := rows.Err(); err != nil {
		return ports.Histogram{}, dbError("total scores", err)
	}
	return h, nil
}

// PlayerProgress walks the player's raids through raids_user_seq in order, summing as it goes,
// and returns the sampled points only.
func (s *Charts) PlayerProgress(ctx context.Context, userID int64, points int) ([]ports.ProgressPoint, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM raids WHERE user_id = $1`, userID).Scan(&n); err != nil {
		return nil, dbError("player progress", err)
	}
	if n == 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `
		SELECT seq, total FROM (
			SELECT seq, sum(score) OVER (ORDER BY seq) AS total FROM raids WHERE user_id = $1) t
		WHERE seq % $2 = 0 OR seq = $3 ORDER BY seq`, userID, ports.ProgressStep(n, points), n)
	if err != nil {
		return nil, dbError("player progress", err)
	}
	defer func() { _ = rows.Close() }()
	var out []ports.ProgressPoint
	for rows.Next() {
		var p ports.ProgressPoint
		if err := rows.Scan(&p.Seq, &p.Total); err != nil {
			return nil, dbError("player progress", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("player progress", err)
	}
	return out, nil
}

// PlayerLevels counts the player's raids through raids_user_seq.
func (s *Charts) PlayerLevels(ctx context.Context, userID int64) ([]ports.LevelCount, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `
		SELECT r.level, `+statusCounts+` FROM raids r WHERE r.user_id = $1 GROUP BY 1 ORDER BY 1`, userID)
	if err != nil {
		return nil, dbError("player levels", err)
	}
	defer func() { _ = rows.Close() }()
	var out []ports.LevelCount
	for rows.Next() {
		var c ports.LevelCount
		if err := rows.Scan(&c.Level, &c.Raids.InProgress, &c.Raids.Success, &c.Raids.Fail); err != nil {
			return nil, dbError("player levels", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("player levels", err)
	}
	return out, nil
}
