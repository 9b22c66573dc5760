// Package chaos is the soak of docs/RELIABILITY.md: it starts a Postgres, a Redis and two
// bossraid instances of its own (internal/faults), drives a mix of players at them over
// loopback, and every few seconds SIGKILLs, SIGSTOPs or restarts one of the five processes,
// always bringing it back. An oracle watches every answer and the stored records and reports
// what broke a rule of SPEC.md. `bossraid chaos` and `make chaos` run it; so does its test, for
// a minute, inside `make test`.
package chaos

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bossraid/bossraid/internal/faults"
	"github.com/bossraid/bossraid/internal/loadgen"
)

// Options describe one soak.
type Options struct {
	Duration   time.Duration // how long faults are injected under load
	Bin        string        // the bossraid binary the instances run
	Players    int           // API players (seeded); default 16
	WebPlayers int           // players browsing the web pages with a session; default 4
	Streams    int           // live-lobby watchers; default 3
	FaultEvery time.Duration // mean pause between faults; default 3 s
	RaidLimit  time.Duration // the boss raid's time limit; default 3 s, so abandoned raids expire
	Seed       uint64        // the faults' and players' random choices; 0 picks one
	Log        io.Writer     // progress lines; nil discards them
}

// Bounds the oracle holds the system to.
const (
	// RecoveryBound is how soon after a process returns the service must answer again.
	RecoveryBound = 5 * time.Second
	// RankingBound is how long after the last fault the ranking may take to agree with SQL.
	RankingBound = 30 * time.Second
	// requestTimeout bounds every request of the players; a frozen process is held for less.
	requestTimeout = 10 * time.Second
	warmUp         = 5 * time.Second
)

