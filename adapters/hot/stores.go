package hot

import (
	"context"
	"errors"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// Users wraps a UserStore: nicknames come from memory once seen, and AccountByID answers the
// token check from the player cache.
type Users struct {
	ports.UserStore
	c *Cache
}

var (
	_ ports.UserStore     = (*Users)(nil)
	_ ports.AccountLookup = (*Users)(nil)
)

// Users wraps next.
func (c *Cache) Users(next ports.UserStore) *Users { return &Users{UserStore: next, c: c} }

// AccountByID returns the player's token-checking facts, from memory while the feed is followed.
func (u *Users) AccountByID(ctx context.Context, id int64) (users.User, error) {
	if got, ok := u.c.player(id); ok {
		return got, nil
	}
	gen, _ := u.c.generation()
	got, err := u.UserByID(ctx, id)
	if err != nil {
		return users.User{}, err
	}
	got.PasswordHash = ""
	u.c.storePlayer(gen, got)
	u.c.nicknames.Store(got.ID, got.Nickname)
	return got, nil
}

// Nicknames answers the ids seen before from memory and asks the store for the others.
func (u *Users) Nicknames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	var missing []int64
	for _, id := range ids {
		if n, ok := u.c.nicknames.Load(id); ok {
			out[id] = n.(string)
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	got, err := u.UserStore.Nicknames(ctx, missing)
	if err != nil {
		return nil, err
	}
	for id, n := range got {
		u.c.nicknames.Store(id, n)
		out[id] = n
	}
	return out, nil
}

// SetRole forgets the player at once; other instances hear of it from the change feed.
func (u *Users) SetRole(ctx context.Context, email string, role users.Role) (users.User, error) {
	got, err := u.UserStore.SetRole(ctx, email, role)
	if err == nil {
		u.c.forgetPlayer(got.ID)
	}
	return got, err
}

// Sessions wraps a SessionStore so that a sign-out is known here before any notification.
type Sessions struct {
	ports.SessionStore
	c *Cache
}

// Sessions wraps next.
func (c *Cache) Sessions(next ports.SessionStore) *Sessions {
	return &Sessions{SessionStore: next, c: c}
}

// EndAllSessions forgets the player whatever the outcome; other instances hear of it from the
// change feed.
func (s *Sessions) EndAllSessions(ctx context.Context, userID int64) (int64, error) {
	v, err := s.SessionStore.EndAllSessions(ctx, userID)
	s.c.forgetPlayer(userID)
	return v, err
}

// Raids wraps a RaidStore: who is inside comes from memory while the feed is followed, and
// entries are gated.
//
// The store alone decides who gets in. While this instance knows someone is inside, EnterRaid
// refuses without asking the store, and it sends one entry at a time to the store, so a crowd
// rushing a free raid costs one transaction per instance, not one per player. A cached "busy"
// can only refuse, never admit.
type Raids struct {
	ports.RaidStore
	c    *Cache
	gate chan struct{} // one entry at a time goes to the store
}

var _ ports.RaidStore = (*Raids)(nil)

// Raids wraps next.
func (c *Cache) Raids(next ports.RaidStore) *Raids {
	return &Raids{RaidStore: next, c: c, gate: make(chan struct{}, 1)}
}

// EnterRaid refuses from memory when it knows a raid is in progress, else asks the store.
func (s *Raids) EnterRaid(ctx context.Context, userID int64, level raids.Level, limit time.Duration) (raids.Raid, error) {
	if err := s.refuseIfKnownBusy(); err != nil {
		return raids.Raid{}, err
	}
	if _, caching := s.c.generation(); caching {
		select {
		case s.gate <- struct{}{}:
			defer func() { <-s.gate }()
		case <-ctx.Done():
			return raids.Raid{}, ctx.Err()
		}
		if err := s.refuseIfKnownBusy(); err != nil { // the entry before ours may have won
			return raids.Raid{}, err
		}
	}
	r, err := s.RaidStore.EnterRaid(ctx, userID, level, limit)
	if errors.Is(err, raids.ErrBusy) {
		s.c.forgetRaid()
		_, _, _ = s.CurrentRaid(ctx) // learn who is inside, so the next ones are refused from memory
	}
	if err != nil {
		return raids.Raid{}, err
	}
	known := r
	if n, ok := s.c.nicknames.Load(userID); ok && known.Nickname == "" {
		known.Nickname = n.(string)
	}
	if known.Nickname != "" {
		s.c.setRaid(known)
	} else { // the status shows who is inside; let the store say
		s.c.forgetRaid()
	}
	return r, nil
}

// refuseIfKnownBusy answers "busy" from memory when it knows a raid is in progress.
func (s *Raids) refuseIfKnownBusy() error {
	if current, ok := s.c.currentRaid(s.c.clock.Now()); ok && current != nil {
		return &raids.BusyError{UserID: current.UserID, RaidID: current.ID}
	}
	return nil
}

// CurrentRaid answers from memory when it can.
func (s *Raids) CurrentRaid(ctx context.Context) (raids.Raid, bool, error) {
	if current, ok := s.c.currentRaid(s.c.clock.Now()); ok {
		if current == nil {
			return raids.Raid{}, false, nil
		}
		return *current, true, nil
	}
	gen, _ := s.c.generation()
	r, inside, err := s.RaidStore.CurrentRaid(ctx)
	if err != nil {
		return raids.Raid{}, false, err
	}
	var current *raids.Raid
	if inside {
		known := r
		current = &known
	}
	s.c.storeRaid(gen, current)
	return r, inside, nil
}

// UpdateRaid forgets who is inside whatever the outcome.
func (s *Raids) UpdateRaid(ctx context.Context, raidID int64, change func(r raids.Raid, now time.Time) (raids.Raid, error)) (raids.Raid, int64, error) {
	r, total, err := s.RaidStore.UpdateRaid(ctx, raidID, change)
	s.c.forgetRaid()
	return r, total, err
}

// SweepExpired forgets who is inside when it recorded any raid.
func (s *Raids) SweepExpired(ctx context.Context) (int, error) {
	n, err := s.RaidStore.SweepExpired(ctx)
	if n > 0 {
		s.c.forgetRaid()
	}
	return n, err
}
