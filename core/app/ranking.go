package app

import (
	"context"

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

// Ranking is the use cases of the ranking: the top 10 and each player's standing.
type Ranking struct {
	standings ports.Standings
	users     ports.UserStore
}

// Of answers the top 10 and the player's standing.
func (a *Ranking) Of(ctx context.Context, p Player) (RankingView, error) {
	var v RankingView
	top, mine, err := a.standings.Board(ctx, raids.TopSize, p.ID)
	if err != nil {
		return RankingView{}, err
	}
	v.Top = top
	v.MyTotal = mine.TotalScore
	if mine.TotalScore > 0 && mine.InTop() {
		v.Mine = &mine
	}
	if err := fillNicknames(ctx, a.users, v.Top, v.Mine); err != nil {
		return RankingView{}, err
	}
	return v, nil
}

// Top is the top 10 without anyone's own standing, for pages anyone may see.
func (a *Ranking) Top(ctx context.Context) ([]raids.Standing, error) {
	v, err := a.Of(ctx, Player{})
	return v.Top, err
}

// fillNicknames names every standing, and also when it is not nil, with one lookup.
func fillNicknames(ctx context.Context, users ports.UserStore, standings []raids.Standing, also *raids.Standing) error {
	ids := make([]int64, 0, len(standings)+1)
	for _, s := range standings {
		ids = append(ids, s.UserID)
	}
	if also != nil {
		ids = append(ids, also.UserID)
	}
	if len(ids) == 0 {
		return nil
	}
	names, err := users.Nicknames(ctx, ids)
	if err != nil {
		return err
	}
	for i := range standings {
		standings[i].Nickname = names[standings[i].UserID]
	}
	if also != nil {
		also.Nickname = names[also.UserID]
	}
	return nil
}

// Rebuild reloads the ranking from the source of truth and returns how many players it ranks.
func (a *Ranking) Rebuild(ctx context.Context) (int, error) {
	return a.standings.Rebuild(ctx)
}
