package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	lg "github.com/bossraid/bossraid/internal/loadgen"
)

const loadgenUsage = `usage:
  bossraid loadgen [flags]          drive a running server with a mix of requests
  bossraid loadgen burst [flags]    N players enter the raid at the same moment, for some rounds
  bossraid loadgen seed [flags]     bulk-insert players and raids into Postgres, then rebuild the ranking
  bossraid loadgen compare [flags]  a bare Go hello, /healthz and the JSON reads side by side (wrk when installed)
  bossraid loadgen streams [flags]  open N live-lobby streams, make a change, time how long each takes to show it
  bossraid loadgen hello [flags]    serve a bare Go hello world (the ceiling compare starts beside the app)
Run any of them with -h for its flags. Targets must be loopback addresses unless -allow-remote.`

// loadgen is `bossraid loadgen`: the load generator and bulk seeder of docs/PERFORMANCE.md.
func loadgen(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "seed":
			return loadgenSeed(ctx, args[1:], getenv, stdout, stderr)
		case "burst":
			return loadgenBurst(ctx, args[1:], getenv, stdout, stderr)
		case "compare":
			return loadgenCompare(ctx, args[1:], getenv, stdout, stderr)
		case "streams":
			return loadgenStreams(ctx, args[1:], getenv, stdout, stderr)
		case "hello":
			return loadgenHello(ctx, args[1:], stdout, stderr)
		case "help":
			fmt.Fprintln(stdout, loadgenUsage)
			return nil
		}
	}
	return loadgenRun(ctx, args, getenv, stdout, stderr)
}

// targetFlags are the flags every load-driving subcommand shares.
type targetFlags struct {
	url         string
	allowRemote bool
	timeout     time.Duration
	players     int
	seed        bool
	seeded      bool
	databaseURL string
	workers     int
	pid         int
}

func (t *targetFlags) register(fs *flag.FlagSet, getenv func(string) string, players int, timeout time.Duration) {
	fs.StringVar(&t.url, "url", "http://127.0.0.1:8080", "base URL of the server (loopback only unless -allow-remote)")
	fs.BoolVar(&t.allowRemote, "allow-remote", false, "allow a non-loopback -url (only a server you own)")
	fs.DurationVar(&t.timeout, "timeout", timeout, "bound on each request")
	fs.IntVar(&t.players, "players", players, "players to use: signed up through the API, or seed players with -seed/-seeded")
	fs.BoolVar(&t.seed, "seed", false, "bulk-insert seed players into -database-url (when it has none) instead of signing up through the API")
	fs.BoolVar(&t.seeded, "seeded", false, "use seed players made earlier by `bossraid loadgen seed`")
	fs.StringVar(&t.databaseURL, "database-url", getenv("DATABASE_URL"), "Postgres for -seed (default $DATABASE_URL)")
	fs.IntVar(&t.workers, "signin-workers", 8, "simultaneous sign-ups and sign-ins while preparing players")
	fs.IntVar(&t.pid, "pid", 0, "server process id: report its RSS (and goroutines, from /metrics) around the run")
}

