package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// Keys of the ranking. The live set holds absolute totals; the ready marker exists only
// after a completed rebuild, so a restarted or flushed Redis says "not ranked" instead of
// answering from a partial set. They share the hash tag {ranking}, so in Redis Cluster they
// live in one slot: the scripts that read the build key's name from the lock and RENAME the
// build set over the live one touch only keys of that slot.
const (
	rankingTag    = keyPrefix + "{ranking}"
	rankingKey    = rankingTag
	readyKey      = rankingTag + ":ready"
	rebuildKey    = rankingTag + ":rebuild" // the rebuild lock; its value names the build key
	generationKey = rankingTag + ":generation"
	buildPrefix   = rankingTag + ":build:"
)

// MaxExactTotal is the largest total a sorted-set score (a float64) holds exactly.
const MaxExactTotal = 1 << 53

// Rebuild tuning.
const (
	rebuildBatch    = 10_000
	rebuildLockTTL  = 30 * time.Second // renewed with every batch
	rebuildMaxWait  = 5 * time.Minute  // for another instance's rebuild to finish
	rebuildPollWait = 50 * time.Millisecond
)

// ErrRebuildBusy means another instance kept rebuilding the ranking for longer than we wait.
var ErrRebuildBusy = errors.New("another instance is still rebuilding the ranking")

var errRebuildLost = errors.New("redis: ranking rebuild lost its lock (it took too long or Redis was flushed)")

// Leaderboard is ports.Leaderboard on a Redis sorted set.
type Leaderboard struct {
	c       goredis.UniversalClient
	batch   int
	lockTTL time.Duration
	maxWait time.Duration
}

var _ ports.Leaderboard = (*Leaderboard)(nil)

// NewLeaderboard returns the ranking kept in c.
func NewLeaderboard(c goredis.UniversalClient) *Leaderboard {
	return &Leaderboard{c: c, batch: rebuildBatch, lockTTL: rebuildLockTTL, maxWait: rebuildMaxWait}
}

// member encodes a player so that, among equal totals, ZREVRANGE's reverse-lexicographic
// order of members is ascending user id: a fixed-width decimal of MaxInt64 - id.
func member(userID int64) string {
	return fmt.Sprintf("%019d", math.MaxInt64-userID)
}

func userOf(member string) (int64, error) {
	v, err := strconv.ParseInt(member, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("redis: unexpected ranking member %q", member)
	}
	return math.MaxInt64 - v, nil
}

// setTotalScript writes the total to the live set and, while a rebuild runs, to its build
// set too, in one step so no write falls between the rebuild's snapshot and its swap.
var setTotalScript = goredis.NewScript(`
redis.call('ZADD', KEYS[1], 'GT', ARGV[1], ARGV[2])
local build = redis.call('GET', KEYS[2])
if build then
  redis.call('ZADD', build, 'GT', ARGV[1], ARGV[2])
  if redis.call('PTTL', build) == -1 then redis.call('PEXPIRE', build, ARGV[3]) end
end
return 0`)

// SetTotal records a committed total. It never lowers one; totals of 0 or less are no-ops.
func (l *Leaderboard) SetTotal(ctx context.Context, userID, total int64) error {
	if userID <= 0 {
		return fmt.Errorf("redis: set total: invalid player id %d", userID)
	}
	if total <= 0 {
		return nil
	}
	if total > MaxExactTotal {
		return fmt.Errorf("redis: set total: %d is beyond what the ranking holds exactly", total)
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	err := setTotalScript.Run(ctx, l.c, []string{rankingKey, rebuildKey},
		total, member(userID), l.lockTTL.Milliseconds()).Err()
	return mapErr(err)
}

// Top returns up to n players in ranking order with their competition rankings.
func (l *Leaderboard) Top(ctx context.Context, n int) ([]raids.Standing, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	var ready *goredis.IntCmd
	var top *goredis.ZSliceCmd
	_, err := l.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		ready = p.Exists(ctx, readyKey)
		if n > 0 {
			top = p.ZRevRangeWithScores(ctx, rankingKey, 0, int64(n-1))
		}
		return nil
	})
	if err != nil {
		return nil, mapErr(err)
	}
	if ready.Val() == 0 {
		return nil, raids.ErrNotRanked
	}
	if top == nil {
		return []raids.Standing{}, nil
	}
	out := make([]raids.Standing, 0, len(top.Val()))
	for i, z := range top.Val() {
		m, _ := z.Member.(string)
		id, err := userOf(m)
		if err != nil {
			return nil, err
		}
		s := raids.Standing{UserID: id, TotalScore: int64(z.Score), Ranking: int64(i)}
		// Sorted by total: everyone above a new total is strictly higher; a tie shares.
		if i > 0 && out[i-1].TotalScore == s.TotalScore {
			s.Ranking = out[i-1].Ranking
		}
		out = append(out, s)
	}
	return out, nil
}

