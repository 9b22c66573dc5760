package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// target is a process the soak breaks.
type target int

const (
	app0 target = iota
	app1
	redisTarget
	postgresTarget
)

func (t target) String() string {
	switch t {
	case app0:
		return "instance 0"
	case app1:
		return "instance 1"
	case redisTarget:
		return "Redis"
	}
	return "Postgres"
}

// dependency reports whether every instance needs t (Redis, Postgres) rather than being t.
func (t target) dependency() bool { return t == redisTarget || t == postgresTarget }

// kind is how a process is broken.
type kind string

const (
	kill    kind = "SIGKILL, then start again"
	freeze  kind = "SIGSTOP, then SIGCONT"
	restart kind = "stop and start again" // apps and Redis: SIGTERM; Postgres: immediate shutdown
)

var kinds = []kind{kill, freeze, restart}

// fault is one injected fault and what came of it.
type fault struct {
	target   target
	kind     kind
	start    time.Time // just before the signal
	restored time.Time // when the process was back (zero while it is not)
	// recovered is how long after restored every instance answered again (a readiness check and
	// a request that needs Postgres, in one probe); -1 when they did not within the probe's bound.
	recovered time.Duration
	err       error // a fault that could not be injected or undone
}

func (f *fault) String() string { return fmt.Sprintf("%s: %s", f.target, f.kind) }

// timeline records every fault, so each answer can be judged by what was broken meanwhile.
type timeline struct {
	mu     sync.Mutex
	faults []*fault
}

func (tl *timeline) add(f *fault) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.faults = append(tl.faults, f)
}

func (tl *timeline) setRestored(f *fault, at time.Time) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	f.restored = at
}

// excuses reports whether a failed answer of instance, in flight from sent to answered, met a
// fault that explains it: of that instance itself or of a dependency, broken at some moment of
// the request, or returned less than RecoveryBound before it was sent.
func (tl *timeline) excuses(instance int, sent, answered time.Time) bool {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	for _, f := range tl.faults {
		if !f.target.dependency() && int(f.target) != instance {
			continue
		}
		if f.start.After(answered) {
			continue
		}
		if f.restored.IsZero() || !f.restored.Add(RecoveryBound).Before(sent) {
			return true
		}
	}
	return false
}

func (tl *timeline) all() []*fault {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	out := make([]*fault, len(tl.faults))
	copy(out, tl.faults)
	return out
}

// pick chooses the next fault. Instance 0 is killed or restarted only in the first third of
// the soak, so it lives through most of it and its goroutines and memory at the end say
// something about growth; it is frozen at any time.
func pick(rnd *rand.Rand, elapsed, total time.Duration) (target, kind) {
	for {
		t := target(rnd.IntN(4))
		k := kinds[rnd.IntN(len(kinds))]
		if t == app0 && k != freeze && elapsed > total/3 {
			continue
		}
		return t, k
	}
}

// inject breaks f's process and returns the function that brings it back.
func (w *world) inject(f *fault) (restore func() error, err error) {
	switch f.target {
	case app0, app1:
		a := w.apps[f.target]
		switch f.kind {
		case kill:
			a.Kill()
			return a.Restart, nil
		case freeze:
			return a.Thaw, a.Freeze()
		case restart:
			a.Terminate(10 * time.Second)
			return a.Restart, nil
		}
	case redisTarget:
		return breakServer(w.redis, f.kind)
	case postgresTarget:
		return breakServer(w.pg, f.kind)
	}
	return nil, fmt.Errorf("no such fault %s", f)
}

// server is a dependency the soak breaks: faults.Redis or faults.Postgres.
type server interface {
	Start() error
	Stop() error // Redis: SIGTERM; Postgres: immediate shutdown
	Kill() error
	Freeze() error
	Thaw() error
}

func breakServer(s server, k kind) (restore func() error, err error) {
	switch k {
	case kill:
		return s.Start, s.Kill()
	case freeze:
		return s.Thaw, s.Freeze()
	case restart:
		return s.Start, s.Stop()
	}
	return nil, fmt.Errorf("no such fault %s", k)
}

// restoreRetrying brings a process back, trying again for a while: a start can fail while the
// port is still held by what was killed.
func restoreRetrying(restore func() error) error {
	var err error
	for range 5 {
		if err = restore(); err == nil {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return err
}

// awaitService probes every instance every 50 ms until each has answered /readyz with 200
// (Postgres and Redis reachable) and a player's history (a Postgres read) with 200, and
// returns how long that took from since; -1 when not within bound.
func (w *world) awaitService(ctx context.Context, since time.Time, bound time.Duration) time.Duration {
	prober := w.creds[len(w.creds)-1]
	ready := [2]bool{}
	deadline := since.Add(bound)
	for ctx.Err() == nil {
		all := true
		for i, api := range w.probe {
			if ready[i] {
				continue
			}
			if r := api.Do(ctx, http.MethodGet, "/readyz", "", nil, false); r.Status != http.StatusOK {
				all = false
				continue
			}
			if w.proberAccess == "" {
				if w.proberAccess, _ = api.SignIn(ctx, prober); w.proberAccess == "" {
					all = false
					continue
				}
			}
			r := api.Do(ctx, http.MethodGet, "/api/users/search/"+url.PathEscape(prober.Nickname)+"?limit=1", w.proberAccess, nil, false)
			if r.Status == http.StatusUnauthorized {
				w.proberAccess = ""
			}
			if r.Status != http.StatusOK {
				all = false
				continue
			}
			ready[i] = true
		}
		if all {
			return time.Since(since)
		}
		if time.Now().After(deadline) {
			return -1
		}
		time.Sleep(50 * time.Millisecond)
	}
	return -1
}
