package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/bossraid/bossraid/internal/faults"
	"github.com/bossraid/bossraid/internal/loadgen"
)

// Growth slack: at the end, after the load stopped and our connections closed, an instance may
// run at most goroutineSlack goroutines (plus 10 %) more than after the warm-up, and its RSS
// may be at most twice the warm-up's plus rssSlackMiB (Go returns freed memory to the system
// slowly; Argon2id's buffers come and go with sign-ins).
const (
	goroutineSlack = 10
	rssSlackMiB    = 64
	settle         = 20 * time.Second
)

type soak struct {
	w       *world
	tl      *timeline
	o       *oracle
	rnd     *rand.Rand
	signups atomic.Int64
}

func newSoak(w *world) *soak {
	tl := &timeline{}
	return &soak{w: w, tl: tl, o: newOracle(tl), rnd: rand.New(rand.NewPCG(w.o.Seed, 0))}
}

// instanceSample is one instance's goroutines and memory at a quiet moment.
type instanceSample struct {
	pid        int
	goroutines int
	rssKiB     int64
}

func (s *soak) sample(ctx context.Context, i int) instanceSample {
	p := &loadgen.ResourceProbe{PID: s.w.apps[i].PID(), API: s.w.probe[i]}
	r := p.Sample(ctx)
	return instanceSample{pid: p.PID, goroutines: r.Goroutines, rssKiB: r.RSSKiB}
}

