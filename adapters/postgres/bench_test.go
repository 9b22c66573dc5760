package postgres_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// seedHeavyPlayer gives one player n raids (through the triggers, as the game would) and
// returns the player's id.
func seedHeavyPlayer(b *testing.B, n int) int64 {
	b.Helper()
	emptyDatabase(b)
	p := newPlayers(b, 1)[0]
	if _, err := testDB.Exec(fmt.Sprintf(`
		INSERT INTO raids (user_id, level, level_score, time_limit, status, score, enter_time, deadline, end_time)
		SELECT %d, g %% 3, 20, interval '3 minutes', 'success', 20, now() - g * interval '181 seconds',
			now() - g * interval '181 seconds' + interval '3 minutes', now() - g * interval '181 seconds' + interval '1 minute'
		FROM generate_series($1::int, 1, -1) g`, p), n); err != nil {
		b.Fatal(err)
	}
	if _, err := testDB.Exec(`VACUUM ANALYZE raids`); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkHistory reads a page of a 10,000-raid player's history at the first and the
// deepest offset: with the ordinal seek both cost the same.
func BenchmarkHistory(b *testing.B) {
	const n = 10_000
	p := seedHeavyPlayer(b, n)
	store := postgres.NewRaids(testDB)
	ctx := context.Background()
	for _, offset := range []int{0, n / 2, n - 10} {
		b.Run(fmt.Sprintf("offset-%d", offset), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				page, count, err := store.History(ctx, p, offset, 10)
				if err != nil || count != n || len(page) != 10 {
					b.Fatalf("History = %d raids of %d, %v", len(page), count, err)
				}
			}
		})
	}
}

// BenchmarkPlayerRecord reads the history route's one statement (player, count, page) at the
// first, a middle and the deepest offset of a 10,000-raid player.
func BenchmarkPlayerRecord(b *testing.B) {
	const n = 10_000
	p := seedHeavyPlayer(b, n)
	u, err := postgres.NewUsers(testDB).UserByID(context.Background(), p)
	if err != nil {
		b.Fatal(err)
	}
	store := postgres.NewRaids(testDB)
	ctx := context.Background()
	for _, offset := range []int{0, n / 2, n - 10} {
		b.Run(fmt.Sprintf("offset-%d", offset), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, page, count, err := store.PlayerRecord(ctx, u.Nickname, offset, 10)
				if err != nil || count != n || len(page) != 10 {
					b.Fatalf("PlayerRecord = %d raids of %d, %v", len(page), count, err)
				}
			}
		})
	}
}

// BenchmarkAdminCounts answers the dashboard's counts from the counters and, for comparison,
// by the scan they replace.
func BenchmarkAdminCounts(b *testing.B) {
	seedHeavyPlayer(b, 10_000)
	admin := postgres.NewAdmin(testDB)
	ctx := context.Background()
	day := ports.RaidFilter{From: time.Now().Add(-24 * time.Hour)}
	one := 1
	for _, c := range []struct {
		name string
		f    ports.RaidFilter
		scan bool
	}{
		{"all/counters", ports.RaidFilter{}, false},
		{"all/scan", ports.RaidFilter{}, true},
		{"last-day/counters", day, false},
		{"last-day/scan", day, true},
		{"level-failed-week/counters", ports.RaidFilter{Level: &one, Status: raids.StatusFail, From: time.Now().Add(-7 * 24 * time.Hour)}, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if c.scan {
					_, err = admin.CountRaidsByScan(ctx, c.f)
				} else {
					_, err = admin.CountRaids(ctx, c.f)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("players", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := admin.CountPlayers(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkChangeFeedDelay raises a player's total and waits for the feed to report it: the
// time from the commit's acknowledgement to the report is how late another instance's memory
// ranking is (reported as p50-ms and p99-ms; ns/op includes the UPDATE itself).
func BenchmarkChangeFeedDelay(b *testing.B) {
	emptyDatabase(b)
	p := newPlayers(b, 1)[0]
	feed := postgres.NewChangeFeed(testURL, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	heard := make(chan int64, 1024)
	followed := make(chan struct{}, 1)
	go feed.Follow(ctx, func(c ports.Change) {
		switch {
		case c.Kind == ports.ChangesFollowed:
			followed <- struct{}{}
		case c.Kind == ports.TotalChanged && c.UserID == p:
			heard <- c.Total
		}
	})
	<-followed
	var delays []time.Duration
	total := int64(0)
	b.ResetTimer()
	for b.Loop() {
		total++
		if _, err := testDB.Exec(`UPDATE users SET total_score = $2 WHERE id = $1`, p, total); err != nil {
			b.Fatal(err)
		}
		committed := time.Now()
		for got := int64(0); got != total; {
			select {
			case got = <-heard:
			case <-time.After(5 * time.Second):
				b.Fatalf("total %d not reported in 5 s", total)
			}
		}
		delays = append(delays, time.Since(committed))
	}
	slices.Sort(delays)
	b.ReportMetric(float64(delays[len(delays)/2])/1e6, "p50-ms")
	b.ReportMetric(float64(delays[len(delays)*99/100])/1e6, "p99-ms")
	b.ReportMetric(float64(delays[len(delays)-1])/1e6, "max-ms")
}
