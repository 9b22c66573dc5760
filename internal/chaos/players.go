package chaos

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bossraid/bossraid/internal/loadgen"
)

// load is the players: API players, web players with a session and live-lobby watchers, each
// a goroutine sending one request at a time with a short think time between, to a randomly
// chosen instance. The request count is bounded by that: at most one request in flight per
// player.
type load struct {
	w       *world
	o       *oracle
	ctx     context.Context
	stop    chan struct{}
	wg      sync.WaitGroup
	signups *atomic.Int64
	prefix  string
	clients []*http.Client // the web players' and watchers', closed at the end
	mu      sync.Mutex
}

func (w *world) startLoad(ctx context.Context, o *oracle, seed uint64, signups *atomic.Int64) *load {
	l := &load{w: w, o: o, ctx: ctx, stop: make(chan struct{}), signups: signups,
		prefix: fmt.Sprintf("c%x", seed%0xfffff)}
	for i := range w.o.Players {
		rnd := rand.New(rand.NewPCG(seed, uint64(i)))
		l.wg.Go(func() { l.apiPlayer(i, rnd) })
	}
	for i := range w.o.WebPlayers {
		rnd := rand.New(rand.NewPCG(seed, uint64(1000+i)))
		l.wg.Go(func() { l.webPlayer(w.o.Players+i, rnd) })
	}
	for i := range w.o.Streams {
		rnd := rand.New(rand.NewPCG(seed, uint64(2000+i)))
		l.wg.Go(func() { l.watcher(rnd) })
	}
	return l
}

// halt stops every player after its request in flight and closes their connections.
func (l *load) halt() {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.clients {
		c.CloseIdleConnections()
	}
	for _, api := range l.w.api {
		api.Client.CloseIdleConnections()
	}
}

func (l *load) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return l.ctx.Err() != nil
	}
}

func (l *load) think(rnd *rand.Rand, from, to time.Duration) {
	select {
	case <-l.stop:
	case <-time.After(from + time.Duration(rnd.Int64N(int64(to-from)))):
	}
}

// call sends one API request through a random instance and has the oracle judge it. Requests
// cut short by an interrupt are not judged.
func (l *load) call(rnd *rand.Rand, route string, send func(api *loadgen.API) loadgen.Result) loadgen.Result {
	inst := rnd.IntN(len(l.w.api))
	sent := time.Now()
	r := send(l.w.api[inst])
	if r.Err != nil && l.ctx.Err() != nil {
		return r
	}
	l.o.judge(route, inst, sent, fromResult(r))
	return r
}

func (l *load) apiPlayer(i int, rnd *rand.Rand) {
	ctx := l.ctx
	cr := l.w.creds[i]
	userID := l.w.ids[cr.Email]
	access := ""
	for !l.stopped() {
		x := rnd.IntN(100)
		switch {
		case access == "" || x < 2:
			r := l.call(rnd, routeSignIn, func(api *loadgen.API) loadgen.Result {
				token, r := api.SignIn(ctx, cr)
				if token != "" {
					access = token
				}
				return r
			})
			_ = r
		case x < 30:
			l.call(rnd, routeStatus, func(api *loadgen.API) loadgen.Result {
				return api.Do(ctx, http.MethodGet, "/api/raids/status", access, nil, false)
			})
		case x < 48:
			l.call(rnd, routeRanking, func(api *loadgen.API) loadgen.Result {
				return api.Do(ctx, http.MethodGet, "/api/raids/ranking", access, nil, false)
			})
		case x < 62:
			other := l.w.creds[rnd.IntN(l.w.o.Players)]
			l.call(rnd, routeHistory, func(api *loadgen.API) loadgen.Result {
				return api.Do(ctx, http.MethodGet, "/api/users/search/"+url.PathEscape(other.Nickname)+"?limit=10", access, nil, false)
			})
		case x < 63:
			n := l.signups.Add(1)
			c := loadgen.Credentials{Email: fmt.Sprintf("%s-%d@chaos.bossraid.test", l.prefix, n),
				Nickname: fmt.Sprintf("%s_%d", l.prefix, n), Password: loadgen.SeedPassword}
			l.call(rnd, routeSignUp, func(api *loadgen.API) loadgen.Result {
				id, r := api.SignUp(ctx, c)
				if id > 0 {
					l.o.signedUp(c.Email, id)
				}
				return r
			})
		case x < 68:
			// Waiting in line: refused while the raid is free with nobody waiting, or twice.
			l.call(rnd, routeJoin, func(api *loadgen.API) loadgen.Result {
				return api.Do(ctx, http.MethodPost, "/api/raids/queue", access, nil, false)
			})
		case x < 70:
			l.call(rnd, routeLeave, func(api *loadgen.API) loadgen.Result {
				return api.Do(ctx, http.MethodDelete, "/api/raids/queue", access, nil, false)
			})
		default:
			l.enterAndEnd(rnd, access, userID)
		}
		l.think(rnd, 20*time.Millisecond, 80*time.Millisecond)
	}
}

