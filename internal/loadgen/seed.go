package loadgen

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/bossraid/bossraid/adapters/argon2id"
	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/adapters/redis"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
)

// SeedOptions describe a bulk seeding.
type SeedOptions struct {
	Players int // seed1 … seedN (see SeedCredentials)
	Raids   int // raid records spread over them, none in progress
	// HeavyRaids more raids all go to the heavy player, seed player HeavyPlayer, after the
	// others: the history of a player who played a lot, for the history benchmarks.
	HeavyRaids int
	// Boss is the data the raids were played under (levels, scores and limit); nil is the
	// built-in data.
	Boss *raids.BossData
	// PasswordHash is stored for every seeded player; "" hashes SeedPassword once with the
	// production (OWASP) Argon2id parameters. One shared hash keeps a million rows cheap to
	// make; every sign-in still verifies it at full cost.
	PasswordHash string
	// RandSeed makes the data reproducible; the same seed gives the same raids and totals.
	RandSeed uint64
	// SuccessRate is the share of raids (beyond each player's first clear) that succeed.
	SuccessRate float64
	Log         io.Writer
}

// SeedReport says what was made and how long it took.
type SeedReport struct {
	Players, Raids, Ranked int
	Hash, Users, RaidsTook time.Duration
	Indexes, Commit        time.Duration
	Analyze, Verify        time.Duration
	Total                  time.Duration
	Mismatched             int // players whose total_score differs from their raids (must be 0)
}

// Print writes the report.
func (r SeedReport) Print(w io.Writer) {
	fmt.Fprintf(w, "seeded %d players (%d with points) and %d raids in %s\n", r.Players, r.Ranked, r.Raids, r.Total.Round(time.Millisecond))
	fmt.Fprintf(w, "  password hash %s, COPY users %s, COPY raids %s, index builds %s, commit %s, ANALYZE %s, total check %s (%d mismatched)\n",
		r.Hash.Round(time.Millisecond), r.Users.Round(time.Millisecond), r.RaidsTook.Round(time.Millisecond),
		r.Indexes.Round(time.Millisecond), r.Commit.Round(time.Millisecond), r.Analyze.Round(time.Millisecond), r.Verify.Round(time.Millisecond), r.Mismatched)
}

// HeavyPlayer is the seed index (see SeedCredentials) of the player SeedOptions.HeavyRaids go to.
const HeavyPlayer = 1

const seedEmailPattern = `seed%@loadgen.bossraid.test`

