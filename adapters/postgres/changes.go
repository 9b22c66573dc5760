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
	dsn string
	log *slog.Logger
	// pingEvery bounds how long a silently dead connection goes unnoticed.
	pingEvery time.Duration
}

// NewChangeFeed listens on its own connection to the database at dsn.
func NewChangeFeed(dsn string, log *slog.Logger) *ChangeFeed {
	return &ChangeFeed{dsn: dsn, log: log, pingEvery: 2 * time.Second}
}

var _ ports.ChangeFeed = (*ChangeFeed)(nil)

// Follow reports changes until ctx ends.
func (f *ChangeFeed) Follow(ctx context.Context, fn func(ports.Change)) {
	fn(ports.Change{Kind: ports.ChangesLost})
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
	l := pq.NewListener(f.dsn, 100*time.Millisecond, 2*time.Second, func(ev pq.ListenerEventType, err error) {
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
	defer l.Close()
	if err := l.Listen(changesChannel); err != nil {
		// Listen fails only when the first connection fails; the listener keeps retrying and
		// the LISTEN is replayed on reconnect.
		f.log.Debug("change feed not connected yet", "err", err)
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
		case n := <-l.NotificationChannel():
			if n == nil {
				// pq sends nil after a reconnect: notifications may have been missed meanwhile.
				fn(ports.Change{Kind: ports.ChangesLost})
				fn(ports.Change{Kind: ports.ChangesFollowed})
				followed = true
				continue
			}
			if c, ok := parseChange(n.Extra); ok {
				fn(c)
			}
		}
	}
}

// pingUntilDone notices a connection that died without a word: its ping fails. A ping that
// succeeds again means the connection answers, and a fresh start of the cache is safe.
func (f *ChangeFeed) pingUntilDone(ctx context.Context, l *pq.Listener, signal func(up bool)) {
	t := time.NewTicker(f.pingEvery)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			err := l.Ping()
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
}

func parseChange(payload string) (ports.Change, bool) {
	if payload == "raid" || strings.HasPrefix(payload, "raid:") {
		return ports.Change{Kind: ports.RaidChanged}, true
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
