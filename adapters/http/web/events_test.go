package web_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/bossraid/bossraid/adapters/http/web"
)

// sseEvent is one server-sent event; comments come as name ":".
type sseEvent struct {
	name, data string
}

// stream opens the live lobby stream as c (with its cookies) and delivers its events until the
// test ends or the server closes it (then the channel closes).
func (c *client) stream(base string) <-chan sseEvent {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c.t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events", nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	hc := &http.Client{Jar: c.hc.Jar}
	resp, err := hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		c.t.Fatalf("stream: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
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
			case line == "":
				if ev.name != "" || len(data) > 0 {
					ev.data = strings.Join(data, "\n")
					out <- ev
				}
				ev, data = sseEvent{}, nil
			case strings.HasPrefix(line, ":"):
				out <- sseEvent{name: ":", data: line}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			}
		}
	}()
	return out
}

// waitEvent returns the first event that match accepts, or fails after timeout.
func waitEvent(t *testing.T, events <-chan sseEvent, timeout time.Duration, what string, match func(sseEvent) bool) sseEvent {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("stream closed while waiting for %s", what)
			}
			if match(ev) {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s within %s", what, timeout)
		}
	}
}

// waitEvents waits until every matcher has accepted an event, in any order.
func waitEvents(t *testing.T, events <-chan sseEvent, timeout time.Duration, want map[string]func(sseEvent) bool) {
	t.Helper()
	deadline := time.After(timeout)
	for len(want) > 0 {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("stream closed while waiting for %d events", len(want))
			}
			for what, match := range want {
				if match(ev) {
					delete(want, what)
				}
			}
		case <-deadline:
			for what := range want {
				t.Errorf("no %s within %s", what, timeout)
			}
			t.FailNow()
		}
	}
}

func named(name string, contains ...string) func(sseEvent) bool {
	return func(ev sseEvent) bool {
		if ev.name != name {
			return false
		}
		for _, c := range contains {
			if !strings.Contains(ev.data, c) {
				return false
			}
		}
		return true
	}
}