func (t *targetFlags) api() (*lg.API, error) {
	base, err := lg.CheckTarget(t.url, t.allowRemote)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return &lg.API{Base: base, Client: lg.NewHTTPClient(max(t.players, 64), t.timeout)}, nil
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("bossraid loadgen"+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags turns -h into a clean exit and any other flag error into a usage error.
func parseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	err = fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return false, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	return false, nil
}

func loadgenRun(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("", stderr)
	var t targetFlags
	t.register(fs, getenv, 64, 10*time.Second)
	conc := fs.Int("c", 64, "concurrency: simultaneous workers, one keep-alive connection each")
	dur := fs.Duration("d", 10*time.Second, "duration of each phase")
	maxReq := fs.Int64("n", 0, "maximum requests per phase (0: no limit; the phase still ends after -d)")
	mixFlag := fs.String("mix", "status=60,ranking=30,enter_end=8,signin=1,signup=1",
		"weighted actions: status, ranking, search, enter_end, signin, signup, healthz")
	healthz := fs.Bool("healthz", false, "first measure GET /healthz alone with the same workers: the machine's ceiling, for the ratio")
	tokens := fs.Int("tokens", 0, "how many of the players sign in for the token routes (0: min(players, c))")
	levels := fs.String("levels", "0,1,2", "levels enter_end picks from")
	fs.Usage = func() {
		fmt.Fprintln(stderr, loadgenUsage+"\n\nflags of `bossraid loadgen`:")
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	mix, err := lg.ParseMix(*mixFlag)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	lv, err := parseLevels(*levels)
	if err != nil {
		return err
	}
	if *conc < 1 || *conc > 10000 {
		return fmt.Errorf("%w: -c must be from 1 to 10000", errUsage)
	}
	if *dur <= 0 && *maxReq <= 0 {
		return fmt.Errorf("%w: give -d or -n", errUsage)
	}
	t.players = max(t.players, 0)
	api, err := t.api()
	if err != nil {
		return err
	}
	api.Client = lg.NewHTTPClient(max(*conc, t.players), t.timeout)
	needTokens, needCreds := mix.Needs()
	if (needTokens || needCreds) && t.players == 0 {
		return fmt.Errorf("%w: the mix %s needs players: give -players", errUsage, mix)
	}
	if *tokens <= 0 {
		*tokens = min(t.players, *conc)
	}
	fmt.Fprintf(stdout, "loadgen: %s, load average %s\n", time.Now().UTC().Format(time.RFC3339), lg.LoadAverage())
	var probe *lg.ResourceProbe
	if t.pid > 0 { // from before the sign-ins: Argon2id is what the server's memory peaks on
		probe = &lg.ResourceProbe{PID: t.pid, API: api}
		probe.Start(ctx)
	}
	creds, players, err := api.PreparePlayers(ctx, lg.PlayerSource{
		N: t.players, Tokens: *tokens, Seed: t.seed, Seeded: t.seeded, DatabaseURL: t.databaseURL,
		Workers: t.workers, Log: stderr,
	})
	if err != nil {
		return err
	}
	opts := lg.Options{
		Concurrency: *conc, Duration: *dur, MaxRequests: *maxReq, Mix: mix, Healthz: *healthz,
		Levels: lv, Players: players, Credentials: creds, Log: stderr,
	}
	opts.Resources = probe
	rep, err := api.Run(ctx, opts)
	rep.Print(stdout)
	fmt.Fprintf(stdout, "load average after the run: %s\n", lg.LoadAverage())
	if err != nil {
		return err
	}
	if err := rep.Err(); err != nil {
		return fmt.Errorf("loadgen: the server misbehaved under load:\n%w", err)
	}
	return nil
}

func loadgenBurst(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet(" burst", stderr)
	var t targetFlags
	t.register(fs, getenv, 1000, 30*time.Second)
	rounds := fs.Int("rounds", 5, "rounds; each round's winner ends the raid before the next")
	level := fs.Int("level", 0, "level every player asks for")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bossraid loadgen burst [flags]\n\nflags:")
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if t.players < 2 || t.players > 10000 || *rounds < 1 {
		return fmt.Errorf("%w: want 2 to 10000 -players and at least one round", errUsage)
	}
	api, err := t.api()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loadgen burst: %s, load average %s\n", time.Now().UTC().Format(time.RFC3339), lg.LoadAverage())
	var probe *lg.ResourceProbe
	if t.pid > 0 {
		probe = &lg.ResourceProbe{PID: t.pid, API: api}
		probe.Start(ctx)
	}
	_, players, err := api.PreparePlayers(ctx, lg.PlayerSource{
		N: t.players, Seed: t.seed, Seeded: t.seeded, DatabaseURL: t.databaseURL, Workers: t.workers, Log: stderr,
	})
	if err != nil {
		return err
	}
	rep, err := api.EnterBurst(ctx, players, *rounds, *level)
	rep.Print(stdout)
	if probe != nil {
		probe.Finish(ctx).Print(stdout)
	}
	fmt.Fprintf(stdout, "load average after the run: %s\n", lg.LoadAverage())
	if err != nil {
		return err
	}
	if err := rep.Err(); err != nil {
		return fmt.Errorf("loadgen burst: the one-player rule or the answers were wrong:\n%w", err)
	}
	if server, transport, unexpected := rep.Enter.Failures(); server+transport+unexpected > 0 {
		return fmt.Errorf("loadgen burst: %d 5xx, %d transport errors, %d unexpected answers", server, transport, unexpected)
	}
	return nil
}

func loadgenSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet(" seed", stderr)
	players := fs.Int("players", 1_000_000, "seed players to insert (seed1…seedN, password "+lg.SeedPassword+")")
	raidCount := fs.Int("raids", 5_000_000, "raid records to insert, none in progress")
	databaseURL := fs.String("database-url", getenv("DATABASE_URL"), "Postgres to seed (default $DATABASE_URL); must hold no seed players yet")
	redisURL := fs.String("redis-url", getenv("REDIS_URL"), "Redis whose ranking to rebuild afterwards (default $REDIS_URL; empty skips the rebuild)")
	heavy := fs.Int("heavy-raids", 10_000, fmt.Sprintf("more raids, all of seed%d (the heavy player, for the history benchmarks)", lg.HeavyPlayer))
	randSeed := fs.Uint64("rand-seed", 1, "random seed: the same seed makes the same raids and totals")
	check := fs.Int("check-rank", 1000, "after the rebuild, compare the top 100 and this many random players' standings with SQL rank()")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bossraid loadgen seed [flags]\n\nflags:")
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *players < 1 || *raidCount < 0 || *heavy < 0 {
		return fmt.Errorf("%w: want -players ≥ 1, -raids ≥ 0 and -heavy-raids ≥ 0", errUsage)
	}
	if *databaseURL == "" {
		return fmt.Errorf("%w: give -database-url or set DATABASE_URL", errUsage)
	}
	fmt.Fprintf(stdout, "loadgen seed: %s, load average %s\n", time.Now().UTC().Format(time.RFC3339), lg.LoadAverage())
	db, err := lg.OpenDB(ctx, *databaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := lg.Seed(ctx, db, lg.SeedOptions{
		Players: *players, Raids: *raidCount, HeavyRaids: *heavy, RandSeed: *randSeed, Log: stderr,
	})
	if err != nil {
		return err
	}
	rep.Print(stdout)
	if *redisURL == "" {
		fmt.Fprintln(stdout, "no -redis-url: run `bossraid ranking rebuild` to rebuild the ranking")
		return nil
	}
	rdb, err := lg.OpenRedis(ctx, *redisURL)
	if err != nil {
		return err
	}
	defer rdb.Close()
	n, took, err := lg.RebuildRanking(ctx, db, rdb)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ranking rebuilt: %d ranked players in %s\n", n, took.Round(time.Millisecond))
	if *check > 0 {
		diffs, err := lg.RankMismatches(ctx, db, rdb, 100, *check)
		if err != nil {
			return err
		}
		if len(diffs) > 0 {
			return fmt.Errorf("the rebuilt ranking disagrees with SQL rank():\n  %s", strings.Join(diffs, "\n  "))
		}
		fmt.Fprintf(stdout, "ranking agrees with SQL rank() on the top 100 and %d random players\n", *check)
	}
	fmt.Fprintf(stdout, "load average after seeding: %s\n", lg.LoadAverage())
	return nil
}

func parseLevels(s string) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: -levels %q: want non-negative integers separated by commas", errUsage, s)
		}
		out = append(out, n)
	}
	return out, nil
}

