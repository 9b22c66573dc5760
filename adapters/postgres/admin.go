package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// Admin is the ports.AdminStore on the raids and users tables. Every list reads one keyset
// page through an index (see migrations 00002 and 00003), so its cost does not grow with the
// number of rows before it; statuses are judged by now() as the raid store judges them.
type Admin struct {
	db *sql.DB
	// mergePlayers is how many players a nickname prefix may match for ListRaids to merge
	// their own pages.
	mergePlayers int
}

// NewAdmin returns the admin queries on db.
func NewAdmin(db *sql.DB) *Admin { return &Admin{db: db, mergePlayers: 1000} }

var _ ports.AdminStore = (*Admin)(nil)

// query collects the conditions and arguments of one statement.
type query struct {
	conds []string
	args  []any
}

// arg adds v as the next argument and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

func (q *query) where(cond string) { q.conds = append(q.conds, cond) }

// whereClause is "WHERE a AND b …", or "" without conditions.
func (q *query) whereClause() string {
	if len(q.conds) == 0 {
		return ""
	}
	return "WHERE " + strings.Join(q.conds, " AND ")
}

// likePrefix is a LIKE pattern matching strings that begin with s, taken literally.
func likePrefix(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s) + "%"
}

// Each status as it stands now, in conditions that can use the indexes on raids: in progress
// is at most one row (the raids_one_in_progress index), and an in-progress row past its
// deadline is a failed raid.
const (
	sqlInProgress = `(r.status = 'in_progress' AND r.deadline > now())`
	sqlSuccess    = `(r.status = 'success')`
	sqlFail       = `(r.status = 'fail' OR (r.status = 'in_progress' AND r.deadline <= now()))`
)

// filterRaids adds the conditions of f on the raids aliased r.
func (q *query) filterRaids(f ports.RaidFilter) {
	if f.UserID != 0 {
		q.where("r.user_id = " + q.arg(f.UserID))
	}
	if f.Player != "" {
		key := users.NicknameKey(f.Player)
		if f.PlayerExact {
			// One player at most (nickname_key is unique): as a scalar the planner walks
			// raids_user_enter in order instead of sorting the player's raids.
			q.where("r.user_id = (SELECT id FROM users WHERE nickname_key = " + q.arg(key) + ")")
		} else {
			q.where("r.user_id IN (SELECT id FROM users WHERE nickname_key LIKE " + q.arg(likePrefix(key)) + ")")
		}
	}
	switch f.Status {
	case raids.StatusInProgress:
		q.where(sqlInProgress)
	case raids.StatusSuccess:
		q.where(sqlSuccess)
	case raids.StatusFail:
		q.where(sqlFail)
	}
	if f.Level != nil {
		q.where("r.level = " + q.arg(*f.Level))
	}
	if !f.From.IsZero() {
		q.where("r.enter_time >= " + q.arg(f.From))
	}
	if !f.To.IsZero() {
		q.where("r.enter_time < " + q.arg(f.To))
	}
}