// enterAndEnd asks to enter at a random level; when admitted, the player plays a little and
// clears the raid (trying again through either instance when the answer is lost), or, one
// time in ten, walks away and lets it run out.
func (l *load) enterAndEnd(rnd *rand.Rand, access string, userID int64) {
	// An admitted player always finishes what they started, interrupt or not.
	ctx := context.WithoutCancel(l.ctx)
	level := rnd.IntN(3)
	var id int64
	r := l.call(rnd, routeEnter, func(api *loadgen.API) loadgen.Result {
		var r loadgen.Result
		id, r = api.Enter(ctx, access, level)
		return r
	})
	if r.Status != http.StatusCreated || id == 0 {
		return
	}
	l.o.entered(&ackedRaid{id: id, userID: userID, level: level})
	if rnd.IntN(10) == 0 {
		return
	}
	time.Sleep(time.Duration(rnd.Int64N(int64(l.w.o.RaidLimit / 3))))
	for range 3 {
		r := l.call(rnd, routeEnd, func(api *loadgen.API) loadgen.Result {
			return api.Do(ctx, http.MethodPatch, "/api/raids/"+strconv.FormatInt(id, 10)+"/end", access, struct{}{}, true)
		})
		if r.Status == http.StatusOK {
			var out struct {
				Result struct {
					Score int64 `json:"score"`
				} `json:"result"`
			}
			_ = json.Unmarshal(r.Body, &out)
			l.o.cleared(id, out.Result.Score)
			return
		}
		if r.Err == nil && r.Status != http.StatusServiceUnavailable {
			return // refused for good (ran out, or a lost answer had cleared it)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// webClient is a browser without JavaScript: its own cookie jar (cookies ignore the port, so
// the session is shared by both instances, as behind a load balancer) and no redirects
// followed, so each answer is judged as sent.
func (l *load) webClient(timeout time.Duration) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{
		Jar:           jar,
		Timeout:       timeout,
		Transport:     loadgen.NewHTTPClient(2, requestTimeout).Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	l.mu.Lock()
	l.clients = append(l.clients, c)
	l.mu.Unlock()
	return c
}

// web sends one page request through a random instance and has the oracle judge it.
func (l *load) web(rnd *rand.Rand, c *http.Client, route, method, path string, form url.Values) int {
	inst := rnd.IntN(len(l.w.api))
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(l.ctx, method, l.w.api[inst].Base.String()+path, body)
	if err != nil {
		panic(err) // the paths are ours
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	sent := time.Now()
	resp, err := c.Do(req)
	a := answer{err: err}
	if err == nil {
		a.status, a.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
		if resp.StatusCode >= 400 {
			a.body, _ = io.ReadAll(io.LimitReader(resp.Body, 2048))
		}
		_, err = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			a = answer{err: err}
		}
	}
	if a.err != nil && l.ctx.Err() != nil {
		return 0
	}
	l.o.judge(route, inst, sent, a)
	return a.status
}

func (l *load) webPlayer(i int, rnd *rand.Rand) {
	cr := l.w.creds[i]
	c := l.webClient(requestTimeout)
	signedIn := false
	for !l.stopped() {
		x := rnd.IntN(100)
		switch {
		case !signedIn || x < 3:
			status := l.web(rnd, c, routeWebIn, http.MethodPost, "/signin",
				url.Values{"email": {cr.Email}, "password": {cr.Password}})
			signedIn = status == http.StatusSeeOther
		case x < 40:
			l.web(rnd, c, routeLobby, http.MethodGet, "/", nil)
		case x < 65:
			l.web(rnd, c, routeRankWeb, http.MethodGet, "/ranking", nil)
		default:
			other := l.w.creds[rnd.IntN(l.w.o.Players)]
			if l.web(rnd, c, routePlayer, http.MethodGet, "/players/"+url.PathEscape(other.Nickname), nil) == http.StatusSeeOther {
				signedIn = false
			}
		}
		l.think(rnd, 50*time.Millisecond, 200*time.Millisecond)
	}
}

// watcher keeps the live lobby open on a random instance for a few seconds at a time, as a
// browser tab does, counting the events it receives.
func (l *load) watcher(rnd *rand.Rand) {
	c := l.webClient(0) // a stream has no overall timeout; each watch has its own
	for !l.stopped() {
		inst := rnd.IntN(len(l.w.api))
		life := 2*time.Second + time.Duration(rnd.Int64N(int64(6*time.Second)))
		l.watch(c, inst, life)
		l.think(rnd, 100*time.Millisecond, 500*time.Millisecond)
	}
}

func (l *load) watch(c *http.Client, inst int, life time.Duration) {
	ctx, cancel := context.WithTimeout(l.ctx, life)
	defer cancel()
	go func() { // end the watch early when the players stop
		select {
		case <-l.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.w.api[inst].Base.String()+"/events", nil)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	sent := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		if l.ctx.Err() == nil && !l.stopped() {
			l.o.judge(routeStream, inst, sent, answer{err: err})
		}
		return
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	if resp.StatusCode != http.StatusOK {
		a.body, _ = io.ReadAll(io.LimitReader(resp.Body, 2048))
		l.o.judge(routeStream, inst, sent, a)
		return
	}
	l.o.judge(routeStream, inst, sent, a)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	events := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "event:") {
			events++
		}
	}
	l.o.streamEvents(events)
	// Ended before its time by the server or the connection: judged like any lost answer.
	if err := sc.Err(); ctx.Err() == nil {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		l.o.judge(routeStreamE, inst, time.Now(), answer{err: err})
	}
}
