package ports

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
)

// AdminStore answers the admin pages' questions about every raid and every player. Like
// RaidStore it judges raids by the store's clock: an in-progress raid past its deadline is a
// failed raid that ended at its deadline, whether or not anything recorded it yet. Lists are
// read with keyset pagination, so a page costs the same at the millionth row as at the first.
// No method returns an error besides ErrUnavailable, except for a query without an order (a
// programming error).
type AdminStore interface {
	// ListRaids returns up to q.Limit raids matching q.Filter, in q.Order, starting just past
	// q.After (from the start when nil), each as it stands now with its player's nickname. With
	// q.Backward it reads against the order: the rows just before q.After (the last rows when
	// nil), nearest first. q.Order must be set.
	ListRaids(ctx context.Context, q RaidQuery) ([]raids.Raid, error)
	// CountRaids counts the raids matching f by their status now.
	CountRaids(ctx context.Context, f RaidFilter) (RaidCounts, error)
	// TopRaiders returns up to n players with the most raids matching f, most first, ties by
	// user id; each with those raids counted by status.
	TopRaiders(ctx context.Context, f RaidFilter, n int) ([]PlayerRaidCount, error)
	// ListPlayers returns up to q.Limit players whose nickname (case-insensitively) or email
	// (stored lower-cased) starts with q.Search, in q.Order, paged like ListRaids, each with how many raids they
	// have played. PasswordHash is left empty. q.Order must be set.
	ListPlayers(ctx context.Context, q PlayerQuery) ([]PlayerRow, error)
	// CountPlayers counts every registered player.
	CountPlayers(ctx context.Context) (int, error)
}

// RaidFilter selects raids. Its zero value selects every raid.
type RaidFilter struct {
	UserID int64 // 0: any player
	// Player is a nickname, compared case-insensitively: the whole nickname when PlayerExact,
	// else its beginning. "" is any player.
	Player      string
	PlayerExact bool
	Status      raids.Status // zero: any; the status now, judged by the deadline
	Level       *int         // nil: any level
	From        time.Time    // entered at or after From; zero: no bound
	To          time.Time    // entered before To; zero: no bound
}

// Matches reports whether r, as it stands at now and played by nickname, passes the filter.
func (f RaidFilter) Matches(r raids.Raid, nickname string, now time.Time) bool {
	r = r.At(now)
	switch {
	case f.UserID != 0 && r.UserID != f.UserID,
		f.Player != "" && !NicknameMatches(nickname, f.Player, f.PlayerExact),
		!f.Status.IsZero() && r.Status != f.Status,
		f.Level != nil && r.Level != *f.Level,
		!f.From.IsZero() && r.EnterTime.Before(f.From),
		!f.To.IsZero() && !r.EnterTime.Before(f.To):
		return false
	}
	return true
}

// NicknameMatches compares nicknames as the stores do: by users.NicknameKey, whole or prefix.
func NicknameMatches(nickname, wanted string, exact bool) bool {
	key, want := users.NicknameKey(nickname), users.NicknameKey(wanted)
	if exact {
		return key == want
	}
	return strings.HasPrefix(key, want)
}

// RaidOrder is an order the admin lists show raids in. The zero value is not an order.
type RaidOrder struct{ name string }

var (
	RaidsNewestFirst    = RaidOrder{"newest"} // enter time descending, then id descending
	RaidsOldestFirst    = RaidOrder{"oldest"} // enter time ascending, then id ascending
	RaidsBestScoreFirst = RaidOrder{"score"}  // score descending, then id descending
)

// RaidOrders lists every order, the default first.
func RaidOrders() []RaidOrder {
	return []RaidOrder{RaidsNewestFirst, RaidsOldestFirst, RaidsBestScoreFirst}
}

// ParseRaidOrder turns an order's name back into the order.
func ParseRaidOrder(s string) (RaidOrder, error) {
	for _, o := range RaidOrders() {
		if o.name == s {
			return o, nil
		}
	}
	return RaidOrder{}, fmt.Errorf("unknown raid order %q", s)
}

