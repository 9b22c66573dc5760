package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/a-h/templ"

	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/views/partial"
)

// The live lobby. One loop per instance (running while anyone watches) reads who is inside and
// the top 10 whenever app.WatchChanges announces a change — at once for changes made here,
// through Redis pub/sub for other instances' — and every Recheck besides, so updates still come
// when pub/sub is down. Each stream renders the panels for its viewer and sends only those that
// changed, as named server-sent events whose data are HTML fragments for htmx's SSE extension.

// Event names, matched by sse-swap attributes in the views.
const (
	eventStatus  = "status"
	eventEnter   = "enter"
	eventRanking = "ranking"
	eventMine    = "mine"
)

// lobbyState is what every viewer's panels are rendered from.
type lobbyState struct {
	status app.RaidStatus
	top    []raids.Standing
	levels []raids.Level
}

func (s lobbyState) equal(o lobbyState) bool {
	return sameStatus(s.status, o.status) && slices.Equal(s.top, o.top) && slices.Equal(s.levels, o.levels)
}

func sameStatus(a, b app.RaidStatus) bool {
	if a.CanEnter != b.CanEnter || a.TimeLimit != b.TimeLimit || (a.Current == nil) != (b.Current == nil) {
		return false
	}
	if a.Current == nil {
		return true
	}
	x, y := a.Current, b.Current
	return x.ID == y.ID && x.UserID == y.UserID && x.Nickname == y.Nickname && x.Level == y.Level &&
		x.Deadline.Equal(y.Deadline) && x.Status == y.Status
}

// feed shares one reading of the lobby between every stream of this instance.
type feed struct {
	app     *app.App
	log     *slog.Logger
	recheck time.Duration
	stop    <-chan struct{}

	mu     sync.Mutex
	subs   map[chan struct{}]struct{}
	cancel context.CancelFunc // of the running loop; nil when nobody watches
	state  lobbyState
	loaded bool
}

func newFeed(a *app.App, log *slog.Logger, recheck time.Duration, stop <-chan struct{}) *feed {
	return &feed{app: a, log: log, recheck: recheck, stop: stop, subs: map[chan struct{}]struct{}{}}
}

// subscribe returns a channel that receives a signal whenever the state changed (and at once
// when a state is already known), and the func that ends the subscription.
func (f *feed) subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs[ch] = struct{}{}
	if f.loaded {
		ch <- struct{}{}
	}
	if f.cancel == nil {
		ctx, cancel := context.WithCancel(context.Background())
		f.cancel = cancel
		go f.loop(ctx)
	}
	return ch, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.subs, ch)
		if len(f.subs) == 0 && f.cancel != nil {
			f.cancel()
			f.cancel = nil
			f.loaded = false
		}
	}
}

// current is the last state read.
func (f *feed) current() lobbyState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

func (f *feed) loop(ctx context.Context) {
	changes := f.app.WatchChanges(ctx)
	tick := time.NewTicker(f.recheck)
	defer tick.Stop()
	f.refresh(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.stop:
			return
		case _, ok := <-changes:
			if !ok {
				return
			}
			f.refresh(ctx)
		case <-tick.C:
			f.refresh(ctx)
		}
	}
}

// refresh reads the state and signals every stream when it differs from the last one.
func (f *feed) refresh(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := f.app.Status(rctx)
	if err != nil {
		f.logFailure(ctx, err)
		return
	}
	top, err := f.app.TopRanking(rctx)
	if err != nil {
		f.logFailure(ctx, err)
		return
	}
	next := lobbyState{status: st, top: top, levels: f.app.BossData().Levels}
	f.mu.Lock()
	defer f.mu.Unlock()
	if ctx.Err() != nil || (f.loaded && f.state.equal(next)) {
		return
	}
	f.state, f.loaded = next, true
	for ch := range f.subs {
		select {
		case ch <- struct{}{}:
		default: // a signal is already waiting; the stream reads the newest state anyway
		}
	}
}

func (f *feed) logFailure(ctx context.Context, err error) {
	if ctx.Err() == nil {
		f.log.WarnContext(ctx, "live lobby cannot read the state; retrying", "err", err)
	}
}

