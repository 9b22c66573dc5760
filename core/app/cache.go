package app

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

// hotCache keeps what almost every request reads — the token-checking facts of a player and
// who is inside the raid — so that they cost no database round trip. It is only used while
// the change feed is followed: every committed change evicts what it touches, and losing the
// feed empties and disables the cache, so it can be late by the time a notification takes
// to arrive (milliseconds), never by more.
type hotCache struct {
	mu      sync.Mutex
	enabled bool
	// gen moves on at every eviction, so a fill that read the database before the eviction
	// cannot put the stale value back.
	gen     uint64
	players map[int64]users.User
	raid    *cachedRaid
}

type cachedRaid struct {
	current *raids.Raid // nil: free
}

// follow applies the feed's changes to the cache until ctx ends.
func (c *hotCache) follow(ctx context.Context, feed ports.ChangeFeed) {
	feed.Follow(ctx, func(ch ports.Change) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.gen++
		switch ch.Kind {
		case ports.ChangesFollowed:
			c.enabled, c.players, c.raid = true, map[int64]users.User{}, nil
		case ports.ChangesLost:
			c.enabled, c.players, c.raid = false, nil, nil
		case ports.PlayerChanged:
			delete(c.players, ch.UserID)
		case ports.RaidChanged:
			c.raid = nil
		}
	})
	c.mu.Lock()
	c.enabled, c.players, c.raid = false, nil, nil
	c.mu.Unlock()
}

// generation returns the current generation and whether the cache is in use.
func (c *hotCache) generation() (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen, c.enabled
}

func (c *hotCache) player(id int64) (users.User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.players[id]
	return u, ok && c.enabled
}

func (c *hotCache) storePlayer(gen uint64, u users.User) {
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

func (c *hotCache) forgetPlayer(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.players, id)
}

// currentRaid returns the cached answer to "who is inside", if it is still good at now: a
// cached raid past its deadline is not trusted, so expiry is always judged by the store.
func (c *hotCache) currentRaid(now time.Time) (*raids.Raid, bool) {
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

func (c *hotCache) storeRaid(gen uint64, r *raids.Raid) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.enabled && gen == c.gen {
		c.raid = &cachedRaid{current: r}
	}
}

// setRaid records the raid just entered: this instance knows it before any notification.
func (c *hotCache) setRaid(r raids.Raid) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if c.enabled {
		c.raid = &cachedRaid{current: &r}
	}
}

func (c *hotCache) forgetRaid() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.raid = nil
}

// FollowingChanges reports whether this instance hears other instances' changes, and so
// caches token checks and the raid status.
func (a *App) FollowingChanges() bool {
	_, ok := a.hot.generation()
	return ok
}

// maxCachedTokens bounds the verified-token cache (a few hundred bytes each).
const maxCachedTokens = 20_000

// tokenCache remembers access tokens whose signature already checked out, so a request costs a
// map lookup instead of a JWT parse. Only the signature check is saved: expiry and the
// player's token version are judged on every request.
type tokenCache struct {
	mu     sync.Mutex
	claims map[string]ports.TokenClaims
}

func (c *tokenCache) get(token string) (ports.TokenClaims, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, ok := c.claims[token]
	return cl, ok
}

func (c *tokenCache) put(token string, cl ports.TokenClaims) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.claims == nil || len(c.claims) >= maxCachedTokens {
		c.claims = map[string]ports.TokenClaims{} // start over rather than track ages
	}
	c.claims[token] = cl
}