func loadgenHello(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet(" hello", stderr)
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to listen on (port 0: any free port)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !lg.IsLoopback(host) {
		return fmt.Errorf("%w: -addr must be a loopback address", errUsage)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "http://%s\n", ln.Addr())
	return lg.ServeHello(ctx, ln)
}

func loadgenCompare(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet(" compare", stderr)
	var t targetFlags
	t.register(fs, getenv, 1_000_000, 10*time.Second)
	conc := fs.Int("c", 64, "connections per route")
	threads := fs.Int("t", 2, "wrk threads")
	dur := fs.Duration("d", 8*time.Second, "duration of each route in each round")
	rounds := fs.Int("rounds", 3, "rounds; each measures every route once, the routes alternating")
	tokens := fs.Int("tokens", 64, "seed players signed in for the authenticated routes, picked at random per request")
	wrkFlag := fs.String("wrk", "auto", `path of wrk, "auto" (wrk from PATH when there is one) or "none" (this load generator)`)
	write := fs.String("write", "", "Markdown file whose marked section (-section) gets the table, e.g. docs/PERFORMANCE.md")
	section := fs.String("section", "bench-http", "name of the marked section -write replaces")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bossraid loadgen compare [flags]\n\nMeasures a bare Go hello server (started here), /healthz and the authenticated JSON\n"+
			"reads of a server seeded by `bossraid loadgen seed`, in alternating rounds.\n\nflags:")
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *conc < 1 || *conc > 10000 || *rounds < 1 || *dur < time.Second || *tokens < 1 || t.players < 1 {
		return fmt.Errorf("%w: want -c 1…10000, -rounds ≥ 1, -d ≥ 1s, -tokens ≥ 1 and -players ≥ 1", errUsage)
	}
	api, err := t.api()
	if err != nil {
		return err
	}
	wrk := ""
	switch *wrkFlag {
	case "none":
	case "auto":
		wrk, _ = exec.LookPath("wrk")
	default:
		wrk = *wrkFlag
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	hello, stop, err := lg.StartHello(ctx, exe)
	if err != nil {
		return err
	}
	defer stop()
	_, players, err := api.PreparePlayers(ctx, lg.PlayerSource{N: t.players, Tokens: *tokens, Seeded: true, Workers: t.workers, Log: stderr})
	if err != nil {
		return err
	}
	heavy := lg.SeedCredentials(lg.HeavyPlayer).Nickname
	res := api.Do(ctx, "GET", "/api/users/search/"+heavy+"?limit=1", players[0].Access, nil, true)
	var hist struct {
		TotalCount int `json:"total_count"`
	}
	if res.Status != 200 || json.Unmarshal(res.Body, &hist) != nil {
		return fmt.Errorf("loadgen compare: the heavy player %s: %d %s (seed with `bossraid loadgen seed`)", heavy, res.Status, res.Code)
	}
	access := make([]string, len(players))
	for i, p := range players {
		access[i] = p.Access
	}
	var probe *lg.ResourceProbe
	if t.pid > 0 {
		probe = &lg.ResourceProbe{PID: t.pid, API: api}
		probe.Start(ctx)
	}
	rep, err := lg.Compare(ctx, lg.CompareOptions{
		App: api.Base, Hello: hello, Routes: lg.CompareRoutes(t.players, heavy, hist.TotalCount), Tokens: access,
		Rounds: *rounds, Threads: *threads, Connections: *conc, Duration: *dur, Wrk: wrk, Log: stderr,
	})
	if err != nil {
		return err
	}
	var out strings.Builder
	rep.Print(&out)
	if probe != nil {
		probe.Finish(ctx).Print(&out)
	}
	fmt.Fprint(stdout, out.String())
	if *write != "" {
		if err := lg.WritePerformanceSection(*write, *section, out.String()); err != nil {
			return err
		}
	}
	if err := rep.Err(); err != nil {
		return fmt.Errorf("loadgen compare: answers that were not 2xx make the run void:\n%w", err)
	}
	return nil
}

