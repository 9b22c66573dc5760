// Package redis holds the Redis adapters: the ranking set, the sign-in throttle counters and
// the live-update fan-out. Everything kept here can be rebuilt from Postgres, so every network
// failure becomes ports.ErrUnavailable and the core falls back instead of waiting.
//
// REDIS_URL may name one server, a Sentinel-managed primary or a Redis Cluster (see ParseURL).
// Every key a script or transaction touches together shares one hash tag, so all of it works
// in Cluster mode, and nothing needs a database number other than 0 there. Redis must not
// evict keys that have no expiry (maxmemory-policy noeviction or volatile-*): the ranking set
// has none, and losing it without its ready marker would look like an empty ranking.
package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
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

// Mode is how REDIS_URL reaches Redis.
type Mode int

// The three ways to reach Redis.
const (
	Single   Mode = iota // one server (or a proxy in front of several)
	Sentinel             // a primary and replicas watched by Sentinels
	Cluster              // Redis Cluster (database 0 only)
)

func (m Mode) String() string {
	switch m {
	case Sentinel:
		return "sentinel"
	case Cluster:
		return "cluster"
	}
	return "single"
}

// Target is a parsed REDIS_URL.
type Target struct {
	Mode Mode
	// Addrs are the server, the Sentinels or the cluster nodes to start from.
	Addrs []string
	// MasterName is the primary the Sentinels watch (Sentinel mode).
	MasterName string
	// DB is the database number (always 0 in Cluster mode).
	DB int

	single   *goredis.Options
	failover *goredis.FailoverOptions
	cluster  *goredis.ClusterOptions
}

// clusterParam selects Cluster mode; go-redis itself does not know it, so it is taken off
// before the URL is parsed.
const clusterParam = "cluster"

// ParseURL reads REDIS_URL in one of three forms (go-redis's own URL syntax for each):
//
//	redis://[user:pass@]host:port/db                          one server
//	redis://[s-user:s-pass@]s1:26379/db?master_name=NAME&addr=s2:26379[&password=P]
//	                                                          Sentinel: the host and each addr are Sentinels
//	redis://[user:pass@]h1:7000?cluster=true[&addr=h2:7001]   Cluster: any nodes to start from
//
// rediss:// turns on TLS in each; query options such as dial_timeout override the short
// defaults. master_name selects Sentinel, cluster=true selects Cluster.
func ParseURL(raw string) (Target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Target{}, errors.New("not a URL")
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return Target{}, fmt.Errorf("want a redis:// or rediss:// URL, not %q", u.Scheme+"://")
	}
	q := u.Query()
	isCluster := q.Has(clusterParam)
	if isCluster {
		if v := q.Get(clusterParam); v != "true" {
			return Target{}, fmt.Errorf("cluster=%q: write cluster=true for Redis Cluster, or leave it out", v)
		}
		q.Del(clusterParam)
		u.RawQuery = q.Encode()
	}
	switch {
	case isCluster && q.Has("master_name"):
		return Target{}, errors.New("both cluster=true and master_name: Redis Cluster has no Sentinel master name")
	case isCluster:
		if db := strings.Trim(u.Path, "/"); db != "" && db != "0" {
			return Target{}, fmt.Errorf("database %q: Redis Cluster has only database 0 (end the URL with /0 or nothing)", db)
		}
		o, err := goredis.ParseClusterURL(u.String())
		if err != nil {
			return Target{}, fmt.Errorf("cluster URL: %w", err)
		}
		return Target{Mode: Cluster, Addrs: o.Addrs, cluster: o}, nil
	case q.Has("master_name"):
		o, err := goredis.ParseFailoverURL(u.String())
		if err != nil {
			return Target{}, fmt.Errorf("failover (Sentinel) URL: %w", err)
		}
		if o.MasterName == "" {
			return Target{}, errors.New("master_name is empty: name the primary the Sentinels watch")
		}
		return Target{Mode: Sentinel, Addrs: o.SentinelAddrs, MasterName: o.MasterName, DB: o.DB, failover: o}, nil
	case q.Has("addr"):
		return Target{}, errors.New("several addresses (addr=) but no mode: add master_name=NAME for Sentinel or cluster=true for Redis Cluster")
	}
	o, err := goredis.ParseURL(u.String())
	if err != nil {
		return Target{}, err
	}
	return Target{Mode: Single, Addrs: []string{o.Addr}, DB: o.DB, single: o}, nil
}