// ListRaids reads one page of raids through the index of its order: raids_enter_time for the
// time orders, raids_score for the score order (raids_user_enter when one player is asked for).
func (s *Admin) ListRaids(ctx context.Context, rq ports.RaidQuery) ([]raids.Raid, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	var q query
	f := rq.Filter
	// A nickname prefix matching a few players reads each one's newest raids through
	// raids_user_enter and merges them (LATERAL): the page costs players × page, not every raid
	// of every matching player sorted. Many players: the page through raids_enter_time is cheaper.
	playersCond := ""
	if f.Player != "" && !f.PlayerExact && rq.Order != ports.RaidsBestScoreFirst {
		pattern := likePrefix(users.NicknameKey(f.Player))
		few, err := s.fewPlayersMatch(ctx, pattern)
		if err != nil {
			return nil, err
		}
		if few {
			playersCond = "u.nickname_key LIKE " + q.arg(pattern)
			f.Player = ""
			q.where("r.user_id = u.id")
		}
	}
	q.filterRaids(f)
	var keyCols, keyVals string
	desc := true
	switch rq.Order {
	case ports.RaidsNewestFirst, ports.RaidsOldestFirst:
		keyCols = "r.enter_time, r.id"
		desc = rq.Order == ports.RaidsNewestFirst
		if rq.After != nil {
			keyVals = q.arg(rq.After.EnterTime) + "::timestamptz, " + q.arg(rq.After.ID) + "::bigint"
		}
	case ports.RaidsBestScoreFirst:
		keyCols = "r.score, r.id"
		if rq.After != nil {
			keyVals = q.arg(rq.After.Score) + "::integer, " + q.arg(rq.After.ID) + "::bigint"
		}
	default:
		return nil, errors.New("list raids: no order")
	}
	if rq.Backward {
		desc = !desc
	}
	op, dir := ">", "ASC"
	if desc {
		op, dir = "<", "DESC"
	}
	if rq.After != nil {
		q.where("(" + keyCols + ") " + op + " (" + keyVals + ")")
	}
	orderBy := strings.ReplaceAll(keyCols, ",", " "+dir+",") + " " + dir
	limit := q.arg(max(rq.Limit, 0))

	from := `raids r JOIN users u ON u.id = r.user_id ` + q.whereClause()
	if playersCond != "" {
		from = `users u CROSS JOIN LATERAL (SELECT * FROM raids r ` + q.whereClause() +
			` ORDER BY ` + orderBy + ` LIMIT ` + limit + `) r WHERE ` + playersCond
	}
	rows, err := s.db.QueryContext(ctx, `
		SELECT `+raidColumns+`, now()
		FROM `+from+`
		ORDER BY `+orderBy+`
		LIMIT `+limit, q.args...)
	if err != nil {
		return nil, dbError("list raids", err)
	}
	defer rows.Close()
	out := make([]raids.Raid, 0, max(rq.Limit, 0))
	for rows.Next() {
		var now time.Time
		r, err := scanRaid(rows, &now)
		if err != nil {
			return nil, dbError("list raids", err)
		}
		out = append(out, r.At(now.UTC()))
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("list raids", err)
	}
	return out, nil
}