// standingScript answers false when not ranked, {} when the player has no points, else
// {total, number of players strictly above}.
var standingScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 0 then return false end
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return {} end
return {score, redis.call('ZCOUNT', KEYS[1], '(' .. score, '+inf')}`)

// StandingOf returns the player's total and competition ranking.
func (l *Leaderboard) StandingOf(ctx context.Context, userID int64) (raids.Standing, error) {
	if userID <= 0 {
		return raids.Standing{}, raids.ErrPlayerNotInRanks
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	res, err := standingScript.Run(ctx, l.c, []string{rankingKey, readyKey}, member(userID)).Slice()
	switch {
	case errors.Is(err, goredis.Nil):
		return raids.Standing{}, raids.ErrNotRanked
	case err != nil:
		return raids.Standing{}, mapErr(err)
	case len(res) == 0:
		return raids.Standing{}, raids.ErrPlayerNotInRanks
	case len(res) != 2:
		return raids.Standing{}, fmt.Errorf("redis: unexpected standing reply %v", res)
	}
	scoreText, _ := res[0].(string)
	score, err := strconv.ParseFloat(scoreText, 64)
	if err != nil {
		return raids.Standing{}, fmt.Errorf("redis: unexpected score %q", scoreText)
	}
	above, _ := res[1].(int64)
	return raids.Standing{UserID: userID, TotalScore: int64(score), Ranking: above}, nil
}

// boardScript answers false when not ranked, else {top as member/score pairs, standing} where
// the standing is {} when the player has no points, else {total, number of players above}.
var boardScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 0 then return false end
local top = {}
if tonumber(ARGV[1]) > 0 then
  top = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
end
local mine = {}
if ARGV[2] ~= '' then
  local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
  if score then mine = {score, redis.call('ZCOUNT', KEYS[1], '(' .. score, '+inf')} end
end
return {top, mine}`)

// Board returns Top(n) and the player's standing in one round trip; the standing is zero
// (no error) when the player has no points or userID is 0.
func (l *Leaderboard) Board(ctx context.Context, n int, userID int64) ([]raids.Standing, raids.Standing, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	who := ""
	if userID > 0 {
		who = member(userID)
	}
	res, err := boardScript.Run(ctx, l.c, []string{rankingKey, readyKey}, n, who).Slice()
	switch {
	case errors.Is(err, goredis.Nil):
		return nil, raids.Standing{}, raids.ErrNotRanked
	case err != nil:
		return nil, raids.Standing{}, mapErr(err)
	case len(res) != 2:
		return nil, raids.Standing{}, fmt.Errorf("redis: unexpected board reply %v", res)
	}
	pairs, _ := res[0].([]any)
	top := make([]raids.Standing, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		m, _ := pairs[i].(string)
		id, err := userOf(m)
		if err != nil {
			return nil, raids.Standing{}, err
		}
		total, err := parseScore(pairs[i+1])
		if err != nil {
			return nil, raids.Standing{}, err
		}
		s := raids.Standing{UserID: id, TotalScore: total, Ranking: int64(len(top))}
		if len(top) > 0 && top[len(top)-1].TotalScore == total {
			s.Ranking = top[len(top)-1].Ranking // a tie shares the ranking
		}
		top = append(top, s)
	}
	mine := raids.Standing{UserID: userID}
	if pair, _ := res[1].([]any); len(pair) == 2 {
		if mine.TotalScore, err = parseScore(pair[0]); err != nil {
			return nil, raids.Standing{}, err
		}
		mine.Ranking, _ = pair[1].(int64)
	}
	return top, mine, nil
}

func parseScore(v any) (int64, error) {
	text, _ := v.(string)
	score, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return 0, fmt.Errorf("redis: unexpected score %q", text)
	}
	return int64(score), nil
}

// acquireScript takes the rebuild lock, names the build key in it, and numbers the rebuild.
var acquireScript = goredis.NewScript(`
if redis.call('SET', KEYS[1], KEYS[3], 'NX', 'PX', ARGV[1]) then
  redis.call('DEL', KEYS[3])
  return redis.call('INCR', KEYS[2])
end
return 0`)

// keepScript renews the lock and the build key while the lock is still ours.
var keepScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) ~= KEYS[2] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1`)

// swapScript puts the build set in place of the live one, marks the ranking ready with the
// rebuild's number and releases the lock. UNLINK frees the old set off the main thread.
var swapScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) ~= KEYS[2] then return -1 end
redis.call('UNLINK', KEYS[3])
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('RENAME', KEYS[2], KEYS[3])
  redis.call('PERSIST', KEYS[3])
end
redis.call('SET', KEYS[4], ARGV[1])
redis.call('DEL', KEYS[1])
return redis.call('ZCARD', KEYS[3])`)

var abandonScript = goredis.NewScript(`
redis.call('UNLINK', KEYS[2])
if redis.call('GET', KEYS[1]) == KEYS[2] then redis.call('DEL', KEYS[1]) end
return 0`)

