package eventhub_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/eventhub"
	"github.com/bossraid/bossraid/adapters/memory"
	"github.com/bossraid/bossraid/ports"
)

var quiet = slog.New(slog.DiscardHandler)

// flaky is the shared pub/sub, refusing the first subscriptions as a Redis that is still down.
type flaky struct {
	ports.Events
	refusals atomic.Int64 // subscriptions still to refuse
	tries    atomic.Int64
	ready    chan struct{} // closed once a subscription is made
	once     sync.Once
}

func (f *flaky) Subscribe(ctx context.Context) (<-chan ports.Event, error) {
	f.tries.Add(1)
	if f.refusals.Add(-1) >= 0 {
		return nil, ports.ErrUnavailable
	}
	ch, err := f.Events.Subscribe(ctx)
	if err == nil {
		f.once.Do(func() { close(f.ready) })
	}
	return ch, err
}

// instance is one instance's hub with its relay running.
type instance struct {
	hub   *eventhub.Hub
	mu    sync.Mutex
	heard []ports.Event
}

func (in *instance) heardKinds() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	var kinds []string
	for _, e := range in.heard {
		kinds = append(kinds, e.Kind)
	}
	return kinds
}

func start(t *testing.T, remote ports.Events) *instance {
	t.Helper()
	in := &instance{hub: eventhub.New(remote, quiet)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		in.hub.Run(ctx, func(e ports.Event) {
			in.mu.Lock()
			in.heard = append(in.heard, e)
			in.mu.Unlock()
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return in
}

func receive(t *testing.T, ch <-chan ports.Event, what string) ports.Event {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(5 * time.Second):
		t.Fatalf("no event: %s", what)
		return ports.Event{}
	}
}

func TestAnEventReachesThisInstanceAtOnceAndTheOthersThroughTheRelay(t *testing.T) {
	shared := &flaky{Events: memory.NewEvents(), ready: make(chan struct{})}
	shared.refusals.Store(2) // the other instance's relay must retry before it hears anything
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	here := eventhub.New(shared, quiet) // this instance's relay is not even running
	mine := here.Watch(ctx)
	other := start(t, shared)
	theirs := other.hub.Watch(ctx)
	<-shared.ready
	if n := shared.tries.Load(); n != 3 {
		t.Fatalf("subscriptions tried %d, want 2 refused and 1 made", n)
	}

	here.Publish(ctx, ports.Event{Kind: ports.EventBossData, Payload: []byte(`{}`)})
	if e := receive(t, mine, "on the publishing instance"); e.Kind != ports.EventBossData {
		t.Fatalf("here: %+v", e)
	}
	if e := receive(t, theirs, "on the other instance"); e.Kind != ports.EventBossData || string(e.Payload) != `{}` {
		t.Fatalf("there: %+v", e)
	}
	if got := other.heardKinds(); len(got) != 1 || got[0] != ports.EventBossData {
		t.Fatalf("the other instance's hook heard %v", got)
	}
}

func TestAWatcherThatEndsIsClosedAndASlowOneKeepsOnePending(t *testing.T) {
	h := eventhub.New(memory.NewEvents(), quiet)
	ctx, cancel := context.WithCancel(context.Background())
	slow := h.Watch(context.Background())
	gone := h.Watch(ctx)
	cancel()
	receive(t, closedOrEvent(gone), "the ended watcher's channel to close")
	for range 3 {
		h.Publish(context.Background(), ports.Event{Kind: ports.EventRaid})
	}
	if e := receive(t, slow, "the slow watcher's pending event"); e.Kind != ports.EventRaid {
		t.Fatalf("slow watcher: %+v", e)
	}
	select {
	case e := <-slow:
		t.Fatalf("a second pending event %+v: a slow watcher keeps one", e)
	default:
	}
}

// closedOrEvent sends one event once ch is closed, so receive can wait for the close.
func closedOrEvent(ch <-chan ports.Event) <-chan ports.Event {
	out := make(chan ports.Event, 1)
	go func() {
		for range ch {
		}
		out <- ports.Event{Kind: "closed"}
	}()
	return out
}