func (s *soak) run(ctx context.Context) (*Report, error) {
	w := s.w
	rep := &Report{Options: w.o}

	// Warm up (every kind of request, so the baseline has paid for its pools and buffers),
	// then a quiet moment for the baseline.
	w.logf("warming up for %s", warmUp)
	l := w.startLoad(ctx, s.o, w.o.Seed, &s.signups)
	sleepCtx(ctx, warmUp)
	l.halt()
	sleepCtx(ctx, 2*time.Second)
	for i := range w.apps {
		rep.Before[i] = s.sample(ctx, i)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	w.logf("soak for %s: faults every ~%s", w.o.Duration, w.o.FaultEvery)
	soakStart := time.Now()
	l = w.startLoad(ctx, s.o, w.o.Seed+1, &s.signups)
	s.injectFaults(ctx, soakStart)
	l.halt()
	rep.Soaked = time.Since(soakStart)
	w.logf("load stopped; final checks")

	// Everything is back (injectFaults restores before it returns): the ranking must come to
	// agree with SQL, through the API of each instance and in the Redis set itself.
	final := context.WithoutCancel(ctx)
	rep.RankingAgreedAfter = s.awaitRanking(final)
	s.o.checkRecords(final, w.db, true)

	// Quiet again: growth is judged once goroutines had time to wind down.
	deadline := time.Now().Add(settle)
	for i := range w.apps {
		for {
			rep.After[i] = s.sample(final, i)
			if rep.After[i].goroutines >= 0 && rep.After[i].goroutines <= goroutineLimit(rep.Before[i].goroutines) || time.Now().After(deadline) {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		rep.Started[i] = w.appStarted[i].Sub(soakStart)
		s.checkGrowth(i, rep.Before[i], rep.After[i], rep.Started[i], rep.Soaked)
	}
	s.o.mu.Lock()
	rep.fill(s.o, s.tl)
	s.o.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("chaos: interrupted after %s: %w", rep.Soaked.Round(time.Second), err)
	}
	return rep, nil
}

func goroutineLimit(before int) int { return before + goroutineSlack + before/10 }

func rssLimitKiB(before int64) int64 { return 2*before + rssSlackMiB<<10 }

// checkGrowth compares an instance at the end with the warm-up. An instance whose process was
// started in the second half of the soak is not judged (it says nothing about growth);
// instance 0 always lives longer than that.
func (s *soak) checkGrowth(i int, before, after instanceSample, started, soaked time.Duration) {
	if started > soaked/2 {
		return
	}
	where := fmt.Sprintf("instance %d", i)
	switch {
	case before.goroutines < 0 || after.goroutines < 0:
		s.o.violate("goroutines not measured", fmt.Sprintf("%s: /metrics did not answer go_goroutines (%d, %d)", where, before.goroutines, after.goroutines))
	case after.goroutines > goroutineLimit(before.goroutines):
		s.o.violate("goroutine growth", fmt.Sprintf("%s: %d goroutines after the warm-up, %d at the end (limit %d)",
			where, before.goroutines, after.goroutines, goroutineLimit(before.goroutines)))
	}
	switch {
	case before.rssKiB < 0 || after.rssKiB < 0:
		s.o.violate("memory not measured", where+": /proc gave no VmRSS")
	case after.rssKiB > rssLimitKiB(before.rssKiB):
		s.o.violate("memory growth", fmt.Sprintf("%s: RSS %.1f MiB after the warm-up, %.1f MiB at the end (limit %.1f MiB)",
			where, float64(before.rssKiB)/1024, float64(after.rssKiB)/1024, float64(rssLimitKiB(before.rssKiB))/1024))
	}
}

// injectFaults breaks one process at a time until the soak's time is up: a random pause, a
// random fault held for up to 3 s, the process brought back, the time until every instance
// serves again measured, and the stored records checked. It always restores what it broke,
// also when ctx is cancelled.
func (s *soak) injectFaults(ctx context.Context, soakStart time.Time) {
	w := s.w
	end := soakStart.Add(w.o.Duration)
	for {
		gap := w.o.FaultEvery/2 + time.Duration(s.rnd.Int64N(int64(w.o.FaultEvery)))
		if !sleepCtx(ctx, gap) || time.Now().Add(gap/2).After(end) {
			return
		}
		t, k := pick(s.rnd, time.Since(soakStart), w.o.Duration)
		f := &fault{target: t, kind: k, start: time.Now(), recovered: -1}
		s.tl.add(f)
		restore, err := w.inject(f)
		hold := 500*time.Millisecond + time.Duration(s.rnd.Int64N(int64(2500*time.Millisecond)))
		if k == restart {
			hold = 0
		}
		if err == nil {
			sleepCtx(ctx, hold)
			err = restoreRetrying(restore)
		}
		now := time.Now()
		s.tl.setRestored(f, now)
		if !t.dependency() && (k == kill || k == restart) {
			w.appStarted[t] = now
		}
		if err != nil {
			f.err = err
			s.o.violate("a fault could not be injected or undone", fmt.Sprintf("%s: %v", f, err))
			if !t.dependency() {
				w.apps[t].Kill()
			}
			continue
		}
		if ctx.Err() != nil {
			return // interrupted: restored, not measured
		}
		recovered := w.awaitService(ctx, now, 3*RecoveryBound)
		f.recovered = recovered // read only by the report, after this loop
		switch {
		case recovered < 0:
			s.o.violate("service not back within the recovery bound", fmt.Sprintf("%s: not serving %s after it returned", f, 3*RecoveryBound))
		case recovered > RecoveryBound:
			s.o.violate("service not back within the recovery bound", fmt.Sprintf("%s: serving again %s after it returned", f, recovered.Round(time.Millisecond)))
		}
		w.logf("%s: held %s, serving again %s after", f, hold.Round(time.Millisecond), recovered.Round(time.Millisecond))
		s.o.checkRecords(context.WithoutCancel(ctx), w.db, false)
	}
}

// awaitRanking polls until every instance's ranking (asked as several players) and the Redis
// ranking set agree with SQL rank(), and returns how long that took; a violation when not
// within RankingBound.
func (s *soak) awaitRanking(ctx context.Context) time.Duration {
	w := s.w
	start := time.Now()
	askers := w.creds[:min(len(w.creds), 5)]
	tokens := make([]string, len(askers))
	var last error
	for time.Since(start) < RankingBound {
		last = s.rankingAgrees(ctx, askers, tokens)
		if last == nil {
			return time.Since(start)
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.o.violate("ranking does not agree with SQL rank()", fmt.Sprintf("%s after the last fault: %v", RankingBound, last))
	return -1
}

func (s *soak) rankingAgrees(ctx context.Context, askers []loadgen.Credentials, tokens []string) error {
	w := s.w
	oracle, err := faults.SQLRanking(ctx, w.db)
	if err != nil {
		return err
	}
	for i, api := range w.probe {
		for k, cr := range askers {
			if tokens[k] == "" {
				if tokens[k], _ = api.SignIn(ctx, cr); tokens[k] == "" {
					return fmt.Errorf("cannot sign %s in", cr.Email)
				}
			}
			r := api.Do(ctx, http.MethodGet, "/api/raids/ranking", tokens[k], nil, true)
			if r.Status != http.StatusOK {
				return fmt.Errorf("ranking via instance %d: %d %v", i, r.Status, r.Err)
			}
			if err := oracle.Check(r.Body, w.ids[cr.Email]); err != nil {
				return fmt.Errorf("ranking via instance %d as %s: %w", i, cr.Nickname, err)
			}
		}
	}
	if err := faults.RankingSetAgrees(ctx, w.db, w.rdb); err != nil {
		return errors.New("the Redis ranking set: " + err.Error())
	}
	return nil
}

// sleepCtx sleeps for d or until ctx ends; it reports whether the sleep was whole.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