// fewPlayersMatch reports whether at most mergePlayers nicknames match pattern.
func (s *Admin) fewPlayersMatch(ctx context.Context, pattern string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM users WHERE nickname_key LIKE $1 LIMIT $2) m`,
		pattern, s.mergePlayers+1).Scan(&n)
	if err != nil {
		return false, dbError("list raids", err)
	}
	return n <= s.mergePlayers, nil
}

// statusCounts are the columns of ports.RaidCounts over the raids aliased r.
const statusCounts = `count(*) FILTER (WHERE ` + sqlInProgress + `) AS in_progress,
	count(*) FILTER (WHERE ` + sqlSuccess + `) AS success,
	count(*) FILTER (WHERE ` + sqlFail + `) AS fail`

// CountRaids counts the raids matching f by their status now: from the counters of
// migration 00006 when f asks only for a level, a status and a time range, else by scanning
// the one player's or the few players' raids.
func (s *Admin) CountRaids(ctx context.Context, f ports.RaidFilter) (ports.RaidCounts, error) {
	var c ports.RaidCounts
	var err error
	if f.UserID == 0 && f.Player == "" {
		c, err = s.countFromCounters(ctx, f)
	} else {
		c, err = s.countByScan(ctx, f)
	}
	if err != nil {
		return ports.RaidCounts{}, err
	}
	switch f.Status {
	case raids.StatusInProgress:
		c = ports.RaidCounts{InProgress: c.InProgress}
	case raids.StatusSuccess:
		c = ports.RaidCounts{Success: c.Success}
	case raids.StatusFail:
		c = ports.RaidCounts{Fail: c.Fail}
	}
	return c, nil
}

func (s *Admin) countByScan(ctx context.Context, f ports.RaidFilter) (ports.RaidCounts, error) {
	var q query
	f.Status = raids.Status{}
	q.filterRaids(f)
	ctx, cancel := bounded(ctx)
	defer cancel()
	var c ports.RaidCounts
	err := s.db.QueryRowContext(ctx, `SELECT `+statusCounts+` FROM raids r `+q.whereClause(), q.args...).
		Scan(&c.InProgress, &c.Success, &c.Fail)
	if err != nil {
		return ports.RaidCounts{}, dbError("count raids", err)
	}
	return c, nil
}

// countFromCounters adds up the hours wholly inside f's time range from raid_hours (every
// raid from raid_totals when f has no range), scans the raids of the part-hours at its ends
// through raids_enter_time, and moves the raid stored in progress, if it expired inside the
// counted hours, from in progress to failed. The cost follows the number of hours asked
// for, never the number of raids.
func (s *Admin) countFromCounters(ctx context.Context, f ports.RaidFilter) (ports.RaidCounts, error) {
	var q query
	level := ""
	if f.Level != nil {
		level = " AND level = " + q.arg(*f.Level)
	}
	// The hours wholly inside the range are [fromHour, toHour); edges are the part-hours.
	// The hour numbers and their starts are worked out here and sent as values: the planner
	// estimates a range of constants from its statistics and reads raid_hours by its key,
	// where an expression over a parameter made it guess a third of the table and scan it all.
	var counted, whole string
	var edges []string
	from, to := "", ""
	var fromHour, toHour, fromHourAt, toHourAt string
	if !f.From.IsZero() {
		t := f.From.Truncate(time.Microsecond) // Postgres keeps microseconds
		h := ceilHour(t)
		from, fromHour, fromHourAt = q.arg(t)+"::timestamptz", q.arg(h)+"::bigint", q.arg(hourStart(h))+"::timestamptz"
	}
	if !f.To.IsZero() {
		t := f.To.Truncate(time.Microsecond)
		h := floorHour(t)
		to, toHour, toHourAt = q.arg(t)+"::timestamptz", q.arg(h)+"::bigint", q.arg(hourStart(h))+"::timestamptz"
	}
	switch {
	case from == "" && to == "":
		counted = "SELECT status, n FROM raid_totals WHERE true" + level
		whole = "true"
	default:
		var hours, region []string
		if from != "" {
			hours = append(hours, "hour >= "+fromHour)
			region = append(region, "enter_time >= "+fromHourAt)
			end := fromHourAt
			if to != "" {
				end = "least(" + end + ", " + to + ")"
			}
			edges = append(edges, "enter_time >= "+from+" AND enter_time < "+end)
		}
		if to != "" {
			hours = append(hours, "hour < "+toHour)
			region = append(region, "enter_time < "+toHourAt)
			start := toHourAt
			if from != "" {
				start = "greatest(" + start + ", " + fromHourAt + ")"
			}
			edges = append(edges, "enter_time >= "+start+" AND enter_time < "+to)
		}
		counted = "SELECT status, n FROM raid_hours WHERE " + strings.Join(hours, " AND ") + level
		whole = strings.Join(region, " AND ")
	}
	edgeRaids := "SELECT status, deadline FROM raids WHERE false"
	for i, e := range edges {
		if i == 0 {
			edgeRaids = ""
		} else {
			edgeRaids += " UNION ALL "
		}
		edgeRaids += "SELECT status, deadline FROM raids WHERE " + e + level
	}

	ctx, cancel := bounded(ctx)
	defer cancel()
	var c ports.RaidCounts
	err := s.db.QueryRowContext(ctx, `
		WITH c AS (
			SELECT coalesce(sum(n) FILTER (WHERE status = 'in_progress'), 0) AS in_progress,
				coalesce(sum(n) FILTER (WHERE status = 'success'), 0) AS success,
				coalesce(sum(n) FILTER (WHERE status = 'fail'), 0) AS fail
			FROM (`+counted+`) k),
		e AS (SELECT `+statusCounts+` FROM (`+edgeRaids+`) r),
		x AS (SELECT count(*) AS n FROM raids
			WHERE status = 'in_progress' AND deadline <= now() AND `+whole+level+`)
		SELECT c.in_progress + e.in_progress - x.n, c.success + e.success, c.fail + e.fail + x.n
		FROM c, e, x`, q.args...).Scan(&c.InProgress, &c.Success, &c.Fail)
	if err != nil {
		return ports.RaidCounts{}, dbError("count raids", err)
	}
	return c, nil
}

// The hours of raid_hours are numbered from the Unix epoch (bossraid_raid_hour).
const microsPerHour = int64(time.Hour / time.Microsecond)

// ceilHour is the first hour starting at or after t; floorHour the hour t falls in.
func ceilHour(t time.Time) int64  { return -floorDiv(-t.UnixMicro(), microsPerHour) }
func floorHour(t time.Time) int64 { return floorDiv(t.UnixMicro(), microsPerHour) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func hourStart(h int64) time.Time { return time.Unix(h*3600, 0).UTC() }

// TopRaiders counts the matching raids per player first and looks up only the winners' nicknames.
func (s *Admin) TopRaiders(ctx context.Context, f ports.RaidFilter, n int) ([]ports.PlayerRaidCount, error) {
	var q query
	q.filterRaids(f)
	limit := q.arg(max(n, 0))
	ctx, cancel := bounded(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `
		WITH c AS (
			SELECT r.user_id, count(*) AS raids, `+statusCounts+`
			FROM raids r `+q.whereClause()+`
			GROUP BY r.user_id
			ORDER BY count(*) DESC, r.user_id
			LIMIT `+limit+`)
		SELECT c.user_id, u.nickname, c.in_progress, c.success, c.fail
		FROM c JOIN users u ON u.id = c.user_id
		ORDER BY c.raids DESC, c.user_id`, q.args...)
	if err != nil {
		return nil, dbError("top raiders", err)
	}
	defer rows.Close()
	out := []ports.PlayerRaidCount{}
	for rows.Next() {
		var pc ports.PlayerRaidCount
		if err := rows.Scan(&pc.UserID, &pc.Nickname, &pc.Raids.InProgress, &pc.Raids.Success, &pc.Raids.Fail); err != nil {
			return nil, dbError("top raiders", err)
		}
		out = append(out, pc)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("top raiders", err)
	}
	return out, nil
}

// ListPlayers reads one page of players by id (users' primary key) or by total (users_total),
// a search going through the prefix indexes on nickname_key and email. A player's raid count
// is their last raid's ordinal (seq), one probe of raids_user_seq.
func (s *Admin) ListPlayers(ctx context.Context, pq ports.PlayerQuery) ([]ports.PlayerRow, error) {
	var q query
	if search := strings.TrimSpace(pq.Search); search != "" {
		q.where("(u.nickname_key LIKE " + q.arg(likePrefix(users.NicknameKey(search))) +
			" OR u.email LIKE " + q.arg(likePrefix(users.NormalizeEmail(search))) + ")")
	}
	var keyCols, keyVals string
	desc := true
	switch pq.Order {
	case ports.PlayersNewestFirst:
		keyCols = "u.id"
		if pq.After != nil {
			keyVals = q.arg(pq.After.ID) + "::bigint"
		}
	case ports.PlayersBestTotalFirst:
		keyCols = "u.total_score, u.id"
		if pq.After != nil {
			keyVals = q.arg(pq.After.TotalScore) + "::bigint, " + q.arg(pq.After.ID) + "::bigint"
		}
	default:
		return nil, errors.New("list players: no order")
	}
	if pq.Backward {
		desc = !desc
	}
	op, dir := ">", "ASC"
	if desc {
		op, dir = "<", "DESC"
	}
	if pq.After != nil {
		q.where("(" + keyCols + ") " + op + " (" + keyVals + ")")
	}
	orderBy := strings.ReplaceAll(keyCols, ",", " "+dir+",") + " " + dir
	limit := q.arg(max(pq.Limit, 0))

	ctx, cancel := bounded(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `
		SELECT u.id, u.email, u.nickname, u.phone, coalesce(pi.key, ''), u.role, u.token_version,
			u.total_score, u.created_at,
			(SELECT coalesce(max(r.seq), 0) FROM raids r WHERE r.user_id = u.id)
		FROM users u LEFT JOIN profile_images pi ON pi.user_id = u.id
		`+q.whereClause()+`
		ORDER BY `+orderBy+`
		LIMIT `+limit, q.args...)
	if err != nil {
		return nil, dbError("list players", err)
	}
	defer rows.Close()
	out := make([]ports.PlayerRow, 0, max(pq.Limit, 0))
	for rows.Next() {
		var row ports.PlayerRow
		u := &row.User
		var role string
		if err := rows.Scan(&u.ID, &u.Email, &u.Nickname, &u.Phone, &u.ProfileImage, &role, &u.TokenVersion,
			&u.TotalScore, &u.CreatedAt, &row.RaidCount); err != nil {
			return nil, dbError("list players", err)
		}
		if u.Role, err = users.ParseRole(role); err != nil {
			return nil, fmt.Errorf("list players: %w", err)
		}
		u.CreatedAt = u.CreatedAt.UTC()
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("list players", err)
	}
	return out, nil
}

// CountPlayers adds up the player counters of migration 00006.
func (s *Admin) CountPlayers(ctx context.Context) (int, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(sum(n), 0) FROM player_counts`).Scan(&n); err != nil {
		return 0, dbError("count players", err)
	}
	return n, nil
}

