package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// RankingView is the top 10 and, when the player is in it, the player's own standing.
type RankingView struct {
	Top []raids.Standing
	// Mine is nil when the player is outside the top 10 (or has no points yet).
	Mine *raids.Standing
	// MyTotal is the player's total even when outside the ranking.
	MyTotal int64
}

// Ranking answers from the leaderboard, or from Postgres while the leaderboard cannot answer
// (Redis down, flushed or being rebuilt) — slower, never different.
func (a *App) Ranking(ctx context.Context, p Player) (RankingView, error) {
	var v RankingView
	var mine raids.Standing
	err := a.fromRanking(ctx, func(src ports.Ranking) (err error) {
		v.Top, mine, err = readBoard(ctx, src, p.ID)
		return err
	})
	if err != nil {
		return RankingView{}, err
	}
	v.MyTotal = mine.TotalScore
	if mine.TotalScore > 0 && mine.InTop() {
		v.Mine = &mine
	}
	if err := a.fillNicknames(ctx, v.Top); err != nil {
		return RankingView{}, err
	}
	if v.Mine != nil {
		if v.Mine.Nickname, err = a.nickname(ctx, p.ID); err != nil {
			return RankingView{}, err
		}
	}
	return v, nil
}

// TopRanking is the top 10 without anyone's own standing, for pages anyone may see.
func (a *App) TopRanking(ctx context.Context) ([]raids.Standing, error) {
	v, err := a.Ranking(ctx, Player{})
	return v.Top, err
}

// boardReader is a ranking that reads the top and one player's standing in one trip.
type boardReader interface {
	Board(ctx context.Context, n int, userID int64) ([]raids.Standing, raids.Standing, error)
}

// readBoard returns the top 10 and the player's standing (zero when the player has no points
// or userID is 0), in one read when src can.
func readBoard(ctx context.Context, src ports.Ranking, userID int64) ([]raids.Standing, raids.Standing, error) {
	if b, ok := src.(boardReader); ok {
		return b.Board(ctx, raids.TopSize, userID)
	}
	top, err := src.Top(ctx, raids.TopSize)
	if err != nil || userID == 0 {
		return top, raids.Standing{}, err
	}
	mine, err := src.StandingOf(ctx, userID)
	if errors.Is(err, raids.ErrPlayerNotInRanks) {
		return top, raids.Standing{UserID: userID}, nil
	}
	return top, mine, err
}

// fromRanking asks the leaderboard, and Postgres when the leaderboard cannot answer, starting
// a rebuild of the leaderboard then.
func (a *App) fromRanking(ctx context.Context, read func(ports.Ranking) error) error {
	err := read(a.Leaderboard)
	if err == nil || ctx.Err() != nil {
		return err
	}
	a.Logger.Warn("leaderboard cannot answer; using the database", "err", err)
	a.rebuildInBackground()
	return read(a.Totals)
}

func (a *App) fillNicknames(ctx context.Context, standings []raids.Standing) (err error) {
	for i := range standings {
		if standings[i].Nickname, err = a.nickname(ctx, standings[i].UserID); err != nil {
			return err
		}
	}
	return nil
}

// recordTotal writes a committed total to the leaderboard. A failed write marks the
// leaderboard stale so it is rebuilt from Postgres once Redis answers again.
func (a *App) recordTotal(ctx context.Context, userID, total int64) {
	if err := a.Leaderboard.SetTotal(ctx, userID, total); err != nil {
		a.Logger.Warn("leaderboard write failed; will rebuild", "err", err)
		a.rankingStale.Store(true)
	}
}

// RebuildRanking replaces the leaderboard with the totals in Postgres and returns how many
// ranked players it holds.
func (a *App) RebuildRanking(ctx context.Context) (int, error) {
	start := time.Now()
	n, err := a.Leaderboard.Rebuild(ctx, a.Totals)
	if err != nil {
		return 0, fmt.Errorf("rebuild ranking: %w", err)
	}
	a.Metrics.RankingRebuilt(n, time.Since(start))
	a.rankingStale.Store(false)
	a.Logger.Info("ranking rebuilt", "players", n)
	return n, nil
}

// rebuildInBackground starts one rebuild in this process unless one is already running.
func (a *App) rebuildInBackground() {
	if !a.rebuilding.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer a.rebuilding.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if _, err := a.RebuildRanking(ctx); err != nil {
			a.Logger.Warn("background ranking rebuild failed", "err", err)
		}
	}()
}

// EnsureRanking rebuilds the leaderboard when it cannot answer (missing after a Redis restart
// or flush) or a write to it was lost.
func (a *App) EnsureRanking(ctx context.Context) error {
	_, err := a.Leaderboard.Top(ctx, 1)
	if err == nil && !a.rankingStale.Load() {
		return nil
	}
	if errors.Is(err, ports.ErrUnavailable) {
		return err
	}
	_, err = a.RebuildRanking(ctx)
	return err
}
