// Package faults starts real Postgres, Redis and bossraid processes of its own and breaks
// them on purpose: its tests stop Redis or Postgres in the middle of play, flush Redis, kill
// an instance with SIGKILL and throw bad inputs at every route, and check that the service
// answers as SPEC.md says and that no record is lost or half-written. The helpers here are
// also used by cmd/bossraid's two-process tests. They never touch a server they did not start.
package faults

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/lib/pq" // Postgres driver
)

// TB is the part of testing.TB the helpers use; the package does not import testing, so the
// chaos soak (internal/chaos, run by `bossraid chaos`) can use it from a program too.
type TB interface {
	Helper()
	Cleanup(func())
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Failed() bool
	TempDir() string
}

// PgBin is where the Postgres server programs live (Debian's postgresql-15).
var PgBin = "/usr/lib/postgresql/15/bin"

// BuildBinary builds cmd/bossraid into dir and returns the program's path.
func BuildBinary(dir string) (string, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("go build needs the go command on PATH: %w", err)
	}
	bin := filepath.Join(dir, "bossraid")
	cmd := exec.Command(goCmd, "build", "-o", bin, "github.com/bossraid/bossraid/cmd/bossraid")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// FreePort returns a loopback TCP port nobody listens on right now.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// asPostgres runs a Postgres program as the postgres user when we are root (initdb and
// postgres refuse to run as root), or as ourselves otherwise.
func asPostgres(name string, args ...string) *exec.Cmd {
	prog := filepath.Join(PgBin, name)
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", prog}, args...)...)
	}
	return exec.Command(prog, args...)
}

