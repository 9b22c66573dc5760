package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// CompareRoute is one route a comparison drives: every request asks for Path(rnd), so routes
// that depend on the player or the page are asked about varied ones, and a query parameter
// the server ignores makes every URL of a run distinct (no cache wins by repetition).
type CompareRoute struct {
	Name   string
	Hello  bool // asked of the bare hello server, not the app
	Authed bool // sent with a signed-in player's bearer token
	// Path is the request path for a random draw; Lua is the same as a Lua expression for
	// wrk's request(), where math.random is seeded per thread.
	Path func(rnd *mrand.Rand) string
	Lua  string
}

// CompareRoutes are the routes `bossraid loadgen compare` measures: the hello ceiling,
// /healthz and every authenticated JSON read, the history over the heavy player's pages at
// random offsets and over random players' first pages. players is how many seed players
// there are; heavy is the heavy player's nickname and raids how many raids they have.
func CompareRoutes(players int, heavy string, raids int) []CompareRoute {
	deepest := max(raids-10, 0)
	return []CompareRoute{
		{Name: "bare Go hello", Hello: true, Path: func(*mrand.Rand) string { return "/" }, Lua: `"/"`},
		{Name: RouteHealthz, Path: func(*mrand.Rand) string { return "/healthz" }, Lua: `"/healthz"`},
		{Name: RouteStatus, Authed: true, Path: func(*mrand.Rand) string { return "/api/raids/status" }, Lua: `"/api/raids/status"`},
		{Name: RouteRanking, Authed: true, Path: func(*mrand.Rand) string { return "/api/raids/ranking" }, Lua: `"/api/raids/ranking"`},
		{
			Name: fmt.Sprintf("GET /api/users/search/{nick}, a player with %d raids, offsets 0 … %d", raids, deepest), Authed: true,
			Path: func(rnd *mrand.Rand) string {
				return "/api/users/search/" + url.PathEscape(heavy) + "?limit=10&offset=" + strconv.Itoa(rnd.IntN(deepest+1))
			},
			Lua: fmt.Sprintf(`"/api/users/search/%s?limit=10&offset=" .. math.random(0, %d)`, url.PathEscape(heavy), deepest),
		},
		{
			Name: fmt.Sprintf("GET /api/users/search/{nick}, first page of random players among %d", players), Authed: true,
			Path: func(rnd *mrand.Rand) string {
				return "/api/users/search/" + SeedCredentials(1+rnd.IntN(players)).Nickname + "?limit=10"
			},
			Lua: fmt.Sprintf(`"/api/users/search/seed" .. math.random(1, %d) .. "?limit=10"`, players),
		},
	}
}

// CompareOptions describe a comparison run.
type CompareOptions struct {
	App, Hello  *url.URL
	Routes      []CompareRoute
	Tokens      []string // bearer tokens the authenticated routes take turns with
	Rounds      int      // each round measures every route once, in order
	Threads     int      // wrk threads
	Connections int
	Duration    time.Duration
	Wrk         string // path of wrk; "" uses this package's load generator
	Log         io.Writer
}

// CompareResult is one route measured once.
type CompareResult struct {
	Requests, Bad uint64 // bad: non-2xx answers and transport errors
	RPS           float64
	P50, P99      time.Duration
}

// CompareRow is one route over every round.
type CompareRow struct {
	Route  CompareRoute
	Rounds []CompareResult
}

// Median is the round with the median req/s, and the median p50 and p99 of all rounds.
func (r CompareRow) Median() CompareResult {
	med := func(f func(CompareResult) float64) float64 {
		v := make([]float64, len(r.Rounds))
		for i, x := range r.Rounds {
			v[i] = f(x)
		}
		slices.Sort(v)
		if len(v) == 0 {
			return 0
		}
		return v[len(v)/2]
	}
	var out CompareResult
	for _, x := range r.Rounds {
		out.Requests += x.Requests
		out.Bad += x.Bad
	}
	out.RPS = med(func(x CompareResult) float64 { return x.RPS })
	out.P50 = time.Duration(med(func(x CompareResult) float64 { return float64(x.P50) }))
	out.P99 = time.Duration(med(func(x CompareResult) float64 { return float64(x.P99) }))
	return out
}

// CompareReport is a whole comparison.
type CompareReport struct {
	Options        CompareOptions
	Rows           []CompareRow
	LoadBefore     string
	LoadAfter      string
	Started, Ended time.Time
	Tool           string
}