func TestLiveLobbyStreamsChanges(t *testing.T) {
	s := newSite(t, siteOptions{})
	watcher := s.client()
	watcher.signUp(newPlayer())
	events := watcher.stream(s.URL)
	waitEvents(t, events, 3*time.Second, map[string]func(sseEvent) bool{
		"first status": named("status"), "first enter": named("enter"),
		"first ranking": named("ranking"), "first mine": named("mine"),
	})

	hero := s.client()
	ph := newPlayer()
	hero.signUp(ph)
	start := time.Now()
	raid := hero.enter(1)
	ev := waitEvent(t, events, 2*time.Second, "status with the hero inside", named("status", ph.Nickname, "data-deadline"))
	t.Logf("status reached the lobby %s after entering", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(ev.data, `data-testid="status-busy"`) {
		t.Errorf("status event: %s", ev.data)
	}
	waitEvent(t, events, 2*time.Second, "enter panel with disabled buttons", named("enter", "disabled"))

	heroEvents := hero.stream(s.URL)
	waitEvent(t, heroEvents, 2*time.Second, "the hero's status", named("status", "You are inside"))
	start = time.Now()
	hero.post(raid.resp.Request.URL.Path+"/end", nil)
	waitEvent(t, heroEvents, 2*time.Second, "the hero's new standing", named("mine", `data-testid="mine-total">47<`, "#1"))
	waitEvents(t, events, 2*time.Second, map[string]func(sseEvent) bool{
		"ranking with the hero": named("ranking", ph.Nickname, ">47<"),
		"status free again":     named("status", "status-free"),
	})
	t.Logf("ranking and status reached the lobby %s after clearing", time.Since(start).Round(time.Millisecond))
}

func TestLiveLobbyAcrossInstances(t *testing.T) {
	one := newSite(t, siteOptions{})
	two := newSite(t, siteOptions{keepData: true})
	watcher := two.client()
	events := watcher.stream(two.URL)
	waitEvent(t, events, 3*time.Second, "first status", named("status", "status-free"))

	hero := one.client()
	ph := newPlayer()
	hero.signUp(ph)
	start := time.Now()
	hero.enter(0)
	waitEvent(t, events, 2*time.Second, "status from the other instance", named("status", ph.Nickname))
	t.Logf("a change on instance one reached a lobby on instance two in %s", time.Since(start).Round(time.Millisecond))
}

// A change nobody announces (a raid running out with no sweeper) still reaches the lobby by
// the re-check; idle streams get heartbeats; closing Stop ends them.
func TestLiveLobbyRechecksBeatsAndStops(t *testing.T) {
	s := newSite(t, siteOptions{bossData: shortRaids()})
	stop := make(chan struct{})
	w, err := web.New(web.Config{App: s.App, Events: s.Events, Sessions: s.Sessions, Stop: stop, Heartbeat: 200 * time.Millisecond, Recheck: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	w.Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	hero := s.client()
	hero.signUp(newPlayer())
	hero.enter(0)
	watcher := s.client()
	events := watcher.stream(srv.URL)
	waitEvent(t, events, 2*time.Second, "status busy", named("status", "status-busy"))
	waitEvent(t, events, time.Second, "heartbeat", named(":"))
	start := time.Now()
	waitEvent(t, events, 3*time.Second, "status free after the deadline", named("status", "status-free"))
	t.Logf("an unannounced expiry reached the lobby after %s", time.Since(start).Round(time.Millisecond))

	close(stop)
	deadline := time.After(2 * time.Second)
	for {
		select {
		case _, ok := <-events:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the stream did not end when Stop closed")
		}
	}
}

// What a viewer sees is worked out once per change for every viewer in the same state: many
// streams of one player and many visitors cost one standing read and a handful of renders, not
// one of each per stream.
func TestLiveLobbyRendersOncePerViewerState(t *testing.T) {
	s := newSite(t, siteOptions{})
	const each = 15
	fan := s.client()
	pf := newPlayer()
	fan.signUp(pf)
	var mine, visitors []<-chan sseEvent
	for range each {
		mine, visitors = append(mine, fan.stream(s.URL)), append(visitors, s.client().stream(s.URL))
	}
	raid := fan.enter(1)
	for _, events := range append(mine, visitors...) {
		waitEvent(t, events, 5*time.Second, "status with the fan inside", named("status", "status-busy"))
	}
	rendersBefore, readsBefore := s.Web.LiveWork()
	fan.post(raid.resp.Request.URL.Path+"/end", nil)
	// Each stream sends its panels in order (status, enter, ranking, mine), so its last
	// changed panel arriving means it has done all its work for the change.
	for _, events := range mine {
		waitEvent(t, events, 5*time.Second, "the fan's new standing", named("mine", `data-testid="mine-total">47<`))
	}
	for _, events := range visitors {
		waitEvent(t, events, 5*time.Second, "the ranking with the fan", named("ranking", pf.Nickname, ">47<"))
	}
	renders, reads := s.Web.LiveWork()
	renders, reads = renders-rendersBefore, reads-readsBefore
	t.Logf("%d streams saw the change: %d panels rendered, %d standings read", 2*each, renders, reads)
	// Per state: status ×2 (the one inside, anyone else; the countdown's second may tick
	// once more), enter ×2 (visitor, player), ranking ×2, mine ×1; a re-check landing in
	// between may read the state once more.
	if renders > 2*8 {
		t.Errorf("%d panels rendered for %d streams in two viewer states; want each state's panels once", renders, 2*each)
	}
	if reads > 2 {
		t.Errorf("%d standings read for one signed-in player's %d streams; want one per change", reads, each)
	}
}

// An open stream costs the server one small goroutine (the reader that notices the browser
// leaving), not a handler goroutine with its buffers held for the stream's life.
func TestLiveLobbyStreamHoldsOneSmallGoroutine(t *testing.T) {
	s := newSite(t, siteOptions{})
	const streams = 100
	addr := strings.TrimPrefix(s.URL, "http://")
	before := runtime.NumGoroutine()
	for range streams {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		if _, err := io.WriteString(c, "GET /events HTTP/1.1\r\nHost: "+addr+"\r\nAccept: text/event-stream\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		// Read up to the first status panel: the stream is open and has been served.
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		sc := bufio.NewScanner(c)
		for sc.Scan() && sc.Text() != "event: status" {
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	// Connections the client does not read from have no goroutine here, so what grew is the
	// server's (and the feed's one loop); writers end once they have sent.
	deadline := time.Now().Add(5 * time.Second)
	for {
		grown := runtime.NumGoroutine() - before
		if grown <= streams+streams/10 {
			t.Logf("%d open streams: %d more goroutines", streams, grown)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d open streams hold %d more goroutines; want about one each", streams, grown)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
