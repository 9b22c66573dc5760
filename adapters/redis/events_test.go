package redis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/redis"
	"github.com/bossraid/bossraid/internal/testenv"
	"github.com/bossraid/bossraid/ports"
	"github.com/bossraid/bossraid/ports/portstest"
)

// Publisher and subscriber have clients of their own, as two instances of the app do.
func TestEventsContract(t *testing.T) {
	portstest.RunEvents(t, func(t *testing.T) (ports.Events, ports.Events) {
		return redis.NewEvents(openClient(t)), redis.NewEvents(openClient(t))
	})
}

// When Redis drops the subscriber's connection the channel closes, so the app subscribes
// again instead of waiting forever on a dead subscription.
func TestSubscriptionClosesWhenTheConnectionBreaks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	name := fmt.Sprintf("bossraid-test-sub-%d", time.Now().UnixNano())
	sub := openNamedClient(t, name)
	ch, err := redis.NewEvents(sub).Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	killConnections(t, name) // only ours: other test packages share this Redis
	select {
	case _, open := <-ch:
		if open {
			t.Fatal("an event arrived instead of the close")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the subscription stayed open after Redis dropped it")
	}
	// Subscribing again works, and events flow.
	ch, err = redis.NewEvents(sub).Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := redis.NewEvents(testClient).Publish(ctx, ports.Event{Kind: ports.EventRaid}); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-ch:
		if e.Kind != ports.EventRaid {
			t.Fatalf("got %+v", e)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no event after subscribing again")
	}
}

func killConnections(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	list, err := testClient.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		var id string
		for _, field := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(field, "id="); ok {
				id = v
			}
			if field == "name="+name && id != "" {
				if err := testClient.ClientKillByFilter(ctx, "ID", id).Err(); err != nil {
					t.Fatal(err)
				}
				killed++
			}
		}
	}
	if killed == 0 {
		t.Fatalf("no connection named %s to kill", name)
	}
}

// Pub/sub ignores database numbers: deployments sharing a Redis on different databases must
// not hear each other (a boss data reload of one would change the other's levels).
func TestEventsStayWithinTheirDatabase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	other, err := redis.Open(ctx, testenv.RedisURLFor(redisDB+5))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ours := redis.NewEvents(openClient(t))
	heard, err := ours.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := redis.NewEvents(other).Publish(ctx, ports.Event{Kind: ports.EventBossData, Payload: []byte("other")}); err != nil {
		t.Fatal(err)
	}
	if err := ours.Publish(ctx, ports.Event{Kind: ports.EventRaid}); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-heard:
		if e.Kind != ports.EventRaid {
			t.Fatalf("heard %+v from another database", e)
		}
	case <-ctx.Done():
		t.Fatal("our own event never arrived")
	}
}
