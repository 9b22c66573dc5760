package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/a-h/templ"
	"golang.org/x/text/language"

	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/i18n"
	"github.com/bossraid/bossraid/views/partial"
)

// The live lobby. One loop per instance (running while anyone watches) reads who is inside and
// the top 10 whenever Config.Events announces an event — at once for events made here,
// through Redis pub/sub for other instances' — and every Recheck besides, so updates still come
// when pub/sub is down. Each state becomes a frame whose panels are rendered once per distinct
// viewer state and shared; each stream sends only the panels that changed for its viewer, as
// named server-sent events whose data are HTML fragments for htmx's SSE extension.

// Event names, matched by sse-swap attributes in the views.
const (
	eventStatus  = "status"
	eventEnter   = "enter"
	eventRanking = "ranking"
	eventMine    = "mine"
	eventQueue   = "queue"
)

// lobbyState is what every viewer's panels are rendered from.
type lobbyState struct {
	status app.RaidStatus
	top    []raids.Standing
	levels []raids.Level
	line   *raids.Line // nil without the queue
}

func (s lobbyState) equal(o lobbyState) bool {
	return sameStatus(s.status, o.status) && slices.Equal(s.top, o.top) && slices.Equal(s.levels, o.levels) &&
		sameLine(s.line, o.line)
}

// sameLine compares who waits and the turn held, not when the line was read.
func sameLine(a, b *raids.Line) bool {
	if a == nil || b == nil {
		return a == b
	}
	if !slices.EqualFunc(a.Waiting, b.Waiting, func(x, y raids.Waiting) bool { return x.UserID == y.UserID && x.Nickname == y.Nickname }) {
		return false
	}
	x, y := a.Reservation, b.Reservation
	if x == nil || y == nil {
		return x == y
	}
	return x.UserID == y.UserID && x.Until.Equal(y.Until)
}

// turnEnds is when the turn held ends (zero when none is): the line changes then without
// anyone announcing it.
func (s lobbyState) turnEnds() time.Time {
	if s.line == nil || s.line.Reservation == nil {
		return time.Time{}
	}
	return s.line.Reservation.Until
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

// liveLobby shares one reading of the lobby between every stream of this instance, and tells the
// streams when there is something to send: a new frame, or a heartbeat.
type liveLobby struct {
	app     *app.App
	events  Events
	queue   *app.Queue // nil: no queue panel
	log     *slog.Logger
	recheck time.Duration
	beat    time.Duration
	stop    <-chan struct{}

	mu     sync.Mutex
	subs   map[*liveStream]struct{}
	cancel context.CancelFunc // of the running loop; nil when nobody watches
	frame  *frame             // of the last state read; nil until one is
	idle   *time.Timer        // stops the loop once nobody has watched for idleGrace

	// How many panels were rendered and standings read, over every frame (tests, profiles).
	renders, standingReads atomic.Int64
}

func newLiveLobby(a *app.App, log *slog.Logger, recheck, beat time.Duration, stop <-chan struct{}) *liveLobby {
	return &liveLobby{app: a, log: log, recheck: recheck, beat: beat, stop: stop, subs: map[*liveStream]struct{}{}}
}

// subscribe has s told of every new frame (and of the current one at once, when a state is
// already known) and of every heartbeat, until unsubscribe. It reports false once the server
// is stopping.
func (f *liveLobby) subscribe(s *liveStream) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.stop:
		return false
	default:
	}
	f.subs[s] = struct{}{}
	if f.idle != nil {
		f.idle.Stop()
		f.idle = nil
	}
	if f.frame != nil {
		s.kick(false)
	}
	if f.cancel == nil {
		ctx, cancel := context.WithCancel(context.Background())
		f.cancel = cancel
		go f.loop(ctx)
	}
	return true
}

// idleGrace is how long the loop outlives its last stream: a player reloading the lobby (or
// following a link to another live page) gets the current frame at once, not after the loop
// has read everything again, so the page's panels are not swapped under the player's click.
const idleGrace = 5 * time.Second

func (f *liveLobby) unsubscribe(s *liveStream) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.subs, s)
	if len(f.subs) > 0 || f.cancel == nil || f.idle != nil {
		return
	}
	f.idle = time.AfterFunc(idleGrace, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.subs) == 0 && f.cancel != nil {
			f.cancel()
			f.cancel = nil
			f.frame = nil
		}
		f.idle = nil
	})
}

// tell kicks every stream; beat asks for a heartbeat when nothing else is to be sent.
func (f *liveLobby) tell(beat bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		s.kick(beat)
	}
}

// closeAll ends every stream (the server is stopping).
func (f *liveLobby) closeAll() {
	f.mu.Lock()
	subs := make([]*liveStream, 0, len(f.subs))
	for s := range f.subs {
		subs = append(subs, s)
	}
	f.mu.Unlock()
	for _, s := range subs {
		s.close()
	}
}

