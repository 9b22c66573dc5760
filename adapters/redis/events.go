package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bossraid/bossraid/ports"
)

// eventsChannel is the channel of the client's database: pub/sub ignores database numbers,
// so deployments (or test packages) sharing one Redis on different databases must not hear
// each other's boss data reloads and raid changes. Redis Cluster has database 0 only, and
// carries PUBLISH to every node, so a subscriber on any node hears every instance.
func eventsChannel(c goredis.UniversalClient) string {
	db := 0
	if one, ok := c.(*goredis.Client); ok { // one server, or the primary behind Sentinels
		db = one.Options().DB
	}
	return fmt.Sprintf("%sevents:db%d", keyPrefix, db)
}

// A quiet subscription is pinged this often; a ping left unanswered for as long means the
// connection died without closing.
const eventsHealthCheck = 5 * time.Second

// Events is ports.Events on one Redis pub/sub channel. Delivery is at most once: a
// subscriber that is disconnected misses what was published meanwhile, and learns of the
// break because its channel closes.
type Events struct {
	c           goredis.UniversalClient
	channel     string
	healthCheck time.Duration
}

var _ ports.Events = (*Events)(nil)

// NewEvents returns the fan-out of lobby changes through c.
func NewEvents(c goredis.UniversalClient) *Events {
	return &Events{c: c, channel: eventsChannel(c), healthCheck: eventsHealthCheck}
}

type eventMessage struct {
	Kind    string `json:"kind"`
	Payload []byte `json:"payload,omitempty"`
}

// Publish sends e to every subscriber on every instance, this one included.
func (ev *Events) Publish(ctx context.Context, e ports.Event) error {
	msg, err := json.Marshal(eventMessage(e))
	if err != nil {
		return fmt.Errorf("redis: encode event: %w", err)
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	pub := ev.c
	if cluster, ok := ev.c.(*goredis.ClusterClient); ok {
		// go-redis sends a keyless PUBLISH to any node, and the cluster relays it from there:
		// two events published one after the other could overtake each other on the way.
		// The node that owns the channel's slot is the one subscribers listen on.
		node, err := cluster.MasterForKey(ctx, ev.channel)
		if err != nil {
			return mapErr(err)
		}
		pub = node
	}
	return mapErr(pub.Publish(ctx, ev.channel, msg).Err())
}

// Subscribe returns once Redis has confirmed the subscription, so every event published
// after it returns is delivered. The channel closes when ctx ends or the subscription breaks;
// the caller subscribes again.
func (ev *Events) Subscribe(ctx context.Context) (<-chan ports.Event, error) {
	ps, err := ev.subscribe(ctx)
	if err != nil {
		return nil, err
	}
	out := make(chan ports.Event, 16)
	go ev.relay(ctx, ps, out)
	return out, nil
}

func (ev *Events) subscribe(ctx context.Context) (*goredis.PubSub, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	bctx, cancel := bounded(ctx)
	defer cancel()
	ps := ev.c.Subscribe(bctx, ev.channel)
	msg, err := ps.ReceiveTimeout(bctx, callTimeout)
	if err == nil {
		if _, ok := msg.(*goredis.Subscription); !ok {
			err = fmt.Errorf("redis: unexpected %T while subscribing", msg)
		}
	}
	if err != nil {
		_ = ps.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, mapErr(err)
	}
	return ps, nil
}

func (ev *Events) relay(ctx context.Context, ps *goredis.PubSub, out chan<- ports.Event) {
	defer close(out)
	defer ps.Close()
	// Closing the subscription is what interrupts a blocked read when ctx ends.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, ev.healthCheck)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if !isTimeout(err) || pinged {
				return
			}
			if ps.Ping(ctx) != nil {
				return
			}
			pinged = true
			continue
		}
		pinged = false
		m, ok := msg.(*goredis.Message)
		if !ok {
			continue // pong or subscription notice
		}
		var e eventMessage
		if json.Unmarshal([]byte(m.Payload), &e) != nil || e.Kind == "" {
			continue // not ours; someone else shares the channel name
		}
		select {
		case out <- ports.Event(e):
		case <-ctx.Done():
			return
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
