package memory

import (
	"context"
	"slices"
	"sync"

	"github.com/bossraid/bossraid/ports"
)

// eventBuffer is how far a subscriber may fall behind before it misses events, as a slow
// Redis subscriber would.
const eventBuffer = 64

// Events is ports.Events within one process: every subscriber gets every event published
// after it subscribed, in order, unless it falls more than a buffer behind.
type Events struct {
	mu          sync.Mutex
	subscribers map[chan ports.Event]struct{}
}

var _ ports.Events = (*Events)(nil)

// NewEvents returns a fan-out with no subscribers.
func NewEvents() *Events {
	return &Events{subscribers: map[chan ports.Event]struct{}{}}
}

// Publish hands e to every subscriber without waiting for any of them.
func (ev *Events) Publish(ctx context.Context, e ports.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.Payload = slices.Clone(e.Payload) // subscribers must not share the publisher's bytes
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for ch := range ev.subscribers {
		select {
		case ch <- e:
		default:
		}
	}
	return nil
}

// Subscribe delivers events until ctx ends, then closes the channel.
func (ev *Events) Subscribe(ctx context.Context) (<-chan ports.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ch := make(chan ports.Event, eventBuffer)
	ev.mu.Lock()
	ev.subscribers[ch] = struct{}{}
	ev.mu.Unlock()
	context.AfterFunc(ctx, func() {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		delete(ev.subscribers, ch)
		close(ch)
	})
	return ch, nil
}
