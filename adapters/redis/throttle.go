package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bossraid/bossraid/ports"
)

const throttlePrefix = keyPrefix + "throttle:"

// Throttle is ports.Throttle on Redis counters shared by every instance. Each key counts in a
// fixed window that starts at its first attempt and ends when the counter expires.
type Throttle struct {
	c goredis.UniversalClient
}

var _ ports.Throttle = (*Throttle)(nil)

// NewThrottle returns the attempt counters (sign-in failures, sign-ups) kept in c.
func NewThrottle(c goredis.UniversalClient) *Throttle {
	return &Throttle{c: c}
}

// reserveScript counts an attempt unless the key already holds the limit, in one step, so
// simultaneous callers on any number of instances cannot all pass a check made before the
// count. A counter found without an expiry gets one, so no key outlives its window.
// KEYS[1] the counter; ARGV[1] the limit, ARGV[2] the window in ms. Returns {allowed, ms left}.
var reserveScript = goredis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local left = redis.call('PTTL', KEYS[1])
if n > 0 and left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  left = tonumber(ARGV[2])
end
if n >= tonumber(ARGV[1]) then return {0, left} end
if redis.call('INCR', KEYS[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  left = tonumber(ARGV[2])
end
return {1, left}`)

// releaseScript gives one attempt back; the window keeps its end, and the last one deletes it.
var releaseScript = goredis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n <= 1 then redis.call('DEL', KEYS[1]) else redis.call('DECR', KEYS[1]) end
return 0`)

// Reserve counts one attempt for key unless it already has limit in its window.
func (t *Throttle) Reserve(ctx context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	if limit < 1 {
		return false, 0, fmt.Errorf("redis: throttle limit %d is below 1", limit)
	}
	if window < time.Millisecond {
		return false, 0, fmt.Errorf("redis: throttle window %v is shorter than a millisecond", window)
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	got, err := reserveScript.Run(ctx, t.c, []string{throttlePrefix + key}, limit, window.Milliseconds()).Int64Slice()
	if err != nil {
		return false, 0, mapErr(err)
	}
	if len(got) != 2 {
		return false, 0, fmt.Errorf("redis: throttle reserve answered %v", got)
	}
	return got[0] == 1, time.Duration(max(got[1], 0)) * time.Millisecond, nil
}

// Release gives back one attempt counted for key.
func (t *Throttle) Release(ctx context.Context, key string) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return mapErr(releaseScript.Run(ctx, t.c, []string{throttlePrefix + key}).Err())
}

// Count returns key's count in its current window and the time left in it.
func (t *Throttle) Count(ctx context.Context, key string) (int, time.Duration, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	var count *goredis.StringCmd
	var left *goredis.DurationCmd
	_, err := t.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		count = p.Get(ctx, throttlePrefix+key)
		left = p.PTTL(ctx, throttlePrefix+key)
		return nil
	})
	if errors.Is(err, goredis.Nil) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, mapErr(err)
	}
	n, err := count.Int()
	if err != nil {
		return 0, 0, fmt.Errorf("redis: throttle counter %q: %w", key, err)
	}
	// PTTL answers -1/-2 (as nanoseconds) for "no expiry" and "gone".
	return n, max(left.Val(), 0), nil
}

// Reset forgets key's attempts.
func (t *Throttle) Reset(ctx context.Context, key string) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return mapErr(t.c.Del(ctx, throttlePrefix+key).Err())
}
