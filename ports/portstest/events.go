package portstest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/bossraid/bossraid/ports"
)

// eventWait bounds how long an event may take to arrive.
const eventWait = 3 * time.Second

// RunEvents runs the contract of ports.Events. newEvents is called once per subtest and returns
// two handles on one fan-out: events published through the first reach subscriptions made
// through the second (for Redis, two instances with their own clients).
func RunEvents(t *testing.T, newEvents func(t *testing.T) (publisher, subscriber ports.Events)) {
	t.Run("every subscriber gets every event in order", func(t *testing.T) {
		pub, sub := newEvents(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		first, second := subscribe(t, ctx, sub), subscribe(t, ctx, sub)
		binary := make([]byte, 256)
		for i := range binary {
			binary[i] = byte(i)
		}
		sent := []ports.Event{
			{Kind: ports.EventRaid},
			{Kind: ports.EventBossData, Payload: []byte(`{"bossRaids":[]}`)},
			{Kind: ports.EventRaid, Payload: binary},
		}
		for _, e := range sent {
			if err := pub.Publish(ctx, e); err != nil {
				t.Fatalf("Publish: %v", err)
			}
		}
		for _, ch := range []<-chan ports.Event{first, second} {
			for _, want := range sent {
				got := receive(t, ch)
				if got.Kind != want.Kind || !bytes.Equal(got.Payload, want.Payload) {
					t.Fatalf("received %q %q, want %q %q", got.Kind, got.Payload, want.Kind, want.Payload)
				}
			}
		}
	})

	t.Run("the channel closes when the subscriber's context ends", func(t *testing.T) {
		_, sub := newEvents(t)
		ctx, cancel := context.WithCancel(context.Background())
		ch := subscribe(t, ctx, sub)
		cancel()
		deadline := time.After(eventWait)
		for {
			select {
			case _, open := <-ch:
				if !open {
					return
				}
			case <-deadline:
				t.Fatal("the channel is still open after its context ended")
			}
		}
	})

	t.Run("subscribing with an ended context delivers nothing", func(t *testing.T) {
		_, sub := newEvents(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ch, err := sub.Subscribe(ctx)
		if err != nil {
			return
		}
		select {
		case _, open := <-ch:
			if open {
				t.Fatal("an event arrived on a subscription whose context had ended")
			}
		case <-time.After(eventWait):
			t.Fatal("the channel of an ended context stays open")
		}
	})

	t.Run("a subscriber that does not read holds up no publisher", func(t *testing.T) {
		pub, sub := newEvents(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_ = subscribe(t, ctx, sub)
		done := make(chan error, 1)
		go func() {
			for range 500 {
				if err := pub.Publish(ctx, ports.Event{Kind: ports.EventRaid}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Publish: %v", err)
			}
		case <-time.After(eventWait):
			t.Fatal("publishing blocked behind a subscriber that does not read")
		}
	})
}

func subscribe(t *testing.T, ctx context.Context, ev ports.Events) <-chan ports.Event {
	t.Helper()
	ch, err := ev.Subscribe(ctx)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	return ch
}

func receive(t *testing.T, ch <-chan ports.Event) ports.Event {
	t.Helper()
	select {
	case e, open := <-ch:
		if !open {
			t.Fatal("the subscription closed before the event arrived")
		}
		return e
	case <-time.After(eventWait):
		t.Fatal("no event arrived")
	}
	return ports.Event{}
}
