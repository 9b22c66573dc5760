// Package ports declares what the core needs from the outside world. Each method's comment
// names the errors it returns besides ErrUnavailable, which any adapter may return when its
// backing service cannot be reached or answered too slowly.
package ports

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
)

// ErrUnavailable means a dependency (database, cache) could not answer; try again later.
var ErrUnavailable = errors.New("service temporarily unavailable")

// Clock tells the time. The core reads it once per use case.
type Clock interface {
	Now() time.Time
}

// UserStore keeps player accounts. Postgres is the source of truth.
type UserStore interface {
	// CreateUser registers a player with the player role, and its profile image if any, in one
	// transaction. Returns users.ErrEmailTaken or
	// users.ErrNicknameTaken (email checked first) when either is in use, compared case-insensitively.
	CreateUser(ctx context.Context, u users.NewUser) (users.User, error)
	// UserByID returns users.ErrNotFound.
	UserByID(ctx context.Context, id int64) (users.User, error)
	// UserByEmail looks the email up case-insensitively. Returns users.ErrNotFound.
	UserByEmail(ctx context.Context, email string) (users.User, error)
	// UserByNickname looks the nickname up case-insensitively. Returns users.ErrNotFound.
	UserByNickname(ctx context.Context, nickname string) (users.User, error)
	// Nicknames returns the nicknames of the given players; unknown ids are left out.
	Nicknames(ctx context.Context, ids []int64) (map[int64]string, error)
	// SetRole changes the role of the player with that email. Returns users.ErrNotFound.
	SetRole(ctx context.Context, email string, role users.Role) (users.User, error)
}

// AccountLookup reads what a token check needs of a player: id, nickname, role and token
// version. Other fields may be stale or empty (it may answer from a cache kept exact for those
// four by ChangeFeed); the password hash is always empty. Returns users.ErrNotFound.
type AccountLookup interface {
	AccountByID(ctx context.Context, id int64) (users.User, error)
}

// RefreshToken is the stored side of a refresh token; the token itself is signed by Tokens.
type RefreshToken struct {
	ID        string
	UserID    int64
	ExpiresAt time.Time
	RevokedAt *time.Time
}

// SessionStore keeps refresh tokens and the per-player token version that kills access tokens.
type SessionStore interface {
	// StartSession records a new refresh token for the player and revokes every earlier one,
	// in one transaction.
	StartSession(ctx context.Context, t RefreshToken) error
	// RefreshTokenByID returns the stored token, revoked or not. Returns ErrTokenNotFound.
	RefreshTokenByID(ctx context.Context, id string) (RefreshToken, error)
	// EndAllSessions revokes every refresh token of the player and moves the player's token
	// version on (so every access token dies), in one transaction. Returns the new version.
	// Returns users.ErrNotFound.
	EndAllSessions(ctx context.Context, userID int64) (int64, error)
}

// ErrTokenNotFound means no refresh token is stored under that id.
var ErrTokenNotFound = errors.New("refresh token not found")

// TokenKind tells access tokens from refresh tokens so one cannot stand in for the other.
type TokenKind string

const (
	TokenAccess  TokenKind = "access"
	TokenRefresh TokenKind = "refresh"
)