// Err reports any non-2xx answer or transport error: a comparison with failures is void.
func (r CompareReport) Err() error {
	var errs []error
	for _, row := range r.Rows {
		if m := row.Median(); m.Bad > 0 {
			errs = append(errs, fmt.Errorf("%s: %d of %d answers were not 2xx", row.Route.Name, m.Bad, m.Requests))
		}
	}
	return errors.Join(errs...)
}

// Table is the comparison as a Markdown table, ratios to the hello of the same run.
func (r CompareReport) Table() string {
	var hello float64
	var helloP99 time.Duration
	for _, row := range r.Rows {
		if row.Route.Hello {
			m := row.Median()
			hello, helloP99 = m.RPS, m.P99
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| route | req/s (median of %d) | × bare hello | p50 | p99 | p99 × hello's | p99 per round | non-2xx |\n", r.Options.Rounds)
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, row := range r.Rows {
		m := row.Median()
		ratio, p99ratio := 0.0, 0.0
		if hello > 0 {
			ratio = m.RPS / hello
		}
		if helloP99 > 0 {
			p99ratio = float64(m.P99) / float64(helloP99)
		}
		rounds := make([]string, len(row.Rounds))
		for i, x := range row.Rounds {
			rounds[i] = msShort(x.P99)
		}
		fmt.Fprintf(&b, "| %s | %s | %.3f | %s ms | %s ms | %.2f | %s | %d |\n", row.Route.Name, thousands(m.RPS), ratio,
			msShort(m.P50), msShort(m.P99), p99ratio, strings.Join(rounds, ", "), m.Bad)
	}
	return b.String()
}

// Print writes the run's circumstances and its table.
func (r CompareReport) Print(w io.Writer) {
	fmt.Fprintf(w, "loadgen compare: %s, %d rounds, %d connections, %s per route and round, client %s\n",
		r.Started.UTC().Format(time.RFC3339), r.Options.Rounds, r.Options.Connections, r.Options.Duration, r.Tool)
	fmt.Fprintf(w, "load average before %s, after %s\n\n", r.LoadBefore, r.LoadAfter)
	fmt.Fprint(w, r.Table())
}

func msShort(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Compare measures every route in every round, routes alternating within a round.
func Compare(ctx context.Context, o CompareOptions) (CompareReport, error) {
	if o.Rounds < 1 || o.Connections < 1 || o.Duration <= 0 {
		return CompareReport{}, errors.New("compare: want at least one round, one connection and a duration")
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	o.Threads = max(o.Threads, 1)
	rep := CompareReport{Options: o, LoadBefore: LoadAverage(), Started: time.Now(), Tool: "bossraid loadgen"}
	if o.Wrk != "" {
		rep.Tool = "wrk -t" + strconv.Itoa(o.Threads) + " -c" + strconv.Itoa(o.Connections)
	}
	rep.Rows = make([]CompareRow, len(o.Routes))
	for i, rt := range o.Routes {
		rep.Rows[i].Route = rt
		if rt.Authed && len(o.Tokens) == 0 {
			return CompareReport{}, fmt.Errorf("compare: %s needs signed-in players", rt.Name)
		}
	}
	dir, err := os.MkdirTemp("", "bossraid-compare-")
	if err != nil {
		return CompareReport{}, err
	}
	defer os.RemoveAll(dir)
	var seq atomic.Uint64 // numbers every request of the run, so no URL repeats across rounds
	for round := range o.Rounds {
		for i, rt := range o.Routes {
			base := o.App
			if rt.Hello {
				base = o.Hello
			}
			fmt.Fprintf(o.Log, "compare: round %d/%d, %s ...\n", round+1, o.Rounds, rt.Name)
			var res CompareResult
			if o.Wrk != "" {
				res, err = runWrk(ctx, o, base, rt, fmt.Sprintf("%d.%d.", round, i), filepath.Join(dir, fmt.Sprintf("r%d.lua", i)))
			} else {
				res = runGo(ctx, o, base, rt, &seq)
			}
			if err != nil {
				return rep, fmt.Errorf("compare: %s: %w", rt.Name, err)
			}
			rep.Rows[i].Rounds = append(rep.Rows[i].Rounds, res)
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
		}
	}
	rep.LoadAfter, rep.Ended = LoadAverage(), time.Now()
	return rep, nil
}

// runGo drives one route with this package's client: Connections workers, one keep-alive
// connection each.
func runGo(ctx context.Context, o CompareOptions, base *url.URL, rt CompareRoute, seq *atomic.Uint64) CompareResult {
	api := &API{Base: base, Client: NewHTTPClient(o.Connections, 10*time.Second)}
	api.warm(ctx, o.Connections)
	var hist Histogram
	var n, bad atomic.Uint64
	stop := time.Now().Add(o.Duration)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range o.Connections {
		wg.Go(func() {
			rnd := mrand.New(mrand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for ctx.Err() == nil && time.Now().Before(stop) {
				token := ""
				if rt.Authed {
					token = o.Tokens[rnd.IntN(len(o.Tokens))]
				}
				res := api.Do(ctx, http.MethodGet, unique(rt.Path(rnd), seq.Add(1)), token, nil, false)
				hist.Record(res.Latency)
				n.Add(1)
				if res.Err != nil || res.Status < 200 || res.Status > 299 {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	api.Client.CloseIdleConnections()
	return CompareResult{Requests: n.Load(), Bad: bad.Load(), RPS: float64(n.Load()) / elapsed.Seconds(),
		P50: hist.Quantile(0.50), P99: hist.Quantile(0.99)}
}

// unique adds a parameter the server ignores, numbered per request.
func unique(path string, n uint64) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "lg=" + strconv.FormatUint(n, 10)
}

// wrkScript picks the path and the token per request, counts what is not 2xx in every
// thread, and prints one line the caller parses.
const wrkScript = `
local tokens = {%s}
local prefix = %q
local threads = {}
id, n, bad = 0, 0, 0
setup = function(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end
init = function(args)
  math.randomseed(os.time() * 1000 + id)
end
request = function()
  n = n + 1
  local path = %s
  local sep = "?"
  if string.find(path, "?", 1, true) then sep = "&" end
  local headers = {}
  if #tokens > 0 then headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] end
  return wrk.format("GET", path .. sep .. "lg=" .. prefix .. id .. "-" .. n, headers)
end
response = function(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + t:get("bad") end
  b = b + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("LGRESULT %%d %%d %%d %%d %%d\n", summary.requests, b, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
`

func runWrk(ctx context.Context, o CompareOptions, base *url.URL, rt CompareRoute, prefix, script string) (CompareResult, error) {
	var quoted []string
	if rt.Authed {
		for _, t := range o.Tokens {
			quoted = append(quoted, strconv.Quote(t))
		}
	}
	if err := os.WriteFile(script, []byte(fmt.Sprintf(wrkScript, strings.Join(quoted, ","), prefix, rt.Lua)), 0o600); err != nil {
		return CompareResult{}, err
	}
	cmd := exec.CommandContext(ctx, o.Wrk, "-t", strconv.Itoa(o.Threads), "-c", strconv.Itoa(o.Connections),
		"-d", strconv.Itoa(int(o.Duration.Seconds()+0.5))+"s", "--timeout", "10s", "-s", script, base.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		return CompareResult{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 6 || f[0] != "LGRESULT" {
			continue
		}
		var v [5]int64
		for i := range v {
			if v[i], err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
				return CompareResult{}, fmt.Errorf("wrk: %q: %w", line, err)
			}
		}
		return CompareResult{Requests: uint64(v[0]), Bad: uint64(v[1]), RPS: float64(v[0]) / (float64(v[2]) / 1e6),
			P50: time.Duration(v[3]) * time.Microsecond, P99: time.Duration(v[4]) * time.Microsecond}, nil
	}
	return CompareResult{}, fmt.Errorf("wrk printed no result:\n%s", out)
}

// ServeHello answers every request with "hello" on ln until ctx ends: the bare Go net/http
// ceiling the comparison divides by.
func ServeHello(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, "hello")
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// StartHello runs `exe loadgen hello` as a process of its own beside the app (so the client
// shares the CPU with it as with the app) and returns its URL; stop ends it.
func StartHello(ctx context.Context, exe string) (base *url.URL, stop func(), err error) {
	cmd := exec.CommandContext(ctx, exe, "loadgen", "hello", "-addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	stop = func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("hello server: %w", err)
	}
	base, err = url.Parse(strings.TrimSpace(line))
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("hello server said %q: %w", line, err)
	}
	return base, stop, nil
}

// WritePerformanceSection replaces the text between the begin and end markers of name in
// the Markdown file at path with body (adding the section at the end when it has none).
func WritePerformanceSection(path, name, body string) error {
	begin, end := "<!-- begin "+name+" -->", "<!-- end "+name+" -->"
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	s := string(old)
	section := begin + "\n" + strings.TrimRight(body, "\n") + "\n" + end
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i >= 0 && j > i {
		s = s[:i] + section + s[j+len(end):]
	} else {
		s = strings.TrimRight(s, "\n") + "\n\n" + section + "\n"
	}
	return os.WriteFile(path, []byte(s), 0o644)
}
