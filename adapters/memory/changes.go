package memory

import (
	"context"
	"sync"

	"github.com/bossraid/bossraid/ports"
)

// changeBuffer is how far a follower may fall behind before it is told changes were lost.
const changeBuffer = 256

// ChangeFeed is ports.ChangeFeed within one process. The Store reports its committed changes
// to its own (Store.Changes); tests may Report anything, ChangesLost included.
type ChangeFeed struct {
	mu        sync.Mutex
	followers map[*follower]struct{}
}

type follower struct{ ch chan ports.Change }

var _ ports.ChangeFeed = (*ChangeFeed)(nil)

// NewChangeFeed returns a feed with no followers.
func NewChangeFeed() *ChangeFeed { return &ChangeFeed{followers: map[*follower]struct{}{}} }

// Follow reports ChangesLost, then ChangesFollowed, then every change reported after that, until
// ctx ends. A follower that falls a buffer behind hears ChangesLost and ChangesFollowed instead
// of the changes it missed.
func (f *ChangeFeed) Follow(ctx context.Context, fn func(ports.Change)) {
	fn(ports.Change{Kind: ports.ChangesLost})
	if ctx.Err() != nil {
		return
	}
	fl := &follower{ch: make(chan ports.Change, changeBuffer)}
	f.mu.Lock()
	f.followers[fl] = struct{}{}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.followers, fl)
		f.mu.Unlock()
	}()
	fn(ports.Change{Kind: ports.ChangesFollowed})
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-fl.ch:
			fn(c)
		}
	}
}

// Report hands c to every follower without waiting for any of them.
func (f *ChangeFeed) Report(c ports.Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for fl := range f.followers {
		select {
		case fl.ch <- c:
			continue
		default:
		}
		for len(fl.ch) > 0 { // drop what it has not read; it hears that it lost them instead
			select {
			case <-fl.ch:
			default:
			}
		}
		fl.ch <- ports.Change{Kind: ports.ChangesLost}
		fl.ch <- ports.Change{Kind: ports.ChangesFollowed}
	}
}
