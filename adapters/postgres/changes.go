package postgres

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lib/pq"

	"github.com/bossraid/bossraid/ports"
)

// changesChannel is the channel the triggers of migration 00004 notify on.
const changesChannel = "bossraid_changes"

// ChangeFeed is the ports.ChangeFeed over LISTEN/NOTIFY: the triggers notify at commit, so
// every instance hears of a sign-out or a raid change within milliseconds.
type ChangeFeed struct {
	dsn    string // key/value form, every host of DATABASE_URL (see KeyValueDSN)
	dsnErr error
	log    *slog.Logger
	timing FeedTiming
}

// FeedTiming bounds how long the feed can be lost without the caches it feeds knowing.
type FeedTiming struct {
	// PingEvery is how often the idle connection is asked to answer.
	PingEvery time.Duration
	// Silence is how long the connection may say nothing (a ping unanswered, no byte read)
	// before it counts as lost: the caches are disabled and the connection is dropped for a
	// new one, to whichever host is the primary then.
	Silence time.Duration
}

// DefaultFeedTiming disables the caches within Silence (3 s) of the connection going quiet,
// inside SPEC §5's 5 s.
func DefaultFeedTiming() FeedTiming {
	return FeedTiming{PingEvery: time.Second, Silence: 3 * time.Second}
}

// NewChangeFeed listens on its own connection to the database at dsn (a postgres:// URL or
// key/value string, with several hosts if the database fails over).
func NewChangeFeed(dsn string, log *slog.Logger) *ChangeFeed {
	kv, err := KeyValueDSN(dsn)
	// Without connect_timeout a dial to a black-holed host would wait for the kernel (minutes)
	// before the next host is tried; the name tells the listener apart in pg_stat_activity.
	if !strings.Contains(kv, "connect_timeout=") {
		kv += " connect_timeout=5"
	}
	if !strings.Contains(kv, "application_name=") {
		kv += " application_name=bossraid-changes"
	}
	return &ChangeFeed{dsn: kv, dsnErr: err, log: log, timing: DefaultFeedTiming()}
}

// WithTiming returns the feed with other ping and silence bounds (tests shorten them).
func (f *ChangeFeed) WithTiming(t FeedTiming) *ChangeFeed {
	f.timing = t
	return f
}

var _ ports.ChangeFeed = (*ChangeFeed)(nil)

// Follow reports changes until ctx ends.
func (f *ChangeFeed) Follow(ctx context.Context, fn func(ports.Change)) {
	fn(ports.Change{Kind: ports.ChangesLost})
	if f.dsnErr != nil {
		f.log.Error("change feed cannot start: caches stay off", "err", f.dsnErr)
		<-ctx.Done()
		return
	}
	// The listener's callback and the pinger never block: a connection whose reader waits on
	// us would stop reading its socket, and Postgres would then wait on it in turn. They only
	// record the state and wake the loop below.
	var (
		connected atomic.Bool
		lost      atomic.Bool // a disconnection happened since the loop last looked
		wake      = make(chan struct{}, 1)
	)
	signal := func(up bool) {
		if !up {
			lost.Store(true)
		}
		connected.Store(up)
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	// Every read and write on the connection must finish within Silence: pings keep an idle
	// connection talking, so a read that waits longer means nobody is there, and pq drops
	// the connection and dials again (every host, keeping the one that takes writes).
	dialer := deadlineDialer{timeout: f.timing.Silence}
	l := pq.NewDialListener(dialer, f.dsn, 100*time.Millisecond, 2*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventConnected, pq.ListenerEventReconnected:
			signal(true)
		case pq.ListenerEventDisconnected, pq.ListenerEventConnectionAttemptFailed:
			if err != nil {
				f.log.Debug("change feed disconnected", "err", err)
			}
			signal(false)
		}
	})
	// Close also ends a Listen still waiting for the first connection.
	stop := context.AfterFunc(ctx, func() { _ = l.Close() })
	defer func() {
		if stop() {
			_ = l.Close()
		}
	}()
	// Listen returns once the LISTEN is in place (so ChangesFollowed below never comes before
	// it), or when ctx ends; pq replays it on every reconnect.
	if err := l.Listen(changesChannel); err != nil {
		if ctx.Err() == nil {
			f.log.Error("change feed cannot listen: caches stay off", "err", err)
			<-ctx.Done()
		}
		return
	}
	go f.pingUntilDone(ctx, l, signal)
	followed := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
			if lost.Swap(false) && followed {
				followed = false
				fn(ports.Change{Kind: ports.ChangesLost})
			}
			if connected.Load() && !followed {
				followed = true
				fn(ports.Change{Kind: ports.ChangesFollowed})
			}
		case n, ok := <-l.NotificationChannel():
			switch {
			case !ok:
				return // closed: ctx ended
			case n == nil:
				// pq sends nil after a reconnect: notifications may have been missed meanwhile.
				fn(ports.Change{Kind: ports.ChangesLost})
				fn(ports.Change{Kind: ports.ChangesFollowed})
				followed = true
			case n.Extra == totalsPayload:
				// Too many totals changed at once to name them: start again from the tables.
				fn(ports.Change{Kind: ports.ChangesLost})
				fn(ports.Change{Kind: ports.ChangesFollowed})
			default:
				if c, ok := parseChange(n.Extra); ok {
					fn(c)
				}
			}
		}
	}
}

// pingUntilDone notices a connection that died without a word: its ping fails, or goes
// unanswered for Silence. A ping that succeeds again means the connection answers, and a
// fresh start of the cache is safe. One ping is in flight at a time: pq's Ping holds the
// listener's lock until the answer comes or the connection's read deadline ends it.
func (f *ChangeFeed) pingUntilDone(ctx context.Context, l *pq.Listener, signal func(up bool)) {
	t := time.NewTicker(f.timing.PingEvery)
	defer t.Stop()
	answer := make(chan error, 1)
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		go func() { answer <- l.Ping() }()
		var err error
		silence := time.NewTimer(f.timing.Silence)
		select {
		case <-ctx.Done():
			silence.Stop()
			return
		case err = <-answer:
		case <-silence.C:
			failing = true
			signal(false) // the caches go off now; the read deadline ends the connection
			select {
			case <-ctx.Done():
				return
			case err = <-answer:
			}
		}
		silence.Stop()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			failing = true
			signal(false)
		case failing:
			failing = false
			signal(true)
		}
	}
}

// totalsPayload is what migration 00009 sends when a statement raised too many totals to name.
const totalsPayload = "totals"

func parseChange(payload string) (ports.Change, bool) {
	if payload == "raid" || strings.HasPrefix(payload, "raid:") {
		return ports.Change{Kind: ports.RaidChanged}, true
	}
	if payload == "queue" { // migration 00011
		return ports.Change{Kind: ports.QueueChanged}, true
	}
	if rest, ok := strings.CutPrefix(payload, "total:"); ok {
		id, total, ok := strings.Cut(rest, ":")
		if !ok {
			return ports.Change{}, false
		}
		n, err1 := strconv.ParseInt(id, 10, 64)
		t, err2 := strconv.ParseInt(total, 10, 64)
		if err1 != nil || err2 != nil {
			return ports.Change{}, false
		}
		return ports.Change{Kind: ports.TotalChanged, UserID: n, Total: t}, true
	}
	id, ok := strings.CutPrefix(payload, "player:")
	if !ok {
		return ports.Change{}, false
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return ports.Change{}, false
	}
	return ports.Change{Kind: ports.PlayerChanged, UserID: n}, true
}