// Rebuild replaces the ranking with src's totals and returns how many players it holds.
// One instance rebuilds at a time; another that asks meanwhile waits for it and is done if
// that rebuild started after it asked (so it saw every total committed before), otherwise
// it rebuilds again.
func (l *Leaderboard) Rebuild(ctx context.Context, src ports.TotalsSource) (int, error) {
	asked, err := l.generation(ctx, generationKey)
	if err != nil {
		return 0, err
	}
	giveUp := time.Now().Add(l.maxWait)
	for {
		build := newBuildKey()
		gen, err := l.acquire(ctx, build)
		if err != nil {
			return 0, err
		}
		if gen > 0 {
			return l.build(ctx, src, build, gen)
		}
		if err := l.waitForRebuild(ctx, giveUp); err != nil {
			return 0, err
		}
		done, err := l.generation(ctx, readyKey)
		if err != nil {
			return 0, err
		}
		if done > asked {
			return l.players(ctx)
		}
	}
}

func (l *Leaderboard) acquire(ctx context.Context, build string) (int64, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	gen, err := acquireScript.Run(ctx, l.c, []string{rebuildKey, generationKey, build},
		l.lockTTL.Milliseconds()).Int64()
	return gen, mapErr(err)
}

func (l *Leaderboard) players(ctx context.Context) (int, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	n, err := l.c.ZCard(ctx, rankingKey).Result()
	return int(n), mapErr(err)
}

func (l *Leaderboard) build(ctx context.Context, src ports.TotalsSource, build string, gen int64) (n int, err error) {
	defer func() {
		if err != nil {
			// Best effort: the lock and the build set expire by themselves anyway.
			cleanup, cancel := bounded(context.WithoutCancel(ctx))
			defer cancel()
			_ = abandonScript.Run(cleanup, l.c, []string{rebuildKey, build}).Err()
		}
	}()
	err = src.EachTotal(ctx, l.batch, func(totals []raids.Total) error {
		players := make([]goredis.Z, 0, len(totals))
		for _, t := range totals {
			if t.TotalScore <= 0 || t.UserID <= 0 {
				continue
			}
			if t.TotalScore > MaxExactTotal {
				return fmt.Errorf("redis: total %d of player %d is beyond what the ranking holds exactly", t.TotalScore, t.UserID)
			}
			players = append(players, goredis.Z{Score: float64(t.TotalScore), Member: member(t.UserID)})
		}
		return l.addBatch(ctx, build, players)
	})
	if err != nil {
		return 0, err
	}
	return l.swap(ctx, build, gen)
}

// addBatch writes players into the build set and renews the lock, in one round trip.
func (l *Leaderboard) addBatch(ctx context.Context, build string, players []goredis.Z) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	pipe := l.c.Pipeline()
	if len(players) > 0 {
		pipe.ZAddGT(ctx, build, players...)
	}
	kept := keepScript.Eval(ctx, pipe, []string{rebuildKey, build}, l.lockTTL.Milliseconds())
	if _, err := pipe.Exec(ctx); err != nil {
		return mapErr(err)
	}
	if kept.Val() != int64(1) {
		return errRebuildLost
	}
	return nil
}

func (l *Leaderboard) swap(ctx context.Context, build string, gen int64) (int, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	count, err := swapScript.Run(ctx, l.c, []string{rebuildKey, build, rankingKey, readyKey}, gen).Int64()
	if err != nil {
		return 0, mapErr(err)
	}
	if count < 0 {
		return 0, errRebuildLost
	}
	return int(count), nil
}

func (l *Leaderboard) waitForRebuild(ctx context.Context, giveUp time.Time) error {
	t := time.NewTicker(rebuildPollWait)
	defer t.Stop()
	for {
		running, err := l.rebuildRunning(ctx)
		if err != nil {
			return err
		}
		if !running {
			return nil
		}
		if time.Now().After(giveUp) {
			return ErrRebuildBusy
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (l *Leaderboard) rebuildRunning(ctx context.Context) (bool, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	n, err := l.c.Exists(ctx, rebuildKey).Result()
	return n > 0, mapErr(err)
}

// generation reads a rebuild number kept under key; 0 when there is none.
func (l *Leaderboard) generation(ctx context.Context, key string) (int64, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	n, err := l.c.Get(ctx, key).Int64()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	return n, mapErr(err)
}

// forgetRanking marks the ranking not ready and drops any rebuild's lock on a server that
// may have lost acknowledged writes (see primaryWatch): readers fall back to Postgres and the
// next rebuild starts from scratch, while a rebuild that was running loses its lock and fails.
func forgetRanking(ctx context.Context, cn *goredis.Conn) error {
	return cn.Del(ctx, readyKey, rebuildKey).Err()
}

func newBuildKey() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return buildPrefix + hex.EncodeToString(b[:])
}
