package faults_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bossraid/bossraid/adapters/redis"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/internal/faults"
	"github.com/bossraid/bossraid/internal/loadgen"
	"github.com/bossraid/bossraid/ports"
	"github.com/bossraid/bossraid/ports/portstest"
)

// A Redis that comes back as another server (restarted, or a replica promoted) may hold a
// ranking marked ready that lacks the last acknowledged writes. The client notices the new
// server on its next connection and forgets the ranking there, so it is rebuilt from
// Postgres instead of answering from a stale set.
func TestRankingForgottenWhenRedisIsAnotherServer(t *testing.T) {
	ctx := context.Background()
	r := faults.StartRedis(t)
	c, err := redis.Open(ctx, r.URL(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	lb := redis.NewLeaderboard(c)
	if _, err := lb.Rebuild(ctx, portstest.Totals{List: []raids.Total{{UserID: 1, TotalScore: 20}}}); err != nil {
		t.Fatal(err)
	}
	if err := lb.SetTotal(ctx, 2, 47); err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	// The new server holds a ready ranking without player 2's total, as a replica promoted
	// before it received that write would.
	raw := goredis.NewClient(&goredis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.Port)})
	t.Cleanup(func() { _ = raw.Close() })
	if _, err := redis.NewLeaderboard(raw).Rebuild(ctx, portstest.Totals{List: []raids.Total{{UserID: 1, TotalScore: 20}}}); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ {
		top, err := lb.Top(ctx, 10)
		switch {
		case errors.Is(err, raids.ErrNotRanked):
			return
		case errors.Is(err, ports.ErrUnavailable) && attempt < 3:
			continue // the pooled connections to the old server fail first
		case err == nil:
			t.Fatalf("the ranking answered %+v from a server that may have lost writes; want ErrNotRanked", top)
		default:
			t.Fatalf("Top: %v; want ErrNotRanked", err)
		}
	}
}

