// Package hot keeps what almost every request reads — the token-checking facts of a player,
// who is inside the raid, verified token signatures and nicknames — in memory, as decorators
// that implement the same ports as the stores they wrap.
//
// The player and raid caches are only used while the change feed is followed: every committed
// change evicts what it touches, and losing the feed empties and disables them, so they can be
// late by the time a notification takes to arrive (milliseconds), never by more.
package hot

import (
	"context"
	"sync"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// maxCachedPlayers bounds the memory the player cache may take (about 100 bytes each).
const maxCachedPlayers = 100_000

// Cache is the state the decorators share. Build it with New, wrap the stores with its
// methods and run Follow.
type Cache struct {
	clock ports.Clock

	mu      sync.Mutex
	enabled bool
	// gen moves on at every eviction, so a fill that read the store before the eviction
	// cannot put the stale value back.
	gen     uint64
	players map[int64]users.User
	raid    *cachedRaid
	line    *cachedLine // the raid queue's, valid while gen stays put (see Queue)

	nicknames sync.Map // user id → nickname; nicknames never change, so this never goes stale

	rankings []*Ranking // told of every change after the cache (see Cache.Ranking)
}

type cachedRaid struct {
	current *raids.Raid // nil: free
}

// New returns a cache that stays off until Follow hears the feed connected.
func New(clock ports.Clock) *Cache { return &Cache{clock: clock} }

// Follow applies the feed's changes to the cache until ctx ends.
func (c *Cache) Follow(ctx context.Context, feed ports.ChangeFeed) {
	feed.Follow(ctx, func(ch ports.Change) {
		for _, r := range c.apply(ch) {
			r.apply(ctx, ch)
		}
	})
	for _, r := range c.apply(ports.Change{Kind: ports.ChangesLost}) {
		r.apply(ctx, ports.Change{Kind: ports.ChangesLost})
	}
}

// apply changes the cache and returns the rankings to tell.
func (c *Cache) apply(ch ports.Change) []*Ranking {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch ch.Kind {
	case ports.ChangesFollowed:
		c.enabled, c.players, c.raid, c.line = true, map[int64]users.User{}, nil, nil
	case ports.ChangesLost:
		c.enabled, c.players, c.raid, c.line = false, nil, nil, nil
	case ports.PlayerChanged:
		delete(c.players, ch.UserID)
	case ports.RaidChanged:
		c.raid = nil
	case ports.TotalChanged:
		return c.rankings // nothing the cache holds depends on totals
	}
	c.gen++
	return c.rankings
}

// Following reports whether the feed is followed, and so whether players and the raid status
// are answered from memory.
func (c *Cache) Following() bool {
	_, ok := c.generation()
	return ok
}

// generation returns the current generation and whether the cache is in use.
func (c *Cache) generation() (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen, c.enabled
}

func (c *Cache) player(id int64) (users.User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.players[id]
	return u, ok && c.enabled
}

func (c *Cache) storePlayer(gen uint64, u users.User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.enabled || gen != c.gen {
		return
	}
	if len(c.players) >= maxCachedPlayers {
		for id := range c.players { // evict an arbitrary player
			delete(c.players, id)
			break
		}
	}
	u.PasswordHash = "" // never keep secrets around longer than needed
	c.players[u.ID] = u
}

func (c *Cache) forgetPlayer(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.players, id)
}

// currentRaid returns the cached answer to "who is inside", if it is still good at now: a
// cached raid past its deadline is not trusted, so expiry is always judged by the store.
func (c *Cache) currentRaid(now time.Time) (*raids.Raid, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.enabled || c.raid == nil {
		return nil, false
	}
	if r := c.raid.current; r != nil && !r.InProgressAt(now) {
		return nil, false
	}
	return c.raid.current, true
}

func (c *Cache) storeRaid(gen uint64, r *raids.Raid) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.enabled && gen == c.gen {
		c.raid = &cachedRaid{current: r}
	}
}

// setRaid records the raid just entered: this instance knows it before any notification.
func (c *Cache) setRaid(r raids.Raid) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if c.enabled {
		c.raid = &cachedRaid{current: &r}
	}
}

func (c *Cache) forgetRaid() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.raid = nil
}