// SeededPlayers counts the seed players already in db.
func SeededPlayers(ctx context.Context, db *sql.DB) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE email LIKE $1`, seedEmailPattern).Scan(&n)
	return n, err
}

// Seed writes players and raids with COPY in one transaction: all of it or nothing. Every
// player's total_score is the sum of their successful raids' scores by construction (the
// same random sequence makes both) and is checked by a query afterwards. Raids follow each
// other in time without overlapping, one at a time as the game allows; when there are at
// least as many raids as players, every player clears at least one, so every player is ranked.
// The database must hold no seed players yet.
func Seed(ctx context.Context, db *sql.DB, o SeedOptions) (SeedReport, error) {
	start := time.Now()
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	if o.Players < 1 || o.Raids < 0 || o.HeavyRaids < 0 {
		return SeedReport{}, errors.New("seed: want at least one player and no negative number of raids")
	}
	boss := raids.DefaultBossData()
	if o.Boss != nil {
		boss = *o.Boss
	}
	if o.SuccessRate == 0 {
		o.SuccessRate = 0.7
	}
	if n, err := SeededPlayers(ctx, db); err != nil {
		return SeedReport{}, fmt.Errorf("seed: %w", err)
	} else if n > 0 {
		return SeedReport{}, fmt.Errorf("seed: the database already holds %d seed players; seed a fresh database", n)
	}
	rep := SeedReport{Players: o.Players, Raids: o.Raids + o.HeavyRaids}
	hash := o.PasswordHash
	if hash == "" {
		h, err := argon2id.New(argon2id.OWASP())
		if err != nil {
			return SeedReport{}, err
		}
		if hash, err = h.Hash(SeedPassword); err != nil {
			return SeedReport{}, err
		}
	}
	rep.Hash = time.Since(start)

	plan := newRaidPlan(o.Players, o.Raids, boss, o.RandSeed, o.SuccessRate).withHeavy(o.HeavyRaids)
	totals := plan.totals()
	for _, t := range totals[1:] {
		if t > 0 {
			rep.Ranked++
		}
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return SeedReport{}, fmt.Errorf("seed: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	// A long COPY must not trip the app's short session timeouts.
	if _, err := tx.ExecContext(ctx, `SET LOCAL statement_timeout = 0; SET LOCAL synchronous_commit = off; SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
		return SeedReport{}, fmt.Errorf("seed: %w", err)
	}

	// Non-unique indexes are built once after the COPY rather than row by row: several times
	// faster for millions of rows. Unique ones stay, so uniqueness is checked as rows arrive.
	step := time.Now()
	indexes, err := DropIndexes(ctx, tx, "users", "raids")
	if err != nil {
		return SeedReport{}, err
	}
	// The change-notification triggers (migration 00004) would queue one NOTIFY per row:
	// millions of them, minutes of work, and a flood for every listening instance. Seeded
	// rows change nothing an instance caches (no token versions, no raid in progress).
	if _, err := tx.ExecContext(ctx, `ALTER TABLE users DISABLE TRIGGER USER; ALTER TABLE raids DISABLE TRIGGER USER`); err != nil {
		return SeedReport{}, fmt.Errorf("seed: disable triggers: %w", err)
	}
	fmt.Fprintf(log, "seed: copying %d players ...\n", o.Players)
	err = copyRows(ctx, tx, `COPY users (email, nickname, nickname_key, password_hash, total_score) FROM STDIN`,
		o.Players, func(i int) []any {
			c := SeedCredentials(i + 1)
			return []any{c.Email, c.Nickname, users.NicknameKey(c.Nickname), hash, totals[i+1]}
		})
	if err != nil {
		return SeedReport{}, fmt.Errorf("seed players: %w", err)
	}
	ids, err := seedIDs(ctx, tx, o.Players)
	if err != nil {
		return SeedReport{}, err
	}
	rep.Users = time.Since(step)

	step = time.Now()
	fmt.Fprintf(log, "seed: copying %d raids ...\n", rep.Raids)
	limit := pgInterval(boss.TimeLimit)
	// With the triggers off, each raid's ordinal among its player's raids (migration 00006)
	// is given here: the rows go in in order, and seed players have no other raids.
	seqs := make([]int64, o.Players+1)
	err = copyRows(ctx, tx, `COPY raids (user_id, seq, level, level_score, time_limit, status, score, enter_time, deadline, end_time) FROM STDIN`,
		rep.Raids, func(k int) []any {
			r := plan.raid(k)
			status, score := "fail", 0
			if r.success {
				status, score = "success", r.level.Score
			}
			seqs[r.player]++
			return []any{ids[r.player], seqs[r.player], r.level.Level, r.level.Score, limit, status, score,
				r.enter, r.enter.Add(boss.TimeLimit), r.end}
		})
	if err != nil {
		return SeedReport{}, fmt.Errorf("seed raids: %w", err)
	}
	rep.RaidsTook = time.Since(step)

	step = time.Now()
	fmt.Fprintf(log, "seed: rebuilding %d indexes ...\n", len(indexes))
	for _, def := range indexes {
		if _, err := tx.ExecContext(ctx, def); err != nil {
			return SeedReport{}, fmt.Errorf("seed: rebuild index: %w", err)
		}
	}
	// The counters the triggers would have kept (migration 00006), from the tables.
	if _, err := tx.ExecContext(ctx, `SELECT bossraid_recount()`); err != nil {
		return SeedReport{}, fmt.Errorf("seed: recount: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `ALTER TABLE users ENABLE TRIGGER USER; ALTER TABLE raids ENABLE TRIGGER USER`); err != nil {
		return SeedReport{}, fmt.Errorf("seed: enable triggers: %w", err)
	}
	rep.Indexes = time.Since(step)

	step = time.Now()
	if err := tx.Commit(); err != nil {
		return SeedReport{}, fmt.Errorf("seed: commit: %w", err)
	}
	rep.Commit = time.Since(step)

	step = time.Now()
	if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil { // every table: the counters too, or their plans are guesses
		return SeedReport{}, fmt.Errorf("seed: analyze: %w", err)
	}
	rep.Analyze = time.Since(step)

	step = time.Now()
	if rep.Mismatched, err = MismatchedTotals(ctx, db); err != nil {
		return SeedReport{}, err
	}
	rep.Verify = time.Since(step)
	rep.Total = time.Since(start)
	if rep.Mismatched > 0 {
		return rep, fmt.Errorf("seed: %d players' totals disagree with their raids", rep.Mismatched)
	}
	return rep, nil
}