// giveToPostgres makes paths belong to the postgres user when we are root.
func giveToPostgres(paths ...string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("no postgres user to run Postgres as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, p := range paths {
		err := filepath.Walk(p, func(path string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(path, uid, gid)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// openDir makes a fresh directory the postgres user can enter (t.TempDir's are root-only).
func openDir(pattern string) (string, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", err
	}
	return dir, os.Chmod(dir, 0o755)
}

// PostgresTemplate is an initialised, never started cluster that StartPostgres copies: one
// initdb per test binary instead of one per test.
type PostgresTemplate struct {
	root string
	data string
}

// NewPostgresTemplate runs initdb once. Close removes it.
func NewPostgresTemplate() (*PostgresTemplate, error) {
	root, err := openDir("bossraid-faults-template-*")
	if err != nil {
		return nil, err
	}
	tpl := &PostgresTemplate{root: root, data: filepath.Join(root, "data")}
	if err := giveToPostgres(root); err != nil {
		tpl.Close()
		return nil, err
	}
	out, err := asPostgres("initdb", "-D", tpl.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--locale=C.UTF-8", "--no-sync").CombinedOutput()
	if err != nil {
		tpl.Close()
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	conf := `
# internal/faults: a throwaway cluster for one test.
listen_addresses = '127.0.0.1'
# The machine never crashes under these tests, only Postgres does (immediate stop): fsync may
# be off, but a commit must reach the WAL before it is acknowledged, or a "crash" loses
# transactions the app was told were committed.
fsync = off
synchronous_commit = on
full_page_writes = off
max_connections = 100
shared_buffers = 32MB
log_min_messages = warning
`
	f, err := os.OpenFile(filepath.Join(tpl.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(conf)
		_ = f.Close()
	}
	if err != nil {
		tpl.Close()
		return nil, err
	}
	return tpl, nil
}

// Close removes the template.
func (p *PostgresTemplate) Close() { _ = os.RemoveAll(p.root) }

// Postgres is a cluster this package started, on its own port and directory.
type Postgres struct {
	Port int
	root string
	data string
	log  string
}

// StartPostgres copies the template into a new cluster, starts it on a free port and stops
// and removes it when the test ends.
func (p *PostgresTemplate) StartPostgres(t TB) *Postgres {
	t.Helper()
	pg, err := p.NewPostgres()
	if pg != nil {
		t.Cleanup(pg.Remove)
	}
	if err != nil {
		t.Fatal(err)
	}
	return pg
}

// NewPostgres copies the template into a new cluster and starts it on a free port. Remove
// stops and deletes it; call it also when NewPostgres fails with a non-nil cluster.
func (p *PostgresTemplate) NewPostgres() (*Postgres, error) {
	root, err := openDir("bossraid-faults-pg-*")
	if err != nil {
		return nil, err
	}
	pg := &Postgres{root: root, data: filepath.Join(root, "data"), log: filepath.Join(root, "postgres.log")}
	if out, err := exec.Command("cp", "-a", p.data, pg.data).CombinedOutput(); err != nil {
		return pg, fmt.Errorf("copy the Postgres template: %v\n%s", err, out)
	}
	if err := os.WriteFile(pg.log, nil, 0o644); err != nil {
		return pg, err
	}
	if err := giveToPostgres(root); err != nil {
		return pg, err
	}
	if pg.Port, err = FreePort(); err != nil {
		return pg, err
	}
	return pg, pg.Start()
}

// Remove stops the cluster the way a crash would (thawing it first) and deletes its directory.
func (pg *Postgres) Remove() {
	_ = pg.Thaw()
	_ = asPostgres("pg_ctl", "-D", pg.data, "-m", "immediate", "-w", "-t", "20", "stop").Run()
	_ = os.RemoveAll(pg.root)
}

// URL is the connection URL of database name ("postgres" is always there).
func (pg *Postgres) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", pg.Port, name)
}

// Start starts the cluster on its port and waits until it accepts connections.
func (pg *Postgres) Start() error {
	out, err := asPostgres("pg_ctl", "-D", pg.data, "-l", pg.log, "-w", "-t", "30",
		"-o", fmt.Sprintf("-p %d -k %s", pg.Port, pg.root), "start").CombinedOutput()
	if err != nil {
		return fmt.Errorf("start Postgres: %v\n%s\n%s", err, out, pg.Logs())
	}
	return nil
}

// Stop shuts the cluster down the way a crash would (immediate mode: no checkpoint, clients
// cut off mid-transaction), so a restart has to recover.
func (pg *Postgres) Stop() error {
	out, err := asPostgres("pg_ctl", "-D", pg.data, "-m", "immediate", "-w", "-t", "30", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("stop Postgres: %v\n%s", err, out)
	}
	return nil
}

// Logs returns the server log.
func (pg *Postgres) Logs() string {
	b, _ := os.ReadFile(pg.log)
	return string(b)
}

// Redis is a redis-server this package started, without persistence: a restart comes back empty.
type Redis struct {
	Port int
	dir  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// StartRedis starts a redis-server on a free port and stops it when the test ends.
func StartRedis(t TB) *Redis {
	t.Helper()
	r, err := NewRedis(t.TempDir())
	if r != nil {
		t.Cleanup(func() { _ = r.Stop() })
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// NewRedis starts a redis-server on a free port, keeping its log in dir. Stop ends it.
func NewRedis(dir string) (*Redis, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	r := &Redis{Port: port, dir: dir}
	return r, r.Start()
}

// URL is the Redis URL of database db.
func (r *Redis) URL(db int) string { return fmt.Sprintf("redis://127.0.0.1:%d/%d", r.Port, db) }

// Start runs redis-server on its port (again) and waits until it answers.
func (r *Redis) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		return errors.New("redis: already running")
	}
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", r.dir,
		"--logfile", filepath.Join(r.dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	r.cmd, r.done = cmd, done
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if r.ping() == nil {
			return nil
		}
		select {
		case <-done:
			r.cmd = nil
			return fmt.Errorf("redis-server exited at start:\n%s", r.logs())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("redis-server did not answer on port %d", r.Port)
}

// Stop ends redis-server (SIGTERM, then SIGKILL) and waits for it to be gone.
func (r *Redis) Stop() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return nil
	}
	_ = r.cmd.Process.Signal(syscall.SIGCONT) // a frozen server cannot act on SIGTERM
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
	r.cmd = nil
	return nil
}

// Kill ends redis-server with SIGKILL, as a crash would; Start brings it back empty.
func (r *Redis) Kill() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return nil
	}
	_ = r.cmd.Process.Kill()
	<-r.done
	r.cmd = nil
	return nil
}

// Freeze stops redis-server with SIGSTOP; Thaw resumes it.
func (r *Redis) Freeze() error { return r.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen redis-server.
func (r *Redis) Thaw() error { return r.signal(syscall.SIGCONT) }

func (r *Redis) signal(sig syscall.Signal) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return errors.New("redis: not running")
	}
	return r.cmd.Process.Signal(sig)
}

// PID is the process id of redis-server, 0 when it is not running.
func (r *Redis) PID() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return 0
	}
	return r.cmd.Process.Pid
}

// Do sends one command with redis-cli and returns its answer.
func (r *Redis) Do(args ...string) (string, error) {
	out, err := exec.Command("redis-cli", append([]string{"-p", strconv.Itoa(r.Port)}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (r *Redis) ping() error {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.Port), 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 7)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "+PONG\r\n" {
		return fmt.Errorf("redis ping: %q %v", buf, err)
	}
	return nil
}

func (r *Redis) logs() string {
	b, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
	return string(b)
}

// App is a bossraid server process this package started.
type App struct {
	URL string
	Env map[string]string

	bin  string
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
}

// AppEnv is the environment of a test server; HTTP_ADDR is filled in by StartApp.
func AppEnv(databaseURL, redisURL string) map[string]string {
	return map[string]string{
		"APP_ENV":          "test",
		"DATABASE_URL":     databaseURL,
		"REDIS_URL":        redisURL,
		"SECRET_KEY":       "faults-test-secret-key-of-at-least-32-characters",
		"LOG_LEVEL":        "warn",
		"SHUTDOWN_TIMEOUT": "5s",
		"SWEEP_INTERVAL":   "200ms",
		// A frozen database is noticed after DB_TIMEOUT and a little: 503 within 2 s.
		"DB_TIMEOUT": "1s",
	}
}

// Migrate runs `bossraid migrate up` against env's database.
func Migrate(bin string, env map[string]string) error {
	cmd := exec.Command(bin, "migrate", "up")
	cmd.Env = environ(env)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("bossraid migrate up: %v\n%s", err, out)
	}
	return nil
}

func environ(env map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := env[k]; !ok {
			out = append(out, kv)
		}
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// StartApp runs `bossraid serve` with env on a free loopback port, waits until /healthz
// answers and kills it when the test ends.
func StartApp(t TB, bin string, env map[string]string) *App {
	t.Helper()
	a, err := NewApp(bin, env)
	if a != nil {
		t.Cleanup(func() {
			a.Kill()
			if t.Failed() {
				t.Logf("logs of the server at %s:\n%s", a.URL, a.Logs())
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// NewApp runs `bossraid serve` with env on a free loopback port and waits until /healthz
// answers. Kill ends it; call it also when NewApp fails with a non-nil App.
func NewApp(bin string, env map[string]string) (*App, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	a := &App{bin: bin, Env: map[string]string{}, logs: &syncBuffer{}}
	for k, v := range env {
		a.Env[k] = v
	}
	a.Env["HTTP_ADDR"] = fmt.Sprintf("127.0.0.1:%d", port)
	a.URL = "http://" + a.Env["HTTP_ADDR"]
	return a, a.start()
}

// Restart starts the server again on its address after Kill or Terminate.
func (a *App) Restart() error {
	if a.cmd != nil && !a.Exited() {
		return errors.New("bossraid serve: still running")
	}
	return a.start()
}

func (a *App) start() error {
	cmd := exec.Command(a.bin, "serve")
	cmd.Env = environ(a.Env)
	cmd.Stdout, cmd.Stderr = a.logs, a.logs
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	a.cmd, a.done = cmd, done
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("bossraid serve exited at start:\n%s", a.Logs())
		default:
		}
		resp, err := client.Get(a.URL + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("bossraid serve did not answer /healthz in 30s:\n%s", a.Logs())
}

// PID is the server's process id.
func (a *App) PID() int { return a.cmd.Process.Pid }

// Kill ends the server with SIGKILL, as a crash or the OOM killer would.
func (a *App) Kill() {
	if a.cmd == nil {
		return
	}
	_ = a.cmd.Process.Kill()
	<-a.done
}

// Terminate asks the server to shut down gracefully (SIGTERM) and waits up to within for it,
// then kills it.
func (a *App) Terminate(within time.Duration) {
	if a.cmd == nil {
		return
	}
	_ = a.cmd.Process.Signal(syscall.SIGCONT)
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(within):
		a.Kill()
	}
}

// Freeze stops the server with SIGSTOP (a hung process: connections open, nothing answers).
func (a *App) Freeze() error { return a.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server.
func (a *App) Thaw() error { return a.signal(syscall.SIGCONT) }

func (a *App) signal(sig syscall.Signal) error {
	if a.cmd == nil || a.Exited() {
		return errors.New("bossraid serve: not running")
	}
	return a.cmd.Process.Signal(sig)
}

// Exited reports whether the server process has ended.
func (a *App) Exited() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// Logs returns everything the server wrote.
func (a *App) Logs() string { return a.logs.String() }

// syncBuffer is a bytes.Buffer for a process's output, read while it is written; it keeps
// the last megabyte.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		rest := b.buf.Bytes()[b.buf.Len()-(512<<10):]
		b.buf = *bytes.NewBuffer(append([]byte("…\n"), rest...))
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Eventually polls cond every 50 ms until it holds or within passes.
func Eventually(t TB, within time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// OpenDB opens a plain connection pool for the test's own checks.
func OpenDB(t TB, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(4)
	t.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// Freeze stops every process of the cluster with SIGSTOP (a hung server or a network that
// drops packets: connections stay open, nothing answers); Thaw resumes them.
func (pg *Postgres) Freeze() error { return pg.signalAll(syscall.SIGSTOP) }

// Thaw resumes a frozen cluster.
func (pg *Postgres) Thaw() error { return pg.signalAll(syscall.SIGCONT) }

func (pg *Postgres) signalAll(sig syscall.Signal) error {
	pids, err := pg.processes()
	if err != nil {
		return err
	}
	for _, p := range pids {
		if err := syscall.Kill(p, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			return err
		}
	}
	return nil
}

// Kill ends every process of the cluster at once with SIGKILL (the server crashing, not
// shutting down: no checkpoint, no goodbye to clients) and waits until they are gone; Start
// brings it back through crash recovery.
func (pg *Postgres) Kill() error {
	pids, err := pg.processes()
	if err != nil {
		return err
	}
	for _, p := range pids {
		_ = syscall.Kill(p, syscall.SIGCONT)
		if err := syscall.Kill(p, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return err
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range pids {
		for alive(p) {
			if time.Now().After(deadline) {
				return fmt.Errorf("postgres process %d still there 10 s after SIGKILL", p)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
	var state string
	_, _ = fmt.Sscan(rest, &state)
	return state != "Z" && state != "X"
}

// processes lists the postmaster (from postmaster.pid) and its children.
func (pg *Postgres) processes() ([]int, error) {
	b, err := os.ReadFile(filepath.Join(pg.data, "postmaster.pid"))
	if err != nil {
		return nil, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return nil, fmt.Errorf("postmaster.pid: %w", err)
	}
	pids := []int{pid}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so read after the last ')'.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		var state string
		var ppid int
		if _, err := fmt.Sscan(rest, &state, &ppid); err == nil && ppid == pid {
			pids = append(pids, child)
		}
	}
	return pids, nil
}
