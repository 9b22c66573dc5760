package app

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// Admin page sizes.
const (
	DefaultAdminPageSize = 50
	MaxAdminPageSize     = 200
	DefaultTopRaiders    = 20
	MaxTopRaiders        = 100
	// recentRaidsShown is how many of a player's raids their admin page lists.
	recentRaidsShown = 20
	// exportBatch is how many raids the export reads per query: each batch is its own
	// short query, so an export of millions of rows holds neither memory nor a snapshot.
	exportBatch = 1000
	// maxSearchLength bounds search and nickname filters; nothing longer can match.
	maxSearchLength = 254
)

// Admin is the use cases of the admin pages: every raid and player, the charts, the boss
// data and the ranking's upkeep. Each refuses everyone but admins.
type Admin struct {
	clock       ports.Clock
	store       ports.AdminStore
	users       ports.UserStore
	charts      ports.ChartStore
	raids       *Raids
	ranking     *Ranking
	leaderboard ports.Ranking // the ranking's fast copy, for the check
	totals      ports.Ranking // the ranking's source of truth, for the check
	log         *slog.Logger
}

// requireAdmin refuses everyone but admins. The admin pages check it too; this is the
// check that holds whatever front door calls.
func requireAdmin(p Player) error {
	if !p.IsAdmin() {
		return ErrForbidden
	}
	return nil
}

// RaidListQuery asks for one page of raids. At most one of After and Before is set: the
// page after the last row of the page before, or the page before the first row of the one after.
type RaidListQuery struct {
	Filter ports.RaidFilter
	Order  ports.RaidOrder // zero: newest first
	After  *ports.RaidKey
	Before *ports.RaidKey
	Limit  int // 0: DefaultAdminPageSize
}

// RaidList is one page of raids with the cursors of its neighbours.
type RaidList struct {
	Raids []raids.Raid
	Order ports.RaidOrder
	Limit int
	Next  *ports.RaidKey // nil on the last page
	Prev  *ports.RaidKey // nil on the first page
}

// ListRaids returns one page of every raid ever played, filtered and sorted; statuses are
// judged by the deadline. ErrForbidden for non-admins; a bad query is a *ValidationError.
func (a *Admin) ListRaids(ctx context.Context, p Player, q RaidListQuery) (RaidList, error) {
	if err := requireAdmin(p); err != nil {
		return RaidList{}, err
	}
	fields := checkRaidFilter(q.Filter)
	if q.Order.IsZero() {
		q.Order = ports.RaidsNewestFirst
	}
	limit, msg := pageSize(q.Limit, DefaultAdminPageSize, MaxAdminPageSize)
	if msg != "" {
		fields["limit"] = msg
	}
	if q.After != nil && q.Before != nil {
		fields["after"] = "ask for the page after a raid or before one, not both"
	}
	if len(fields) > 0 {
		return RaidList{}, &ValidationError{Fields: fields}
	}
	rows, prev, next, err := keysetPage(limit, q.After, q.Before, func(after *ports.RaidKey, backward bool, n int) ([]raids.Raid, error) {
		return a.store.ListRaids(ctx, ports.RaidQuery{Filter: q.Filter, Order: q.Order, After: after, Backward: backward, Limit: n})
	}, ports.KeyOf)
	if err != nil {
		return RaidList{}, err
	}
	return RaidList{Raids: rows, Order: q.Order, Limit: limit, Prev: prev, Next: next}, nil
}

// keysetPage reads one page of limit rows: after the cursor after, or before the cursor
// before (read backward and turned around), or the first page. One row more than the page
// is read to know whether another page follows in the direction of travel; the other
// direction has a page whenever a cursor brought us here.
func keysetPage[T, K any](limit int, after, before *K, read func(after *K, backward bool, n int) ([]T, error), key func(T) K) (rows []T, prev, next *K, err error) {
	keyOf := func(r T) *K { k := key(r); return &k }
	if before != nil {
		rows, err = read(before, true, limit+1)
		if err != nil {
			return nil, nil, nil, err
		}
		more := len(rows) > limit
		rows = rows[:min(len(rows), limit)]
		slices.Reverse(rows)
		if len(rows) > 0 {
			next = keyOf(rows[len(rows)-1])
			if more {
				prev = keyOf(rows[0])
			}
		}
		return rows, prev, next, nil
	}
	rows, err = read(after, false, limit+1)
	if err != nil {
		return nil, nil, nil, err
	}
	more := len(rows) > limit
	rows = rows[:min(len(rows), limit)]
	if len(rows) > 0 {
		if more {
			next = keyOf(rows[len(rows)-1])
		}
		if after != nil {
			prev = keyOf(rows[0])
		}
	}
	return rows, prev, next, nil
}

func pageSize(n, def, most int) (int, string) {
	switch {
	case n == 0:
		return def, ""
	case n < 1 || n > most:
		return 0, fmt.Sprintf("limit must be between 1 and %d", most)
	}
	return n, ""
}

