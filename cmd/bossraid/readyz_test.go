package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bossraid/bossraid/internal/testenv"
)

// redisDB is the Redis database of these tests (see testenv.Redis; 7–9 are taken by other
// packages).
const redisDB = 10

// waitLimit bounds every wait for the server to change state; reaching it fails the test.
const waitLimit = 30 * time.Second

// /readyz follows Postgres and Redis: 503 while one is unreachable, 200 again once it is
// back, without a restart. The outages are made by a proxy between the server and each.
func TestReadyzFollowsPostgresAndRedis(t *testing.T) {
	db, err := testenv.NewDatabase("cmd_readyz")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Drop() })
	flushRedis(t)
	pg := startProxy(t, hostOf(t, db.URL))
	rd := startProxy(t, hostOf(t, testenv.RedisURLFor(redisDB)))

	ctx, cancel := context.WithCancel(context.Background())
	logs := newLogWatch()
	env := serverEnv(withHost(t, db.URL, pg.Addr()), withHost(t, testenv.RedisURLFor(redisDB), rd.Addr()))
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, io.Discard, logs)
		_ = logs.Close()
	}()
	stop := sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(waitLimit):
			return errors.New("the server did not stop after its context ended")
		}
	})
	t.Cleanup(func() { _ = stop() })
	base := "http://" + logs.addr(t)

	waitReadyz(t, base, http.StatusOK, "ready")

	pg.Cut()
	waitReadyz(t, base, http.StatusServiceUnavailable, "postgres")
	if status, _ := get(t, base+"/healthz"); status != http.StatusOK {
		t.Errorf("/healthz during a Postgres outage: %d, want 200 (it touches nothing)", status)
	}
	pg.Restore()
	waitReadyz(t, base, http.StatusOK, "ready")

	rd.Cut()
	waitReadyz(t, base, http.StatusServiceUnavailable, "redis")
	rd.Restore()
	waitReadyz(t, base, http.StatusOK, "ready")

	if err := stop(); err != nil {
		t.Errorf("serve: %v, want a clean stop", err)
	}
}

// waitReadyz polls /readyz until it answers status with a body containing word.
func waitReadyz(t *testing.T, base string, status int, word string) {
	t.Helper()
	var lastStatus int
	var lastBody string
	for deadline := time.Now().Add(waitLimit); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		lastStatus, lastBody = get(t, base+"/readyz")
		if lastStatus == status && strings.Contains(lastBody, word) {
			return
		}
	}
	t.Fatalf("/readyz never answered %d %q; last %d %q", status, word, lastStatus, lastBody)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// serverEnv is the environment of a test server on a free port.
func serverEnv(databaseURL, redisURL string) map[string]string {
	return map[string]string{
		"APP_ENV":          "test",
		"DATABASE_URL":     databaseURL,
		"REDIS_URL":        redisURL,
		"HTTP_ADDR":        "127.0.0.1:0",
		"SECRET_KEY":       "cmd-test-secret-key-of-at-least-32-characters",
		"LOG_LEVEL":        "info",
		"SHUTDOWN_TIMEOUT": "30s",
	}
}

// flushRedis empties this package's Redis database, so no ranking or cache of an earlier run
// is seen.
func flushRedis(t *testing.T) {
	t.Helper()
	c, err := testenv.Redis(redisDB)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func withHost(t *testing.T, raw, host string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = host
	return u.String()
}

// logWatch reads a server's log as it is written: the address it serves on and the lines
// tests wait for. It is the server's stderr.
type logWatch struct {
	*io.PipeWriter
	mu    sync.Mutex
	lines []string
	grew  chan struct{} // closed and replaced whenever a line arrives or the log ends
	ended bool
}

func newLogWatch() *logWatch {
	r, w := io.Pipe()
	l := &logWatch{PipeWriter: w, grew: make(chan struct{})}
	go l.read(r)
	return l
}

// watchReader follows a log written elsewhere (a child process's stderr).
func watchReader(r io.Reader) *logWatch {
	l := &logWatch{grew: make(chan struct{})}
	go l.read(r)
	return l
}

func (l *logWatch) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l.mu.Lock()
		l.lines = append(l.lines, sc.Text())
		close(l.grew)
		l.grew = make(chan struct{})
		l.mu.Unlock()
	}
	l.mu.Lock()
	l.ended = true
	close(l.grew)
	l.mu.Unlock()
}

// waitFor returns the first line matching re, failing the test if the log ends or the wait
// limit passes first.
func (l *logWatch) waitFor(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	timeout := time.After(waitLimit)
	for seen := 0; ; {
		l.mu.Lock()
		for ; seen < len(l.lines); seen++ {
			if m := re.FindStringSubmatch(l.lines[seen]); m != nil {
				l.mu.Unlock()
				return m
			}
		}
		ended, grew := l.ended, l.grew
		l.mu.Unlock()
		if ended {
			t.Fatalf("the server's log ended without %q:\n%s", re, l.dump())
		}
		select {
		case <-grew:
		case <-timeout:
			t.Fatalf("the server never logged %q:\n%s", re, l.dump())
		}
	}
}

var servingAt = regexp.MustCompile(`msg="Boss Raid is serving" addr=(\S+)`)

// addr is where the server listens, from its start-up line.
func (l *logWatch) addr(t *testing.T) string {
	t.Helper()
	return l.waitFor(t, servingAt)[1]
}

func (l *logWatch) dump() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// tcpProxy stands between the server and Postgres or Redis, so a test can take the
// dependency away and give it back without touching the machine's real server.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	gate  chan struct{} // closed while traffic flows; open (blocking) while stalled
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, gate: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	close(p.gate)
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

// Addr is where clients connect instead of the target.
func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

// Cut drops every connection and refuses new ones, as a crashed server would.
func (p *tcpProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		_ = c.Close()
	}
}

// Restore accepts connections again.
func (p *tcpProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// Stall holds every byte in both directions until Release, as a stuck server would.
func (p *tcpProxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gate = make(chan struct{})
}

// Release lets the held bytes through.
func (p *tcpProxy) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
	default:
		close(p.gate)
	}
}

func (p *tcpProxy) close() {
	p.Release()
	_ = p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

func (p *tcpProxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			_ = client.Close()
			continue
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		if !p.track(client, server) {
			continue
		}
		p.wg.Go(func() { p.pump(server, client) })
		p.wg.Go(func() { p.pump(client, server) })
	}
}

// track registers a connection pair unless the proxy was cut meanwhile.
func (p *tcpProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		for _, c := range conns {
			_ = c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

// pump copies src to dst, waiting at the gate before each write; either side ending ends both.
func (p *tcpProxy) pump(dst, src net.Conn) {
	defer func() {
		p.mu.Lock()
		delete(p.conns, src)
		delete(p.conns, dst)
		p.mu.Unlock()
		_ = src.Close()
		_ = dst.Close()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			gate := p.gate
			p.mu.Unlock()
			<-gate
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
