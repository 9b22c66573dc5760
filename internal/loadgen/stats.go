package loadgen

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// Routes as reported, by the server's path templates.
const (
	RouteHealthz = "GET /healthz"
	RouteStatus  = "GET /api/raids/status"
	RouteRanking = "GET /api/raids/ranking"
	RouteSearch  = "GET /api/users/search/{nickname}"
	RouteEnter   = "POST /api/raids/enter"
	RouteEnd     = "PATCH /api/raids/{id}/end"
	RouteSignIn  = "POST /api/users/signin"
	RouteSignUp  = "POST /api/users/signup"
)

// expectedStatuses are the answers a route gives under load when the server is healthy.
var expectedStatuses = map[string][]int{
	RouteHealthz: {200},
	RouteStatus:  {200},
	RouteRanking: {200},
	RouteSearch:  {200},
	RouteEnter:   {201, 409}, // admitted, or raid_busy
	RouteEnd:     {200, 409}, // cleared, or raid_expired when it ran past its limit
	RouteSignIn:  {200},      //
	RouteSignUp:  {201},      //
}

// routeStats gathers one route's answers; safe for concurrent use.
type routeStats struct {
	name     string
	hist     Histogram
	statuses [600]atomic.Uint64
	mu       sync.Mutex
	codes    map[string]uint64 // "409 raid_busy"
	errs     map[string]uint64 // transport failures by class
}

func (s *routeStats) record(r Result) {
	s.hist.Record(r.Latency)
	if r.Err != nil {
		s.mu.Lock()
		s.errs[ErrClass(r.Err)]++
		s.mu.Unlock()
		return
	}
	if r.Status > 0 && r.Status < len(s.statuses) {
		s.statuses[r.Status].Add(1)
	}
	if r.Status >= 300 {
		key := fmt.Sprintf("%d %s", r.Status, r.Code)
		s.mu.Lock()
		s.codes[strings.TrimSpace(key)]++
		s.mu.Unlock()
	}
}

// Recorder keeps per-route statistics for one phase of a run.
type Recorder struct {
	mu     sync.Mutex
	routes map[string]*routeStats
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{routes: map[string]*routeStats{}} }

// Record adds one answer of route.
func (rec *Recorder) Record(route string, r Result) { rec.route(route).record(r) }

func (rec *Recorder) route(name string) *routeStats {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	s, ok := rec.routes[name]
	if !ok {
		s = &routeStats{name: name, codes: map[string]uint64{}, errs: map[string]uint64{}}
		rec.routes[name] = s
	}
	return s
}

// RouteSummary is one route's figures over a phase.
type RouteSummary struct {
	Route              string
	Count              uint64
	RPS                float64
	Mean, P50, P90     time.Duration
	P99, P999, Max     time.Duration
	Statuses           map[int]uint64
	Codes              map[string]uint64 // non-2xx answers by status and error code
	TransportErrors    map[string]uint64
	Unexpected         uint64 // answers outside the route's expected statuses
	ServerErrors       uint64 // 5xx answers
	TransportErrorsSum uint64
}

// Phase is the figures of one phase: a mix run for a duration or a number of requests.
type Phase struct {
	Name    string
	Elapsed time.Duration
	Routes  []RouteSummary
}

// Summarize freezes the recorder into a Phase that lasted elapsed.
func (rec *Recorder) Summarize(name string, elapsed time.Duration) Phase {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	p := Phase{Name: name, Elapsed: elapsed}
	for _, routeName := range slices.Sorted(maps.Keys(rec.routes)) {
		s := rec.routes[routeName]
		sum := RouteSummary{
			Route: routeName, Count: s.hist.Count(),
			Mean: s.hist.Mean(), P50: s.hist.Quantile(0.50), P90: s.hist.Quantile(0.90),
			P99: s.hist.Quantile(0.99), P999: s.hist.Quantile(0.999), Max: s.hist.Max(),
			Statuses: map[int]uint64{},
		}
		if elapsed > 0 {
			sum.RPS = float64(sum.Count) / elapsed.Seconds()
		}
		expected := expectedStatuses[routeName]
		for code := range s.statuses {
			n := s.statuses[code].Load()
			if n == 0 {
				continue
			}
			sum.Statuses[code] = n
			if code >= 500 {
				sum.ServerErrors += n
			}
			if !slices.Contains(expected, code) {
				sum.Unexpected += n
			}
		}
		s.mu.Lock()
		sum.Codes = maps.Clone(s.codes)
		sum.TransportErrors = maps.Clone(s.errs)
		s.mu.Unlock()
		for _, n := range sum.TransportErrors {
			sum.TransportErrorsSum += n
		}
		p.Routes = append(p.Routes, sum)
	}
	return p
}

// Total is the phase's request count and throughput over every route.
func (p Phase) Total() (count uint64, rps float64) {
	for _, r := range p.Routes {
		count += r.Count
	}
	if p.Elapsed > 0 {
		rps = float64(count) / p.Elapsed.Seconds()
	}
	return count, rps
}

// Route returns the summary of one route, if the phase has it.
func (p Phase) Route(name string) (RouteSummary, bool) {
	for _, r := range p.Routes {
		if r.Route == name {
			return r, true
		}
	}
	return RouteSummary{}, false
}

// Failures counts 5xx answers, transport errors and other unexpected answers.
func (p Phase) Failures() (server, transport, unexpected uint64) {
	for _, r := range p.Routes {
		server += r.ServerErrors
		transport += r.TransportErrorsSum
		unexpected += r.Unexpected
	}
	return server, transport, unexpected
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

// Print writes the phase as a table: throughput and latency per route, then every
// non-2xx answer and transport error.
func (p Phase) Print(w io.Writer) {
	count, rps := p.Total()
	fmt.Fprintf(w, "\n== %s: %d requests in %s, %.0f req/s\n", p.Name, count, p.Elapsed.Round(time.Millisecond), rps)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "route\trequests\treq/s\tmean ms\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tmax ms\tstatuses\t")
	for _, r := range p.Routes {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Route, r.Count, r.RPS,
			ms(r.Mean), ms(r.P50), ms(r.P90), ms(r.P99), ms(r.P999), ms(r.Max), statusText(r.Statuses))
	}
	_ = tw.Flush()
	for _, r := range p.Routes {
		for _, k := range slices.Sorted(maps.Keys(r.Codes)) {
			fmt.Fprintf(w, "  %s: %d × %s\n", r.Route, r.Codes[k], k)
		}
		for _, k := range slices.Sorted(maps.Keys(r.TransportErrors)) {
			fmt.Fprintf(w, "  %s: %d × transport error: %s\n", r.Route, r.TransportErrors[k], k)
		}
	}
}

func statusText(m map[int]uint64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d×%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}