// checkRaidFilter returns what is wrong with f, field by field (an empty map when nothing is).
func checkRaidFilter(f ports.RaidFilter) map[string]string {
	fields := map[string]string{}
	if len(f.Player) > maxSearchLength {
		fields["player"] = "player is too long"
	}
	if f.UserID < 0 {
		fields["player"] = "no such player"
	}
	if f.Level != nil && *f.Level < 0 {
		fields["level"] = "level must be 0 or more"
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		fields["to"] = "the end of the time range must come after its start"
	}
	return fields
}

// RaidDetail returns one raid as it stands now, whoever played it.
func (a *Admin) RaidDetail(ctx context.Context, p Player, raidID int64) (raids.Raid, error) {
	if err := requireAdmin(p); err != nil {
		return raids.Raid{}, err
	}
	return a.raids.store.RaidByID(ctx, raidID)
}

// TopRaiders returns up to n players (0: DefaultTopRaiders) with the most raids matching f,
// each with those raids counted by status: "who failed most last week" is
// TopRaiders(Status fail, From a week ago).
func (a *Admin) TopRaiders(ctx context.Context, p Player, f ports.RaidFilter, n int) ([]ports.PlayerRaidCount, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	fields := checkRaidFilter(f)
	n, msg := pageSize(n, DefaultTopRaiders, MaxTopRaiders)
	if msg != "" {
		fields["limit"] = msg
	}
	if len(fields) > 0 {
		return nil, &ValidationError{Fields: fields}
	}
	return a.store.TopRaiders(ctx, f, n)
}

// PlayerListQuery asks for one page of players, paged like RaidListQuery.
type PlayerListQuery struct {
	Search string // beginning of a nickname (any case) or an email
	Order  ports.PlayerOrder
	After  *ports.PlayerKey
	Before *ports.PlayerKey
	Limit  int
}

// PlayerList is one page of players with the cursors of its neighbours.
type PlayerList struct {
	Players []ports.PlayerRow
	Order   ports.PlayerOrder
	Limit   int
	Next    *ports.PlayerKey
	Prev    *ports.PlayerKey
}

// ListPlayers returns one page of players found by the beginning of their nickname or email,
// each with their total and raid count.
func (a *Admin) ListPlayers(ctx context.Context, p Player, q PlayerListQuery) (PlayerList, error) {
	if err := requireAdmin(p); err != nil {
		return PlayerList{}, err
	}
	fields := map[string]string{}
	q.Search = strings.TrimSpace(q.Search)
	if len(q.Search) > maxSearchLength {
		fields["q"] = "search is too long"
	}
	if q.Order.IsZero() {
		q.Order = ports.PlayersNewestFirst
	}
	limit, msg := pageSize(q.Limit, DefaultAdminPageSize, MaxAdminPageSize)
	if msg != "" {
		fields["limit"] = msg
	}
	if q.After != nil && q.Before != nil {
		fields["after"] = "ask for the page after a player or before one, not both"
	}
	if len(fields) > 0 {
		return PlayerList{}, &ValidationError{Fields: fields}
	}
	rows, prev, next, err := keysetPage(limit, q.After, q.Before, func(after *ports.PlayerKey, backward bool, n int) ([]ports.PlayerRow, error) {
		return a.store.ListPlayers(ctx, ports.PlayerQuery{Search: q.Search, Order: q.Order, After: after, Backward: backward, Limit: n})
	}, func(r ports.PlayerRow) ports.PlayerKey { return ports.PlayerKeyOf(r.User) })
	if err != nil {
		return PlayerList{}, err
	}
	return PlayerList{Players: rows, Order: q.Order, Limit: limit, Prev: prev, Next: next}, nil
}

// PlayerDetail is everything an admin sees of one player.
type PlayerDetail struct {
	User   users.User // PasswordHash left empty
	Raids  ports.RaidCounts
	Recent []raids.Raid // newest first, at most recentRaidsShown
}

// PlayerDetail returns a player's account, total, raids counted by status and latest raids.
// users.ErrNotFound for an unknown id.
func (a *Admin) PlayerDetail(ctx context.Context, p Player, userID int64) (PlayerDetail, error) {
	if err := requireAdmin(p); err != nil {
		return PlayerDetail{}, err
	}
	u, err := a.users.UserByID(ctx, userID)
	if err != nil {
		return PlayerDetail{}, err
	}
	u.PasswordHash = ""
	f := ports.RaidFilter{UserID: userID}
	counts, err := a.store.CountRaids(ctx, f)
	if err != nil {
		return PlayerDetail{}, err
	}
	recent, err := a.store.ListRaids(ctx, ports.RaidQuery{Filter: f, Order: ports.RaidsNewestFirst, Limit: recentRaidsShown})
	if err != nil {
		return PlayerDetail{}, err
	}
	return PlayerDetail{User: u, Raids: counts, Recent: recent}, nil
}

// Dashboard is the admin overview.
type Dashboard struct {
	Now     time.Time
	Players int
	Raids   ports.RaidCounts // every raid ever played
	LastDay ports.RaidCounts // raids entered in the last 24 hours
	Status  RaidStatus
	Boss    raids.BossData
}

