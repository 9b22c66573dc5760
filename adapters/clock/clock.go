// Package clock is the real clock.
package clock

import (
	"time"

	"github.com/bossraid/bossraid/ports"
)

var _ ports.Clock = System{}

// System reads the machine's clock.
type System struct{}

// Now returns the wall time in UTC. UTC drops the monotonic reading, so the value compares
// and round-trips (==, database, JSON, token claims) like any time read back from storage;
// measure in-process durations with time.Since instead.
func (System) Now() time.Time { return time.Now().UTC() }
