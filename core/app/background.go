package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// ReloadBossData reads the boss raid data again from its source and shares it with every
// instance. Bad data is refused and the data in force stays.
func (a *App) ReloadBossData(ctx context.Context) (raids.BossData, error) {
	d, err := a.BossSource.LoadBossData(ctx)
	if err != nil {
		return a.BossData(), fmt.Errorf("reload boss data: %w", err)
	}
	a.boss.Store(&d)
	payload, err := d.MarshalJSON()
	if err == nil {
		a.publish(ctx, ports.Event{Kind: ports.EventBossData, Payload: payload})
	}
	a.Logger.Info("boss data reloaded", "limit", d.TimeLimit, "levels", len(d.Levels))
	return d, nil
}

func (a *App) applyEvent(e ports.Event) {
	if e.Kind != ports.EventBossData {
		return
	}
	d, err := raids.ParseBossData(e.Payload)
	if err != nil {
		a.Logger.Warn("ignoring bad boss data from another instance", "err", err)
		return
	}
	a.boss.Store(&d)
}

// Announce tells every instance's watchers of a change made outside App (the raid queue).
func (a *App) Announce(ctx context.Context, e ports.Event) { a.publish(ctx, e) }

// publish tells this instance's watchers at once and the other instances through Events.
func (a *App) publish(ctx context.Context, e ports.Event) {
	a.changes.broadcast(e)
	if err := a.Events.Publish(ctx, e); err != nil {
		a.Logger.Warn("publishing a change failed; other instances will see it on their next tick", "err", err)
	}
}

// WatchChanges delivers every change seen by this instance until ctx ends. A slow watcher
// misses intermediate events, never the fact that something changed.
func (a *App) WatchChanges(ctx context.Context) <-chan ports.Event {
	return a.changes.watch(ctx)
}

// Run does the background work until ctx ends: relaying other instances' changes and sweeping
// expired raids (tidying only: every read already judges by the deadline). sweepEvery 0
// disables the sweeper.
func (a *App) Run(ctx context.Context, sweepEvery time.Duration) {
	var wg sync.WaitGroup
	wg.Go(func() { a.relayEvents(ctx) })
	if sweepEvery > 0 {
		wg.Go(func() { a.sweep(ctx, sweepEvery) })
	}
	wg.Wait()
}

func (a *App) relayEvents(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		events, err := a.Events.Subscribe(ctx)
		if err != nil {
			a.Logger.Warn("subscribing to changes failed; retrying", "err", err, "in", backoff)
			sleep(ctx, backoff)
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		for e := range events {
			a.applyEvent(e)
			a.changes.broadcast(e)
		}
	}
}

func (a *App) sweep(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := a.Raids.SweepExpired(ctx)
			if err != nil {
				a.Logger.Warn("sweeping expired raids failed", "err", err)
				continue
			}
			if n > 0 {
				a.Metrics.RaidsFailed(n)
				a.publish(ctx, ports.Event{Kind: ports.EventRaid})
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// changeFeed fans events out to this process's watchers (the live lobby streams).
type changeFeed struct {
	mu       sync.Mutex
	watchers map[chan ports.Event]struct{}
}

func (f *changeFeed) watch(ctx context.Context) <-chan ports.Event {
	ch := make(chan ports.Event, 1)
	f.mu.Lock()
	if f.watchers == nil {
		f.watchers = map[chan ports.Event]struct{}{}
	}
	f.watchers[ch] = struct{}{}
	f.mu.Unlock()
	context.AfterFunc(ctx, func() {
		f.mu.Lock()
		delete(f.watchers, ch)
		f.mu.Unlock()
		close(ch)
	})
	return ch
}

func (f *changeFeed) broadcast(e ports.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.watchers {
		select {
		case ch <- e:
		default: // the watcher already has a change pending; it will re-read everything anyway
		}
	}
}
