// Package redis holds the Redis adapters: the ranking set, the sign-in throttle counters and
// the live-update fan-out. Everything kept here can be rebuilt from Postgres, so every network
// failure becomes ports.ErrUnavailable and the core falls back instead of waiting.
//
// The Lua scripts touch keys they read from other keys (the rebuild's build key), so the
// adapters need a single Redis server, not Redis Cluster. Redis must not evict keys that have
// no expiry (maxmemory-policy noeviction or volatile-*): the ranking set has none, and losing
// it without its ready marker would look like an empty ranking.
package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bossraid/bossraid/ports"
)

// keyPrefix lets the app share a Redis with others.
const keyPrefix = "bossraid:"

// Short limits: a slow Redis must cost a fallback, not a stuck request.
const (
	dialTimeout    = time.Second
	ioTimeout      = time.Second
	poolTimeout    = time.Second
	commandRetries = 1
	// callTimeout bounds one adapter call whatever go-redis does inside it: against a Redis
	// that accepts connections but never answers, a pipeline with its retries and connection
	// handshake would otherwise take about four read timeouts.
	callTimeout = 1500 * time.Millisecond
)

// bounded is ctx limited to one call's time.
func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, callTimeout)
}

// Open connects to the Redis at url (redis://[user:pass@]host:port/db; query options such as
// dial_timeout override the short defaults) and pings it. A bad URL is an error of its own.
// When Redis does not answer, Open returns the client together with an error wrapping
// ports.ErrUnavailable: the client reconnects by itself, so the caller may start degraded.
func Open(ctx context.Context, url string) (*goredis.Client, error) {
	opts, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: invalid REDIS_URL: %w", err)
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = dialTimeout
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = ioTimeout
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = ioTimeout
	}
	if opts.PoolTimeout == 0 {
		opts.PoolTimeout = poolTimeout
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = commandRetries
	}
	// go-redis retries each dial 5 times by default; one command retry is enough here.
	if opts.DialerRetries == 0 {
		opts.DialerRetries = 1
	}
	if opts.MaxRetryBackoff == 0 {
		opts.MaxRetryBackoff = 100 * time.Millisecond
	}
	opts.ContextTimeoutEnabled = true
	c := goredis.NewClient(opts)
	if err := Ping(ctx, c); err != nil {
		return c, fmt.Errorf("redis at %s: %w", opts.Addr, err)
	}
	return c, nil
}

// Ping reports whether Redis answers, for readiness checks.
func Ping(ctx context.Context, c *goredis.Client) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return mapErr(c.Ping(ctx).Err())
}

// LogTo sends go-redis's own messages (one per failed dial while Redis is down) to log at
// debug level: the app already reports each failure once, with its context. It is global to
// go-redis, so call it once at start.
func LogTo(log *slog.Logger) {
	goredis.SetLogger(redisLog{log})
}

type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}

// mapErr is the one place that decides which Redis failures mean "unavailable". redis.Nil
// (no such key) and the caller's own cancellation pass through unchanged, and so does a
// reply error that points at a bug in the command (WRONGTYPE, syntax), so it is not retried
// as if Redis were down.
func mapErr(err error) error {
	switch {
	case err == nil, errors.Is(err, goredis.Nil), errors.Is(err, context.Canceled):
		return err
	case isReplyError(err) && !isTransientReply(err):
		return fmt.Errorf("redis: %w", err)
	}
	// Timeouts, refused or reset connections, a closed client or pool, a loading server.
	return fmt.Errorf("redis: %w: %w", ports.ErrUnavailable, err)
}

func isReplyError(err error) bool {
	var re goredis.Error
	return errors.As(err, &re)
}

func isTransientReply(err error) bool {
	return goredis.IsLoadingError(err) || goredis.IsReadOnlyError(err) ||
		goredis.IsMasterDownError(err) || goredis.IsTryAgainError(err) ||
		goredis.IsClusterDownError(err) || goredis.IsMaxClientsError(err) ||
		goredis.IsOOMError(err) || goredis.IsNoReplicasError(err)
}
