// Package eventhub is the one way events (ports.Event: what players watching the lobby care
// about) travel: a published event reaches this instance's watchers at once and the other
// instances through ports.Events, and the other instances' events reach this one's watchers
// through Run's relay, which reconnects with a backoff whenever the subscription breaks.
package eventhub

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/bossraid/bossraid/ports"
)

// The relay's reconnect backoff: it starts short and doubles up to a ceiling.
const (
	firstBackoff = 100 * time.Millisecond
	maxBackoff   = 5 * time.Second
)

// Hub is the instance's event hub. Build it with New and run Run; it is safe for concurrent use.
type Hub struct {
	remote ports.Events
	log    *slog.Logger

	mu       sync.Mutex
	watchers map[chan ports.Event]struct{}
}

var _ ports.EventPublisher = (*Hub)(nil)

// New returns a hub that reaches the other instances through remote.
func New(remote ports.Events, log *slog.Logger) *Hub {
	return &Hub{remote: remote, log: log, watchers: map[chan ports.Event]struct{}{}}
}

// Publish tells this instance's watchers at once and the other instances through remote. A
// failure to reach them is logged: their lobbies catch up on their next recheck.
func (h *Hub) Publish(ctx context.Context, e ports.Event) {
	h.broadcast(e)
	if err := h.remote.Publish(ctx, e); err != nil {
		h.log.Warn("publishing an event failed; other instances will see it on their next recheck", "err", err)
	}
}

// Watch delivers every event seen by this instance until ctx ends, then closes the channel. A
// slow watcher misses intermediate events, never the fact that something happened.
func (h *Hub) Watch(ctx context.Context) <-chan ports.Event {
	ch := make(chan ports.Event, 1)
	h.mu.Lock()
	h.watchers[ch] = struct{}{}
	h.mu.Unlock()
	context.AfterFunc(ctx, func() {
		h.mu.Lock()
		delete(h.watchers, ch)
		h.mu.Unlock()
		close(ch)
	})
	return ch
}

func (h *Hub) broadcast(e ports.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.watchers {
		select {
		case ch <- e:
		default: // the watcher already has an event pending; it re-reads everything anyway
		}
	}
}

// Run relays the events every instance publishes (this one's included) until ctx ends: each
// goes to heard first (new boss data must be in force before the lobby re-reads), then to
// this instance's watchers. A broken subscription is made again, after a growing pause while
// it keeps failing.
func (h *Hub) Run(ctx context.Context, heard func(ports.Event)) {
	backoff := firstBackoff
	for ctx.Err() == nil {
		events, err := h.remote.Subscribe(ctx)
		if err != nil {
			h.log.Warn("subscribing to events failed; retrying", "err", err, "in", backoff)
			sleep(ctx, backoff)
			backoff = min(backoff*2, maxBackoff)
			continue
		}
		backoff = firstBackoff
		for e := range events {
			heard(e)
			h.broadcast(e)
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