// String names what the target reaches, for logs (never a password).
func (t Target) String() string {
	addrs := strings.Join(t.Addrs, ",")
	switch t.Mode {
	case Sentinel:
		return fmt.Sprintf("Sentinel master %q via %s, db %d", t.MasterName, addrs, t.DB)
	case Cluster:
		return "Redis Cluster via " + addrs
	}
	return fmt.Sprintf("%s db %d", addrs, t.DB)
}

// limits are the client settings Open shortens unless the URL sets them.
// limits points at one go-redis options struct's connection settings (the single, Sentinel
// and Cluster options name them alike), so one apply sets them for any mode.
type limits struct {
	dial, read, write, pool, backoff *time.Duration
	retries, dialerRetries           *int
	contextTimeout                   *bool
	onConnect                        *func(context.Context, *goredis.Conn) error
}

func (l limits) apply() {
	*l.contextTimeout = true
	*l.onConnect = newPrimaryWatch().onConnect
	for _, d := range []struct {
		p   *time.Duration
		def time.Duration
	}{{l.dial, dialTimeout}, {l.read, ioTimeout}, {l.write, ioTimeout}, {l.pool, poolTimeout}, {l.backoff, 100 * time.Millisecond}} {
		if *d.p == 0 {
			*d.p = d.def
		}
	}
	if *l.retries == 0 {
		*l.retries = commandRetries
	}
	// go-redis retries each dial 5 times by default; one command retry is enough here.
	if *l.dialerRetries == 0 {
		*l.dialerRetries = 1
	}
}

// Open connects to REDIS_URL (see ParseURL) and pings it. A bad URL is an error of its own.
// When Redis does not answer, Open returns the client together with an error wrapping
// ports.ErrUnavailable: the client reconnects by itself, so the caller may start degraded.
// Every new connection checks which server it reached: a primary that changed (a Sentinel
// failover, a restart) may have lost the last writes, so the ranking is rebuilt.
func Open(ctx context.Context, url string) (goredis.UniversalClient, error) {
	t, err := ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: invalid REDIS_URL: %w", err)
	}
	var c goredis.UniversalClient
	switch t.Mode {
	case Sentinel:
		o := t.failover
		limits{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetryBackoff,
			&o.MaxRetries, &o.DialerRetries, &o.ContextTimeoutEnabled, &o.OnConnect}.apply()
		c = goredis.NewFailoverClient(o)
	case Cluster:
		o := t.cluster
		limits{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetryBackoff,
			&o.MaxRetries, &o.DialerRetries, &o.ContextTimeoutEnabled, &o.OnConnect}.apply()
		c = goredis.NewClusterClient(o)
	default:
		o := t.single
		limits{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetryBackoff,
			&o.MaxRetries, &o.DialerRetries, &o.ContextTimeoutEnabled, &o.OnConnect}.apply()
		c = goredis.NewClient(o)
	}
	if err := Ping(ctx, c); err != nil {
		return c, fmt.Errorf("redis (%s): %w", t, err)
	}
	return c, nil
}

// primaryWatch remembers which server each address was (its run_id). A new connection that
// finds another server behind an address (a restart), or a new primary behind a Sentinel
// master name, may be missing writes the old one acknowledged and never replicated, so the
// ranking is marked not ready there and rebuilt from Postgres.
type primaryWatch struct {
	mu   sync.Mutex
	seen map[string]string // address (or "primary" behind Sentinel) → run_id
}

func newPrimaryWatch() *primaryWatch { return &primaryWatch{seen: map[string]string{}} }

func (w *primaryWatch) onConnect(ctx context.Context, cn *goredis.Conn) error {
	info, err := cn.Info(ctx, "server").Result()
	if err != nil {
		return nil // the connection's first command reports the failure
	}
	mode, runID := infoField(info, "redis_mode"), infoField(info, "run_id")
	if mode == "sentinel" || runID == "" {
		return nil // go-redis's own connections to the Sentinels
	}
	where := "primary"
	if mode == "cluster" {
		where = cn.String() // each node on its own
	}
	w.mu.Lock()
	before, known := w.seen[where]
	w.seen[where] = runID
	w.mu.Unlock()
	if known && before != runID {
		// Best effort: in Cluster mode only the node that holds the ranking accepts it.
		_ = forgetRanking(ctx, cn)
	}
	return nil
}

// infoField reads one "name:value" line of an INFO reply.
func infoField(info, name string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Ping reports whether Redis answers, for readiness checks.
func Ping(ctx context.Context, c goredis.UniversalClient) error {
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