// playLoad keeps players asking for status, ranking, history and sign-in through every
// instance until stop is closed, recording every answer in the ledger.
func (w *world) playLoad(stop <-chan struct{}, workers int, ledger *failoverLedger) (wait func()) {
	var wg sync.WaitGroup
	ctx := context.Background()
	for i := range workers {
		wg.Go(func() {
			p := w.players[len(w.players)-1-i] // not among those the rounds sign in again
			api := w.via(i)
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				switch k % 4 {
				case 0:
					ledger.record("status", call(ctx, api, http.MethodGet, "/api/raids/status", p.Access, nil))
				case 1:
					ledger.record("ranking", call(ctx, api, http.MethodGet, "/api/raids/ranking", p.Access, nil))
				case 2:
					ledger.record("search", call(ctx, api, http.MethodGet, "/api/users/search/"+p.Nickname, p.Access, nil))
				case 3:
					ledger.record("signin", call(ctx, api, http.MethodPost, "/api/users/signin", "",
						map[string]string{"email": p.Email, "password": p.Password}))
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	return wg.Wait
}

// ready reports whether every instance answers /readyz with 200.
func (w *world) ready() error {
	for i, a := range w.apps {
		resp, err := http.Get(a.URL + "/readyz")
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("instance %d: /readyz %d", i, resp.StatusCode)
		}
	}
	return nil
}

// rebuilds is the sum over the instances of bossraid_ranking_rebuilds_total.
func (w *world) rebuilds(t *testing.T) int {
	t.Helper()
	total := 0
	for _, a := range w.apps {
		resp, err := http.Get(a.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "bossraid_ranking_rebuilds_total "); ok {
				n, err := strconv.Atoi(v)
				if err != nil {
					t.Fatalf("rebuilds metric %q", v)
				}
				total += n
			}
		}
		_ = resp.Body.Close()
	}
	return total
}

// The Sentinel-managed primary is SIGKILLed while players play through two instances: every
// burst still admits exactly one player, nothing answers 5xx but 503 with Retry-After, the
// Sentinels promote the replica and the instances follow it without a restart, and the
// ranking set on the new primary is rebuilt and equal to SQL rank().
func TestRedisSentinelFailoverMidPlay(t *testing.T) {
	redis.LogTo(slog.New(slog.DiscardHandler)) // the test's own failover client
	set := faults.StartSentinelSet(t)
	w := newWorld(t, worldOptions{apps: 2, players: 16, redisURL: set.URL()})
	pids := w.pids()
	for range 2 {
		w.round(t)
	}
	w.checkRanking(t)
	rebuiltBefore := w.rebuilds(t)

	stop := make(chan struct{})
	ledger := &failoverLedger{outcomes: map[string]int{}}
	wait := w.playLoad(stop, 4, ledger)
	rounds := 0
	w.round(t)
	rounds++
	old := set.Primary.Addr()
	set.Primary.Kill()
	killed := time.Now()
	var promoted, readyAgain time.Duration
	for promoted == 0 || readyAgain == 0 {
		if time.Since(killed) > 60*time.Second {
			t.Fatalf("no recovery within 60 s of the kill (promoted after %s, ready after %s)", promoted, readyAgain)
		}
		w.round(t) // play goes on during the failover
		rounds++
		if addr, err := set.MasterAddr(); promoted == 0 && err == nil && addr != old {
			promoted = time.Since(killed)
		}
		if promoted > 0 && readyAgain == 0 && w.ready() == nil {
			readyAgain = time.Since(killed)
		}
	}
	if addr, _ := set.MasterAddr(); addr != set.Replica.Addr() {
		t.Fatalf("the Sentinels promoted %s, want the replica %s", addr, set.Replica.Addr())
	}
	opts, err := goredis.ParseFailoverURL(set.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := goredis.NewFailoverClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	ctx := context.Background()
	faults.Eventually(t, 30*time.Second, "ranking set on the new primary equals SQL rank()", func() error {
		return w.rankingSetAgrees(ctx, rdb)
	})
	ranked := time.Since(killed)
	// Each instance met a new primary, which may lack acknowledged writes: it rebuilt.
	if after := w.rebuilds(t); after <= rebuiltBefore {
		t.Fatalf("ranking rebuilds %d before the failover, %d after: the ranking was not rebuilt", rebuiltBefore, after)
	}
	w.round(t)
	rounds++
	faults.Eventually(t, 5*time.Second, "ranking set keeps up on the new primary", func() error {
		return w.rankingSetAgrees(ctx, rdb)
	})
	close(stop)
	wait()
	for _, v := range ledger.violations { // transport errors, 5xx other than 503 with Retry-After
		t.Error(v)
	}
	w.checkStatus(t, 0)
	w.checkRanking(t)
	w.checkRecords(t)
	w.assertAppsAlive(t, pids)
	t.Logf("primary %s SIGKILLed: replica promoted after %s, both instances ready after %s, ranking set equal to SQL after %s; ranking rebuilds %d → %d",
		old, promoted.Round(time.Millisecond), readyAgain.Round(time.Millisecond), ranked.Round(time.Millisecond), rebuiltBefore, w.rebuilds(t))
	t.Logf("%d rounds of %d simultaneous enters: each one 201 and %d × 409 raid_busy, the winner's end 200; load answers: %v",
		rounds, len(w.players), len(w.players)-1, ledger.outcomes)
}

// flushCluster empties every primary of the cluster.
func flushCluster(t *testing.T, c *goredis.ClusterClient) {
	t.Helper()
	ctx := context.Background()
	err := c.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
		return node.FlushDB(ctx).Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}

func openCluster(t *testing.T, rawURL string) *goredis.ClusterClient {
	t.Helper()
	c, err := redis.Open(context.Background(), rawURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	cc, ok := c.(*goredis.ClusterClient)
	if !ok {
		t.Fatalf("Open(%s) gave a %T, want a cluster client", rawURL, c)
	}
	return cc
}

// The Redis adapters pass their port contracts on a 3-primary Redis Cluster: every script
// and transaction keeps to one slot, and pub/sub reaches subscribers on other nodes.
func TestRedisClusterContracts(t *testing.T) {
	rc := faults.StartRedisCluster(t, 3)
	c := openCluster(t, rc.URL())
	t.Run("leaderboard", func(t *testing.T) {
		portstest.RunLeaderboard(t, func(t *testing.T) ports.Leaderboard {
			flushCluster(t, c)
			return redis.NewLeaderboard(c)
		})
	})
	t.Run("throttle", func(t *testing.T) {
		portstest.RunThrottle(t, func(t *testing.T) (ports.Throttle, func(time.Duration)) {
			flushCluster(t, c)
			return redis.NewThrottle(c), time.Sleep
		})
	})
	t.Run("events", func(t *testing.T) {
		portstest.RunEvents(t, func(t *testing.T) (ports.Events, ports.Events) {
			// Each instance starts from a different node.
			return redis.NewEvents(openCluster(t, "redis://"+rc.Nodes[0].Addr()+"?cluster=true")),
				redis.NewEvents(openCluster(t, "redis://"+rc.Nodes[2].Addr()+"?cluster=true"))
		})
	})
	t.Run("events published on one node reach a subscriber on another", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for _, pair := range [][2]int{{0, 1}, {1, 2}, {2, 0}} {
			pub := goredis.NewClient(&goredis.Options{Addr: rc.Nodes[pair[0]].Addr()})
			sub := goredis.NewClient(&goredis.Options{Addr: rc.Nodes[pair[1]].Addr()})
			t.Cleanup(func() { _ = pub.Close(); _ = sub.Close() })
			ch, err := redis.NewEvents(sub).Subscribe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := redis.NewEvents(pub).Publish(ctx, ports.Event{Kind: ports.EventRaid}); err != nil {
				t.Fatal(err)
			}
			select {
			case e := <-ch:
				if e.Kind != ports.EventRaid {
					t.Fatalf("node %d → %d: got %+v", pair[0], pair[1], e)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("node %d → %d: nothing arrived", pair[0], pair[1])
			}
		}
	})
}

// The acceptance flow through two instances on a 3-primary Redis Cluster: sign-up, sign-in,
// enter, end, ranking (rebuilt into the cluster and kept up), the shared sign-in throttle,
// web sessions across instances and the live lobby of one instance following the other.
func TestRedisClusterAcceptance(t *testing.T) {
	rc := faults.StartRedisCluster(t, 3)
	w := newWorld(t, worldOptions{apps: 2, players: 12, redisURL: rc.URL()})
	ctx := context.Background()
	rdb := openCluster(t, rc.URL())
	a, b := w.api[0], w.api[1]

	// Sign up on A, sign in on B.
	newcomer := loadgen.Credentials{Email: "cluster@example.com", Nickname: "cluster_hero", Password: "Passw0rd!"}
	if _, res := a.SignUp(ctx, newcomer); res.Status != http.StatusCreated {
		t.Fatalf("sign up: %d %s %v", res.Status, res.Body, res.Err)
	}
	access, res := b.SignIn(ctx, newcomer)
	if res.Status != http.StatusOK {
		t.Fatalf("sign in: %d %s %v", res.Status, res.Body, res.Err)
	}

	// Enter and end across the instances; the ranking set in the cluster follows.
	for range 3 {
		w.round(t)
	}
	id, res := b.Enter(ctx, access, 2)
	if res.Status != http.StatusCreated {
		t.Fatalf("enter: %d %s", res.Status, res.Body)
	}
	if end := a.End(ctx, access, id); end.Status != http.StatusOK {
		t.Fatalf("end: %d %s", end.Status, end.Body)
	}
	faults.Eventually(t, 20*time.Second, "ranking set in the cluster equals SQL rank()", func() error {
		return w.rankingSetAgrees(ctx, rdb)
	})
	w.checkRanking(t)

	// Ten failed sign-ins split over both instances: the eleventh, even right, gets 429.
	wrong := newcomer
	wrong.Password = "Wr0ng-pass!"
	for i := range 10 {
		if _, res := w.api[i%2].SignIn(ctx, wrong); res.Status != http.StatusUnauthorized {
			t.Fatalf("failed sign-in %d: %d %s", i+1, res.Status, res.Body)
		}
	}
	for i, api := range w.api {
		_, res := api.SignIn(ctx, newcomer)
		if res.Status != http.StatusTooManyRequests || res.RetryAfter == "" {
			t.Fatalf("sign-in after 10 failures via instance %d: %d %s (Retry-After %q), want 429", i, res.Status, res.Body, res.RetryAfter)
		}
	}

	// A web session made on A is good on B, and B's live lobby shows a raid entered on A.
	web := newWebClient(t)
	p := w.players[3]
	signin := web.post(w.apps[0].URL+"/signin", url.Values{"email": {p.Email}, "password": {p.Password}})
	if signin.StatusCode != http.StatusSeeOther {
		t.Fatalf("web sign-in on A: %d", signin.StatusCode)
	}
	lobby := web.get(w.apps[1].URL + "/")
	if lobby.StatusCode != http.StatusOK || !strings.Contains(lobby.body, `data-testid="viewer-name"`) ||
		!strings.Contains(lobby.body, p.Nickname) {
		t.Fatalf("lobby on B with A's session: %d, signed in as %s: %v", lobby.StatusCode, p.Nickname, strings.Contains(lobby.body, p.Nickname))
	}
	events := web.stream(t, w.apps[1].URL+"/events")
	entered := w.players[5]
	raidID, res := a.Enter(ctx, entered.Access, 1)
	if res.Status != http.StatusCreated {
		t.Fatalf("enter on A: %d %s", res.Status, res.Body)
	}
	deadline := time.After(10 * time.Second)
	for seen := false; !seen; {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("B's lobby stream closed")
			}
			seen = ev.name == "status" && strings.Contains(ev.data, entered.Nickname)
		case <-deadline:
			t.Fatalf("B's lobby stream did not show %s inside within 10 s", entered.Nickname)
		}
	}
	if end := b.End(ctx, entered.Access, raidID); end.Status != http.StatusOK {
		t.Fatalf("end on B: %d %s", end.Status, end.Body)
	}
	faults.Eventually(t, 10*time.Second, "ranking set keeps up", func() error { return w.rankingSetAgrees(ctx, rdb) })
	w.checkRecords(t)
}

// webClient is a browser-like client: one cookie jar for every instance (cookies ignore the
// port), same-origin form posts, redirects not followed.
type webClient struct {
	t  *testing.T
	hc *http.Client
}

type webPage struct {
	*http.Response
	body string
}

func newWebClient(t *testing.T) *webClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &webClient{t: t, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *webClient) do(req *http.Request) webPage {
	c.t.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<16), 1<<22)
	for sc.Scan() {
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	return webPage{Response: resp, body: b.String()}
}

func (c *webClient) get(u string) webPage {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

func (c *webClient) post(u string, form url.Values) webPage {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	origin, _ := url.Parse(u)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin.Scheme+"://"+origin.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return c.do(req)
}

type sseEvent struct{ name, data string }

// stream opens a live lobby stream with the client's cookies and delivers its named events
// until the test ends.
func (c *webClient) stream(t *testing.T, u string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := (&http.Client{Jar: c.hc.Jar}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream %s: %d", u, resp.StatusCode)
	}
	out := make(chan sseEvent, 64)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		var ev sseEvent
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "" && ev.name != "":
				ev.data = strings.Join(data, "\n")
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
				ev, data = sseEvent{}, nil
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			}
		}
	}()
	return out
}