// VerifyCounters compares what migrations 00006 and 00010 maintain with a scan of the tables:
// every raid's ordinal among its player's raids, the raid counters by hour and in all, the
// player count and the players active per day. It returns an error naming each disagreement;
// it reads every raid.
func VerifyCounters(ctx context.Context, db *sql.DB) error {
	checks := []struct{ what, query string }{
		{"raids whose seq is not their place among their player's raids", `
			SELECT count(*) FROM (
				SELECT seq, row_number() OVER (PARTITION BY user_id ORDER BY id) AS place FROM raids) o
			WHERE seq <> place`},
		{"hours, levels and statuses counted wrong in raid_hours", `
			SELECT count(*) FROM (
				SELECT bossraid_raid_hour(enter_time) AS hour, level, status, count(*) AS n
				FROM raids GROUP BY 1, 2, 3) s
			FULL JOIN (SELECT * FROM raid_hours WHERE n <> 0) c USING (hour, level, status)
			WHERE s.n IS DISTINCT FROM c.n`},
		{"levels and statuses counted wrong in raid_totals", `
			SELECT count(*) FROM (SELECT level, status, count(*) AS n FROM raids GROUP BY 1, 2) s
			FULL JOIN (SELECT * FROM raid_totals WHERE n <> 0) c USING (level, status)
			WHERE s.n IS DISTINCT FROM c.n`},
		{"players missing from (or extra in) player_counts", `
			SELECT abs((SELECT count(*) FROM users) - (SELECT coalesce(sum(n), 0) FROM player_counts))`},
		{"players' days missing from (or extra in) player_days", `
			SELECT count(*) FROM (SELECT DISTINCT bossraid_raid_day(enter_time) AS day, user_id FROM raids) s
			FULL JOIN player_days c USING (day, user_id)
			WHERE s.day IS NULL OR c.day IS NULL`},
		{"days counted wrong in day_players", `
			SELECT count(*) FROM (SELECT day, count(*) AS n FROM player_days GROUP BY 1) s
			FULL JOIN (SELECT * FROM day_players WHERE n <> 0) c USING (day)
			WHERE s.n IS DISTINCT FROM c.n`},
	}
	var errs []error
	for _, c := range checks {
		var n int64
		if err := db.QueryRowContext(ctx, c.query).Scan(&n); err != nil {
			return dbError("verify counters", err)
		}
		if n != 0 {
			errs = append(errs, fmt.Errorf("%d %s", n, c.what))
		}
	}
	return errors.Join(errs...)
}