func (o RaidOrder) String() string { return o.name }

// IsZero reports whether o was never set.
func (o RaidOrder) IsZero() bool { return o.name == "" }

// Compare is negative when the raid at a comes before the one at b in the order.
func (o RaidOrder) Compare(a, b RaidKey) int {
	switch o {
	case RaidsOldestFirst:
		return cmp.Or(a.EnterTime.Compare(b.EnterTime), cmp.Compare(a.ID, b.ID))
	case RaidsBestScoreFirst:
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.ID, a.ID))
	}
	return cmp.Or(b.EnterTime.Compare(a.EnterTime), cmp.Compare(b.ID, a.ID))
}

// RaidKey is where a raid stands in every order: the keyset pagination cursor.
type RaidKey struct {
	EnterTime time.Time
	Score     int
	ID        int64
}

// KeyOf returns the key of r.
func KeyOf(r raids.Raid) RaidKey {
	return RaidKey{EnterTime: r.EnterTime, Score: r.Score, ID: r.ID}
}

// RaidQuery is one page of raids to read.
type RaidQuery struct {
	Filter   RaidFilter
	Order    RaidOrder
	After    *RaidKey // start just past this key; nil: from the start (from the end when Backward)
	Backward bool     // read against Order, nearest to After first
	Limit    int
}

// RaidCounts are raids counted by their status now.
type RaidCounts struct {
	InProgress int
	Success    int
	Fail       int
}

// Total is every raid counted.
func (c RaidCounts) Total() int { return c.InProgress + c.Success + c.Fail }

// Add counts one raid of status s.
func (c *RaidCounts) Add(s raids.Status) {
	switch s {
	case raids.StatusInProgress:
		c.InProgress++
	case raids.StatusSuccess:
		c.Success++
	case raids.StatusFail:
		c.Fail++
	}
}

// PlayerRaidCount is a player with their raids counted.
type PlayerRaidCount struct {
	UserID   int64
	Nickname string
	Raids    RaidCounts
}

// PlayerOrder is an order the admin lists show players in. The zero value is not an order.
type PlayerOrder struct{ name string }

var (
	PlayersNewestFirst    = PlayerOrder{"newest"} // id descending: the latest sign-ups first
	PlayersBestTotalFirst = PlayerOrder{"total"}  // total score descending, then id descending
)

// PlayerOrders lists every order, the default first.
func PlayerOrders() []PlayerOrder { return []PlayerOrder{PlayersNewestFirst, PlayersBestTotalFirst} }

// ParsePlayerOrder turns an order's name back into the order.
func ParsePlayerOrder(s string) (PlayerOrder, error) {
	for _, o := range PlayerOrders() {
		if o.name == s {
			return o, nil
		}
	}
	return PlayerOrder{}, fmt.Errorf("unknown player order %q", s)
}

func (o PlayerOrder) String() string { return o.name }

// IsZero reports whether o was never set.
func (o PlayerOrder) IsZero() bool { return o.name == "" }

// Compare is negative when the player at a comes before the one at b in the order.
func (o PlayerOrder) Compare(a, b PlayerKey) int {
	if o == PlayersBestTotalFirst {
		return cmp.Or(cmp.Compare(b.TotalScore, a.TotalScore), cmp.Compare(b.ID, a.ID))
	}
	return cmp.Compare(b.ID, a.ID)
}

// PlayerKey is where a player stands in every order: the keyset pagination cursor.
type PlayerKey struct {
	TotalScore int64
	ID         int64
}

// PlayerKeyOf returns the key of u.
func PlayerKeyOf(u users.User) PlayerKey { return PlayerKey{TotalScore: u.TotalScore, ID: u.ID} }

// PlayerQuery is one page of players to read.
type PlayerQuery struct {
	Search   string // beginning of the nickname (any case) or of the email; "" is everyone
	Order    PlayerOrder
	After    *PlayerKey
	Backward bool
	Limit    int
}

// PlayerRow is a player in the admin list.
type PlayerRow struct {
	User      users.User
	RaidCount int
}
