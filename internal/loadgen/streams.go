package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// StreamsOptions describe a live-lobby run: Streams SSE streams on /events, SignedIn of them
// with a web session (taking turns with Sessions), then Rounds changes (a player enters the
// raid, and clears it after the round), each timed until every stream shows it.
type StreamsOptions struct {
	Streams  int
	Sessions []*http.Cookie // web session cookies the signed-in streams take turns with
	SignedIn int
	Rounds   int
	// Trigger enters the raid (the change every stream must show) as Player, then clears it.
	Player Player
	Wait   time.Duration // how long a change may take to reach every stream
	Probe  *ResourceProbe
	Log    io.Writer
}

// StreamsRound is one change as the streams saw it.
type StreamsRound struct {
	Shown, Missed int
	P50, P99, Max time.Duration
}

// StreamsReport is a whole live-lobby run.
type StreamsReport struct {
	Options        StreamsOptions
	Opened, Failed int
	OpenTook       time.Duration
	Rounds         []StreamsRound
	Resources      ResourceSample // the server with every stream open, after the changes
	RSSFromMetrics int64          // bytes, from /metrics when there is no local pid (-1: unknown)
}

// Err reports streams that failed to open or missed a change.
func (r StreamsReport) Err() error {
	var errs []error
	if r.Failed > 0 {
		errs = append(errs, fmt.Errorf("%d of %d streams failed to open", r.Failed, r.Options.Streams))
	}
	for i, rd := range r.Rounds {
		if rd.Missed > 0 {
			errs = append(errs, fmt.Errorf("round %d: %d streams never showed the change within %s", i+1, rd.Missed, r.Options.Wait))
		}
	}
	return errors.Join(errs...)
}

// Print writes the report.
func (r StreamsReport) Print(w io.Writer) {
	fmt.Fprintf(w, "loadgen streams: %d streams (%d signed in, over %d sessions) opened in %s, %d failed\n",
		r.Opened, r.Options.SignedIn, len(r.Options.Sessions), r.OpenTook.Round(time.Millisecond), r.Failed)
	for i, rd := range r.Rounds {
		fmt.Fprintf(w, "  change %d: shown on %d streams, missed by %d; p50 %s ms, p99 %s ms, max %s ms\n",
			i+1, rd.Shown, rd.Missed, msShort(rd.P50), msShort(rd.P99), msShort(rd.Max))
	}
	s := r.Resources
	switch {
	case s.RSSKiB > 0:
		fmt.Fprintf(w, "  server with the streams open: RSS %.1f MiB, peak (VmHWM) %.1f MiB, %d threads, %d goroutines\n",
			float64(s.RSSKiB)/1024, float64(s.HWMKiB)/1024, s.Threads, s.Goroutines)
	case r.RSSFromMetrics > 0:
		fmt.Fprintf(w, "  server with the streams open: RSS %.1f MiB (from /metrics), %d goroutines\n",
			float64(r.RSSFromMetrics)/(1<<20), s.Goroutines)
	}
}

