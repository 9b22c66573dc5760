package web_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
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
	w, err := web.New(web.Config{App: s.App, Sessions: s.Sessions, Stop: stop, Heartbeat: 200 * time.Millisecond, Recheck: 300 * time.Millisecond})
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