// MismatchedTotals counts players whose total_score is not the sum of their successful raids.
func MismatchedTotals(ctx context.Context, db *sql.DB) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `
		SELECT count(*) FROM users u
		LEFT JOIN (SELECT user_id, sum(score) AS s FROM raids WHERE status = 'success' GROUP BY user_id) t
			ON t.user_id = u.id
		WHERE u.total_score <> coalesce(t.s, 0)`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("check totals: %w", err)
	}
	return n, nil
}

// copyRows streams n rows made by row into a prepared COPY … FROM STDIN.
func copyRows(ctx context.Context, tx *sql.Tx, copyStmt string, n int, row func(i int) []any) error {
	stmt, err := tx.PrepareContext(ctx, copyStmt)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range n {
		if i%65536 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if _, err := stmt.ExecContext(ctx, row(i)...); err != nil {
			return err
		}
	}
	_, err = stmt.ExecContext(ctx) // flushes the COPY
	return err
}

// DropIndexes drops the non-unique indexes of tables inside tx and returns the statements
// that make them again, read from the database itself so they follow the migrations.
func DropIndexes(ctx context.Context, tx *sql.Tx, tables ...string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT i.relname, pg_get_indexdef(x.indexrelid)
		FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
		WHERE x.indrelid = ANY(SELECT unnest($1::text[])::regclass) AND NOT x.indisunique
		ORDER BY i.relname`, pq.Array(tables))
	if err != nil {
		return nil, fmt.Errorf("seed: list indexes: %w", err)
	}
	names, defs, err := indexDefs(rows)
	if err != nil {
		return nil, fmt.Errorf("seed: list indexes: %w", err)
	}
	for _, name := range names {
		if _, err := tx.ExecContext(ctx, "DROP INDEX "+pq.QuoteIdentifier(name)); err != nil {
			return nil, fmt.Errorf("seed: drop index %s: %w", name, err)
		}
	}
	return defs, nil
}

func indexDefs(rows *sql.Rows) (names, defs []string, err error) {
	defer rows.Close()
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return nil, nil, err
		}
		names, defs = append(names, name), append(defs, def)
	}
	return names, defs, rows.Err()
}

// seedIDs maps seed index (from 1) to the id the database gave the player.
func seedIDs(ctx context.Context, tx *sql.Tx, n int) ([]int64, error) {
	ids := make([]int64, n+1)
	rows, err := tx.QueryContext(ctx, `SELECT id, nickname FROM users WHERE email LIKE $1`, seedEmailPattern)
	if err != nil {
		return nil, fmt.Errorf("seed: read ids: %w", err)
	}
	defer rows.Close()
	found := 0
	for rows.Next() {
		var id int64
		var nick string
		if err := rows.Scan(&id, &nick); err != nil {
			return nil, fmt.Errorf("seed: read ids: %w", err)
		}
		i, err := strconv.Atoi(strings.TrimPrefix(nick, "seed"))
		if err != nil || i < 1 || i > n {
			return nil, fmt.Errorf("seed: unexpected seed player %q", nick)
		}
		ids[i] = id
		found++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("seed: read ids: %w", err)
	}
	if found != n {
		return nil, fmt.Errorf("seed: found %d seed players, want %d", found, n)
	}
	return ids, nil
}

func pgInterval(d time.Duration) string {
	return strconv.FormatInt(d.Microseconds(), 10) + " microseconds"
}

// raidPlan generates the k-th raid on demand from a seeded random sequence, so totals can be
// summed in one pass and rows streamed in another without holding millions of raids.
type raidPlan struct {
	players, raids int
	heavy          int // raids after the first `raids`, all the heavy player's
	boss           raids.BossData
	seed           uint64
	success        float64
	stride         int      // every stride-th raid is some player's guaranteed first clear
	mul, add       int      // a bijection j → (mul·j + add) mod players spreads those clears
	levelCum       []uint32 // cumulative level weights: lower levels are played more
	start          time.Time
	spacing        time.Duration
}

type plannedRaid struct {
	player  int // seed index from 1
	level   raids.Level
	success bool
	enter   time.Time
	end     time.Time
}

func newRaidPlan(players, n int, boss raids.BossData, seed uint64, success float64) *raidPlan {
	p := &raidPlan{players: players, raids: n, boss: boss, seed: seed, success: success}
	p.stride = max(n/players, 1)
	p.mul = 1_000_003
	for gcd(p.mul, players) != 1 {
		p.mul++
	}
	p.add = int(seed % uint64(players))
	var cum uint32
	for i := range boss.Levels {
		cum += uint32(len(boss.Levels) - i) // weights n, n-1, …, 1
		p.levelCum = append(p.levelCum, cum)
	}
	// One raid after another, each starting a second after the previous deadline, ending now.
	p.spacing = boss.TimeLimit + time.Second
	p.start = time.Now().UTC().Truncate(time.Second).Add(-time.Duration(n+1) * p.spacing)
	return p
}

// withHeavy adds n raids of the heavy player after the others, all of them still ending now.
func (p *raidPlan) withHeavy(n int) *raidPlan {
	p.heavy = n
	p.start = p.start.Add(-time.Duration(n) * p.spacing)
	return p
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func (p *raidPlan) raid(k int) plannedRaid {
	rnd := mrand.New(mrand.NewPCG(p.seed, uint64(k)))
	r := plannedRaid{enter: p.start.Add(time.Duration(k) * p.spacing)}
	switch {
	case k >= p.raids:
		r.player = HeavyPlayer
		r.success = rnd.Float64() < p.success
	case k%p.stride == 0 && k/p.stride < p.players:
		r.player = (p.mul*(k/p.stride)+p.add)%p.players + 1
		r.success = true
	default:
		// A skewed share: a few players play a lot, most play a little.
		u := rnd.Float64()
		j := min(int(float64(p.players)*u*u), p.players-1)
		r.player = (p.mul*j+p.add+p.players/2)%p.players + 1
		r.success = rnd.Float64() < p.success
	}
	x := rnd.Uint32N(p.levelCum[len(p.levelCum)-1])
	for i, c := range p.levelCum {
		if x < c {
			r.level = p.boss.Levels[i]
			break
		}
	}
	if r.success {
		minSpan := min(5*time.Second, p.boss.TimeLimit/2)
		span := max(p.boss.TimeLimit-minSpan-time.Millisecond, time.Millisecond)
		r.end = r.enter.Add(minSpan + time.Duration(rnd.Int64N(int64(span))))
	} else {
		r.end = r.enter.Add(p.boss.TimeLimit)
	}
	r.end = r.end.Truncate(time.Microsecond)
	return r
}

// totals sums each player's successful raids, indexed by seed index.
func (p *raidPlan) totals() []int64 {
	t := make([]int64, p.players+1)
	for k := range p.raids + p.heavy {
		if r := p.raid(k); r.success {
			t[r.player] += int64(r.level.Score)
		}
	}
	return t
}

// RebuildRanking rebuilds the Redis ranking from Postgres, as `bossraid ranking rebuild`
// does, and returns how many players it holds and how long it took.
func RebuildRanking(ctx context.Context, db *sql.DB, rdb goredis.UniversalClient) (int, time.Duration, error) {
	start := time.Now()
	n, err := redis.NewLeaderboard(rdb).Rebuild(ctx, postgres.NewTotals(db))
	return n, time.Since(start), err
}

// RankMismatches compares the Redis ranking's top n and a sample of players' standings with
// SQL rank() over users.total_score, and returns a description of each difference.
func RankMismatches(ctx context.Context, db *sql.DB, rdb goredis.UniversalClient, topN, sample int) ([]string, error) {
	lb := redis.NewLeaderboard(rdb)
	top, err := lb.Top(ctx, topN)
	if err != nil {
		return nil, err
	}
	var diffs []string
	want, err := sqlTop(ctx, db, topN)
	if err != nil {
		return nil, err
	}
	if len(want) != len(top) {
		diffs = append(diffs, fmt.Sprintf("top: redis has %d players, SQL %d", len(top), len(want)))
	}
	for i := range min(len(want), len(top)) {
		if top[i] != want[i] {
			diffs = append(diffs, fmt.Sprintf("top[%d]: redis %+v, SQL %+v", i, top[i], want[i]))
		}
	}
	// One pass of rank() over everyone, kept for a random sample of players.
	ids, err := db.QueryContext(ctx, `
		SELECT id, total_score, r FROM (
			SELECT id, total_score, rank() OVER (ORDER BY total_score DESC) - 1 AS r, random() AS pick
			FROM users WHERE total_score > 0) s
		ORDER BY pick LIMIT $1`, sample)
	if err != nil {
		return nil, err
	}
	defer ids.Close()
	for ids.Next() {
		var s raids.Standing
		if err := ids.Scan(&s.UserID, &s.TotalScore, &s.Ranking); err != nil {
			return nil, err
		}
		got, err := lb.StandingOf(ctx, s.UserID)
		if err != nil {
			diffs = append(diffs, fmt.Sprintf("player %d: redis says %v", s.UserID, err))
			continue
		}
		if got != s {
			diffs = append(diffs, fmt.Sprintf("player %d: redis %+v, SQL %+v", s.UserID, got, s))
		}
	}
	return diffs, ids.Err()
}

// sqlTop is the first n players by SQL rank().
func sqlTop(ctx context.Context, db *sql.DB, n int) ([]raids.Standing, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT id, total_score, rank() OVER (ORDER BY total_score DESC) - 1
		FROM users WHERE total_score > 0 ORDER BY total_score DESC, id LIMIT $1`, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var want []raids.Standing
	for rows.Next() {
		var s raids.Standing
		if err := rows.Scan(&s.UserID, &s.TotalScore, &s.Ranking); err != nil {
			return nil, err
		}
		want = append(want, s)
	}
	return want, rows.Err()
}

// OpenDB opens Postgres for seeding with the app's adapter (pool, timeouts).
func OpenDB(ctx context.Context, url string) (*sql.DB, error) {
	opts := postgres.DefaultOptions()
	opts.MaxOpenConns = 4
	opts.StatementTimeout = 10 * time.Minute
	opts.IdleInTransactionTimeout = 10 * time.Minute
	return postgres.Open(ctx, url, opts)
}

// OpenRedis opens Redis with the app's adapter.
func OpenRedis(ctx context.Context, url string) (goredis.UniversalClient, error) {
	c, err := redis.Open(ctx, url)
	if err != nil {
		if c != nil {
			_ = c.Close()
		}
		return nil, err
	}
	return c, nil
}
