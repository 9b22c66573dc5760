package portstest

import (
	"context"
	"sync"
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

	t.Run("no failures for an unknown key", func(t *testing.T) {
		th, _ := newThrottle(t)
		checkFailures(t, th, "signin:account:nobody@example.com", 0, 0, 0)
	})

	t.Run("counts failures within the window", func(t *testing.T) {
		th, _ := newThrottle(t)
		for range 3 {
			addFailure(t, th, "k", long)
		}
		checkFailures(t, th, "k", 3, long-time.Minute, long)
	})

	t.Run("the window starts at the first failure and does not slide", func(t *testing.T) {
		th, pass := newThrottle(t)
		addFailure(t, th, "k", w)
		pass(w / 2)
		addFailure(t, th, "k", w)
		checkFailures(t, th, "k", 2, time.Nanosecond, w/2)
		pass(w/2 + 50*time.Millisecond)
		checkFailures(t, th, "k", 0, 0, 0)
		addFailure(t, th, "k", w)
		checkFailures(t, th, "k", 1, w/4, w)
	})

	t.Run("keys count apart", func(t *testing.T) {
		th, _ := newThrottle(t)
		addFailure(t, th, "signin:account:a@example.com", long)
		addFailure(t, th, "signin:account:a@example.com", long)
		addFailure(t, th, "signin:address:192.0.2.1", long)
		checkFailures(t, th, "signin:account:a@example.com", 2, long-time.Minute, long)
		checkFailures(t, th, "signin:address:192.0.2.1", 1, long-time.Minute, long)
		checkFailures(t, th, "signin:account:b@example.com", 0, 0, 0)
	})

	t.Run("reset forgets a key and the next failure starts a new window", func(t *testing.T) {
		th, pass := newThrottle(t)
		addFailure(t, th, "k", w)
		addFailure(t, th, "other", w)
		pass(w / 2)
		if err := th.Reset(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if err := th.Reset(ctx, "never-seen"); err != nil {
			t.Fatalf("Reset of an unknown key: %v", err)
		}
		checkFailures(t, th, "k", 0, 0, 0)
		checkFailures(t, th, "other", 1, time.Nanosecond, w/2)
		addFailure(t, th, "k", w)
		checkFailures(t, th, "k", 1, w/2+time.Millisecond, w) // the old window had at most w/2 left
	})

	t.Run("simultaneous failures are all counted", func(t *testing.T) {
		th, _ := newThrottle(t)
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() {
				if err := th.AddFailure(ctx, "k", long); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		checkFailures(t, th, "k", 40, long-time.Minute, long)
	})

	t.Run("a window shorter than a millisecond is refused", func(t *testing.T) {
		th, _ := newThrottle(t)
		if err := th.AddFailure(ctx, "k", 0); err == nil {
			t.Fatal("AddFailure with no window: want an error")
		}
	})
}

func addFailure(t *testing.T, th ports.Throttle, key string, window time.Duration) {
	t.Helper()
	if err := th.AddFailure(context.Background(), key, window); err != nil {
		t.Fatalf("AddFailure(%q): %v", key, err)
	}
}

// checkFailures wants count failures with the window ending within [minLeft, maxLeft].
func checkFailures(t *testing.T, th ports.Throttle, key string, count int, minLeft, maxLeft time.Duration) {
	t.Helper()
	got, left, err := th.Failures(context.Background(), key)
	if err != nil {
		t.Fatalf("Failures(%q): %v", key, err)
	}
	if got != count || left < minLeft || left > maxLeft {
		t.Fatalf("Failures(%q) = %d, %v; want %d, between %v and %v", key, got, left, count, minLeft, maxLeft)
	}
}
