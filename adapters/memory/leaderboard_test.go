package memory

import (
	"context"
	"errors"
	"testing"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestLeaderboardContract(t *testing.T) {
	portstest.RunLeaderboard(t, func(*testing.T) ports.Leaderboard { return NewLeaderboard() })
}

func TestLeaderboardForgetIsNotRankedUntilRebuilt(t *testing.T) {
	ctx := context.Background()
	lb := NewLeaderboard()
	src := portstest.Totals{List: []raids.Total{{UserID: 1, TotalScore: 5}}}
	if _, err := lb.Rebuild(ctx, src); err != nil {
		t.Fatal(err)
	}
	lb.Forget()
	if _, err := lb.Top(ctx, raids.TopSize); !errors.Is(err, raids.ErrNotRanked) {
		t.Fatalf("Top after Forget: got %v, want ErrNotRanked", err)
	}
	if _, err := lb.Rebuild(ctx, src); err != nil {
		t.Fatal(err)
	}
	if s, err := lb.StandingOf(ctx, 1); err != nil || s.TotalScore != 5 {
		t.Fatalf("StandingOf after rebuild: %+v, %v", s, err)
	}
}
