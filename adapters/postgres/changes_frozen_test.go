package postgres_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/bossdata"
	"github.com/bossraid/bossraid/adapters/clock"
	"github.com/bossraid/bossraid/adapters/hot"
	"github.com/bossraid/bossraid/adapters/memory"
	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
	"github.com/bossraid/bossraid/ports/portstest"
)

// freezingProxy forwards loopback TCP to Postgres until frozen; frozen, it keeps every
// connection open and forwards nothing, new ones included — a black-holed network path.
type freezingProxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	flows  chan struct{} // closed while traffic flows
	conns  []net.Conn
	closed bool
}

func newFreezingProxy(t *testing.T, target string) *freezingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezingProxy{ln: ln, target: target, flows: make(chan struct{})}
	close(p.flows)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// url is dsn with its host and port replaced by the proxy's.
func (p *freezingProxy) url(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.ln.Addr().String()
	return u.String()
}

func (p *freezingProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flows = make(chan struct{})
}

func (p *freezingProxy) thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.flows:
	default:
		close(p.flows)
	}
}

func (p *freezingProxy) waitFlowing() {
	p.mu.Lock()
	flows := p.flows
	p.mu.Unlock()
	<-flows
}

func (p *freezingProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = c.Close()
		return false
	}
	p.conns = append(p.conns, c)
	return true
}

func (p *freezingProxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(client) {
			return
		}
		go func() {
			p.waitFlowing()
			server, err := net.Dial("tcp", p.target)
			if err != nil || !p.track(server) {
				_ = client.Close()
				return
			}
			go p.pipe(server, client)
			p.pipe(client, server)
		}()
	}
}

// pipe copies from src to dst, holding each chunk while the proxy is frozen.
func (p *freezingProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.waitFlowing()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *freezingProxy) close() {
	p.thaw()
	_ = p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, c := range p.conns {
		_ = c.Close()
	}
}

func postgresAddr(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(testURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// fastFeed notices silence quickly, so the tests need not wait long; nothing is timed.
var fastFeed = postgres.FeedTiming{PingEvery: 100 * time.Millisecond, Silence: time.Second}

// A black-holed listener connection says nothing: no error, no close. The feed must notice the
// silence itself and report the changes lost, stay lost while the path is dead, and follow
// again (from a fresh connection) once it carries traffic.
func TestChangeFeedFrozenConnectionIsLost(t *testing.T) {
	proxy := newFreezingProxy(t, postgresAddr(t))
	changes := followingAt(t, proxy.url(t, testURL), fastFeed, 0)

	proxy.freeze()
	waitFor(t, "the frozen feed to be reported lost", func() bool { return lastState(changes()) == ports.ChangesLost })
	if _, err := testDB.Exec(`SELECT pg_notify('bossraid_changes', 'player:-7')`); err != nil {
		t.Fatal(err)
	}
	if lastState(changes()) != ports.ChangesLost {
		t.Fatal("the feed reported itself followed while its connection carried nothing")
	}

	proxy.thaw()
	waitFor(t, "the feed to follow again after the thaw", func() bool { return lastState(changes()) == ports.ChangesFollowed })
	if _, err := testDB.Exec(`SELECT pg_notify('bossraid_changes', 'player:-8')`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a change after the thaw", func() bool {
		for _, c := range changes() {
			if c.Kind == ports.PlayerChanged && c.UserID == -8 {
				return true
			}
		}
		return false
	})
}

// A signed-out token must stop working on an instance whose change feed is black-holed: its
// player cache has to go off, so the token check reads the sign-out from the database.
func TestFrozenFeedDisablesThePlayerCache(t *testing.T) {
	emptyDatabase(t)
	proxy := newFreezingProxy(t, postgresAddr(t))
	sys := clock.System{}
	cache := hot.New(sys)
	players := cache.Users(postgres.NewUsers(testDB))
	a, err := app.New(app.Deps{
		Clock: sys, Users: players, Accounts: players, Sessions: cache.Sessions(postgres.NewSessions(testDB)),
		Raids: cache.Raids(postgres.NewRaids(testDB)), Totals: postgres.NewTotals(testDB),
		Leaderboard: memory.NewLeaderboard(),
		Throttle:    memory.NewThrottle(sys), BossSource: bossdata.New("", nil),
	}, app.DefaultSettings(), raids.DefaultBossData())
	if err != nil {
		t.Fatal(err)
	}
	feed := postgres.NewChangeFeed(proxy.url(t, testURL), slog.New(slog.DiscardHandler)).WithTiming(fastFeed)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); cache.Follow(ctx, feed) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "the instance to follow changes", cache.Following)

	alice := portstest.NewPlayer(t, postgres.NewUsers(testDB), "frozenalice")
	if _, err := a.Accounts.PlayerByID(ctx, alice.ID, alice.TokenVersion); err != nil {
		t.Fatal(err) // now cached
	}
	proxy.freeze()
	// Another instance signs Alice out; the notification cannot reach this one.
	if _, err := postgres.NewSessions(testDB).EndAllSessions(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the cache to be disabled while the feed is black-holed", func() bool { return !cache.Following() })
	if _, err := a.Accounts.PlayerByID(ctx, alice.ID, alice.TokenVersion); !errors.Is(err, app.ErrUnauthenticated) {
		t.Fatalf("signed-out token with the feed frozen: got %v, want ErrUnauthenticated", err)
	}

	proxy.thaw()
	waitFor(t, "the cache to be back after the thaw", cache.Following)
	if _, err := a.Accounts.PlayerByID(ctx, alice.ID, alice.TokenVersion); !errors.Is(err, app.ErrUnauthenticated) {
		t.Fatalf("signed-out token after the thaw: got %v, want ErrUnauthenticated", err)
	}
	if _, err := a.Accounts.PlayerByID(ctx, alice.ID, alice.TokenVersion+1); err != nil {
		t.Fatalf("Alice's new sessions after the thaw: %v", err)
	}
}
