package faults_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"mime/multipart"
	"net"
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
	"github.com/bossraid/bossraid/internal/loadgen"
	"github.com/bossraid/bossraid/ports/portstest"
)

// The binary and the Postgres template every test of the package starts from.
var (
	bin string
	tpl *faults.PostgresTemplate
)

func TestMain(m *testing.M) {
	code, err := setUp(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setUp(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "bossraid-faults-bin-*")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	if bin, err = faults.BuildBinary(dir); err != nil {
		return 0, err
	}
	if tpl, err = faults.NewPostgresTemplate(); err != nil {
		return 0, err
	}
	defer tpl.Close()
	return m.Run(), nil
}

// world is one Postgres, one Redis and some app instances over them, all started by the test.
type world struct {
	t       *testing.T
	pg      *faults.Postgres
	standby *faults.Postgres // with worldOptions.standby: pg's synchronous hot standby
	redis   *faults.Redis
	db      *sql.DB
	apps    []*faults.App
	api     []*loadgen.API // api[i] talks to apps[i]
	players []loadgen.Player
	ids     map[string]int64 // player email → id
}

type worldOptions struct {
	apps, players int
	limit         float64 // boss raid limit in seconds; 0 keeps the built-in 180 s
	standby       bool    // give pg a synchronous standby; the apps' DATABASE_URL names both
	redisURL      string  // a Redis the test started itself (Sentinel, Cluster); "" starts one
}

func newWorld(t *testing.T, o worldOptions) *world {
	t.Helper()
	w := &world{t: t, pg: tpl.StartPostgres(t)}
	databaseURL := w.pg.URL("postgres")
	if o.standby {
		w.standby = w.pg.StartStandby(t, "standby1")
		databaseURL = faults.FailoverURL("postgres", w.pg, w.standby)
	}
	redisURL := o.redisURL
	if redisURL == "" {
		w.redis = faults.StartRedis(t)
		redisURL = w.redis.URL(0)
	}
	env := faults.AppEnv(databaseURL, redisURL)
	if o.limit > 0 {
		data := fmt.Sprintf(`{"bossRaids":[{"bossRaidLimitSeconds":%g,"levels":[{"level":0,"score":20},{"level":1,"score":47},{"level":2,"score":85}]}]}`, o.limit)
		file := filepath.Join(t.TempDir(), "bossdata.json")
		if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		env["BOSSRAID_DATA"] = file
	}
	if err := faults.Migrate(bin, env); err != nil {
		t.Fatal(err)
	}
	w.db = faults.OpenDB(t, w.pg.URL("postgres"))
	ctx := context.Background()
	if _, err := loadgen.Seed(ctx, w.db, loadgen.SeedOptions{Players: o.players}); err != nil {
		t.Fatal(err)
	}
	for range o.apps {
		a := faults.StartApp(t, bin, env)
		w.apps = append(w.apps, a)
		base, err := loadgen.CheckTarget(a.URL, false)
		if err != nil {
			t.Fatal(err)
		}
		client := loadgen.NewHTTPClient(o.players+8, 10*time.Second)
		t.Cleanup(client.CloseIdleConnections)
		w.api = append(w.api, &loadgen.API{Base: base, Client: client})
	}
	w.players = make([]loadgen.Player, o.players)
	var wg sync.WaitGroup
	errs := make([]error, o.players)
	for i := range o.players {
		wg.Go(func() {
			cr := loadgen.SeedCredentials(i + 1)
			access, res := w.via(i).SignIn(ctx, cr)
			if res.Status != http.StatusOK {
				errs[i] = fmt.Errorf("sign in %s: %d %s %v", cr.Email, res.Status, res.Body, res.Err)
			}
			w.players[i] = loadgen.Player{Credentials: cr, Access: access}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	w.ids = map[string]int64{}
	rows, err := w.db.Query(`SELECT email, id FROM users`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var email string
		var id int64
		if err := rows.Scan(&email, &id); err != nil {
			t.Fatal(err)
		}
		w.ids[email] = id
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return w
}

// via is the API of the instance player i talks to: players are spread over the instances.
func (w *world) via(i int) *loadgen.API { return w.api[i%len(w.api)] }

// roundResult is one burst of simultaneous enters.
type roundResult struct {
	winner   int // player index, -1 when nobody got in
	raidID   int64
	winners  int
	statuses map[string]int
	took     time.Duration
}

// enterAll makes every player ask to enter at the same moment, each through their instance,
// and checks that exactly one got in and every other answer is 409 raid_busy.
func (w *world) enterAll(t *testing.T, level int) roundResult {
	t.Helper()
	ctx := context.Background()
	res := roundResult{winner: -1, statuses: map[string]int{}}
	answers := make([]loadgen.Result, len(w.players))
	ids := make([]int64, len(w.players))
	start := time.Now()
	portstest.Simultaneously(len(w.players), func(i int) {
		ids[i], answers[i] = w.via(i).Enter(ctx, w.players[i].Access, level)
	})
	res.took = time.Since(start)
	for i, a := range answers {
		key := fmt.Sprintf("%d %s", a.Status, a.Code)
		if a.Err != nil {
			key = "transport error: " + a.Err.Error()
		}
		res.statuses[key]++
		if a.Status == http.StatusCreated {
			res.winners++
			res.winner, res.raidID = i, ids[i]
		}
	}
	if res.winners != 1 || res.statuses["409 raid_busy"] != len(w.players)-1 {
		t.Fatalf("simultaneous enters: want one 201 and %d × 409 raid_busy, got %v", len(w.players)-1, res.statuses)
	}
	return res
}

// round plays one burst of enters; the winner ends the raid through another instance.
func (w *world) round(t *testing.T) roundResult {
	t.Helper()
	r := w.enterAll(t, 1)
	w.checkStatus(t, r.raidID)
	end := w.via(r.winner+1).End(context.Background(), w.players[r.winner].Access, r.raidID)
	if end.Status != http.StatusOK {
		t.Fatalf("winner's end: %d %s %v", end.Status, end.Body, end.Err)
	}
	// What comes next starts from a raid every instance knows is free.
	w.checkStatus(t, 0)
	return r
}

// notifyLag bounds how late an instance's status cache may be: it hears of another
// instance's enter or end by a Postgres notification, which takes milliseconds (more on a
// loaded machine), never longer (adapters/hot).
const notifyLag = time.Second

// checkStatus asks every instance who is inside: raidID, or nobody when 0. An instance that
// still answers the state before must catch up within notifyLag.
func (w *world) checkStatus(t *testing.T, raidID int64) {
	t.Helper()
	for i, api := range w.api {
		if w.apps[i].Exited() {
			continue
		}
		for deadline := time.Now().Add(notifyLag); ; {
			res := api.Do(context.Background(), http.MethodGet, "/api/raids/status", w.players[0].Access, nil, true)
			if res.Status != http.StatusOK {
				t.Fatalf("status via instance %d: %d %s %v", i, res.Status, res.Body, res.Err)
			}
			var st struct {
				CanEnter bool   `json:"can_enter"`
				RaidID   *int64 `json:"raid_history_id"`
			}
			if err := json.Unmarshal(res.Body, &st); err != nil {
				t.Fatal(err)
			}
			got := int64(0)
			if st.RaidID != nil {
				got = *st.RaidID
			}
			if got == raidID && st.CanEnter == (raidID == 0) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("status via instance %d: %s, want raid %d inside (still wrong after %s)", i, res.Body, raidID, notifyLag)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// checkRanking asks every instance for the ranking as several players and compares it with
// SQL rank().
func (w *world) checkRanking(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	oracle, err := faults.SQLRanking(ctx, w.db)
	if err != nil {
		t.Fatal(err)
	}
	for i, api := range w.api {
		if w.apps[i].Exited() {
			continue
		}
		for _, p := range w.players[:min(len(w.players), 5)] {
			// A total written through the other instance reaches this one's memory by a
			// notification: it must agree within notifyLag.
			for deadline := time.Now().Add(notifyLag); ; {
				res := api.Do(ctx, http.MethodGet, "/api/raids/ranking", p.Access, nil, true)
				if res.Status != http.StatusOK {
					t.Fatalf("ranking via instance %d: %d %s %v", i, res.Status, res.Body, res.Err)
				}
				err := oracle.Check(res.Body, w.ids[p.Email])
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("ranking via instance %d as %s, %s after: %v", i, p.Email, notifyLag, err)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
}

func (w *world) checkRecords(t *testing.T) {
	t.Helper()
	if err := faults.CheckRecords(context.Background(), w.db); err != nil {
		t.Fatal(err)
	}
}

// rankingSetAgrees checks the Redis ranking set against SQL rank().
func (w *world) rankingSetAgrees(ctx context.Context, rdb goredis.UniversalClient) error {
	return faults.RankingSetAgrees(ctx, w.db, rdb)
}

// signInAgain signs a few players in again (through Postgres and the throttle).
func (w *world) signInAgain(t *testing.T, n int) {
	t.Helper()
	for i := range min(n, len(w.players)) {
		access, res := w.via(i).SignIn(context.Background(), w.players[i].Credentials)
		if res.Status != http.StatusOK {
			t.Fatalf("sign in again: %d %s %v", res.Status, res.Body, res.Err)
		}
		w.players[i].Access = access
	}
}

func (w *world) assertAppsAlive(t *testing.T, pids []int) {
	t.Helper()
	for i, a := range w.apps {
		if a.Exited() || a.PID() != pids[i] {
			t.Fatalf("instance %d restarted or exited", i)
		}
	}
}

func (w *world) pids() []int {
	var out []int
	for _, a := range w.apps {
		out = append(out, a.PID())
	}
	return out
}

func (w *world) redisClient(t *testing.T) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", w.redis.Port)})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Redis stopped in the middle of play: sign-in, enter, end, status and ranking keep working
// from Postgres with no 5xx and exactly one player admitted per burst; when Redis comes back on
// the same port (empty), the instances rebuild the ranking set by themselves.
func TestRedisStoppedMidPlay(t *testing.T) {
	w := newWorld(t, worldOptions{apps: 2, players: 20})
	pids := w.pids()
	for range 2 {
		w.round(t)
	}
	w.checkRanking(t)

	if err := w.redis.Stop(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	w.signInAgain(t, 4)
	for range 3 {
		w.round(t)
	}
	w.checkStatus(t, 0)
	w.checkRanking(t)
	t.Logf("3 rounds, sign-ins, status and ranking without Redis took %s", time.Since(start).Round(time.Millisecond))

	if err := w.redis.Start(); err != nil {
		t.Fatal(err)
	}
	rdb := w.redisClient(t)
	ctx := context.Background()
	back := time.Now()
	faults.Eventually(t, 20*time.Second, "ranking set rebuilt after Redis came back", func() error {
		return w.rankingSetAgrees(ctx, rdb)
	})
	t.Logf("ranking set rebuilt %s after Redis came back", time.Since(back).Round(time.Millisecond))
	w.round(t)
	faults.Eventually(t, 5*time.Second, "ranking set keeps up", func() error { return w.rankingSetAgrees(ctx, rdb) })
	w.checkRanking(t)
	w.checkRecords(t)
	w.assertAppsAlive(t, pids)
}

// Redis flushed while players enter and clear: the same guarantees as a stop, and the
// ranking set comes back by itself.
func TestRedisFlushedMidPlay(t *testing.T) {
	w := newWorld(t, worldOptions{apps: 2, players: 20})
	pids := w.pids()
	w.round(t)
	rdb := w.redisClient(t)
	ctx := context.Background()

	stop := make(chan struct{})
	var flushes sync.WaitGroup
	flushes.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(30 * time.Millisecond):
				_ = rdb.FlushAll(ctx).Err()
			}
		}
	})
	for range 4 {
		w.round(t)
		w.checkRanking(t)
	}
	close(stop)
	flushes.Wait()
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	w.checkRanking(t)
	back := time.Now()
	faults.Eventually(t, 20*time.Second, "ranking set rebuilt after the flush", func() error {
		return w.rankingSetAgrees(ctx, rdb)
	})
	t.Logf("ranking set rebuilt %s after the last flush", time.Since(back).Round(time.Millisecond))
	w.round(t)
	w.checkRecords(t)
	w.assertAppsAlive(t, pids)
}

// Postgres stopped (as a crash would) while requests arrive: every request answers within 2 s,
// those that need the database with 503 and Retry-After, none with anything else; when it
// returns, the same instance serves again and no record is half-written.
func TestPostgresStoppedAndBack(t *testing.T) {
	w := newWorld(t, worldOptions{apps: 1, players: 12})
	pids := w.pids()
	ctx := context.Background()
	w.round(t)
	inside := w.enterAll(t, 2) // someone stays inside across the outage

	// Load across the stop, so transactions are cut off mid-way.
	type answer struct {
		route   string
		status  int
		retry   string
		latency time.Duration
		err     error
	}
	var mu sync.Mutex
	var answers []answer
	stopLoad := make(chan struct{})
	var load sync.WaitGroup
	api := w.api[0]
	for i := range 8 {
		load.Go(func() {
			p := w.players[i]
			for k := 0; ; k++ {
				select {
				case <-stopLoad:
					return
				default:
				}
				var route, method, path string
				var body any
				switch k % 4 {
				case 0:
					route, method, path = "status", http.MethodGet, "/api/raids/status"
				case 1:
					route, method, path = "ranking", http.MethodGet, "/api/raids/ranking"
				case 2:
					route, method, path, body = "enter", http.MethodPost, "/api/raids/enter", map[string]int{"level": 0}
				case 3:
					route, method, path = "search", http.MethodGet, "/api/users/search/"+p.Nickname
				}
				start := time.Now()
				req, _ := http.NewRequestWithContext(ctx, method, api.Base.String()+path, jsonBody(body))
				req.Header.Set("Authorization", "Bearer "+p.Access)
				if body != nil {
					req.Header.Set("Content-Type", "application/json")
				}
				resp, err := api.Client.Do(req)
				a := answer{route: route, latency: time.Since(start), err: err}
				if err == nil {
					a.status, a.retry = resp.StatusCode, resp.Header.Get("Retry-After")
					_ = resp.Body.Close()
				}
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	if err := w.pg.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()

	// While it is down, each route answers at once: 503 with Retry-After where Postgres is
	// needed. Reads an instance can answer from what it already knows may still be 200.
	down := []struct {
		name, method, path, token string
		body                      any
		mayServe                  bool
	}{
		{"sign-in", http.MethodPost, "/api/users/signin", "", map[string]string{"email": w.players[1].Email, "password": loadgen.SeedPassword}, false},
		{"sign-up", http.MethodPost, "/api/users/signup", "", map[string]string{"email": "new@example.com", "nickname": "newcomer", "password": "Passw0rd!"}, false},
		{"enter", http.MethodPost, "/api/raids/enter", w.players[1].Access, map[string]int{"level": 0}, false},
		{"end", http.MethodPatch, fmt.Sprintf("/api/raids/%d/end", inside.raidID), w.players[inside.winner].Access, struct{}{}, false},
		{"search", http.MethodGet, "/api/users/search/" + w.players[2].Nickname, w.players[1].Access, nil, false},
		{"status", http.MethodGet, "/api/raids/status", w.players[1].Access, nil, true},
		{"ranking", http.MethodGet, "/api/raids/ranking", w.players[1].Access, nil, true},
	}
	time.Sleep(500 * time.Millisecond)
	for _, d := range down {
		start := time.Now()
		res := api.Do(ctx, d.method, d.path, d.token, d.body, true)
		took := time.Since(start)
		switch {
		case res.Err != nil:
			t.Errorf("%s while Postgres is down: %v", d.name, res.Err)
		case took > 2*time.Second:
			t.Errorf("%s while Postgres is down took %s, want under 2 s", d.name, took)
		case res.Status == http.StatusServiceUnavailable && res.Code == "unavailable":
		case res.Status == http.StatusOK && d.mayServe:
		default:
			t.Errorf("%s while Postgres is down: %d %s, want 503 unavailable", d.name, res.Status, res.Body)
		}
	}
	time.Sleep(time.Second)
	if err := w.pg.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Postgres was down for %s", time.Since(stopped).Round(time.Millisecond))
	faults.Eventually(t, 20*time.Second, "status answers again without a restart", func() error {
		res := api.Do(ctx, http.MethodGet, "/api/raids/status", w.players[0].Access, nil, false)
		if res.Status != http.StatusOK {
			return fmt.Errorf("status %d %v", res.Status, res.Err)
		}
		return nil
	})
	time.Sleep(300 * time.Millisecond)
	close(stopLoad)
	load.Wait()

	// Every answer during the load: no 5xx but 503-with-Retry-After, none slower than 2 s.
	counts := map[string]int{}
	var slowest time.Duration
	for _, a := range answers {
		slowest = max(slowest, a.latency)
		key := fmt.Sprintf("%s %d", a.route, a.status)
		switch {
		case a.err != nil:
			t.Errorf("%s: transport error %v", a.route, a.err)
		case a.status >= 500 && (a.status != http.StatusServiceUnavailable || a.retry == ""):
			t.Errorf("%s: %d with Retry-After %q", a.route, a.status, a.retry)
		case a.latency > 2*time.Second:
			t.Errorf("%s answered %d after %s, want under 2 s", a.route, a.status, a.latency)
		}
		counts[key]++
	}
	t.Logf("%d answers under load across the outage, slowest %s: %v", len(answers), slowest.Round(time.Millisecond), counts)
	if counts["status 503"]+counts["enter 503"]+counts["search 503"] == 0 {
		t.Error("no request under load saw the outage; the test did not test anything")
	}

	// The player inside before the outage clears the raid now; then play goes on.
	end := api.End(ctx, w.players[inside.winner].Access, inside.raidID)
	if end.Status != http.StatusOK {
		t.Fatalf("end after the outage: %d %s", end.Status, end.Body)
	}
	w.signInAgain(t, 3)
	w.round(t)
	w.checkRanking(t)
	w.checkRecords(t)
	w.assertAppsAlive(t, pids)
}

func jsonBody(v any) *strings.Reader {
	if v == nil {
		return strings.NewReader("")
	}
	b, _ := json.Marshal(v)
	return strings.NewReader(string(b))
}

// One of two instances killed with SIGKILL while its player is inside the raid: the other
// keeps serving, the raid ends at its deadline as failed, and nobody else gets in before.
func TestInstanceKilledWhilePlayerInside(t *testing.T) {
	const limit = 2.0
	w := newWorld(t, worldOptions{apps: 2, players: 10, limit: limit})
	ctx := context.Background()
	a, b := w.api[0], w.api[1]
	p := w.players[0]
	id, res := a.Enter(ctx, p.Access, 2)
	if res.Status != http.StatusCreated {
		t.Fatalf("enter: %d %s", res.Status, res.Body)
	}
	// The raid started when the database let it in, before its answer reached us: judge
	// the deadline from the start it reports (the server and this test share one clock).
	var started struct {
		Result struct {
			EnterTime time.Time `json:"enter_time"`
		} `json:"result"`
	}
	if err := json.Unmarshal(res.Body, &started); err != nil || started.Result.EnterTime.IsZero() {
		t.Fatalf("enter answer without an enter_time: %s (%v)", res.Body, err)
	}
	entered := started.Result.EnterTime
	w.apps[0].Kill()

	// The survivor knows who is inside and turns everyone else away until the deadline.
	w.checkStatus(t, id)
	for _, q := range w.players[1:] {
		_, r := b.Enter(ctx, q.Access, 0)
		if time.Since(entered) > time.Duration(limit*float64(time.Second))-200*time.Millisecond {
			break // too close to the deadline to tell
		}
		if r.Status != http.StatusConflict || r.Code != "raid_busy" {
			t.Fatalf("enter while the killed instance's player is inside: %d %s", r.Status, r.Body)
		}
	}
	// At the deadline the raid is over for everyone, and recorded as failed.
	faults.Eventually(t, 5*time.Second, "the raid is free after its deadline", func() error {
		r := b.Do(ctx, http.MethodGet, "/api/raids/status", w.players[1].Access, nil, true)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"can_enter":true`) {
			return fmt.Errorf("status %d %s", r.Status, r.Body)
		}
		return nil
	})
	if took := time.Since(entered); took < time.Duration(limit*float64(time.Second)) {
		t.Fatalf("the raid was free after %s, before its %gs limit", took, limit)
	}
	end := b.End(ctx, p.Access, id)
	if end.Status != http.StatusConflict || end.Code != "raid_expired" {
		t.Fatalf("end after the deadline: %d %s, want 409 raid_expired", end.Status, end.Body)
	}
	var status string
	if err := w.db.QueryRow(`SELECT status FROM raids WHERE id = $1`, id).Scan(&status); err != nil || status != "fail" {
		t.Fatalf("raid %d is %q (%v), want fail", id, status, err)
	}
	// The survivor goes on: one winner per burst.
	w.apps = w.apps[1:]
	w.api = w.api[1:]
	for range 2 {
		w.round(t)
	}
	w.checkRanking(t)
	w.checkRecords(t)
}

// databaseChecksum summarises every durable row, to prove a request changed nothing.
func databaseChecksum(t *testing.T, db *sql.DB) string {
	t.Helper()
	var sum string
	err := db.QueryRow(`SELECT concat_ws(' ',
		(SELECT count(*) || ':' || coalesce(md5(string_agg(u::text, '|' ORDER BY u.id)), '') FROM users u),
		(SELECT count(*) || ':' || coalesce(md5(string_agg(r::text, '|' ORDER BY r.id)), '') FROM raids r),
		(SELECT count(*) || ':' || coalesce(md5(string_agg(k::text, '|' ORDER BY k.id)), '') FROM refresh_tokens k),
		(SELECT count(*) || ':' || coalesce(md5(string_agg(i.key || i.user_id, '|' ORDER BY i.key)), '') FROM profile_images i),
		(SELECT count(*) FROM sessions))`).Scan(&sum)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// Bad inputs against every JSON route: each gets the documented 4xx answer with its code,
// never a 5xx, and the database is exactly as before.
func TestBadInputsChangeNothing(t *testing.T) {
	w := newWorld(t, worldOptions{apps: 1, players: 3})
	ctx := context.Background()
	api := w.api[0]
	alice, bob := w.players[0], w.players[1]
	// Alice is inside the raid, at level 0, so end has a real target.
	raidID, res := api.Enter(ctx, alice.Access, 0)
	if res.Status != http.StatusCreated {
		t.Fatalf("enter: %d %s", res.Status, res.Body)
	}
	// A refresh token for the token routes (signing in again changes the database, so now).
	signin := api.Do(ctx, http.MethodPost, "/api/users/signin", "", map[string]string{"email": alice.Email, "password": loadgen.SeedPassword}, true)
	var tokens struct{ Access, Refresh string }
	if err := json.Unmarshal(signin.Body, &tokens); err != nil || tokens.Refresh == "" {
		t.Fatalf("sign in: %d %s", signin.Status, signin.Body)
	}
	alice.Access = tokens.Access
	var bobRefresh struct{ Refresh string }
	if err := json.Unmarshal(api.Do(ctx, http.MethodPost, "/api/users/signin", "", map[string]string{"email": bob.Email, "password": loadgen.SeedPassword}, true).Body, &bobRefresh); err != nil {
		t.Fatal(err)
	}
	before := databaseChecksum(t, w.db)

	forged := alice.Access[:len(alice.Access)-2] + flip(alice.Access[len(alice.Access)-2:])
	algNone := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + strings.Split(alice.Access, ".")[1] + "."
	end := fmt.Sprintf("/api/raids/%d/end", raidID)
	big := `{"email":"` + strings.Repeat("a", 70<<10) + `@example.com","nickname":"big","password":"Passw0rd!"}`
	const validSignUp = `"nickname":"fresh_one","password":"Passw0rd!"`

	type badCase struct {
		name, method, path, auth, contentType, body string
		multipart                                   func() (string, string) // content type and body
		status                                      int
		code                                        string
	}
	cases := []badCase{
		// sign-up
		{name: "signup: not JSON", method: "POST", path: "/api/users/signup", body: `{"email":`, status: 400, code: "invalid_json"},
		{name: "signup: empty body", method: "POST", path: "/api/users/signup", contentType: "application/json", body: ``, status: 400, code: "invalid_json"},
		{name: "signup: no content type", method: "POST", path: "/api/users/signup", contentType: "-", body: `{"email":"x@example.com",` + validSignUp + `}`, status: 415, code: "unsupported_media_type"},
		{name: "signup: array", method: "POST", path: "/api/users/signup", body: `[{"email":"x@example.com"}]`, status: 400, code: "invalid_json"},
		{name: "signup: trailing data", method: "POST", path: "/api/users/signup", body: `{"email":"x@example.com",` + validSignUp + `} {}`, status: 400, code: "invalid_json"},
		{name: "signup: wrong types", method: "POST", path: "/api/users/signup", body: `{"email":1,"nickname":true,"password":["x"]}`, status: 400, code: "validation_failed"},
		{name: "signup: duplicate keys", method: "POST", path: "/api/users/signup", body: `{"email":"x@example.com","email":"y@example.com",` + validSignUp + `}`, status: 400, code: "invalid_json"},
		{name: "signup: case-variant key", method: "POST", path: "/api/users/signup", body: `{"Email":"x@example.com",` + validSignUp + `}`, status: 400, code: "validation_failed"},
		{name: "signup: unknown key", method: "POST", path: "/api/users/signup", body: `{"email":"x@example.com",` + validSignUp + `,"role":"admin"}`, status: 400, code: "validation_failed"},
		{name: "signup: oversized", method: "POST", path: "/api/users/signup", body: big, status: 413, code: "payload_too_large"},
		{name: "signup: text/plain", method: "POST", path: "/api/users/signup", contentType: "text/plain", body: `{"email":"x@example.com",` + validSignUp + `}`, status: 415, code: "unsupported_media_type"},
		{name: "signup: invalid UTF-8", method: "POST", path: "/api/users/signup", body: "{\"email\":\"x@example.com\",\"nickname\":\"ab\xff\xfe\",\"password\":\"Passw0rd!\"}", status: 400, code: "invalid_json"},
		{name: "signup: control character", method: "POST", path: "/api/users/signup", body: `{"email":"x@example.com","nickname":"a\u0000b","password":"Passw0rd!"}`, status: 400, code: "validation_failed"},
		{name: "signup: SQL in nickname", method: "POST", path: "/api/users/signup", body: `{"email":"x@example.com","nickname":"x'; DROP TABLE users;--","password":"Passw0rd!"}`, status: 400, code: "validation_failed"},
		{name: "signup: LIKE pattern email", method: "POST", path: "/api/users/signup", body: `{"email":"%@%.%",` + validSignUp + `}`, status: 400, code: "validation_failed"},
		{name: "signup: huge number phone", method: "POST", path: "/api/users/signup", body: `{"email":"x@example.com",` + validSignUp + `,"phone":1e400}`, status: 400, code: ""},
		{name: "signup: email taken in other case", method: "POST", path: "/api/users/signup", body: `{"email":"` + strings.ToUpper(alice.Email) + `",` + validSignUp + `}`, status: 409, code: "email_taken"},
		{name: "signup: nickname taken in other case", method: "POST", path: "/api/users/signup", body: `{"email":"x@example.com","nickname":"` + strings.ToUpper(alice.Nickname) + `","password":"Passw0rd!"}`, status: 409, code: "nickname_taken"},
		{name: "signup: non-ASCII password", method: "POST", path: "/api/users/signup", body: `{"email":"x@example.com","nickname":"fresh_one","password":"Pässw0rd!"}`, status: 400, code: "validation_failed"},
		{name: "signup: image that is not one", method: "POST", path: "/api/users/signup", multipart: func() (string, string) {
			return multipartBody(map[string]string{"email": "x@example.com", "nickname": "fresh_one", "password": "Passw0rd!"}, "<?php echo 1; ?>")
		}, status: 400, code: "validation_failed"},
		{name: "signup: malformed multipart", method: "POST", path: "/api/users/signup", contentType: "multipart/form-data; boundary=zzz", body: "--zzz\r\nnot a part", status: 415, code: "unsupported_media_type"},
		{name: "signup: multipart over 2 MiB", method: "POST", path: "/api/users/signup", multipart: func() (string, string) {
			return multipartBody(map[string]string{"email": "x@example.com", "nickname": "fresh_one", "password": "Passw0rd!"}, strings.Repeat("x", 3<<20))
		}, status: 413, code: "payload_too_large"},
		// sign-in
		{name: "signin: wrong password", method: "POST", path: "/api/users/signin", body: `{"email":"` + alice.Email + `","password":"Wr0ng-pass!"}`, status: 401, code: "invalid_credentials"},
		{name: "signin: unknown email", method: "POST", path: "/api/users/signin", body: `{"email":"nobody@example.com","password":"Passw0rd!"}`, status: 401, code: "invalid_credentials"},
		{name: "signin: SQL in email", method: "POST", path: "/api/users/signin", body: `{"email":"' OR '1'='1","password":"' OR '1'='1"}`, status: 401, code: "invalid_credentials"},
		{name: "signin: LIKE pattern email", method: "POST", path: "/api/users/signin", body: `{"email":"seed%","password":"` + loadgen.SeedPassword + `"}`, status: 401, code: "invalid_credentials"},
		{name: "signin: missing password", method: "POST", path: "/api/users/signin", body: `{"email":"` + alice.Email + `"}`, status: 400, code: "validation_failed"},
		{name: "signin: password as number", method: "POST", path: "/api/users/signin", body: `{"email":"` + alice.Email + `","password":12345678}`, status: 400, code: "validation_failed"},
		{name: "signin: null", method: "POST", path: "/api/users/signin", body: `null`, status: 400, code: ""},
		// sign-out
		{name: "signout: no Authorization", method: "POST", path: "/api/users/signout", body: `{"refresh":"` + tokens.Refresh + `"}`, status: 401, code: "unauthenticated"},
		{name: "signout: empty bearer", method: "POST", path: "/api/users/signout", auth: "Bearer ", body: `{"refresh":"` + tokens.Refresh + `"}`, status: 401, code: "unauthenticated"},
		{name: "signout: Basic scheme", method: "POST", path: "/api/users/signout", auth: "Basic YWxpY2U6cGFzcw==", body: `{"refresh":"` + tokens.Refresh + `"}`, status: 401, code: "unauthenticated"},
		{name: "signout: forged signature", method: "POST", path: "/api/users/signout", auth: "Bearer " + forged, body: `{"refresh":"` + tokens.Refresh + `"}`, status: 401, code: "unauthenticated"},
		{name: "signout: alg none", method: "POST", path: "/api/users/signout", auth: "Bearer " + algNone, body: `{"refresh":"` + tokens.Refresh + `"}`, status: 401, code: "unauthenticated"},
		{name: "signout: refresh token as access", method: "POST", path: "/api/users/signout", auth: "Bearer " + tokens.Refresh, body: `{"refresh":"` + tokens.Refresh + `"}`, status: 401, code: "unauthenticated"},
		{name: "signout: another player's refresh", method: "POST", path: "/api/users/signout", auth: "Bearer " + alice.Access, body: `{"refresh":"` + bobRefresh.Refresh + `"}`, status: 400, code: "validation_failed"},
		{name: "signout: missing refresh", method: "POST", path: "/api/users/signout", auth: "Bearer " + alice.Access, body: `{}`, status: 400, code: "validation_failed"},
		{name: "signout: 10 KB bearer", method: "POST", path: "/api/users/signout", auth: "Bearer " + strings.Repeat("A", 10<<10), body: `{}`, status: 401, code: "unauthenticated"},
		// token refresh
		{name: "refresh: access token", method: "POST", path: "/api/users/token/refresh", body: `{"refresh":"` + alice.Access + `"}`, status: 401, code: "unauthenticated"},
		{name: "refresh: garbage", method: "POST", path: "/api/users/token/refresh", body: `{"refresh":"abc.def.ghi"}`, status: 401, code: "unauthenticated"},
		{name: "refresh: missing", method: "POST", path: "/api/users/token/refresh", body: `{}`, status: 400, code: "validation_failed"},
		{name: "refresh: number", method: "POST", path: "/api/users/token/refresh", body: `{"refresh":123}`, status: 400, code: "validation_failed"},
		// search
		{name: "search: unknown nickname", method: "GET", path: "/api/users/search/nobody_here", auth: "Bearer " + alice.Access, status: 404, code: "not_found"},
		{name: "search: LIKE wildcard", method: "GET", path: "/api/users/search/seed%25", auth: "Bearer " + alice.Access, status: 404, code: "not_found"},
		{name: "search: LIKE underscore", method: "GET", path: "/api/users/search/seed_", auth: "Bearer " + alice.Access, status: 404, code: "not_found"},
		{name: "search: SQL in nickname", method: "GET", path: "/api/users/search/x'%20OR%20'1'='1", auth: "Bearer " + alice.Access, status: 404, code: "not_found"},
		{name: "search: limit 0", method: "GET", path: "/api/users/search/" + bob.Nickname + "?limit=0", auth: "Bearer " + alice.Access, status: 400, code: "validation_failed"},
		{name: "search: limit 101", method: "GET", path: "/api/users/search/" + bob.Nickname + "?limit=101", auth: "Bearer " + alice.Access, status: 400, code: "validation_failed"},
		{name: "search: negative offset", method: "GET", path: "/api/users/search/" + bob.Nickname + "?offset=-1", auth: "Bearer " + alice.Access, status: 400, code: "validation_failed"},
		{name: "search: huge limit", method: "GET", path: "/api/users/search/" + bob.Nickname + "?limit=99999999999999999999", auth: "Bearer " + alice.Access, status: 400, code: "validation_failed"},
		{name: "search: no token", method: "GET", path: "/api/users/search/" + bob.Nickname, status: 401, code: "unauthenticated"},
		// enter
		{name: "enter: missing level", method: "POST", path: "/api/raids/enter", auth: "Bearer " + bob.Access, body: `{}`, status: 400, code: "validation_failed"},
		{name: "enter: level as string", method: "POST", path: "/api/raids/enter", auth: "Bearer " + bob.Access, body: `{"level":"1"}`, status: 400, code: "validation_failed"},
		{name: "enter: fractional level", method: "POST", path: "/api/raids/enter", auth: "Bearer " + bob.Access, body: `{"level":1.5}`, status: 400, code: "validation_failed"},
		{name: "enter: unknown level", method: "POST", path: "/api/raids/enter", auth: "Bearer " + bob.Access, body: `{"level":99}`, status: 400, code: "validation_failed"},
		{name: "enter: negative level", method: "POST", path: "/api/raids/enter", auth: "Bearer " + bob.Access, body: `{"level":-1}`, status: 400, code: "validation_failed"},
		{name: "enter: level beyond int64", method: "POST", path: "/api/raids/enter", auth: "Bearer " + bob.Access, body: `{"level":9223372036854775808}`, status: 400, code: "validation_failed"},
		{name: "enter: level 1e100", method: "POST", path: "/api/raids/enter", auth: "Bearer " + bob.Access, body: `{"level":1e100}`, status: 400, code: "validation_failed"},
		{name: "enter: duplicate level", method: "POST", path: "/api/raids/enter", auth: "Bearer " + bob.Access, body: `{"level":0,"level":1}`, status: 400, code: "invalid_json"},
		{name: "enter: case-variant key", method: "POST", path: "/api/raids/enter", auth: "Bearer " + bob.Access, body: `{"Level":0}`, status: 400, code: "validation_failed"},
		{name: "enter: no token", method: "POST", path: "/api/raids/enter", body: `{"level":0}`, status: 401, code: "unauthenticated"},
		{name: "enter: forged token", method: "POST", path: "/api/raids/enter", auth: "Bearer " + forged, body: `{"level":0}`, status: 401, code: "unauthenticated"},
		{name: "enter: while someone is inside", method: "POST", path: "/api/raids/enter", auth: "Bearer " + bob.Access, body: `{"level":0}`, status: 409, code: "raid_busy"},
		// end
		{name: "end: someone else's raid", method: "PATCH", path: end, auth: "Bearer " + bob.Access, body: `{}`, status: 404, code: "not_found"},
		{name: "end: level mismatch", method: "PATCH", path: end, auth: "Bearer " + alice.Access, body: `{"level":2}`, status: 400, code: "validation_failed"},
		{name: "end: not JSON", method: "PATCH", path: end, auth: "Bearer " + alice.Access, body: `{"level":`, status: 400, code: "invalid_json"},
		{name: "end: unknown raid", method: "PATCH", path: "/api/raids/999999/end", auth: "Bearer " + alice.Access, body: `{}`, status: 404, code: "not_found"},
		{name: "end: raid 0", method: "PATCH", path: "/api/raids/0/end", auth: "Bearer " + alice.Access, body: `{}`, status: 404, code: "not_found"},
		{name: "end: id beyond int64", method: "PATCH", path: "/api/raids/99999999999999999999/end", auth: "Bearer " + alice.Access, body: `{}`, status: 404, code: "not_found"},
		{name: "end: id not a number", method: "PATCH", path: "/api/raids/abc/end", auth: "Bearer " + alice.Access, body: `{}`, status: 404, code: "not_found"},
		{name: "end: no token", method: "PATCH", path: end, body: `{}`, status: 401, code: "unauthenticated"},
		// status and ranking
		{name: "status: forged token", method: "GET", path: "/api/raids/status", auth: "Bearer " + forged, status: 401, code: "unauthenticated"},
		{name: "status: token with a tab", method: "GET", path: "/api/raids/status", auth: "Bearer " + alice.Access[:20] + "\t" + alice.Access[20:], status: 401, code: "unauthenticated"},
		{name: "status: token with invalid UTF-8", method: "GET", path: "/api/raids/status", auth: "Bearer \xff\xfe\xfd", status: 401, code: "unauthenticated"},
		{name: "ranking: alg none", method: "GET", path: "/api/raids/ranking", auth: "Bearer " + algNone, status: 401, code: "unauthenticated"},
		{name: "ranking: lower-case scheme with extra words", method: "GET", path: "/api/raids/ranking", auth: "bearer " + alice.Access + " extra", status: 401, code: "unauthenticated"},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d bad inputs", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct, body := c.contentType, c.body
			if ct == "" && body != "" {
				ct = "application/json"
			}
			if c.multipart != nil {
				ct, body = c.multipart()
			}
			req, err := http.NewRequestWithContext(ctx, c.method, api.Base.String()+c.path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if ct != "" && ct != "-" {
				req.Header.Set("Content-Type", ct)
			}
			if c.auth != "" {
				req.Header["Authorization"] = []string{c.auth}
			}
			resp, err := api.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got struct {
				Code   string            `json:"code"`
				Detail string            `json:"detail"`
				Errors map[string]string `json:"errors"`
			}
			decodeErr := json.NewDecoder(resp.Body).Decode(&got)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d (%+v), want %d %s", resp.StatusCode, got, c.status, c.code)
			}
			if decodeErr != nil {
				t.Fatalf("error body is not JSON: %v", decodeErr)
			}
			documented := []string{"validation_failed", "invalid_json", "unauthenticated", "invalid_credentials",
				"forbidden", "not_found", "email_taken", "nickname_taken", "raid_busy", "raid_expired",
				"raid_not_in_progress", "payload_too_large", "unsupported_media_type", "rate_limited"}
			if !slices.Contains(documented, got.Code) || (c.code != "" && got.Code != c.code) {
				t.Fatalf("code %q (%s), want %q", got.Code, got.Detail, c.code)
			}
			if resp.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer")
			}
			if strings.Contains(got.Detail, "pq:") || strings.Contains(got.Detail, "SQLSTATE") {
				t.Errorf("detail leaks internals: %q", got.Detail)
			}
		})
	}
	// Control characters cannot be sent by Go's client; a raw connection sends them anyway.
	t.Run("status: control character in the Authorization header", func(t *testing.T) {
		conn, err := net.Dial("tcp", api.Base.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = fmt.Fprintf(conn, "GET /api/raids/status HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer abc\x01def\r\nConnection: close\r\n\r\n", api.Base.Host)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		// net/http refuses the header before the app sees it (400), or the app refuses the token.
		if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, want 400 or 401", resp.StatusCode)
		}
	})
	if after := databaseChecksum(t, w.db); after != before {
		t.Errorf("bad inputs changed the database:\nbefore %s\nafter  %s", before, after)
	}
	// The raid is still Alice's to clear.
	if r := api.End(ctx, alice.Access, raidID); r.Status != http.StatusOK {
		t.Errorf("end after the bad inputs: %d %s", r.Status, r.Body)
	}
	w.checkRecords(t)
}

func flip(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
	}
	return string(b)
}

// multipartBody is a sign-up form with fields and a profile_image file holding image.
func multipartBody(fields map[string]string, image string) (contentType, body string) {
	var b strings.Builder
	mw := multipart.NewWriter(&b)
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		_ = mw.WriteField(k, fields[k])
	}
	fw, _ := mw.CreateFormFile("profile_image", "avatar.png")
	_, _ = fw.Write([]byte(image))
	_ = mw.Close()
	return mw.FormDataContentType(), b.String()
}

// Postgres frozen (SIGSTOP: connections open, nothing answers, as a hung server or a dropped
// network looks): requests that need it must still answer 503 with Retry-After within 2 s,
// and service resumes when it thaws.
func TestPostgresFrozen(t *testing.T) {
	w := newWorld(t, worldOptions{apps: 1, players: 4})
	ctx := context.Background()
	// Long enough to tell a slow 503 from a hang, short enough for the suite.
	api := &loadgen.API{Base: w.api[0].Base, Client: loadgen.NewHTTPClient(8, 8*time.Second)}
	w.round(t)
	if err := w.pg.Freeze(); err != nil {
		t.Fatal(err)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			_ = w.pg.Thaw()
		}
	}
	t.Cleanup(thaw)
	var wg sync.WaitGroup
	type answer struct {
		name string
		res  loadgen.Result
		took time.Duration
	}
	requests := []struct {
		name, method, path, token string
		body                      any
	}{
		{"sign-in", http.MethodPost, "/api/users/signin", "", map[string]string{"email": w.players[1].Email, "password": loadgen.SeedPassword}},
		{"enter", http.MethodPost, "/api/raids/enter", w.players[1].Access, map[string]int{"level": 0}},
		{"search", http.MethodGet, "/api/users/search/" + w.players[2].Nickname, w.players[1].Access, nil},
	}
	answers := make([]answer, len(requests))
	for i, r := range requests {
		wg.Go(func() {
			start := time.Now()
			res := api.Do(ctx, r.method, r.path, r.token, r.body, true)
			answers[i] = answer{name: r.name, res: res, took: time.Since(start)}
		})
	}
	wg.Wait()
	thaw()
	for _, a := range answers {
		switch {
		case a.res.Err != nil:
			t.Errorf("%s while Postgres is frozen: %v after %s", a.name, a.res.Err, a.took.Round(time.Millisecond))
		case a.res.Status != http.StatusServiceUnavailable || a.took > 2*time.Second:
			t.Errorf("%s while Postgres is frozen: %d %s after %s, want 503 within 2 s", a.name, a.res.Status, a.res.Body, a.took.Round(time.Millisecond))
		default:
			t.Logf("%s while Postgres is frozen: 503 after %s", a.name, a.took.Round(time.Millisecond))
		}
	}
	faults.Eventually(t, 20*time.Second, "service after the thaw", func() error {
		res := api.Do(ctx, http.MethodGet, "/api/users/search/"+w.players[2].Nickname, w.players[1].Access, nil, false)
		if res.Status != http.StatusOK {
			return fmt.Errorf("search %d %v", res.Status, res.Err)
		}
		return nil
	})
	w.round(t)
	w.checkRecords(t)
}