// currentFrame is the frame of the last state read.
func (f *liveLobby) currentFrame() *frame {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.frame
}

func (f *liveLobby) loop(ctx context.Context) {
	changes := f.events.Watch(ctx)
	tick := time.NewTicker(f.recheck)
	defer tick.Stop()
	beat := time.NewTicker(f.beat)
	defer beat.Stop()
	// A turn of the queue that ends passes on with nothing announced: read again just then.
	turn := time.NewTimer(time.Hour)
	defer turn.Stop()
	refresh := func() {
		if ends := f.refresh(ctx); !ends.IsZero() {
			turn.Reset(max(time.Until(ends), 0) + 5*time.Millisecond)
		}
	}
	refresh()
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.stop:
			f.closeAll()
			return
		case _, ok := <-changes:
			if !ok {
				return
			}
			refresh()
		case <-tick.C:
			refresh()
		case <-turn.C:
			refresh()
		case <-beat.C:
			f.tell(true)
		}
	}
}

// refresh reads the state and signals every stream when it differs from the last one. It
// returns when the turn of the queue held now ends, if one is.
func (f *liveLobby) refresh(ctx context.Context) time.Time {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := f.app.Raids.Status(rctx)
	if err != nil {
		f.logFailure(ctx, err)
		return time.Time{}
	}
	top, err := f.app.Ranking.Top(rctx)
	if err != nil {
		f.logFailure(ctx, err)
		return time.Time{}
	}
	next := lobbyState{status: st, top: top, levels: f.app.Raids.BossData().Levels}
	if f.queue != nil {
		l, err := f.queue.Line(rctx)
		if err != nil {
			f.logFailure(ctx, err)
			return time.Time{}
		}
		next.line = &l
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if ctx.Err() != nil || (f.frame != nil && f.frame.state.equal(next)) {
		return next.turnEnds()
	}
	f.frame = newFrame(next)
	for s := range f.subs {
		s.kick(false)
	}
	return next.turnEnds()
}

func (f *liveLobby) logFailure(ctx context.Context, err error) {
	if ctx.Err() == nil {
		f.log.WarnContext(ctx, "live lobby cannot read the state; retrying", "err", err)
	}
}

// events streams the lobby's live panels to one browser until it leaves or the server stops.
// The session is read once, without LoadAndSave (which would hold the stream back). The handler
// then takes the connection over from net/http and returns: an open stream is a socket and a
// few hundred bytes, with no goroutine of its own but a small reader that notices the browser
// leaving. Whoever has something for it (a new frame, a heartbeat) writes it.
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
	viewer, err := web.sessions.PlayerFromRequest(r, web.app.Accounts)
	if err != nil && !errors.Is(err, app.ErrUnauthenticated) {
		web.log.WarnContext(r.Context(), "live lobby: cannot read the session; streaming as a visitor", "err", err)
	}
	if err != nil {
		viewer = app.Player{}
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // tell proxies not to buffer the stream
	// No chunking: the stream's end is the connection's (what the SSE specification advises),
	// so once the header is out the connection carries nothing but events.
	h.Set("Transfer-Encoding", "identity")
	w.WriteHeader(http.StatusOK)

	s := newLiveStream(web, viewer, i18n.From(r.Context()).Tag)
	rc := http.NewResponseController(w)
	conn, _, err := rc.Hijack()
	var done chan struct{}
	if err == nil {
		// Deadlines the server set for requests do not apply to a stream; each write sets its own.
		_ = conn.SetDeadline(time.Time{})
		s.out = connSink{conn}
	} else {
		// A connection net/http cannot hand over (HTTP/2): the handler holds it instead.
		done = make(chan struct{})
		s.out = &writerSink{w: w, rc: rc, done: done}
	}
	// A browser that lost the stream (this instance stopped) comes back in two seconds.
	if err := s.out.write(net.Buffers{[]byte("retry: 2000\n\n")}); err != nil || !web.live.subscribe(s) {
		s.close()
		return
	}
	if done == nil {
		go s.watchConn(conn)
		return
	}
	select {
	case <-r.Context().Done():
	case <-done:
	}
	s.close()
	s.writers.Wait() // the ResponseWriter is not to be touched once the handler returns
}

// liveStream is one browser's event stream. It has no goroutine while idle: kick starts one
// that writes what is due and ends when nothing is left, so a browser that reads slowly holds
// up only its own stream.
type liveStream struct {
	web    *Web
	viewer app.Player
	ctx    context.Context // carries the viewer's language; ends with the stream
	cancel context.CancelFunc
	out    sink

	mu      sync.Mutex
	due     bool // a new frame (or a heartbeat) waits
	beat    bool // a heartbeat is due unless panels go out
	running bool // a goroutine is writing
	writers sync.WaitGroup
	closed  bool
	sent    [len(panelNames)]string // per panel, the key of what was last sent (shared with the frame)
}

func newLiveStream(web *Web, viewer app.Player, tag language.Tag) *liveStream {
	ctx, cancel := context.WithCancel(i18n.With(context.Background(), tag, ""))
	return &liveStream{web: web, viewer: viewer, ctx: ctx, cancel: cancel}
}

// kick has the stream send what changed; beat asks for a heartbeat if nothing did.
func (s *liveStream) kick(beat bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.due = true
	s.beat = s.beat || beat
	if !s.running {
		s.running = true
		s.writers.Go(s.run)
	}
}

func (s *liveStream) run() {
	for {
		s.mu.Lock()
		if !s.due || s.closed {
			s.running = false
			s.mu.Unlock()
			return
		}
		beat := s.beat
		s.due, s.beat = false, false
		s.mu.Unlock()
		if err := s.send(beat); err != nil {
			s.close()
			return
		}
	}
}

// send writes the panels of the current frame that differ from what the stream last sent, or
// a heartbeat when beat and there are none. The panels were rendered once for every viewer in
// the same state; the stream only picks them.
func (s *liveStream) send(beat bool) error {
	var out net.Buffers
	if fr := s.web.live.currentFrame(); fr != nil {
		lang := i18n.From(s.ctx).Lang()
		for i, name := range panelNames {
			p, ok := fr.panel(s.ctx, s.web, name, lang, s.viewer)
			if !ok || s.sent[i] == p.key {
				continue
			}
			s.sent[i] = p.key
			out = append(out, p.event)
		}
	}
	if len(out) == 0 {
		if !beat {
			return nil
		}
		out = net.Buffers{keepAlive}
	}
	return s.out.write(out)
}

var keepAlive = []byte(": keep-alive\n\n")

// close ends the stream once: its connection, its subscription and its slot.
func (s *liveStream) close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	if s.out != nil {
		s.out.close()
	}
	s.web.live.unsubscribe(s)
	s.web.streams.give()
}

