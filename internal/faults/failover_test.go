package faults_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bossraid/bossraid/internal/faults"
	"github.com/bossraid/bossraid/internal/loadgen"
)

// failoverLedger is what the players were told while the primary died: every raid a 201
// admitted, every clear a 200 acknowledged, every answer by route and status, and anything
// SPEC.md does not allow.
type failoverLedger struct {
	mu         sync.Mutex
	entered    []int64
	cleared    []int64
	admitted   []admission
	outcomes   map[string]int
	violations []string
}

func (l *failoverLedger) record(route string, a answer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := fmt.Sprintf("%s %d", route, a.status)
	switch {
	case a.err != nil:
		key = route + " transport error"
		l.violations = append(l.violations, fmt.Sprintf("%s: %v", route, a.err))
	case a.status >= 500 && (a.status != http.StatusServiceUnavailable || a.retryAfter == ""):
		l.violations = append(l.violations, fmt.Sprintf("%s: %d (Retry-After %q) %s", route, a.status, a.retryAfter, a.body))
	}
	l.outcomes[key]++
}

func (l *failoverLedger) count(f func(*failoverLedger) int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return f(l)
}

// admission is one 201 as its player saw it.
type admission struct {
	id              int64
	asked, answered time.Time // the entry
	endAsked        time.Time // the first end asked; zero if never
}

type answer struct {
	status     int
	retryAfter string
	body       []byte
	err        error
}

// call sends one request and keeps what the ledger needs, Retry-After included.
func call(ctx context.Context, api *loadgen.API, method, path, token string, body any) answer {
	req, err := http.NewRequestWithContext(ctx, method, api.Base.String()+path, jsonBody(body))
	if err != nil {
		return answer{err: err}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := api.Client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: b}
}