// TokenClaims is what a signed token says.
type TokenClaims struct {
	Kind      TokenKind
	UserID    int64
	Version   int64  // the player's token version at issue
	ID        string // unique per token; the refresh token's storage id
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Tokens signs and verifies bearer tokens.
type Tokens interface {
	// Sign returns the token string for claims.
	Sign(c TokenClaims) (string, error)
	// Verify checks signature, format and kind; expiry is the caller's to judge against its
	// clock. Returns ErrInvalidToken for anything forged, malformed or of another kind.
	Verify(token string, kind TokenKind) (TokenClaims, error)
}

// ErrInvalidToken means a bearer token cannot be trusted.
var ErrInvalidToken = errors.New("invalid token")

// PasswordHasher turns passwords into slow, salted hashes.
type PasswordHasher interface {
	Hash(password string) (string, error)
	// Verify reports whether password matches hash; it takes about as long either way.
	Verify(password, hash string) (bool, error)
}

// ImageChecker tells whether uploaded bytes are a profile image we accept.
type ImageChecker interface {
	// CheckImage decodes data and returns its content type (image/png, image/jpeg or
	// image/webp). Returns ErrImageTooLarge when the header claims more pixels than are
	// decoded, before decoding, and ErrInvalidImage for anything else it refuses. Decodes wait
	// for a share of a bounded budget; one that cannot get it while ctx lasts (or in the
	// adapter's own bound) returns ErrUnavailable.
	CheckImage(ctx context.Context, data []byte) (contentType string, err error)
}

// ErrInvalidImage means the bytes are not a PNG, JPEG or WebP image.
var ErrInvalidImage = errors.New("not a PNG, JPEG or WebP image")

// ErrImageTooLarge means an image's dimensions exceed what we decode; errors.Is ErrInvalidImage.
var ErrImageTooLarge = fmt.Errorf("%w we decode: too many pixels", ErrInvalidImage)

// ImageStore serves the profile images saved with CreateUser.
type ImageStore interface {
	// ProfileImage returns the image under key. Returns ErrImageNotFound.
	ProfileImage(ctx context.Context, key string) (users.ProfileImage, error)
}

// ErrImageNotFound means no image is stored under that key.
var ErrImageNotFound = errors.New("image not found")

// Throttle counts attempts per key in a fixed window that starts at the key's first counted
// attempt and does not slide. Attempts are reserved before the work they guard (a password
// check, a sign-up), so simultaneous callers cannot all slip under the limit.
type Throttle interface {
	// Reserve counts one attempt for key unless key already has limit attempts in its window,
	// and reports whether it counted it (allowed) and how long key's window has left. Checking
	// and counting are one atomic step across every caller sharing the store, so no number of
	// simultaneous callers gets more than limit reservations in a window. A refused attempt is
	// not counted. Returns an error, counting nothing, for a limit below 1 or a window shorter
	// than a millisecond.
	Reserve(ctx context.Context, key string, limit int, window time.Duration) (allowed bool, resetIn time.Duration, err error)
	// Release gives back one attempt Reserve counted for key (one that turned out not to count,
	// such as a right password); the window keeps its end, and a key left with none is forgotten.
	// Releasing a key with nothing counted does nothing.
	Release(ctx context.Context, key string) error
	// Count returns how many attempts key has in its current window and how long the window
	// has left (zero when there are none).
	Count(ctx context.Context, key string) (count int, resetIn time.Duration, err error)
	// Reset forgets key's attempts.
	Reset(ctx context.Context, key string) error
}

// RaidStore keeps raid records and players' totals. Postgres is the source of truth and its
// clock decides deadlines: every method judges "in progress" as now < deadline by the store's clock.
type RaidStore interface {
	// EnterRaid starts a raid for the player at the given level, unless a raid is in
	// progress; an expired raid is closed as failed in the same transaction. Returns
	// *raids.BusyError (errors.Is raids.ErrBusy) naming who is inside.
	EnterRaid(ctx context.Context, userID int64, level raids.Level, limit time.Duration) (raids.Raid, error)
	// UpdateRaid locks the raid, hands it to change as it stands at the store's now, and
	// stores what change returns whenever it differs — also when change returns an error, so
	// a refusal can record a failed raid. A change of score is added to the player's total in
	// the same transaction. Returns the stored raid, the player's total and change's error.
	// Returns raids.ErrNotFound for an unknown id.
	UpdateRaid(ctx context.Context, raidID int64, change func(r raids.Raid, now time.Time) (raids.Raid, error)) (raids.Raid, int64, error)
	// CurrentRaid returns the raid in progress now, if any.
	CurrentRaid(ctx context.Context) (raids.Raid, bool, error)
	// RaidByID returns the raid as it stands now. Returns raids.ErrNotFound.
	RaidByID(ctx context.Context, raidID int64) (raids.Raid, error)
	// History returns the player's raids newest first, as they stand now, and how many there are.
	History(ctx context.Context, userID int64, offset, limit int) ([]raids.Raid, int, error)
	// SweepExpired records every in-progress raid past its deadline as failed; only tidies.
	SweepExpired(ctx context.Context) (int, error)
}

// RaidQueue keeps the line of players waiting for the raid (core/raids' queue rules). Like
// RaidStore it is Postgres that decides, by its clock: joins are taken one at a time, so the
// order of the line is the order the joins committed, and RaidStore.EnterRaid judges the line
// in the same way (refusing everyone but the holder of a turn with *raids.ReservedError, and
// taking the player who enters out of the line). Signing out everywhere
// (SessionStore.EndAllSessions) takes the player out of the line too.
type RaidQueue interface {
	// JoinQueue puts the player at the back of the line with a turn of the given length and
	// returns their place (1 for the head). Returns raids.ErrInsideRaid, raids.ErrAlreadyQueued,
	// raids.ErrRaidFree (nobody inside and nobody waiting) and users.ErrNotFound.
	JoinQueue(ctx context.Context, userID int64, turn time.Duration) (int, error)
	// LeaveQueue takes the player out of the line; a holder leaving passes the turn on at once.
	// Returns raids.ErrNotQueued.
	LeaveQueue(ctx context.Context, userID int64) error
	// Line returns the line as it stands now, lapsed turns left out, with nicknames.
	Line(ctx context.Context) (raids.Line, error)
}

// PlayerRecords reads a player's public record in one trip: who they are, how many raids
// they played and one page of those raids.
type PlayerRecords interface {
	// PlayerRecord returns the player with the nickname (as UserByNickname), their raids newest
	// first from offset as they stand now (as History), and how many there are. Returns
	// users.ErrNotFound.
	PlayerRecord(ctx context.Context, nickname string, offset, limit int) (users.User, []raids.Raid, int, error)
}

// Ranking answers the ranking. The Redis leaderboard and the Postgres totals both implement it.
type Ranking interface {
	// Top returns up to n players with a total above 0, in ranking order with their rankings
	// (Nickname left empty). Returns raids.ErrNotRanked when this source cannot answer now.
	Top(ctx context.Context, n int) ([]raids.Standing, error)
	// StandingOf returns the player's standing. Returns raids.ErrPlayerNotInRanks when the
	// player's total is 0, and raids.ErrNotRanked when this source cannot answer now.
	StandingOf(ctx context.Context, userID int64) (raids.Standing, error)
}

// Standings is the ranking as the use cases see it. The wired one answers from the fastest
// source that can (memory, the leaderboard, the totals in the database), never differently,
// and repairs itself: a lost write or a flushed leaderboard is rebuilt by the adapter.
type Standings interface {
	// Board returns up to n players with a total above 0 in ranking order (Nickname left
	// empty) and userID's standing: TotalScore 0 (with UserID set) when the player has no
	// points, the zero Standing for userID 0.
	Board(ctx context.Context, n int, userID int64) (top []raids.Standing, mine raids.Standing, err error)
	// Record hands over a player's total right after the transaction that changed it
	// committed. A reader on this instance sees it at once; it never fails the caller.
	Record(ctx context.Context, userID, total int64)
	// Rebuild reloads the ranking from the source of truth and returns how many players are
	// ranked.
	Rebuild(ctx context.Context) (int, error)
}

// TotalsSource streams every player's total above 0, for rebuilding the leaderboard.
type TotalsSource interface {
	EachTotal(ctx context.Context, batch int, fn func([]raids.Total) error) error
}

// Leaderboard is the fast ranking (a Redis sorted set), rebuildable from TotalsSource.
type Leaderboard interface {
	Ranking
	// SetTotal records a player's absolute total after it was committed. Idempotent; it never
	// lowers a total, so late or repeated writes are harmless.
	SetTotal(ctx context.Context, userID, total int64) error
	// Rebuild replaces the whole leaderboard with src's totals atomically: readers see the old
	// one until the new one is complete; SetTotal calls made meanwhile are kept.
	Rebuild(ctx context.Context, src TotalsSource) (int, error)
}

// Event is a change players watching the lobby care about.
type Event struct {
	Kind    string // EventRaid or EventBossData
	Payload []byte // for EventBossData: the new data in the original format
}

const (
	EventRaid     = "raid"     // someone entered, cleared or failed; status and ranking may have changed
	EventBossData = "bossdata" // the boss raid data was reloaded
)

// Events carries events between instances (Redis pub/sub): the cross-instance leg of the
// event hub, which the use cases reach through EventPublisher.
type Events interface {
	// Publish sends e to every subscriber on every instance, this one included.
	Publish(ctx context.Context, e Event) error
	// Subscribe delivers events until ctx ends; the channel closes then.
	Subscribe(ctx context.Context) (<-chan Event, error)
}

// EventPublisher announces an event to everyone watching the lobby on every instance: this
// instance's watchers at once, the others' soon after. It never fails the caller: an instance
// that misses an event catches up on its lobby's next recheck.
type EventPublisher interface {
	Publish(ctx context.Context, e Event)
}

// BossDataSource reads the boss raid data from where the operator keeps it.
type BossDataSource interface {
	// LoadBossData reads and validates the data. Returns an error wrapping
	// raids.ErrInvalidBossData for bad data.
	LoadBossData(ctx context.Context) (raids.BossData, error)
}

// GameMetrics counts what happens in the game, for operators' dashboards.
type GameMetrics interface {
	RaidEntered()
	RaidCleared()
	RaidsFailed(n int) // recorded as failed by the sweeper
	EnterRefusedBusy()
	RankingRebuilt(players int, took time.Duration)
}

// ChangeKind says what a Change is about.
type ChangeKind int

const (
	// ChangesFollowed: the feed is connected; changes from now on will be reported.
	ChangesFollowed ChangeKind = iota + 1
	// ChangesLost: the feed is disconnected; changes may go unreported until ChangesFollowed.
	ChangesLost
	// PlayerChanged: a player's token version or role changed (sign-out, admin grant).
	PlayerChanged
	// RaidChanged: a raid was entered or its status changed.
	RaidChanged
	// TotalChanged: a player's total went up to Total. Totals never go down, so a late or
	// repeated report is harmless to whoever keeps the highest seen.
	TotalChanged
	// QueueChanged: the line of the raid queue changed (a join, a leave, a turn taken).
	QueueChanged
)

// Change is one committed change to players or raids, made by any instance.
type Change struct {
	Kind   ChangeKind
	UserID int64 // for PlayerChanged and TotalChanged
	Total  int64 // for TotalChanged
}

// ChangeFeed reports committed changes so instances can cache what changes rarely.
type ChangeFeed interface {
	// Follow calls fn for every change until ctx ends, in order, from one goroutine. It starts
	// with ChangesLost and reports ChangesFollowed once connected.
	Follow(ctx context.Context, fn func(Change))
}
