package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/redis"
	"github.com/bossraid/bossraid/ports"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestThrottleContract(t *testing.T) {
	portstest.RunThrottle(t, func(t *testing.T) (ports.Throttle, func(time.Duration)) {
		return redis.NewThrottle(emptyRedis(t)), time.Sleep
	})
}

// Counters live under the app's prefix and always expire, so none outlives its window.
func TestThrottleCountersExpire(t *testing.T) {
	ctx := context.Background()
	c := emptyRedis(t)
	th := redis.NewThrottle(c)
	key := redis.ThrottlePrefix + "signin:account:a@example.com"
	// A counter left without an expiry (say, by an older release) gets one at the next attempt.
	if err := c.Set(ctx, key, 3, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := th.Reserve(ctx, "signin:account:a@example.com", 10, time.Minute); err != nil || !ok {
		t.Fatalf("Reserve: %v, %v", ok, err)
	}
	ttl, err := c.PTTL(ctx, key).Result()
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("PTTL of the counter: %v, %v", ttl, err)
	}
	n, left, err := th.Count(ctx, "signin:account:a@example.com")
	if err != nil || n != 4 || left <= 0 {
		t.Fatalf("Count: %d, %v, %v", n, left, err)
	}
	// A full counter without an expiry would refuse for ever: it gets one even when refusing.
	if err := c.Set(ctx, key, 10, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if ok, left, err := th.Reserve(ctx, "signin:account:a@example.com", 10, time.Minute); err != nil || ok || left <= 0 {
		t.Fatalf("Reserve of a full counter: %v, %v, %v; want refused with time left", ok, left, err)
	}
	if ttl, err := c.PTTL(ctx, key).Result(); err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("PTTL of the full counter: %v, %v", ttl, err)
	}
}