// watchConn reads the taken-over connection until the browser closes it (browsers send nothing
// on an event stream), then closes the stream.
func (s *liveStream) watchConn(conn net.Conn) {
	var b [1]byte
	for {
		if _, err := conn.Read(b[:]); err != nil {
			s.close()
			return
		}
	}
}

// sink is where a stream's bytes go.
type sink interface {
	write(b net.Buffers) error
	close()
}

// streamWriteTimeout bounds each write, so a browser that stopped reading cannot hold its
// stream for ever.
const streamWriteTimeout = 10 * time.Second

// connSink writes to a connection taken over from net/http: one system call per write.
type connSink struct{ c net.Conn }

func (k connSink) write(b net.Buffers) error {
	_ = k.c.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	_, err := b.WriteTo(k.c)
	return err
}

func (k connSink) close() { _ = k.c.Close() }

// writerSink writes through the ResponseWriter of a handler that waits for done.
type writerSink struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	done chan struct{}
	once sync.Once
}

func (k *writerSink) write(b net.Buffers) error {
	_ = k.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	for _, p := range b {
		if _, err := k.w.Write(p); err != nil {
			return err
		}
	}
	return k.rc.Flush()
}

func (k *writerSink) close() { k.once.Do(func() { close(k.done) }) }

// panelNames are the live panels in the order a stream sends them.
var panelNames = [...]string{eventStatus, eventQueue, eventEnter, eventRanking, eventMine}

// frame is the lobby of one state, rendered lazily once per distinct viewer state (language,
// signed in or not, the one inside or not, place in the top 10, own standing) and shared by
// every stream. A new state makes a new frame; nothing in a frame is ever rendered twice.
type frame struct {
	state lobbyState

	mu        sync.Mutex
	panels    map[panelKey]*rendered
	standings map[int64]*standing
}

func newFrame(st lobbyState) *frame {
	return &frame{state: st, panels: map[panelKey]*rendered{}, standings: map[int64]*standing{}}
}

// panelKey is what a panel's HTML depends on besides the frame's state.
type panelKey struct {
	name string
	lang string
	a, b int64
}

// rendered is one panel as sent: the whole server-sent event, and what tells it from the
// panel last sent (its HTML; for the status panel, everything but the running countdown).
type rendered struct {
	once  sync.Once
	event []byte
	key   string
	err   error
}

// standing is a player's own standing, read once per frame however many streams they have.
type standing struct {
	once sync.Once
	view partial.Mine
	err  error
}

