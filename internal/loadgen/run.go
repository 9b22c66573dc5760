// Package loadgen drives a running Boss Raid server over HTTP and reports throughput and
// latency per route, and seeds Postgres in bulk for the benchmarks. It backs
// `bossraid loadgen`; docs/PERFORMANCE.md shows how the figures there were made.
package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Options describe one load run.
type Options struct {
	Concurrency int           // simultaneous workers, each with one keep-alive connection
	Duration    time.Duration // how long each phase lasts (0: until MaxRequests)
	MaxRequests int64         // requests per phase (0: until Duration)
	Mix         Mix
	// Healthz runs a /healthz-only phase with the same workers first: the machine's ceiling,
	// measured in the same run, that the mix's throughput is compared with.
	Healthz bool
	Levels  []int // levels enter picks from
	// Players are signed in; workers take turns with their tokens. Credentials are what
	// signin actions use (usually the same players).
	Players     []Player
	Credentials []Credentials
	// Resources, when set, samples the server's memory and goroutines around the run.
	Resources *ResourceProbe
	Log       io.Writer
}

// Report is a whole run.
type Report struct {
	Options   Options
	Healthz   *Phase
	Mix       Phase
	Resources *ResourceReport
}

// Ratio is the mix's throughput over that of /healthz in the same run (0 without a healthz phase).
func (r Report) Ratio() float64 {
	if r.Healthz == nil {
		return 0
	}
	_, h := r.Healthz.Total()
	_, m := r.Mix.Total()
	if h == 0 {
		return 0
	}
	return m / h
}

// Err reports a run that must not pass: any 5xx, transport error or other unexpected answer.
func (r Report) Err() error {
	var errs []error
	phases := []Phase{r.Mix}
	if r.Healthz != nil {
		phases = append(phases, *r.Healthz)
	}
	for _, p := range phases {
		server, transport, unexpected := p.Failures()
		if server > 0 {
			errs = append(errs, fmt.Errorf("%s: %d answers were 5xx", p.Name, server))
		}
		if transport > 0 {
			errs = append(errs, fmt.Errorf("%s: %d requests failed without an answer", p.Name, transport))
		}
		if unexpected-server > 0 {
			errs = append(errs, fmt.Errorf("%s: %d answers had an unexpected status", p.Name, unexpected-server))
		}
	}
	return errors.Join(errs...)
}

// Print writes the whole report.
func (r Report) Print(w io.Writer) {
	o := r.Options
	limit := o.Duration.String()
	if o.MaxRequests > 0 {
		limit = fmt.Sprintf("%s or %d requests", o.Duration, o.MaxRequests)
	}
	fmt.Fprintf(w, "loadgen: %d connections, %s per phase, mix %s, %d signed-in players\n",
		o.Concurrency, limit, o.Mix, len(o.Players))
	if r.Healthz != nil {
		r.Healthz.Print(w)
	}
	r.Mix.Print(w)
	if r.Healthz != nil {
		_, h := r.Healthz.Total()
		fmt.Fprintf(w, "\nratio to /healthz of the same run: %.1f %% (mix %.0f req/s, healthz %.0f req/s)\n",
			100*r.Ratio(), h*r.Ratio(), h)
	}
	if r.Resources != nil {
		r.Resources.Print(w)
	}
}

// Run runs the healthz phase (when asked) and the mix phase.
func (c *API) Run(ctx context.Context, o Options) (Report, error) {
	if o.Concurrency < 1 {
		return Report{}, errors.New("loadgen: concurrency must be at least 1")
	}
	if o.Duration <= 0 && o.MaxRequests <= 0 {
		return Report{}, errors.New("loadgen: give a duration or a number of requests")
	}
	if tokens, creds := o.Mix.Needs(); tokens && len(o.Players) == 0 || creds && len(o.Credentials) == 0 {
		return Report{}, errors.New("loadgen: the mix needs signed-in players; ask for some with -players")
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if len(o.Levels) == 0 {
		o.Levels = []int{0}
	}
	rep := Report{Options: o}
	if o.Resources != nil {
		o.Resources.Start(ctx)
	}
	c.warm(ctx, o.Concurrency)
	if o.Healthz {
		healthOnly := o
		healthOnly.Mix, _ = ParseMix("healthz=1")
		p := c.phase(ctx, "GET /healthz alone (the ceiling)", healthOnly)
		rep.Healthz = &p
	}
	rep.Mix = c.phase(ctx, "mix "+o.Mix.String(), o)
	if o.Resources != nil {
		rr := o.Resources.Finish(ctx)
		rep.Resources = &rr
	}
	return rep, ctx.Err()
}

// warm opens the workers' connections so no measured request pays for a TCP handshake.
func (c *API) warm(ctx context.Context, conns int) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for range conns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c.Do(ctx, http.MethodGet, "/healthz", "", nil, false)
		})
	}
	wg.Wait()
}

