package portstest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bossraid/bossraid/ports"
)

// ThrottleWindow is the window the throttle suite counts in; short, so an adapter on real
// time (Redis) can let it pass by sleeping.
const ThrottleWindow = 600 * time.Millisecond

// RunThrottle runs the contract of ports.Throttle. newThrottle is called once per subtest and
// returns an empty throttle and a function that lets d pass for it: a sleep for an adapter
// on real time, moving a fake clock for one on a ports.Clock.
func RunThrottle(t *testing.T, newThrottle func(t *testing.T) (ports.Throttle, func(d time.Duration))) {
	ctx := context.Background()
	const w = ThrottleWindow
	const long = time.Hour // for checks that let no time pass, so a slow machine cannot fail them
	const many = 1000      // a limit no subtest reaches

	t.Run("nothing counted for an unknown key", func(t *testing.T) {
		th, _ := newThrottle(t)
		checkCount(t, th, "signin:account:nobody@example.com", 0, 0, 0)
	})

	t.Run("counts reservations within the window", func(t *testing.T) {
		th, _ := newThrottle(t)
		for range 3 {
			reserve(t, th, "k", many, long, true)
		}
		checkCount(t, th, "k", 3, long-time.Minute, long)
	})

	t.Run("refuses at the limit without counting, with the time left", func(t *testing.T) {
		th, _ := newThrottle(t)
		for range 3 {
			reserve(t, th, "k", 3, long, true)
		}
		for range 2 {
			if left := reserve(t, th, "k", 3, long, false); left < long-time.Minute || left > long {
				t.Fatalf("refused reservation: %v left, want about %v", left, long)
			}
		}
		checkCount(t, th, "k", 3, long-time.Minute, long)
		reserve(t, th, "k", 4, long, true) // the limit is the caller's, per call
	})

	t.Run("the window starts at the first reservation and does not slide", func(t *testing.T) {
		th, pass := newThrottle(t)
		reserve(t, th, "k", 2, w, true)
		pass(w / 2)
		reserve(t, th, "k", 2, w, true)
		reserve(t, th, "k", 2, w, false)
		checkCount(t, th, "k", 2, time.Nanosecond, w/2)
		pass(w/2 + 50*time.Millisecond)
		checkCount(t, th, "k", 0, 0, 0)
		reserve(t, th, "k", 2, w, true)
		checkCount(t, th, "k", 1, w/4, w)
	})

	t.Run("keys count apart", func(t *testing.T) {
		th, _ := newThrottle(t)
		reserve(t, th, "signin:account:a@example.com", many, long, true)
		reserve(t, th, "signin:account:a@example.com", many, long, true)
		reserve(t, th, "signin:address:192.0.2.1", many, long, true)
		checkCount(t, th, "signin:account:a@example.com", 2, long-time.Minute, long)
		checkCount(t, th, "signin:address:192.0.2.1", 1, long-time.Minute, long)
		checkCount(t, th, "signin:account:b@example.com", 0, 0, 0)
	})

	t.Run("release gives one back and keeps the window's end", func(t *testing.T) {
		th, pass := newThrottle(t)
		reserve(t, th, "k", 2, w, true)
		reserve(t, th, "k", 2, w, true)
		pass(w / 2)
		release(t, th, "k")
		checkCount(t, th, "k", 1, time.Nanosecond, w/2)
		reserve(t, th, "k", 2, w, true)
		reserve(t, th, "k", 2, w, false)
		release(t, th, "k")
		release(t, th, "k")
		checkCount(t, th, "k", 0, 0, 0)
		release(t, th, "k") // nothing counted: nothing happens
		release(t, th, "never-seen")
		checkCount(t, th, "k", 0, 0, 0)
		reserve(t, th, "k", 2, w, true)
		checkCount(t, th, "k", 1, w/2+time.Millisecond, w) // a new window
	})

	t.Run("reset forgets a key and the next reservation starts a new window", func(t *testing.T) {
		th, pass := newThrottle(t)
		reserve(t, th, "k", many, w, true)
		reserve(t, th, "other", many, w, true)
		pass(w / 2)
		if err := th.Reset(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if err := th.Reset(ctx, "never-seen"); err != nil {
			t.Fatalf("Reset of an unknown key: %v", err)
		}
		checkCount(t, th, "k", 0, 0, 0)
		checkCount(t, th, "other", 1, time.Nanosecond, w/2)
		reserve(t, th, "k", many, w, true)
		checkCount(t, th, "k", 1, w/2+time.Millisecond, w) // the old window had at most w/2 left
	})

	t.Run("simultaneous reservations under the limit are all counted", func(t *testing.T) {
		th, _ := newThrottle(t)
		if got := reserveAtOnce(t, th, "k", 40, many); got != 40 {
			t.Fatalf("%d of 40 reservations allowed, want all", got)
		}
		checkCount(t, th, "k", 40, long-time.Minute, long)
	})

	t.Run("simultaneous reservations past the limit: exactly the limit is allowed", func(t *testing.T) {
		th, _ := newThrottle(t)
		for round := range 5 {
			key := "signin:account:round" + string(rune('a'+round)) + "@example.com"
			if got := reserveAtOnce(t, th, key, 40, 10); got != 10 {
				t.Fatalf("round %d: %d of 40 simultaneous reservations allowed, want exactly the limit 10", round, got)
			}
			checkCount(t, th, key, 10, long-time.Minute, long)
		}
	})

	t.Run("a limit below 1 or a window shorter than a millisecond is refused", func(t *testing.T) {
		th, _ := newThrottle(t)
		if _, _, err := th.Reserve(ctx, "k", 10, 0); err == nil {
			t.Fatal("Reserve with no window: want an error")
		}
		if _, _, err := th.Reserve(ctx, "k", 0, long); err == nil {
			t.Fatal("Reserve with limit 0: want an error")
		}
		checkCount(t, th, "k", 0, 0, 0)
	})
}

// reserveAtOnce starts n reservations for key at the same moment and returns how many were allowed.
func reserveAtOnce(t *testing.T, th ports.Throttle, key string, n, limit int) int {
	t.Helper()
	var allowed atomic.Int64
	var start, wg sync.WaitGroup
	start.Add(1)
	for range n {
		wg.Go(func() {
			start.Wait()
			ok, _, err := th.Reserve(context.Background(), key, limit, time.Hour)
			if err != nil {
				t.Error(err)
			}
			if ok {
				allowed.Add(1)
			}
		})
	}
	start.Done()
	wg.Wait()
	return int(allowed.Load())
}

// reserve wants Reserve to answer allowed and returns the time left it reported.
func reserve(t *testing.T, th ports.Throttle, key string, limit int, window time.Duration, allowed bool) time.Duration {
	t.Helper()
	ok, left, err := th.Reserve(context.Background(), key, limit, window)
	if err != nil {
		t.Fatalf("Reserve(%q): %v", key, err)
	}
	if ok != allowed {
		t.Fatalf("Reserve(%q, limit %d) allowed = %v, want %v", key, limit, ok, allowed)
	}
	return left
}

func release(t *testing.T, th ports.Throttle, key string) {
	t.Helper()
	if err := th.Release(context.Background(), key); err != nil {
		t.Fatalf("Release(%q): %v", key, err)
	}
}

// checkCount wants count attempts with the window ending within [minLeft, maxLeft].
func checkCount(t *testing.T, th ports.Throttle, key string, count int, minLeft, maxLeft time.Duration) {
	t.Helper()
	got, left, err := th.Count(context.Background(), key)
	if err != nil {
		t.Fatalf("Count(%q): %v", key, err)
	}
	if got != count || left < minLeft || left > maxLeft {
		t.Fatalf("Count(%q) = %d, %v; want %d, between %v and %v", key, got, left, count, minLeft, maxLeft)
	}
}
