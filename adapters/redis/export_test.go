package redis

import "time"

// Internals the external tests (package redis_test, which may import internal/testenv)
// need to stage other instances' rebuilds.
const (
	RankingKey     = rankingKey
	ReadyKey       = readyKey
	RebuildKey     = rebuildKey
	GenerationKey  = generationKey
	BuildPrefix    = buildPrefix
	ThrottlePrefix = throttlePrefix
)

var (
	Member = member
	MapErr = mapErr
)

func (l *Leaderboard) SetMaxWait(d time.Duration) { l.maxWait = d }
