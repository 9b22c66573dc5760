package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ResourceProbe watches the server process while a run lasts: its resident memory (from
// /proc, so the server must run on this machine) and its goroutines (from the Prometheus
// /metrics endpoint, when the server has one).
type ResourceProbe struct {
	PID    int
	API    *API
	Settle time.Duration // at most this long after the load for goroutines to wind down (default 15 s)

	mu      sync.Mutex
	stop    chan struct{}
	done    chan struct{}
	maxRSS  int64
	samples int
	before  ResourceSample
}

// ResourceSample is the server at one moment; -1 for what could not be read.
type ResourceSample struct {
	RSSKiB     int64
	HWMKiB     int64 // the kernel's peak RSS of the process
	Threads    int
	Goroutines int
}

// ResourceReport is the server before, during and after the load.
type ResourceReport struct {
	Before, After ResourceSample
	MaxRSSKiB     int64 // largest RSS sampled every 100 ms during the run
	Samples       int
}

// Sample reads the server's figures now.
func (p *ResourceProbe) Sample(ctx context.Context) ResourceSample {
	s := ResourceSample{RSSKiB: -1, HWMKiB: -1, Threads: -1, Goroutines: -1}
	if p.PID > 0 {
		if f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.PID)); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				k, v, _ := strings.Cut(sc.Text(), ":")
				fields := strings.Fields(v)
				if len(fields) == 0 {
					continue
				}
				n, _ := strconv.ParseInt(fields[0], 10, 64)
				switch k {
				case "VmRSS":
					s.RSSKiB = n
				case "VmHWM":
					s.HWMKiB = n
				case "Threads":
					s.Threads = int(n)
				}
			}
			_ = f.Close()
		}
	}
	if p.API != nil {
		s.Goroutines = p.readGoroutines(ctx)
	}
	return s
}

func (p *ResourceProbe) readGoroutines(ctx context.Context) int {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.API.Base.String()+"/metrics", nil)
	if err != nil {
		return -1
	}
	resp, err := p.API.Client.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return -1
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return int(n)
			}
		}
	}
	return -1
}

// Start takes the "before" sample and samples RSS every 100 ms until Finish. Starting a
// probe that runs already does nothing.
func (p *ResourceProbe) Start(ctx context.Context) {
	if p.stop != nil {
		return
	}
	p.before = p.Sample(ctx)
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				s := (&ResourceProbe{PID: p.PID}).Sample(ctx)
				p.mu.Lock()
				p.maxRSS = max(p.maxRSS, s.RSSKiB)
				p.samples++
				p.mu.Unlock()
			}
		}
	}()
}

// Finish stops sampling, waits for the server to settle and takes the "after" sample.
func (p *ResourceProbe) Finish(ctx context.Context) ResourceReport {
	close(p.stop)
	<-p.done
	p.stop = nil
	settle := p.Settle
	if settle == 0 {
		settle = 15 * time.Second // sign-ins queued for Argon2id can take that long to drain
	}
	// Idle keep-alive connections hold a goroutine each on the server: close ours first.
	if p.API != nil {
		p.API.Client.CloseIdleConnections()
	}
	after := p.Sample(ctx)
	deadline := time.Now().Add(settle)
	for after.Goroutines > p.before.Goroutines+5 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		after = p.Sample(ctx)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return ResourceReport{Before: p.before, After: after, MaxRSSKiB: max(p.maxRSS, after.RSSKiB), Samples: p.samples}
}

// Print writes the resource figures.
func (r ResourceReport) Print(w io.Writer) {
	mib := func(kib int64) string {
		if kib < 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.1f MiB", float64(kib)/1024)
	}
	num := func(n int) string {
		if n < 0 {
			return "n/a"
		}
		return strconv.Itoa(n)
	}
	fmt.Fprintf(w, "\nserver: RSS before %s, max during %s (%d samples), after %s, kernel peak (VmHWM) %s\n",
		mib(r.Before.RSSKiB), mib(r.MaxRSSKiB), r.Samples, mib(r.After.RSSKiB), mib(r.After.HWMKiB))
	fmt.Fprintf(w, "server: goroutines before %s, after the load %s; threads before %s, after %s\n",
		num(r.Before.Goroutines), num(r.After.Goroutines), num(r.Before.Threads), num(r.After.Threads))
}