// panel returns the named panel for viewer in lang, rendering it if no stream has needed it
// yet. ok is false when the panel cannot be had now (the failure is logged).
func (f *frame) panel(ctx context.Context, web *Web, name, lang string, viewer app.Player) (*rendered, bool) {
	st := f.state.status
	inside := int64(0)
	if viewer.ID != 0 && st.Current != nil && st.Current.UserID == viewer.ID {
		inside = 1
	}
	signedIn := int64(0)
	if viewer.ID != 0 {
		signedIn = 1
	}
	key := panelKey{name: name, lang: lang}
	var render func(ctx context.Context) (templ.Component, string)
	switch name {
	case eventStatus:
		// The countdown's text is rendered from the time of the send, to the second; the
		// page counts down by itself from there.
		now := web.now()
		key.a, key.b = inside, now.Unix()
		render = func(context.Context) (templ.Component, string) {
			return partial.StatusPanel(statusView(st, viewer, now)), statusKey(st, viewer)
		}
	case eventEnter:
		line := f.state.line
		holder := int64(0)
		if line != nil && line.Reservation != nil && viewer.ID != 0 && line.Reservation.UserID == viewer.ID {
			holder = 2
		}
		key.a, key.b = inside, signedIn+holder
		boss := raids.BossData{TimeLimit: st.TimeLimit, Levels: f.state.levels}
		render = func(context.Context) (templ.Component, string) {
			return partial.EnterPanel(withTurn(enterView(st, viewer, boss), line, viewer)), ""
		}
	case eventQueue:
		line := f.state.line
		if line == nil {
			return nil, false
		}
		// Like the status panel, the countdown's text is rendered from the time of the send.
		now := web.now()
		q := queueView(*line, st, viewer, now)
		role := signedIn + 2*inside
		if q.MyTurn {
			role = 4
		}
		key.a, key.b = int64(q.Position)*8+role, 0
		if !q.Until.IsZero() {
			key.b = now.Unix()
		}
		render = func(context.Context) (templ.Component, string) {
			return partial.QueuePanel(q), fmt.Sprintf("queue %d %d %d %s %q", q.Position, q.Length, role,
				q.Until.Format(time.RFC3339Nano), q.Holder)
		}
	case eventRanking:
		key.a, key.b = signedIn, -1
		for i, s := range f.state.top {
			if viewer.ID != 0 && s.UserID == viewer.ID {
				key.b = int64(i)
			}
		}
		render = func(context.Context) (templ.Component, string) {
			return partial.RankingPanel(rankingView(f.state.top, viewer)), ""
		}
	case eventMine:
		if viewer.ID == 0 {
			return nil, false
		}
		m, err := f.standingOf(ctx, web, viewer)
		if err != nil {
			if ctx.Err() == nil {
				web.log.WarnContext(ctx, "live lobby: cannot read the player's standing", "err", err)
			}
			return nil, false
		}
		key.a, key.b = m.Total, int64(m.Place)
		if !m.InRanking {
			key.b = -1
		}
		render = func(context.Context) (templ.Component, string) { return partial.MinePanel(m), "" }
	}
	f.mu.Lock()
	r, ok := f.panels[key]
	if !ok {
		r = &rendered{}
		f.panels[key] = r
	}
	f.mu.Unlock()
	r.once.Do(func() {
		web.live.renders.Add(1)
		c, k := render(ctx)
		var buf strings.Builder
		if r.err = c.Render(ctx, &buf); r.err != nil {
			return
		}
		html := buf.String()
		r.key = k
		if r.key == "" {
			r.key = html
		}
		var ev bytes.Buffer
		writeEvent(&ev, name, html)
		r.event = ev.Bytes()
	})
	if r.err != nil {
		if ctx.Err() == nil {
			web.log.WarnContext(ctx, "live lobby: cannot render a panel", "panel", name, "err", r.err)
		}
		f.forget(func() { // a failed rendering is not kept: the next stream tries again
			if f.panels[key] == r {
				delete(f.panels, key)
			}
		})
		return nil, false
	}
	return r, true
}

// standingOf is viewer's own total and place in this frame, read once per player.
func (f *frame) standingOf(ctx context.Context, web *Web, viewer app.Player) (partial.Mine, error) {
	f.mu.Lock()
	s, ok := f.standings[viewer.ID]
	if !ok {
		s = &standing{}
		f.standings[viewer.ID] = s
	}
	f.mu.Unlock()
	s.once.Do(func() {
		web.live.standingReads.Add(1)
		rv, err := web.app.Ranking.Of(ctx, viewer)
		s.view, s.err = mineView(rv), err
	})
	if s.err != nil {
		// A failed read is not kept: the next stream (or change) tries again.
		f.forget(func() {
			if f.standings[viewer.ID] == s {
				delete(f.standings, viewer.ID)
			}
		})
	}
	return s.view, s.err
}

// forget runs drop under the frame's lock.
func (f *frame) forget(drop func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	drop()
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