// Dashboard counts players and raids and says who is inside now.
func (a *Admin) Dashboard(ctx context.Context, p Player) (Dashboard, error) {
	if err := requireAdmin(p); err != nil {
		return Dashboard{}, err
	}
	d := Dashboard{Now: a.clock.Now(), Boss: a.raids.BossData()}
	var err error
	if d.Players, err = a.store.CountPlayers(ctx); err != nil {
		return Dashboard{}, err
	}
	if d.Raids, err = a.store.CountRaids(ctx, ports.RaidFilter{}); err != nil {
		return Dashboard{}, err
	}
	if d.LastDay, err = a.store.CountRaids(ctx, ports.RaidFilter{From: d.Now.Add(-24 * time.Hour)}); err != nil {
		return Dashboard{}, err
	}
	if d.Status, err = a.raids.Status(ctx); err != nil {
		return Dashboard{}, err
	}
	return d, nil
}

// BossData returns the boss raid data in force.
func (a *Admin) BossData(p Player) (raids.BossData, error) {
	if err := requireAdmin(p); err != nil {
		return raids.BossData{}, err
	}
	return a.raids.BossData(), nil
}

// ReloadBossData reloads the boss raid data from its source for every instance. On
// failure the error says why and the data in force, returned with it, stays.
func (a *Admin) ReloadBossData(ctx context.Context, p Player) (raids.BossData, error) {
	if err := requireAdmin(p); err != nil {
		return raids.BossData{}, err
	}
	a.log.InfoContext(ctx, "admin reloads the boss data", "admin", p.ID)
	return a.raids.ReloadBossData(ctx)
}

// RankingRebuild is what a rebuild of the leaderboard did.
type RankingRebuild struct {
	Players int
	Took    time.Duration
}

// RebuildRanking rebuilds the ranking from the source of truth.
func (a *Admin) RebuildRanking(ctx context.Context, p Player) (RankingRebuild, error) {
	if err := requireAdmin(p); err != nil {
		return RankingRebuild{}, err
	}
	a.log.InfoContext(ctx, "admin rebuilds the ranking", "admin", p.ID)
	start := time.Now()
	n, err := a.ranking.Rebuild(ctx)
	if err != nil {
		return RankingRebuild{}, err
	}
	return RankingRebuild{Players: n, Took: time.Since(start)}, nil
}

// RankingCheck sets the leaderboard beside the ranking worked out from the totals, so an admin
// can see whether they agree before (or after) rebuilding.
type RankingCheck struct {
	Leaderboard    []raids.Standing
	LeaderboardErr error // why the leaderboard cannot answer, if it cannot
	Database       []raids.Standing
	Agree          bool
}

// RankingCheck reads the top 10 from both sources.
func (a *Admin) RankingCheck(ctx context.Context, p Player) (RankingCheck, error) {
	if err := requireAdmin(p); err != nil {
		return RankingCheck{}, err
	}
	var c RankingCheck
	db, err := a.totals.Top(ctx, raids.TopSize)
	if err != nil {
		return RankingCheck{}, err
	}
	if err := fillNicknames(ctx, a.users, db, nil); err != nil {
		return RankingCheck{}, err
	}
	c.Database = db
	lb, err := a.leaderboard.Top(ctx, raids.TopSize)
	if err != nil {
		c.LeaderboardErr = err
		return c, nil
	}
	if err := fillNicknames(ctx, a.users, lb, nil); err != nil {
		return RankingCheck{}, err
	}
	c.Leaderboard = lb
	c.Agree = slices.Equal(c.Leaderboard, c.Database)
	return c, nil
}

// RaidExport is every raid an export asks for, read a batch at a time when ranged over.
type RaidExport struct {
	Now time.Time // when the export was asked for
	// Raids yields the raids in order; it stops at the first error, yielding it.
	Raids iter.Seq2[raids.Raid, error]
}

// ExportRaids checks the query and returns every raid matching f, in order (zero: newest
// first). Ranging over the raids reads them a batch at a time, so memory stays flat whatever
// their number. ErrForbidden for non-admins; a bad filter is a *ValidationError.
func (a *Admin) ExportRaids(ctx context.Context, p Player, f ports.RaidFilter, order ports.RaidOrder) (RaidExport, error) {
	if err := requireAdmin(p); err != nil {
		return RaidExport{}, err
	}
	if fields := checkRaidFilter(f); len(fields) > 0 {
		return RaidExport{}, &ValidationError{Fields: fields}
	}
	if order.IsZero() {
		order = ports.RaidsNewestFirst
	}
	all := func(yield func(raids.Raid, error) bool) {
		var after *ports.RaidKey
		for {
			batch, err := a.store.ListRaids(ctx, ports.RaidQuery{Filter: f, Order: order, After: after, Limit: exportBatch})
			if err != nil {
				yield(raids.Raid{}, err)
				return
			}
			for _, r := range batch {
				if !yield(r, nil) {
					return
				}
			}
			if len(batch) < exportBatch {
				return
			}
			k := ports.KeyOf(batch[len(batch)-1])
			after = &k
		}
	}
	return RaidExport{Now: a.clock.Now(), Raids: all}, nil
}