func loadgenStreams(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet(" streams", stderr)
	var t targetFlags
	t.register(fs, getenv, 500, 30*time.Second)
	n := fs.Int("n", 1000, "live-lobby streams to open (each needs a file descriptor here and on the server)")
	signedIn := fs.Float64("signed-in", 0.5, "share of the streams with a signed-in player's web session")
	rounds := fs.Int("rounds", 3, "changes to time (a player enters the raid; it is cleared after each)")
	wait := fs.Duration("wait", 30*time.Second, "how long a change may take to reach every stream")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bossraid loadgen streams [flags]\n\nOpens -n /events streams, makes a change and reports how long each stream took to show\n"+
			"it. Signed-in streams take turns with -players web sessions of seed players (-seeded).\n\nflags:")
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *n < 1 || *n > 15000 || *signedIn < 0 || *signedIn > 1 || *rounds < 1 || *rounds > 16 || t.players < 2 {
		return fmt.Errorf("%w: want -n 1…15000, -signed-in 0…1, -rounds 1…16 and -players ≥ 2", errUsage)
	}
	api, err := t.api()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loadgen streams: %s, load average %s\n", time.Now().UTC().Format(time.RFC3339), lg.LoadAverage())
	creds, players, err := api.PreparePlayers(ctx, lg.PlayerSource{N: t.players, Tokens: 1, Seed: t.seed, Seeded: t.seeded,
		DatabaseURL: t.databaseURL, Workers: t.workers, Log: stderr})
	if err != nil {
		return err
	}
	want := int(float64(*n) * *signedIn)
	var sessions []*http.Cookie
	for _, cr := range creds[:min(len(creds), max(want, 0))] {
		if cr.Email == players[0].Email {
			continue
		}
		ck, err := api.WebSignIn(ctx, cr)
		if err != nil {
			return err
		}
		sessions = append(sessions, ck)
	}
	var probe *lg.ResourceProbe
	if t.pid > 0 {
		probe = &lg.ResourceProbe{PID: t.pid, API: api}
	}
	rep, err := api.Streams(ctx, lg.StreamsOptions{Streams: *n, Sessions: sessions, SignedIn: want, Rounds: *rounds,
		Player: players[0], Wait: *wait, Probe: probe, Log: stderr})
	rep.Print(stdout)
	fmt.Fprintf(stdout, "load average after the run: %s\n", lg.LoadAverage())
	if err != nil {
		return err
	}
	return rep.Err()
}
