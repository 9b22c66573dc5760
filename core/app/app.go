// Package app holds the use cases of Boss Raid. The JSON API and the web UI both call them,
// so every rule is enforced once, here or in core/users and core/raids.
package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// Settings are the knobs of the use cases.
type Settings struct {
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// Sign-in throttling: failures allowed per account and per client address in a window.
	SignInAccountLimit int
	SignInAddressLimit int
	SignInWindow       time.Duration
	// Sign-ups allowed per client address in a window, whatever their outcome.
	SignUpAddressLimit int
	SignUpWindow       time.Duration
	// QueueTurn is how long the head of the raid queue holds the door (queue.go).
	QueueTurn time.Duration
}

// DefaultSettings are those of SPEC.md.
func DefaultSettings() Settings {
	return Settings{
		AccessTokenTTL:     15 * time.Minute,
		RefreshTokenTTL:    7 * 24 * time.Hour,
		SignInAccountLimit: 10,
		SignInAddressLimit: 100,
		SignInWindow:       15 * time.Minute,
		SignUpAddressLimit: 20,
		SignUpWindow:       time.Hour,
		QueueTurn:          DefaultQueueTurn,
	}
}

// Deps are the ports New shares out among the use cases; none is kept whole.
type Deps struct {
	Clock ports.Clock
	Users ports.UserStore
	// Accounts answers the token check; nil reads Users.
	Accounts ports.AccountLookup
	Sessions ports.SessionStore
	Tokens   ports.Tokens
	Hasher   ports.PasswordHasher
	Images   ports.ImageChecker
	Throttle ports.Throttle // counts sign-in attempts and sign-ups, shared by every instance
	Raids    ports.RaidStore
	// Records answers a player's history page in one trip; nil reads Users, then Raids.
	Records   ports.PlayerRecords
	Admin     ports.AdminStore // the admin pages' questions over every raid and player
	Charts    ports.ChartStore // the figures of the admin and player charts
	Standings ports.Standings  // the ranking the players see, kept by its adapter
	// Leaderboard and Totals are the ranking's fast copy and its source of truth, read side by
	// side by the admin ranking check.
	Leaderboard ports.Ranking
	Totals      ports.Ranking
	Events      ports.EventPublisher // tells the lobby watchers of every instance
	BossSource  ports.BossDataSource
	Metrics     ports.GameMetrics // nil counts nothing
	Logger      *slog.Logger
}

// App is the set of use cases, one struct for each part of the game. Each holds only the
// ports it needs, privately: a front door reaches the use cases, never a port.
type App struct {
	Accounts *Accounts
	Raids    *Raids
	Ranking  *Ranking
	Admin    *Admin
}

// New builds the use cases around deps, starting from boss raid data already loaded and validated.
func New(deps Deps, settings Settings, boss raids.BossData) (*App, error) {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Metrics == nil {
		deps.Metrics = noMetrics{}
	}
	if len(boss.Levels) == 0 || boss.TimeLimit <= 0 {
		return nil, errors.New("app: boss raid data is empty")
	}
	if deps.Accounts == nil {
		deps.Accounts = accountsFromUsers{deps.Users}
	}
	if deps.Records == nil {
		deps.Records = recordsFromStores{deps.Users, deps.Raids}
	}
	inForce := &bossData{source: deps.BossSource, events: deps.Events, log: deps.Logger}
	inForce.current.Store(&boss)
	ranking := &Ranking{standings: deps.Standings, users: deps.Users}
	rs := &Raids{
		clock: deps.Clock, store: deps.Raids, records: deps.Records, charts: deps.Charts, standings: deps.Standings,
		events: deps.Events, metrics: deps.Metrics, boss: inForce,
	}
	return &App{
		Accounts: &Accounts{
			clock: deps.Clock, users: deps.Users, lookup: deps.Accounts, sessions: deps.Sessions, tokens: deps.Tokens,
			hasher: deps.Hasher, images: deps.Images, throttle: deps.Throttle, settings: settings, log: deps.Logger,
		},
		Raids:   rs,
		Ranking: ranking,
		Admin: &Admin{
			clock: deps.Clock, store: deps.Admin, users: deps.Users, charts: deps.Charts, raids: rs, ranking: ranking,
			leaderboard: deps.Leaderboard, totals: deps.Totals, log: deps.Logger,
		},
	}, nil
}

type noMetrics struct{}

func (noMetrics) RaidEntered()                      {}
func (noMetrics) RaidCleared()                      {}
func (noMetrics) RaidsFailed(int)                   {}
func (noMetrics) EnterRefusedBusy()                 {}
func (noMetrics) RankingRebuilt(int, time.Duration) {}

// accountsFromUsers reads the token check's facts straight from the store.
type accountsFromUsers struct{ users ports.UserStore }

func (s accountsFromUsers) AccountByID(ctx context.Context, id int64) (users.User, error) {
	u, err := s.users.UserByID(ctx, id)
	u.PasswordHash = ""
	return u, err
}

// recordsFromStores reads a player's record with two calls.
type recordsFromStores struct {
	users ports.UserStore
	raids ports.RaidStore
}

func (s recordsFromStores) PlayerRecord(ctx context.Context, nickname string, offset, limit int) (users.User, []raids.Raid, int, error) {
	u, err := s.users.UserByNickname(ctx, nickname)
	if err != nil {
		return users.User{}, nil, 0, err
	}
	page, count, err := s.raids.History(ctx, u.ID, offset, limit)
	if err != nil {
		return users.User{}, nil, 0, err
	}
	return u, page, count, nil
}