// The primary is SIGKILLed in the middle of play and its synchronous standby promoted, as
// Patroni or a cloud's Multi-AZ does: both instances, whose DATABASE_URL names both hosts with
// target_session_attrs=read-write, find the new primary without a restart; meanwhile they
// answer 503 with Retry-After and nothing else; no acknowledged raid or clear is lost; the
// one-in-progress rule holds across the switch; the change feed follows the new primary.
func TestPostgresFailover(t *testing.T) {
	const limit = 3
	w := newWorld(t, worldOptions{apps: 2, players: 10, limit: limit, standby: true})
	pids := w.pids()
	ctx := context.Background()
	w.round(t)

	ledger := &failoverLedger{outcomes: map[string]int{}}
	stop := make(chan struct{})
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	var load sync.WaitGroup
	for i := range 8 {
		load.Go(func() {
			p := w.players[i]
			for k := 0; !stopped(); k++ {
				if k%3 == 2 {
					ledger.record("status", call(ctx, w.via(i), http.MethodGet, "/api/raids/status", p.Access, nil))
					continue
				}
				asked := time.Now()
				a := call(ctx, w.via(i), http.MethodPost, "/api/raids/enter", p.Access, map[string]int{"level": 0})
				answered := time.Now()
				ledger.record("enter", a)
				if a.status != http.StatusCreated {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				var entered struct {
					Result struct {
						RaidID int64 `json:"id"`
					} `json:"result"`
				}
				if err := json.Unmarshal(a.body, &entered); err != nil || entered.Result.RaidID == 0 {
					ledger.record("enter", answer{err: fmt.Errorf("201 body %s: %v", a.body, err)})
					continue
				}
				// The clear goes through the other instance, again until it is answered.
				path := fmt.Sprintf("/api/raids/%d/end", entered.Result.RaidID)
				ledger.mu.Lock()
				ledger.entered = append(ledger.entered, entered.Result.RaidID)
				ledger.admitted = append(ledger.admitted, admission{id: entered.Result.RaidID, asked: asked, answered: answered, endAsked: time.Now()})
				ledger.mu.Unlock()
				for {
					e := call(ctx, w.via(i+1), http.MethodPatch, path, p.Access, struct{}{})
					ledger.record("end", e)
					if e.status == http.StatusOK {
						ledger.mu.Lock()
						ledger.cleared = append(ledger.cleared, entered.Result.RaidID)
						ledger.mu.Unlock()
					}
					if e.status != http.StatusServiceUnavailable || stopped() {
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	t.Cleanup(func() {
		if !stopped() {
			close(stop)
			load.Wait()
		}
	})
	faults.Eventually(t, 20*time.Second, "a few clears before the kill", func() error {
		if n := ledger.count(func(l *failoverLedger) int { return len(l.cleared) }); n < 5 {
			return fmt.Errorf("%d clears", n)
		}
		return nil
	})
	ackedBeforeKill := ledger.count(func(l *failoverLedger) int { return len(l.entered) + len(l.cleared) })

	if err := w.pg.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	time.Sleep(time.Second) // as long as a failover manager takes to decide, at least
	if err := w.standby.Promote(); err != nil {
		t.Fatal(err)
	}
	promoted := time.Now()

	// Service is back when every instance signs a player in (a write) and enters or refuses
	// an entry from the database.
	var recovered time.Duration
	faults.Eventually(t, 10*time.Second, "service on both instances after the promotion", func() error {
		for i, api := range w.api {
			cr := w.players[i].Credentials
			if a := call(ctx, api, http.MethodPost, "/api/users/signin", "", map[string]string{"email": cr.Email, "password": cr.Password}); a.status != http.StatusOK {
				return fmt.Errorf("sign-in via instance %d: %d %s %v", i, a.status, a.body, a.err)
			}
		}
		recovered = time.Since(promoted)
		return nil
	})
	newDB := faults.OpenDB(t, w.standby.URL("postgres"))
	faults.Eventually(t, 10*time.Second, "both change feeds listening on the new primary", func() error {
		var n int
		if err := newDB.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bossraid-changes'`).Scan(&n); err != nil {
			return err
		}
		if n != len(w.apps) {
			return fmt.Errorf("%d listeners", n)
		}
		return nil
	})
	// Play goes on after the switch before the load stops.
	clearsAtRecovery := ledger.count(func(l *failoverLedger) int { return len(l.cleared) })
	faults.Eventually(t, 20*time.Second, "clears after the promotion", func() error {
		if n := ledger.count(func(l *failoverLedger) int { return len(l.cleared) }); n < clearsAtRecovery+3 {
			return fmt.Errorf("%d clears since", n-clearsAtRecovery)
		}
		return nil
	})
	close(stop)
	load.Wait()

	for _, v := range ledger.violations {
		t.Error(v)
	}
	if ledger.outcomes["enter 503"]+ledger.outcomes["end 503"]+ledger.outcomes["status 503"] == 0 {
		t.Error("no request saw the switch; the test did not test anything")
	}
	lost := acknowledgedLost(t, newDB, ledger)
	checkOneAtATime(t, ledger, limit*time.Second)
	if err := faults.CheckRecords(ctx, newDB); err != nil {
		t.Error(err)
	}
	t.Logf("primary killed; standby promoted %s later; service back on both instances %s after the promotion (%s after the kill)",
		promoted.Sub(killed).Round(time.Millisecond), recovered.Round(time.Millisecond), (recovered + promoted.Sub(killed)).Round(time.Millisecond))
	t.Logf("acknowledged writes (201 entries and 200 clears): %d before the kill, %d in all; writes lost: %d",
		ackedBeforeKill, len(ledger.entered)+len(ledger.cleared), lost)
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range ledger.outcomes {
			if !yield(k) {
				return
			}
		}
	})
	var outcomes []string
	for _, k := range keys {
		outcomes = append(outcomes, fmt.Sprintf("%s: %d", k, ledger.outcomes[k]))
	}
	t.Logf("requests by outcome: %s", strings.Join(outcomes, ", "))

	// The same instances go on as before, on the new primary.
	w.db = newDB
	w.signInAgain(t, len(w.players))
	w.round(t)
	w.checkRecords(t)
	w.assertAppsAlive(t, pids)
}

// acknowledgedLost counts the raids a 201 admitted and the clears a 200 acknowledged that the
// new primary does not have, reporting each.
func acknowledgedLost(t *testing.T, db *sql.DB, l *failoverLedger) int {
	t.Helper()
	lost := 0
	for _, id := range l.entered {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM raids WHERE id = $1`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			lost++
			t.Errorf("raid %d was admitted (201) but is not on the new primary", id)
		}
	}
	for _, id := range l.cleared {
		var status string
		if err := db.QueryRow(`SELECT status FROM raids WHERE id = $1`, id).Scan(&status); err != nil || status != "success" {
			lost++
			t.Errorf("raid %d was cleared (200) but the new primary has it %q (%v)", id, status, err)
		}
	}
	return lost
}

// checkOneAtATime checks, from what the players saw, that no raid was admitted while
// another was surely in progress: admitted (its 201 received) before the second entry was
// asked, and neither ended (its end not yet asked) nor past its deadline (at the earliest
// its entry's asking plus the limit) when the second 201 arrived.
func checkOneAtATime(t *testing.T, l *failoverLedger, limit time.Duration) {
	t.Helper()
	for _, r := range l.admitted {
		over := r.asked.Add(limit)
		if !r.endAsked.IsZero() && r.endAsked.Before(over) {
			over = r.endAsked
		}
		for _, s := range l.admitted {
			if s.id != r.id && r.answered.Before(s.asked) && s.answered.Before(over) {
				t.Errorf("raid %d was admitted while raid %d was in progress", s.id, r.id)
			}
		}
	}
}
