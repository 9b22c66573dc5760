package admin_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/internal/loadgen"
	"github.com/bossraid/bossraid/ports"
	views "github.com/bossraid/bossraid/views/admin"
)

// Raids and players the benchmark seeds; ADMIN_BENCH_RAIDS overrides the number of raids.
const (
	benchRaids   = 1_000_000
	benchPlayers = 10_000
)

// seedMillion fills the database in bulk: players p1…p10000 (ids 1…10000), one raid every 30
// seconds for the last year (about 60 % cleared), and an expired raid never recorded as failed.
func seedMillion(b *testing.B, s *site, raids int) {
	b.Helper()
	start := time.Now()
	tx, err := s.DB.Begin()
	if err != nil {
		b.Fatal(err)
	}
	// No change notifications for a bulk load: a million of them at commit would only flood
	// the instances' change feeds.
	if _, err := tx.Exec(`SET LOCAL session_replication_role = replica; SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
		b.Fatal(err)
	}
	// Indexes built once after the load rather than row by row: 10,000,000 raids otherwise
	// take longer than the benchmark is worth.
	indexes, err := loadgen.DropIndexes(context.Background(), tx, "users", "raids")
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO users (email, nickname, nickname_key, password_hash)
		 SELECT 'p' || g || '@example.com', 'p' || g, 'p' || g, 'x' FROM generate_series(1, ` + fmt.Sprint(benchPlayers) + `) g`,
		`INSERT INTO raids (user_id, seq, level, level_score, time_limit, status, score, enter_time, deadline, end_time)
		 SELECT u, row_number() OVER (PARTITION BY u ORDER BY g), lvl, sc, interval '3 minutes', CASE WHEN ok THEN 'success' ELSE 'fail' END, CASE WHEN ok THEN sc ELSE 0 END,
		        t, t + interval '3 minutes', t + CASE WHEN ok THEN interval '1 minute' ELSE interval '3 minutes' END
		 FROM (SELECT 1 + abs(hashint4(g)) % ` + fmt.Sprint(benchPlayers) + ` AS u, g % 3 AS lvl, (ARRAY[20, 47, 85])[g % 3 + 1] AS sc,
		              abs(hashint4(g * 7)) % 100 < 60 AS ok, g, now() - interval '2 hours' - ($1::int - g) * interval '30 seconds' AS t
		       FROM generate_series(1, $1::int) g) s
		 ORDER BY g`,
		`INSERT INTO raids (user_id, seq, level, level_score, time_limit, status, enter_time, deadline)
		 VALUES (1, (SELECT coalesce(max(seq), 0) + 1 FROM raids WHERE user_id = 1), 2, 85, interval '3 minutes', 'in_progress',
		         now() - interval '1 hour', now() - interval '57 minutes')`,
		// the triggers are off for the load: the counters of migration 00006 from the tables
		`SELECT bossraid_recount()`,
		`UPDATE users SET total_score = t.total FROM (SELECT user_id, sum(score) AS total FROM raids GROUP BY user_id) t
		 WHERE users.id = t.user_id`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = append(args, raids)
		}
		if _, err := tx.Exec(q, args...); err != nil {
			b.Fatalf("seed: %v\n%s", err, q)
		}
	}
	for _, def := range indexes {
		if _, err := tx.Exec(def); err != nil {
			b.Fatalf("seed: %v\n%s", err, def)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{`VACUUM ANALYZE users`, `VACUUM ANALYZE raids`, `ANALYZE`} { // the counters too
		if _, err := s.DB.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d players and %d raids in %v", benchPlayers, raids+1, time.Since(start).Round(time.Millisecond))
}

// BenchmarkAdminAtAMillionRaids measures the admin pages (through the real router, with the
// session, the admin check and the rendering) and the CSV export over a million raids:
//
//	go test ./adapters/http/admin -run '^$' -bench AdminAtAMillion -benchtime 50x -timeout 30m
//
// Seeding takes a while, so `make test` (no -bench) never runs it. With ADMIN_BENCH_EXPLAIN=1
// every statement's plan is written to the Postgres server log by auto_explain.
func BenchmarkAdminAtAMillionRaids(b *testing.B) {
	raids := benchRaids
	if n := os.Getenv("ADMIN_BENCH_RAIDS"); n != "" {
		if _, err := fmt.Sscan(n, &raids); err != nil {
			b.Fatalf("ADMIN_BENCH_RAIDS=%q: %v", n, err)
		}
	}
	s := newSite(b)
	seedMillion(b, s, raids)
	boss := s.signUp("boss")
	s.setRole(boss, users.RoleAdmin)
	c := s.signedIn(boss)
	c.hc.Timeout = 10 * time.Minute
	if os.Getenv("ADMIN_BENCH_EXPLAIN") != "" {
		var db string
		_ = s.DB.QueryRow(`SELECT current_database()`).Scan(&db)
		for _, q := range []string{
			`ALTER DATABASE ` + db + ` SET session_preload_libraries = 'auto_explain'`,
			`ALTER DATABASE ` + db + ` SET auto_explain.log_min_duration = 0`,
			`ALTER DATABASE ` + db + ` SET auto_explain.log_analyze = on`,
			`ALTER DATABASE ` + db + ` SET auto_explain.log_buffers = on`,
		} {
			if _, err := s.DB.Exec(q); err != nil {
				b.Fatal(err)
			}
		}
		s.DB.SetMaxIdleConns(0) // new connections pick the settings up
		s.DB.SetMaxIdleConns(2)
	}

	// A cursor in the middle of the table, for deep pages.
	mid, err := postgres.NewAdmin(s.DB).ListRaids(context.Background(), ports.RaidQuery{
		Order: ports.RaidsNewestFirst, After: &ports.RaidKey{EnterTime: time.Now().Add(-time.Duration(raids/2) * 30 * time.Second), ID: 1 << 62}, Limit: 1})
	if err != nil || len(mid) != 1 {
		b.Fatalf("middle raid: %v", err)
	}
	cursor := fmt.Sprintf("%d_%d_%d", mid[0].EnterTime.UnixMicro(), mid[0].Score, mid[0].ID)
	now := time.Now().UTC()
	week, day := views.FormInput(now.Add(-7*24*time.Hour)), views.FormInput(now.Add(-24*time.Hour))
	q := func(path string, kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return views.WithQuery(path, v)
	}
	pages := []struct{ name, path string }{
		{"dashboard", views.PathDashboard},
		{"raids/newest", views.PathRaids},
		{"raids/newest-deep", q(views.PathRaids, "after", cursor)},
		{"raids/newest-deep-prev", q(views.PathRaids, "before", cursor)},
		{"raids/oldest", q(views.PathRaids, "sort", "oldest")},
		{"raids/score", q(views.PathRaids, "sort", "score")},
		{"raids/score-deep", q(views.PathRaids, "sort", "score", "after", cursor)},
		{"raids/failed-last-week", q(views.PathRaids, "status", "fail", "from", week)},
		{"raids/failed-deep", q(views.PathRaids, "status", "fail", "after", cursor)},
		{"raids/cleared-level2-last-day", q(views.PathRaids, "status", "success", "level", "2", "from", day)},
		{"raids/one-player", q(views.PathRaids, "player", "p4242", "exact", "1")},
		{"raids/one-player-by-score", q(views.PathRaids, "player", "p4242", "exact", "1", "sort", "score")},
		{"raids/prefix-111-players", q(views.PathRaids, "player", "p99")},
		{"raids/in-progress", q(views.PathRaids, "status", "in_progress")},
		{"raid", views.RaidPath(mid[0].ID)},
		{"top-raiders/failed-last-week", q(views.PathTopRaiders, "status", "fail", "from", week)},
		{"top-raiders/ever", views.PathTopRaiders},
		{"players", views.PathPlayers},
		{"players/search", q(views.PathPlayers, "q", "p12")},
		{"players/by-total", q(views.PathPlayers, "sort", "total")},
		{"player", views.PlayerPath(4242)},
	}
	for _, pg := range pages {
		b.Run(pg.name, func(b *testing.B) {
			for b.Loop() {
				if res := c.get(pg.path); res.status() != http.StatusOK {
					b.Fatalf("%s: %d %s", pg.path, res.status(), short(res.body))
				}
			}
		})
	}
	for _, exp := range []struct{ name, path string }{
		{"csv/everything", views.PathRaidsCSV},
		{"csv/failed-last-week", q(views.PathRaidsCSV, "status", "fail", "from", week)},
	} {
		b.Run(exp.name, func(b *testing.B) {
			for b.Loop() {
				rows, bytes, peak := exportOnce(b, c, exp.path)
				b.ReportMetric(float64(rows), "rows")
				b.ReportMetric(float64(bytes)/(1<<20), "MiB")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			}
		})
	}
}

// exportOnce downloads an export, counting its rows and bytes, while sampling the heap of
// this process (which is the server too).
func exportOnce(b *testing.B, c *client, path string) (rows, n int64, peak uint64) {
	b.Helper()
	runtime.GC()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var m runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 32<<10)
	for {
		k, err := resp.Body.Read(buf)
		n += int64(k)
		for _, ch := range buf[:k] {
			if ch == '\n' {
				rows++
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	_ = resp.Body.Close()
	close(done)
	wg.Wait()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("export: %d", resp.StatusCode)
	}
	return rows - 1, n, peak
}
