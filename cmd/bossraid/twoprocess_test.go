package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bossraid/bossraid/internal/faults"
	lg "github.com/bossraid/bossraid/internal/loadgen"
	"github.com/bossraid/bossraid/internal/testenv"
	"github.com/bossraid/bossraid/ports/portstest"
)

// twoProcRedisDB is the Redis database the two-process tests share between their servers.
const twoProcRedisDB = 4

// twoProcLimit is the boss raid's time limit in these tests, short so raids can run out.
const twoProcLimit = 2 * time.Second

// twoProcs is two `bossraid serve` processes over one fresh database and one Redis database.
type twoProcs struct {
	db      *testenv.Database
	redis   *goredis.Client
	apps    [2]*faults.App
	api     [2]*lg.API
	players []lg.Player
	ids     []int64 // ids[i] is players[i]'s user id
}

// via is the process player i talks to: even players the first, odd ones the second.
func (w *twoProcs) via(i int) *lg.API { return w.api[i%2] }

func startTwoProcs(t *testing.T, players int) *twoProcs {
	t.Helper()
	db, err := testenv.NewDatabase("cmd_twoproc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Drop() })
	rdb, err := testenv.Redis(twoProcRedisDB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	bin, err := faults.BuildBinary(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "bossdata.json")
	if err := os.WriteFile(data, fmt.Appendf(nil,
		`{"bossRaids":[{"bossRaidLimitSeconds":%g,"levels":[{"level":0,"score":20},{"level":1,"score":47},{"level":2,"score":85}]}]}`,
		twoProcLimit.Seconds()), 0o644); err != nil {
		t.Fatal(err)
	}
	env := faults.AppEnv(db.URL, testenv.RedisURLFor(twoProcRedisDB))
	env["BOSSRAID_DATA"] = data
	env["SWEEP_INTERVAL"] = "100ms"

	ctx := context.Background()
	if _, err := lg.Seed(ctx, db.DB, lg.SeedOptions{Players: players}); err != nil {
		t.Fatal(err)
	}
	w := &twoProcs{db: db, redis: rdb}
	for i := range w.apps {
		w.apps[i] = faults.StartApp(t, bin, env)
		base, err := lg.CheckTarget(w.apps[i].URL, false)
		if err != nil {
			t.Fatal(err)
		}
		c := lg.NewHTTPClient(players, 20*time.Second)
		t.Cleanup(c.CloseIdleConnections)
		w.api[i] = &lg.API{Base: base, Client: c}
	}
	start := time.Now()
	w.players = make([]lg.Player, players)
	errs := make([]error, players)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range players {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			cr := lg.SeedCredentials(i + 1)
			access, res := w.via(i).SignIn(ctx, cr)
			if res.Status != http.StatusOK {
				errs[i] = fmt.Errorf("sign in %s: %d %s %v", cr.Email, res.Status, res.Body, res.Err)
			}
			w.players[i] = lg.Player{Credentials: cr, Access: access}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d players signed in through both processes in %s", players, time.Since(start).Round(time.Millisecond))
	w.ids = make([]int64, players)
	for i, p := range w.players {
		if err := db.DB.QueryRow(`SELECT id FROM users WHERE email = $1`, p.Email).Scan(&w.ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// twoProcRound is one burst of simultaneous enters.
type twoProcRound struct {
	winner int
	raidID int64
	took   time.Duration
}

// enterAll makes every player ask to enter at the same moment, split over both processes,
// and requires exactly one 201 and 409 raid_busy for everyone else.
func (w *twoProcs) enterAll(t *testing.T, level int) twoProcRound {
	t.Helper()
	ctx := context.Background()
	answers := make([]lg.Result, len(w.players))
	ids := make([]int64, len(w.players))
	start := time.Now()
	portstest.Simultaneously(len(w.players), func(i int) {
		ids[i], answers[i] = w.via(i).Enter(ctx, w.players[i].Access, level)
	})
	r := twoProcRound{winner: -1, took: time.Since(start)}
	counts := map[string]int{}
	for i, a := range answers {
		switch {
		case a.Err != nil:
			counts["transport error"]++
		default:
			counts[fmt.Sprintf("%d %s", a.Status, a.Code)]++
		}
		if a.Status == http.StatusCreated {
			r.winner, r.raidID = i, ids[i]
		}
	}
	if counts["201 "] != 1 || counts["409 raid_busy"] != len(w.players)-1 {
		t.Fatalf("%d simultaneous enters over two processes: want one 201 and %d × 409 raid_busy, got %v",
			len(w.players), len(w.players)-1, counts)
	}
	return r
}

// endByWinner clears the round's raid through the process the winner did not enter through.
func (w *twoProcs) endByWinner(t *testing.T, r twoProcRound) {
	t.Helper()
	res := w.via(r.winner+1).End(context.Background(), w.players[r.winner].Access, r.raidID)
	if res.Status != http.StatusOK {
		t.Fatalf("winner's end: %d %s %v", res.Status, res.Body, res.Err)
	}
}

// waitFree waits until both processes say the raid is free.
func (w *twoProcs) waitFree(t *testing.T) {
	t.Helper()
	faults.Eventually(t, 2*twoProcLimit+5*time.Second, "raid free on both processes", func() error {
		for i, api := range w.api {
			res := api.Do(context.Background(), http.MethodGet, "/api/raids/status", w.players[0].Access, nil, true)
			if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"can_enter":true`) {
				return fmt.Errorf("process %d: %d %s", i, res.Status, res.Body)
			}
		}
		return nil
	})
}

// checkHistoryStatus reads the round's raid from the winner's history through both processes.
func (w *twoProcs) checkHistoryStatus(t *testing.T, r twoProcRound, want string) {
	t.Helper()
	for k, api := range w.api {
		res := api.Do(context.Background(), http.MethodGet, "/api/users/search/"+w.players[r.winner].Nickname+"?limit=1",
			w.players[0].Access, nil, true)
		var h struct {
			Histories []struct {
				ID     int64  `json:"id"`
				Status string `json:"status"`
			} `json:"histories"`
		}
		if res.Status != http.StatusOK || json.Unmarshal(res.Body, &h) != nil || len(h.Histories) == 0 ||
			h.Histories[0].ID != r.raidID || h.Histories[0].Status != want {
			t.Fatalf("history via process %d: %d %s, want raid %d %s", k, res.Status, res.Body, r.raidID, want)
		}
	}
}

func (w *twoProcs) checkRecords(t *testing.T) {
	t.Helper()
	if err := faults.CheckRecords(context.Background(), w.db.DB); err != nil {
		t.Fatal(err)
	}
}

func summarize(rounds []time.Duration) string {
	s := slices.Clone(rounds)
	slices.Sort(s)
	return fmt.Sprintf("%d rounds: fastest %s, median %s, slowest %s", len(s),
		s[0].Round(time.Millisecond), s[len(s)/2].Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond))
}

// Two server processes share one database and one Redis: every invariant of SPEC.md holds
// across them, as it must behind a load balancer.
func TestTwoProcesses(t *testing.T) {
	w := startTwoProcs(t, 200)

	t.Run("exactly one of 200 simultaneous enters wins, 20 rounds", func(t *testing.T) {
		var took []time.Duration
		for range 20 {
			r := w.enterAll(t, 1)
			took = append(took, r.took)
			w.endByWinner(t, r)
		}
		t.Log(summarize(took))
		w.checkRecords(t)
	})

	t.Run("exactly one winner with Redis flushed between rounds, some raids left to expire", func(t *testing.T) {
		var took []time.Duration
		expired := 0
		for round := range 20 {
			if err := w.redis.FlushDB(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
			r := w.enterAll(t, round%3)
			took = append(took, r.took)
			if round%5 == 4 {
				w.waitFree(t) // nobody ends it: the deadline does
				expired++
				// Failed for every reader at once; recorded as failed by the next sweep.
				w.checkHistoryStatus(t, r, "fail")
				faults.Eventually(t, 5*time.Second, "the sweeper records the expired raid", func() error {
					var status string
					if err := w.db.DB.QueryRow(`SELECT status FROM raids WHERE id = $1`, r.raidID).Scan(&status); err != nil || status != "fail" {
						return fmt.Errorf("raid %d is %q (%v)", r.raidID, status, err)
					}
					return nil
				})
				continue
			}
			w.endByWinner(t, r)
		}
		t.Logf("%s; %d raids expired by themselves", summarize(took), expired)
		w.checkRecords(t)
	})

	t.Run("50 simultaneous ends of one raid score once", func(t *testing.T) {
		ctx := context.Background()
		p, pid := w.players[7], w.ids[7]
		var before int64
		if err := w.db.DB.QueryRow(`SELECT total_score FROM users WHERE id = $1`, pid).Scan(&before); err != nil {
			t.Fatal(err)
		}
		raidID, res := w.api[0].Enter(ctx, p.Access, 2)
		if res.Status != http.StatusCreated {
			t.Fatalf("enter: %d %s", res.Status, res.Body)
		}
		answers := make([]lg.Result, 50)
		portstest.Simultaneously(len(answers), func(i int) { answers[i] = w.via(i).End(ctx, p.Access, raidID) })
		counts := map[string]int{}
		for _, a := range answers {
			counts[fmt.Sprintf("%d %s", a.Status, a.Code)]++
		}
		if counts["200 "] != 1 || counts["409 raid_not_in_progress"] != 49 {
			t.Fatalf("50 simultaneous ends: want one 200 and 49 × 409 raid_not_in_progress, got %v", counts)
		}
		var after, score int64
		var status string
		if err := w.db.DB.QueryRow(`SELECT u.total_score, r.score, r.status FROM users u JOIN raids r ON r.user_id = u.id WHERE r.id = $1`,
			raidID).Scan(&after, &score, &status); err != nil {
			t.Fatal(err)
		}
		if status != "success" || score != 85 || after != before+85 {
			t.Fatalf("raid %s scored %d; total %d → %d, want +85 once", status, score, before, after)
		}
		w.checkRecords(t)
	})

	t.Run("ranking through both processes equals SQL rank()", func(t *testing.T) {
		ctx := context.Background()
		oracle, err := faults.SQLRanking(ctx, w.db.DB)
		if err != nil {
			t.Fatal(err)
		}
		if len(oracle.ByUser) < 20 {
			t.Fatalf("only %d ranked players; the rounds should have made more", len(oracle.ByUser))
		}
		for i, p := range w.players {
			for k, api := range w.api {
				res := api.Do(ctx, http.MethodGet, "/api/raids/ranking", p.Access, nil, true)
				if res.Status != http.StatusOK {
					t.Fatalf("ranking via process %d: %d %s", k, res.Status, res.Body)
				}
				if err := oracle.Check(res.Body, w.ids[i]); err != nil {
					t.Fatalf("ranking via process %d as %s: %v", k, p.Email, err)
				}
			}
		}
		// And a player's history through the other process shows the same total.
		top := oracle.Top[0]
		res := w.api[1].Do(ctx, http.MethodGet, "/api/users/search/"+top.Nickname, w.players[0].Access, nil, true)
		var h struct {
			TotalScore int64 `json:"total_score"`
		}
		if res.Status != http.StatusOK || json.Unmarshal(res.Body, &h) != nil || h.TotalScore != top.TotalScore {
			t.Fatalf("search %s: %d %s, want total %d", top.Nickname, res.Status, res.Body, top.TotalScore)
		}
	})

	t.Run("the queue across both processes: commit order, a held turn only its holder enters", func(t *testing.T) {
		ctx := context.Background()
		inside := w.players[0]
		if _, res := w.api[0].Enter(ctx, inside.Access, 0); res.Status != http.StatusCreated {
			t.Fatalf("enter: %d %s", res.Status, res.Body)
		}
		// 20 players join at once, half through each process; each gets a place of its own.
		const joiners = 20
		places := make([]int, joiners)
		answers := make([]lg.Result, joiners)
		portstest.Simultaneously(joiners, func(i int) {
			answers[i] = w.via(i).Do(ctx, http.MethodPost, "/api/raids/queue", w.players[1+i].Access, nil, true)
			var out struct {
				Place int `json:"my_queue_position"`
			}
			_ = json.Unmarshal(answers[i].Body, &out)
			places[i] = out.Place
		})
		for i, a := range answers {
			if a.Status != http.StatusCreated {
				t.Fatalf("join %d: %d %s", i, a.Status, a.Body)
			}
		}
		if got := slices.Sorted(slices.Values(places)); !slices.Equal(got, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}) {
			t.Fatalf("places %v, want 1…%d once each", got, joiners)
		}
		// The line is in the order the joins committed: places by join time.
		var outOfOrder int
		if err := w.db.DB.QueryRow(`SELECT count(*) FROM (SELECT joined_at, lag(joined_at) OVER (ORDER BY seq) AS ahead FROM raid_queue) l
			WHERE joined_at < ahead`).Scan(&outOfOrder); err != nil || outOfOrder != 0 {
			t.Fatalf("%d joins out of commit order (%v)", outOfOrder, err)
		}
		var head int64
		if err := w.db.DB.QueryRow(`SELECT user_id FROM raid_queue ORDER BY seq LIMIT 1`).Scan(&head); err != nil {
			t.Fatal(err)
		}
		holder := slices.Index(w.ids, head)
		// The raid frees (its deadline passes) and the head holds the door, as both processes say.
		for k, api := range w.api {
			faults.Eventually(t, 10*time.Second, fmt.Sprintf("process %d shows the head's turn", k), func() error {
				res := api.Do(ctx, http.MethodGet, "/api/raids/status", inside.Access, nil, true)
				var st struct {
					ReservedFor *int64 `json:"reserved_for"`
				}
				if res.Status != http.StatusOK || json.Unmarshal(res.Body, &st) != nil || st.ReservedFor == nil || *st.ReservedFor != head {
					return fmt.Errorf("status %d %s, want reserved_for %d", res.Status, res.Body, head)
				}
				return nil
			})
		}
		// 50 simultaneous enters by others through both processes: every one refused.
		others := make([]lg.Result, 50)
		portstest.Simultaneously(len(others), func(i int) { _, others[i] = w.via(i).Enter(ctx, w.players[1+joiners+i].Access, 1) })
		for i, a := range others {
			if a.Status != http.StatusConflict || a.Code != "raid_reserved" {
				t.Fatalf("enter %d during the turn: %d %s, want 409 raid_reserved", i, a.Status, a.Body)
			}
		}
		raidID, res := w.via(holder).Enter(ctx, w.players[holder].Access, 1) // the process it did not join through
		if res.Status != http.StatusCreated {
			t.Fatalf("the holder's enter: %d %s", res.Status, res.Body)
		}
		if r := w.via(holder+1).End(ctx, w.players[holder].Access, raidID); r.Status != http.StatusOK {
			t.Fatalf("the holder's end: %d %s", r.Status, r.Body)
		}
		// Everyone else leaves, so the raid is free and the line empty again.
		for i := range joiners {
			if w.players[1+i].Email == w.players[holder].Email {
				continue
			}
			if r := w.via(i+1).Do(ctx, http.MethodDelete, "/api/raids/queue", w.players[1+i].Access, nil, true); r.Status != http.StatusNoContent {
				t.Fatalf("leave %d: %d %s", i, r.Status, r.Body)
			}
		}
		w.checkRecords(t)
	})

	for i, a := range w.apps {
		if a.Exited() {
			t.Errorf("process %d exited:\n%s", i, a.Logs())
		}
	}
}
