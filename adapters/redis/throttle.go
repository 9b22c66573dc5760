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
// fixed window that starts at its first failure and ends when the counter expires.
type Throttle struct {
	c *goredis.Client
}

var _ ports.Throttle = (*Throttle)(nil)

// NewThrottle returns the sign-in failure counters kept in c.
func NewThrottle(c *goredis.Client) *Throttle {
	return &Throttle{c: c}
}

// addFailureScript counts a failure and starts the window on the first one. A counter found
// without an expiry gets one, so no key outlives its window.
var addFailureScript = goredis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`)

// AddFailure counts one failure for key.
func (t *Throttle) AddFailure(ctx context.Context, key string, window time.Duration) error {
	if window < time.Millisecond {
		return fmt.Errorf("redis: throttle window %v is shorter than a millisecond", window)
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	err := addFailureScript.Run(ctx, t.c, []string{throttlePrefix + key}, window.Milliseconds()).Err()
	return mapErr(err)
}

// Failures returns key's count in its current window and the time left in it.
func (t *Throttle) Failures(ctx context.Context, key string) (int, time.Duration, error) {
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

// Reset forgets key's failures.
func (t *Throttle) Reset(ctx context.Context, key string) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return mapErr(t.c.Del(ctx, throttlePrefix+key).Err())
}
