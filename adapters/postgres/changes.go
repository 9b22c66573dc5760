package postgres

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
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
	connState := make(chan ports.ChangeKind, 16)
	l := pq.NewListener(f.dsn, 100*time.Millisecond, 2*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventConnected, pq.ListenerEventReconnected:
			connState <- ports.ChangesFollowed
		case pq.ListenerEventDisconnected, pq.ListenerEventConnectionAttemptFailed:
			if err != nil {
				f.log.Debug("change feed disconnected", "err", err)
			}
			connState <- ports.ChangesLost
		}
	})
	defer l.Close()
	if err := l.Listen(changesChannel); err != nil {
		// Listen fails only when the first connection fails; the listener keeps retrying and
		// the LISTEN is replayed on reconnect.
		f.log.Debug("change feed not connected yet", "err", err)
	}
	ping := time.NewTicker(f.pingEvery)
	defer ping.Stop()
	followed := false
	for {
		select {
		case <-ctx.Done():
			return
		case kind := <-connState:
			if (kind == ports.ChangesFollowed) != followed {
				followed = kind == ports.ChangesFollowed
				fn(ports.Change{Kind: kind})
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
		case <-ping.C:
			if err := l.Ping(); err != nil && followed {
				followed = false
				fn(ports.Change{Kind: ports.ChangesLost})
			}
		}
	}
}

func parseChange(payload string) (ports.Change, bool) {
	kind, id, ok := strings.Cut(payload, ":")
	if !ok {
		return ports.Change{}, false
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return ports.Change{}, false
	}
	switch kind {
	case "player":
		return ports.Change{Kind: ports.PlayerChanged, UserID: n}, true
	case "raid":
		return ports.Change{Kind: ports.RaidChanged}, true
	}
	return ports.Change{}, false
}
