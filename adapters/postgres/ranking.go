package postgres

import (
	"context"
	"database/sql"
	"errors"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// Totals answers the ranking straight from users.total_score: slower than the leaderboard,
// never different, and the source the leaderboard is rebuilt from.
type Totals struct {
	db *sql.DB
}

// NewTotals returns the ranking over the players' totals in db.
func NewTotals(db *sql.DB) *Totals { return &Totals{db: db} }

var (
	_ ports.Ranking      = (*Totals)(nil)
	_ ports.TotalsSource = (*Totals)(nil)
)

// Top returns the first n ranked players with their competition rankings.
func (s *Totals) Top(ctx context.Context, n int) ([]raids.Standing, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	// rank() runs over every ranked player before LIMIT, so rankings count everyone above.
	rows, err := s.db.QueryContext(ctx, `
		SELECT id, total_score, rank() OVER (ORDER BY total_score DESC) - 1
		FROM users
		WHERE total_score > 0
		ORDER BY total_score DESC, id
		LIMIT $1`, max(n, 0))
	if err != nil {
		return nil, dbError("ranking top", err)
	}
	defer rows.Close()
	top := []raids.Standing{}
	for rows.Next() {
		var st raids.Standing
		if err := rows.Scan(&st.UserID, &st.TotalScore, &st.Ranking); err != nil {
			return nil, dbError("ranking top", err)
		}
		top = append(top, st)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("ranking top", err)
	}
	return top, nil
}

// StandingOf returns the player's total and how many players have a strictly higher one.
// An unknown player is as unranked as one without points.
func (s *Totals) StandingOf(ctx context.Context, userID int64) (raids.Standing, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	st := raids.Standing{UserID: userID}
	err := s.db.QueryRowContext(ctx, `
		SELECT u.total_score,
			(SELECT count(*) FROM users o WHERE o.total_score > 0 AND o.total_score > u.total_score)
		FROM users u
		WHERE u.id = $1`, userID).Scan(&st.TotalScore, &st.Ranking)
	if errors.Is(err, sql.ErrNoRows) || err == nil && st.TotalScore <= 0 {
		return raids.Standing{}, raids.ErrPlayerNotInRanks
	}
	if err != nil {
		return raids.Standing{}, dbError("ranking standing", err)
	}
	return st, nil
}

// defaultTotalsBatch is used when EachTotal is asked for batches of no size.
const defaultTotalsBatch = 1000

// EachTotal hands every total above 0 to fn in batches of at most batch players, by id,
// each batch read by its own short query so a long rebuild holds no snapshot open.
func (s *Totals) EachTotal(ctx context.Context, batch int, fn func([]raids.Total) error) error {
	if batch <= 0 {
		batch = defaultTotalsBatch
	}
	var after int64
	for {
		totals, err := s.totalsAfter(ctx, after, batch)
		if err != nil {
			return err
		}
		if len(totals) == 0 {
			return nil
		}
		if err := fn(totals); err != nil {
			return err
		}
		if len(totals) < batch {
			return nil
		}
		after = totals[len(totals)-1].UserID
	}
}

func (s *Totals) totalsAfter(ctx context.Context, after int64, batch int) ([]raids.Total, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `
		SELECT id, total_score FROM users
		WHERE id > $1 AND total_score > 0
		ORDER BY id
		LIMIT $2`, after, batch)
	if err != nil {
		return nil, dbError("each total", err)
	}
	defer rows.Close()
	totals := make([]raids.Total, 0, batch)
	for rows.Next() {
		var t raids.Total
		if err := rows.Scan(&t.UserID, &t.TotalScore); err != nil {
			return nil, dbError("each total", err)
		}
		totals = append(totals, t)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("each total", err)
	}
	return totals, nil
}