func (o *Options) defaults() error {
	if o.Duration <= 0 {
		return errors.New("chaos: the duration must be positive")
	}
	if o.Bin == "" {
		return errors.New("chaos: no bossraid binary to run")
	}
	if o.Players <= 0 {
		o.Players = 16
	}
	if o.WebPlayers < 0 || o.Streams < 0 {
		return errors.New("chaos: negative web players or streams")
	}
	if o.WebPlayers == 0 {
		o.WebPlayers = 4
	}
	if o.Streams == 0 {
		o.Streams = 3
	}
	if o.FaultEvery <= 0 {
		o.FaultEvery = 3 * time.Second
	}
	if o.RaidLimit <= 0 {
		o.RaidLimit = 3 * time.Second
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return nil
}

// world is everything the soak started.
type world struct {
	o     Options
	start time.Time
	dir   string
	tpl   *faults.PostgresTemplate
	pg    *faults.Postgres
	redis *faults.Redis
	apps  [2]*faults.App
	api   [2]*loadgen.API
	probe [2]*loadgen.API // recovery probes and metrics, on their own connections
	db    *sql.DB         // the oracle's own connections
	rdb   *goredis.Client // the oracle's look at the ranking set
	env   map[string]string
	// The seeded players: players[:o.Players] play through the API, then the web players,
	// then the prober (the last one).
	creds []loadgen.Credentials
	ids   map[string]int64 // email → user id

	appStarted   [2]time.Time // when each instance's current process started
	proberAccess string       // the prober's access token (only the fault loop uses it)
}

func (w *world) logf(format string, args ...any) {
	fmt.Fprintf(w.o.Log, "chaos %6.1fs: %s\n", time.Since(w.start).Seconds(), fmt.Sprintf(format, args...))
}

// Run runs one soak and returns its report; the error is for a soak that could not run (set-up
// failed, interrupted). Violations are in the report (Report.Err). Everything it started is
// stopped before it returns, also when ctx is cancelled.
func Run(ctx context.Context, o Options) (rep *Report, err error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	w := &world{o: o, start: time.Now()}
	defer w.close()
	if err := w.setUp(ctx); err != nil {
		return nil, fmt.Errorf("chaos: set-up: %w", err)
	}
	s := newSoak(w)
	rep, err = s.run(ctx)
	if err != nil && rep == nil {
		return nil, err
	}
	return rep, err
}

func (w *world) setUp(ctx context.Context) error {
	var err error
	if w.dir, err = os.MkdirTemp("", "bossraid-chaos-*"); err != nil {
		return err
	}
	if w.tpl, err = faults.NewPostgresTemplate(); err != nil {
		return err
	}
	w.pg, err = w.tpl.NewPostgres()
	if err != nil {
		return err
	}
	if w.redis, err = faults.NewRedis(w.dir); err != nil {
		return err
	}
	data := filepath.Join(w.dir, "bossdata.json")
	if err := os.WriteFile(data, fmt.Appendf(nil,
		`{"bossRaids":[{"bossRaidLimitSeconds":%g,"levels":[{"level":0,"score":20},{"level":1,"score":47},{"level":2,"score":85}]}]}`,
		w.o.RaidLimit.Seconds()), 0o644); err != nil {
		return err
	}
	w.env = faults.AppEnv(w.pg.URL("postgres"), w.redis.URL(0))
	w.env["BOSSRAID_DATA"] = data
	w.env["LOG_LEVEL"] = "error"
	// Short turns, so the soak sees turns held, taken and lapsed.
	w.env["QUEUE_TURN"] = "2s"
	if err := faults.Migrate(w.o.Bin, w.env); err != nil {
		return err
	}
	if w.db, err = sql.Open("postgres", w.pg.URL("postgres")+"&connect_timeout=2"); err != nil {
		return err
	}
	w.db.SetMaxOpenConns(4)
	w.db.SetConnMaxIdleTime(5 * time.Second)
	w.rdb = goredis.NewClient(&goredis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", w.redis.Port),
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	n := w.o.Players + w.o.WebPlayers + 1
	if _, err := loadgen.Seed(ctx, w.db, loadgen.SeedOptions{Players: n}); err != nil {
		return err
	}
	for i := range n {
		w.creds = append(w.creds, loadgen.SeedCredentials(i+1))
	}
	if w.ids, err = userIDs(ctx, w.db); err != nil {
		return err
	}
	for i := range w.apps {
		a, err := faults.NewApp(w.o.Bin, w.env)
		w.apps[i], w.appStarted[i] = a, time.Now()
		if err != nil {
			return err
		}
		base, err := loadgen.CheckTarget(a.URL, false)
		if err != nil {
			return err
		}
		w.api[i] = &loadgen.API{Base: base, Client: loadgen.NewHTTPClient(w.o.Players+8, requestTimeout)}
		w.probe[i] = &loadgen.API{Base: base, Client: loadgen.NewHTTPClient(2, 2*time.Second)}
	}
	w.logf("Postgres on %d, Redis on %d, instances at %s and %s", w.pg.Port, w.redis.Port, w.apps[0].URL, w.apps[1].URL)
	return nil
}

func userIDs(ctx context.Context, db *sql.DB) (map[string]int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT email, id FROM users`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := map[string]int64{}
	for rows.Next() {
		var email string
		var id int64
		if err := rows.Scan(&email, &id); err != nil {
			return nil, err
		}
		ids[email] = id
	}
	return ids, rows.Err()
}

// close stops and removes everything, thawing what is frozen first.
func (w *world) close() {
	for i, a := range w.apps {
		if a != nil {
			_ = a.Thaw()
			a.Kill()
		}
		if w.api[i] != nil {
			w.api[i].Client.CloseIdleConnections()
			w.probe[i].Client.CloseIdleConnections()
		}
	}
	if w.rdb != nil {
		_ = w.rdb.Close()
	}
	if w.db != nil {
		_ = w.db.Close()
	}
	if w.redis != nil {
		_ = w.redis.Stop()
	}
	if w.pg != nil {
		w.pg.Remove()
	}
	if w.tpl != nil {
		w.tpl.Close()
	}
	if w.dir != "" {
		_ = os.RemoveAll(w.dir)
	}
}