// phase runs the workers until the duration is up or the requests are used. Requests in
// flight at the end are waited for (as a real client would), not cancelled: a cancelled
// request can still commit on the server, leaving for instance a raid nobody will end.
func (c *API) phase(ctx context.Context, name string, o Options) Phase {
	rec := NewRecorder()
	var issued atomic.Int64
	fmt.Fprintf(o.Log, "loadgen: %s ...\n", name)
	var signups atomic.Int64
	prefix := runID()
	start := time.Now()
	stopAt := start.Add(o.Duration)
	more := func() bool {
		if ctx.Err() != nil || (o.Duration > 0 && !time.Now().Before(stopAt)) {
			return false
		}
		return o.MaxRequests <= 0 || issued.Add(1) <= o.MaxRequests
	}
	var wg sync.WaitGroup
	for w := range o.Concurrency {
		wg.Go(func() {
			rnd := mrand.New(mrand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			turn := w
			for more() {
				var p Player
				if len(o.Players) > 0 {
					p = o.Players[turn%len(o.Players)]
					turn += o.Concurrency
				}
				c.act(ctx, rec, o, o.Mix.Pick(rnd), p, rnd, prefix, &signups)
			}
		})
	}
	wg.Wait()
	return rec.Summarize(name, time.Since(start))
}

// act performs one action. Requests cut short by an interrupt (Ctrl-C) are not recorded.
func (c *API) act(ctx context.Context, rec *Recorder, o Options, a Action, p Player, rnd *mrand.Rand, prefix string, signups *atomic.Int64) {
	record := func(route string, r Result) {
		if r.Err != nil && ctx.Err() != nil {
			return
		}
		rec.Record(route, r)
	}
	switch a {
	case ActHealthz:
		record(RouteHealthz, c.Do(ctx, http.MethodGet, "/healthz", "", nil, false))
	case ActStatus:
		record(RouteStatus, c.Do(ctx, http.MethodGet, "/api/raids/status", p.Access, nil, false))
	case ActRanking:
		record(RouteRanking, c.Do(ctx, http.MethodGet, "/api/raids/ranking", p.Access, nil, false))
	case ActSearch:
		other := p
		if len(o.Players) > 0 {
			other = o.Players[rnd.IntN(len(o.Players))]
		}
		record(RouteSearch, c.Do(ctx, http.MethodGet,
			"/api/users/search/"+url.PathEscape(other.Nickname)+"?limit=10", p.Access, nil, false))
	case ActEnterEnd:
		// Not abandoned on an interrupt either: an admitted player always clears the raid.
		ctx := context.WithoutCancel(ctx)
		id, r := c.Enter(ctx, p.Access, o.Levels[rnd.IntN(len(o.Levels))])
		record(RouteEnter, r)
		if r.Status == http.StatusCreated && id > 0 {
			record(RouteEnd, c.End(ctx, p.Access, id))
		}
	case ActSignIn:
		cr := o.Credentials[rnd.IntN(len(o.Credentials))]
		_, r := c.SignIn(ctx, cr)
		record(RouteSignIn, r)
	case ActSignUp:
		n := signups.Add(1)
		_, r := c.SignUp(ctx, Credentials{
			Email:    fmt.Sprintf("%su%d@loadgen.bossraid.test", prefix, n),
			Nickname: fmt.Sprintf("%su%d", prefix, n), Password: SeedPassword,
		})
		record(RouteSignUp, r)
	}
}

// runID is a short random prefix that keeps names made by different runs apart.
func runID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return "lg" + hex.EncodeToString(b[:])
}
