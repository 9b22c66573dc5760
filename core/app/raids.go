package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// Raids are the use cases of the boss raid itself: entering, clearing, who is inside, and
// the players' records of raids.
type Raids struct {
	clock     ports.Clock
	store     ports.RaidStore
	records   ports.PlayerRecords
	charts    ports.ChartStore
	standings ports.Standings
	events    ports.EventPublisher
	metrics   ports.GameMetrics
	boss      *bossData
}

// EnterRaid puts the player inside the boss raid at level. An unknown level is a
// *ValidationError; an occupied raid is a *raids.BusyError; a free raid whose turn another
// player of the queue holds is a *raids.ReservedError (queue.go).
func (a *Raids) EnterRaid(ctx context.Context, p Player, level int) (raids.Raid, error) {
	boss := a.BossData()
	lvl, err := boss.Level(level)
	if err != nil {
		return raids.Raid{}, Invalid("level", fmt.Sprintf("level %d is not a level of the boss raid", level))
	}
	r, err := a.store.EnterRaid(ctx, p.ID, lvl, boss.TimeLimit)
	if errors.Is(err, raids.ErrBusy) {
		a.metrics.EnterRefusedBusy()
	}
	if err != nil {
		return raids.Raid{}, err
	}
	a.metrics.RaidEntered()
	r.Nickname = p.Nickname
	a.events.Publish(ctx, ports.Event{Kind: ports.EventRaid})
	return r, nil
}

// RaidResult is a raid after an attempt to end it, with the player's total then.
type RaidResult struct {
	Raid       raids.Raid
	TotalScore int64
	Now        time.Time // when the answer was given
}

// EndRaid clears the player's raid. level, when given, must match the raid's level. Errors in
// the API's order: raids.ErrNotFound (unknown or someone else's), ErrLevelMismatch as a
// *ValidationError, raids.ErrExpired (recorded as failed), raids.ErrNotInProgress.
func (a *Raids) EndRaid(ctx context.Context, p Player, raidID int64, level *int) (RaidResult, error) {
	r, total, err := a.store.UpdateRaid(ctx, raidID, func(r raids.Raid, now time.Time) (raids.Raid, error) {
		return r.End(p.ID, level, now)
	})
	switch {
	case errors.Is(err, raids.ErrLevelMismatch):
		return RaidResult{}, &ValidationError{Fields: map[string]string{"level": "level does not match the raid's level"}}
	case errors.Is(err, raids.ErrExpired):
		a.events.Publish(ctx, ports.Event{Kind: ports.EventRaid}) // the raid may have just been recorded as failed
		return RaidResult{}, err
	case err != nil:
		return RaidResult{}, err
	}
	a.metrics.RaidCleared()
	r.Nickname = p.Nickname
	a.standings.Record(ctx, p.ID, total)
	a.events.Publish(ctx, ports.Event{Kind: ports.EventRaid})
	return RaidResult{Raid: r, TotalScore: total, Now: a.clock.Now()}, nil
}

// SweepExpired records every raid past its deadline as failed and returns how many it
// recorded. It only tidies: every read already judges by the deadline.
func (a *Raids) SweepExpired(ctx context.Context) (int, error) {
	n, err := a.store.SweepExpired(ctx)
	if err != nil || n == 0 {
		return n, err
	}
	a.metrics.RaidsFailed(n)
	a.events.Publish(ctx, ports.Event{Kind: ports.EventRaid})
	return n, nil
}

// RaidStatus is who, if anyone, is inside the boss raid.
type RaidStatus struct {
	CanEnter  bool
	Current   *raids.Raid // nil when the raid is free
	TimeLimit time.Duration
	Now       time.Time // when the answer was given
}

// Status tells whether the raid is free; an expired raid counts as over.
func (a *Raids) Status(ctx context.Context) (RaidStatus, error) {
	st := RaidStatus{CanEnter: true, TimeLimit: a.BossData().TimeLimit, Now: a.clock.Now()}
	r, inside, err := a.store.CurrentRaid(ctx)
	if err != nil {
		return RaidStatus{}, err
	}
	var current *raids.Raid
	if inside {
		current = &r
	}
	if current != nil {
		r := *current
		st.CanEnter, st.Current, st.TimeLimit = false, &r, r.TimeLimit
	}
	return st, nil
}

// RaidAt is a raid as the store has it, with the time the answer was given.
type RaidAt struct {
	raids.Raid
	Now time.Time
}

// Raid returns one raid as it stands now, for its player (others get raids.ErrNotFound) or an admin.
func (a *Raids) Raid(ctx context.Context, p Player, raidID int64) (RaidAt, error) {
	r, err := a.store.RaidByID(ctx, raidID)
	if err != nil {
		return RaidAt{}, err
	}
	if r.UserID != p.ID && !p.IsAdmin() {
		return RaidAt{}, raids.ErrNotFound
	}
	return RaidAt{Raid: r, Now: a.clock.Now()}, nil
}

// History paging limits.
const (
	DefaultHistoryLimit = 10
	MaxHistoryLimit     = 100
)

// PlayerHistory is a player's public record: no email, phone or anything private.
type PlayerHistory struct {
	UserID       int64
	Nickname     string
	ProfileImage string // storage key, "" when none
	TotalScore   int64
	TotalCount   int
	Offset       int
	Limit        int
	Raids        []raids.Raid // newest first
	Now          time.Time    // when the answer was given
}

// PlayerHistory returns a player's total and one page of their raids. users.ErrNotFound for an
// unknown nickname; a bad offset or limit is a *ValidationError.
func (a *Raids) PlayerHistory(ctx context.Context, nickname string, offset, limit int) (PlayerHistory, error) {
	fields := map[string]string{}
	if offset < 0 {
		fields["offset"] = "offset must be 0 or more"
	}
	if limit < 1 || limit > MaxHistoryLimit {
		fields["limit"] = "limit must be between 1 and 100"
	}
	if len(fields) > 0 {
		return PlayerHistory{}, &ValidationError{Fields: fields}
	}
	u, page, count, err := a.records.PlayerRecord(ctx, nickname, offset, limit)
	if err != nil {
		return PlayerHistory{}, err
	}
	return PlayerHistory{
		UserID: u.ID, Nickname: u.Nickname, ProfileImage: u.ProfileImage, TotalScore: u.TotalScore,
		TotalCount: count, Offset: offset, Limit: limit, Raids: page, Now: a.clock.Now(),
	}, nil
}