// WebSignIn signs cr in through the web form and returns the session cookie.
func (c *API) WebSignIn(ctx context.Context, cr Credentials) (*http.Cookie, error) {
	form := url.Values{"email": {cr.Email}, "password": {cr.Password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Base.String()+"/signin", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := *c.Client
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Value != "" && resp.StatusCode < 400 {
			return &http.Cookie{Name: ck.Name, Value: ck.Value}, nil
		}
	}
	return nil, fmt.Errorf("web sign-in of %s: %d without a session cookie", cr.Email, resp.StatusCode)
}

// lobbyStream is one open /events stream.
type lobbyStream struct {
	seen []atomic.Int64 // per round: nanoseconds from the change to the status event showing it, 0 until then
}

// Streams opens the streams, makes the changes and times them.
func (c *API) Streams(ctx context.Context, o StreamsOptions) (StreamsReport, error) {
	if o.Streams < 1 || o.Rounds < 1 || o.Player.Access == "" {
		return StreamsReport{}, errors.New("streams: want streams, rounds and a signed-in player to make the changes")
	}
	if o.SignedIn > 0 && len(o.Sessions) == 0 {
		return StreamsReport{}, errors.New("streams: signed-in streams need web sessions")
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Wait <= 0 {
		o.Wait = 30 * time.Second
	}
	rep := StreamsReport{Options: o, RSSFromMetrics: -1}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// One connection per stream, none shared: a stream holds its connection for its life.
	hc := &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true, MaxIdleConnsPerHost: -1}}
	var changeAt [16]atomic.Int64 // unix nanoseconds each round's change was committed
	rounds := min(o.Rounds, len(changeAt))
	streams := make([]*lobbyStream, o.Streams)
	var opened, failed atomic.Int64
	var ready sync.WaitGroup
	var done sync.WaitGroup
	start := time.Now()
	sem := make(chan struct{}, 200) // opening at most this many at once
	for i := range streams {
		s := &lobbyStream{seen: make([]atomic.Int64, rounds)}
		streams[i] = s
		var cookie *http.Cookie
		if i < o.SignedIn {
			cookie = o.Sessions[i%len(o.Sessions)]
		}
		ready.Add(1)
		done.Add(1)
		sem <- struct{}{}
		go func() {
			defer done.Done()
			resp, err := openStream(ctx, hc, c.Base.String()+"/events", cookie)
			<-sem
			if err != nil {
				failed.Add(1)
				ready.Done()
				return
			}
			opened.Add(1)
			ready.Done()
			defer resp.Body.Close()
			readStream(resp.Body, o.Player.Nickname, s, changeAt[:rounds])
		}()
	}
	ready.Wait()
	rep.Opened, rep.Failed, rep.OpenTook = int(opened.Load()), int(failed.Load()), time.Since(start)
	fmt.Fprintf(o.Log, "streams: %d open, %d failed, in %s\n", rep.Opened, rep.Failed, rep.OpenTook.Round(time.Millisecond))
	time.Sleep(2 * time.Second) // every stream's first panels are sent and read

	for round := range rounds {
		at := time.Now()
		id, res := c.Enter(ctx, o.Player.Access, 0)
		if res.Status != http.StatusCreated {
			return rep, fmt.Errorf("streams: the change (enter) was answered %d %s", res.Status, res.Code)
		}
		changeAt[round].Store(at.UnixNano())
		deadline := time.Now().Add(o.Wait)
		for time.Now().Before(deadline) && shownBy(streams, round) < rep.Opened {
			time.Sleep(20 * time.Millisecond)
		}
		rep.Rounds = append(rep.Rounds, roundOf(streams, round, rep.Opened))
		if round == rounds-1 {
			rep.Resources = o.Probe.sampleOrEmpty(ctx)
			rep.RSSFromMetrics = c.metricsRSS(ctx)
		}
		if r := c.End(ctx, o.Player.Access, id); r.Status != http.StatusOK {
			return rep, fmt.Errorf("streams: clearing the raid was answered %d %s", r.Status, r.Code)
		}
		// The clear reaches every stream before the next change: give it as long as the
		// change took, so one round's fan-out does not delay the next one's.
		time.Sleep(min(rep.Rounds[round].Max, o.Wait) + time.Second)
	}
	cancel()
	done.Wait()
	return rep, nil
}

func openStream(ctx context.Context, hc *http.Client, u string, cookie *http.Cookie) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("events: %d", resp.StatusCode)
	}
	return resp, nil
}

// readStream notes, for each round, when a status event naming the player who entered
// arrives after that round's change.
func readStream(body io.Reader, nickname string, s *lobbyStream, changeAt []atomic.Int64) {
	br := bufio.NewReaderSize(body, 8<<10)
	inStatus := false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			inStatus = false
		case strings.HasPrefix(line, "event:"):
			inStatus = strings.TrimSpace(line[len("event:"):]) == eventStatusName
		case inStatus && strings.HasPrefix(line, "data:") && strings.Contains(line, nickname):
			now := time.Now().UnixNano()
			for i := range changeAt {
				at := changeAt[i].Load()
				if at != 0 && s.seen[i].Load() == 0 {
					s.seen[i].Store(max(now-at, 1))
				}
			}
		}
	}
}

// eventStatusName is the SSE event the lobby's status panel comes in.
const eventStatusName = "status"

func shownBy(streams []*lobbyStream, round int) int {
	n := 0
	for _, s := range streams {
		if s.seen[round].Load() != 0 {
			n++
		}
	}
	return n
}

func roundOf(streams []*lobbyStream, round, opened int) StreamsRound {
	var h Histogram
	rd := StreamsRound{}
	for _, s := range streams {
		if v := s.seen[round].Load(); v != 0 {
			h.Record(time.Duration(v))
			rd.Shown++
		}
	}
	rd.Missed = opened - rd.Shown
	rd.P50, rd.P99, rd.Max = h.Quantile(0.5), h.Quantile(0.99), h.Max()
	return rd
}

func (p *ResourceProbe) sampleOrEmpty(ctx context.Context) ResourceSample {
	if p == nil {
		return ResourceSample{RSSKiB: -1, HWMKiB: -1, Threads: -1, Goroutines: -1}
	}
	return p.Sample(ctx)
}

// metricsRSS reads process_resident_memory_bytes from the server's /metrics (-1 when absent).
func (c *API) metricsRSS(ctx context.Context) int64 {
	res := c.Do(ctx, http.MethodGet, "/metrics", "", nil, true)
	if res.Status != http.StatusOK {
		return -1
	}
	for _, line := range strings.Split(string(res.Body), "\n") {
		if v, ok := strings.CutPrefix(line, "process_resident_memory_bytes "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return int64(f)
			}
		}
	}
	return -1
}