// events streams the lobby's live panels to one browser until it leaves or the server stops.
// The session is read once, without LoadAndSave (which would hold the stream back).
func (web *Web) events(w http.ResponseWriter, r *http.Request) {
	if !web.streams.take() {
		// The page falls back to polling when its stream is refused (static/js/app.js).
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Retry-After", strconv.Itoa(int(streamsFullRetry/time.Second)))
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "This server holds as many live streams as it can; the page polls for updates instead.\n")
		return
	}
	defer web.streams.give()
	viewer, err := web.sessions.PlayerFromRequest(r, web.app)
	if err != nil && !errors.Is(err, app.ErrUnauthenticated) {
		web.log.WarnContext(r.Context(), "live lobby: cannot read the session; streaming as a visitor", "err", err)
	}
	if err != nil {
		viewer = app.Player{}
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // tell proxies not to buffer the stream
	w.WriteHeader(http.StatusOK)

	s := &stream{w: w, rc: rc, sent: map[string]string{}}
	// A browser that lost the stream (this instance stopped) comes back in two seconds.
	if err := s.write("retry: 2000\n\n"); err != nil {
		return
	}
	changed, unsubscribe := web.feed.subscribe()
	defer unsubscribe()
	beat := time.NewTicker(web.beat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-web.stop:
			return
		case <-changed:
			if err := web.sendPanels(r.Context(), s, viewer); err != nil {
				return
			}
		case <-beat.C:
			if err := s.write(": keep-alive\n\n"); err != nil {
				return
			}
		}
	}
}

// sendPanels renders viewer's panels from the shared state and sends those that changed.
func (web *Web) sendPanels(ctx context.Context, s *stream, viewer app.Player) error {
	st := web.feed.current()
	now := web.app.Clock.Now()
	boss := raids.BossData{TimeLimit: st.status.TimeLimit, Levels: st.levels}
	panels := []struct {
		name string
		c    templ.Component
	}{
		{eventStatus, partial.StatusPanel(statusView(st.status, viewer, now))},
		{eventEnter, partial.EnterPanel(enterView(st.status, viewer, boss))},
		{eventRanking, partial.RankingPanel(rankingView(st.top, viewer))},
	}
	if viewer.ID != 0 {
		rv, err := web.app.Ranking(ctx, viewer)
		if err == nil {
			panels = append(panels, struct {
				name string
				c    templ.Component
			}{eventMine, partial.MinePanel(mineView(rv))})
		} else if ctx.Err() == nil {
			web.log.WarnContext(ctx, "live lobby: cannot read the player's standing", "err", err)
		}
	}
	var out strings.Builder
	for _, p := range panels {
		var buf bytes.Buffer
		if err := p.c.Render(ctx, &buf); err != nil {
			return err
		}
		html := buf.String()
		// The status panel counts down by itself; resending it for a new "time left" text
		// would only repeat it. The countdown's text is left out of the comparison.
		key := html
		if p.name == eventStatus {
			key = statusKey(st.status, viewer)
		}
		if s.sent[p.name] == key {
			continue
		}
		s.sent[p.name] = key
		writeEvent(&out, p.name, html)
	}
	if out.Len() == 0 {
		return nil
	}
	return s.write(out.String())
}

// statusKey identifies what the status panel says, apart from the running countdown.
func statusKey(st app.RaidStatus, viewer app.Player) string {
	if st.Current == nil {
		return fmt.Sprintf("free %s", st.TimeLimit)
	}
	r := st.Current
	return fmt.Sprintf("busy %d %q %d %s %t", r.ID, r.Nickname, r.Level,
		r.Deadline.Format(time.RFC3339Nano), viewer.ID != 0 && r.UserID == viewer.ID)
}

// writeEvent writes one server-sent event; every line of data gets its own "data:" field.
func writeEvent(w io.StringWriter, name, data string) {
	_, _ = w.WriteString("event: " + name + "\n")
	for line := range strings.SplitSeq(data, "\n") {
		_, _ = w.WriteString("data: " + strings.TrimSuffix(line, "\r") + "\n")
	}
	_, _ = w.WriteString("\n")
}

// stream is one browser's event stream.
type stream struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	sent map[string]string // event name → what was last sent
}

// streamsFullRetry is what a refused stream is told to wait before trying again.
const streamsFullRetry = 30 * time.Second

// streamSlots counts this instance's open streams against its cap.
type streamSlots struct {
	max  int64
	open atomic.Int64
}

// take claims a slot, or reports that every slot is taken.
func (s *streamSlots) take() bool {
	if s.open.Add(1) > s.max {
		s.open.Add(-1)
		return false
	}
	return true
}

func (s *streamSlots) give() { s.open.Add(-1) }

// streamWriteTimeout bounds each write, so a browser that stopped reading cannot hold the
// stream (and a goroutine) for ever; it also lifts the server's overall write deadline.
const streamWriteTimeout = 10 * time.Second

func (s *stream) write(text string) error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, err := io.WriteString(s.w, text); err != nil {
		return err
	}
	return s.rc.Flush()
}
