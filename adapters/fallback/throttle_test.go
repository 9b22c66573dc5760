package fallback_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/fallback"
	"github.com/bossraid/bossraid/adapters/memory"
	"github.com/bossraid/bossraid/ports"
)

type sysClock struct{}

func (sysClock) Now() time.Time { return time.Now() }

// switchable is a shared throttle that can go down.
type switchable struct {
	ports.Throttle
	down bool
}

func (s *switchable) Reserve(ctx context.Context, key string, limit int, w time.Duration) (bool, time.Duration, error) {
	if s.down {
		return false, 0, ports.ErrUnavailable
	}
	return s.Throttle.Reserve(ctx, key, limit, w)
}

func (s *switchable) Release(ctx context.Context, key string) error {
	if s.down {
		return ports.ErrUnavailable
	}
	return s.Throttle.Release(ctx, key)
}

func TestAReservationGoesBackToTheThrottleThatHoldsIt(t *testing.T) {
	ctx := context.Background()
	shared, local := &switchable{Throttle: memory.NewThrottle(sysClock{})}, memory.NewThrottle(sysClock{})
	th := fallback.NewThrottle(shared, local, slog.New(slog.DiscardHandler))
	count := func(tt ports.Throttle) int { n, _, _ := tt.Count(ctx, "k"); return n }

	if ok, _, err := th.Reserve(ctx, "k", 5, time.Minute); !ok || err != nil {
		t.Fatalf("shared reserve: %v %v", ok, err)
	}
	shared.down = true
	if ok, _, err := th.Reserve(ctx, "k", 5, time.Minute); !ok || err != nil {
		t.Fatalf("local reserve while the shared one is down: %v %v", ok, err)
	}
	shared.down = false // back before the release: the local reservation must go back locally
	if err := th.Release(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if count(shared) != 1 || count(local) != 0 {
		t.Fatalf("after releasing the local reservation: shared %d local %d, want 1 and 0", count(shared), count(local))
	}
	if err := th.Release(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if count(shared) != 0 {
		t.Fatalf("after releasing the shared reservation: shared %d, want 0", count(shared))
	}

	shared.down = true
	for range 5 {
		if _, _, err := th.Reserve(ctx, "k", 5, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _, _ := th.Reserve(ctx, "k", 5, time.Minute); ok {
		t.Fatal("the local throttle let a sixth attempt through: an outage opened the gate")
	}
	shared.down = false
	if err := th.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if count(local) != 0 {
		t.Fatalf("Reset left %d local attempts", count(local))
	}
}
