// Package memory keeps Boss Raid's durable state in process memory, for fast use-case tests.
// One Store implements every store port (players, sessions, images, raids, totals) behind one
// mutex and passes the same contract suites as the Postgres adapter. Times are kept in UTC at
// microsecond precision, as Postgres keeps them.
package memory

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// Store is the in-memory database. Build it with NewStore; it is safe for concurrent use.
type Store struct {
	clock ports.Clock

	mu         sync.Mutex
	users      map[int64]*users.User
	byEmail    map[string]int64
	byNickname map[string]int64 // by users.NicknameKey
	nextUserID int64
	images     map[string]users.ProfileImage
	tokens     map[string]ports.RefreshToken
	raids      []raids.Raid // raid id n is raids[n-1]
	changes    *ChangeFeed  // told of every committed change, as Postgres notifies
	queue      queueState
}

// NewStore returns an empty store whose "now" is clock's.
func NewStore(clock ports.Clock) *Store {
	return &Store{
		clock:      clock,
		users:      map[int64]*users.User{},
		byEmail:    map[string]int64{},
		byNickname: map[string]int64{},
		images:     map[string]users.ProfileImage{},
		tokens:     map[string]ports.RefreshToken{},
		changes:    NewChangeFeed(),
	}
}

// Changes is the feed of the store's committed changes to players' token versions and roles
// and to raids' statuses.
func (s *Store) Changes() *ChangeFeed { return s.changes }

var _ ports.UserStore = (*Store)(nil)

// now is the store's clock at the precision Postgres keeps.
func (s *Store) now() time.Time { return storedTime(s.clock.Now()) }

func storedTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// CreateUser registers the player and their profile image.
func (s *Store) CreateUser(_ context.Context, nu users.NewUser) (users.User, error) {
	email := users.NormalizeEmail(nu.Email)
	key := users.NicknameKey(nu.Nickname)
	var imageKey string
	if nu.ProfileImage != nil {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return users.User{}, fmt.Errorf("profile image key: %w", err)
		}
		imageKey = hex.EncodeToString(b[:])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byEmail[email]; ok {
		return users.User{}, users.ErrEmailTaken
	}
	if _, ok := s.byNickname[key]; ok {
		return users.User{}, users.ErrNicknameTaken
	}
	s.nextUserID++
	u := &users.User{
		ID: s.nextUserID, Email: email, Nickname: nu.Nickname, Phone: nu.Phone,
		ProfileImage: imageKey, PasswordHash: nu.PasswordHash, Role: users.RolePlayer,
		TokenVersion: 1, CreatedAt: s.now(),
	}
	s.users[u.ID] = u
	s.byEmail[email] = u.ID
	s.byNickname[key] = u.ID
	if nu.ProfileImage != nil {
		s.images[imageKey] = users.ProfileImage{
			ContentType: nu.ProfileImage.ContentType,
			Data:        append([]byte(nil), nu.ProfileImage.Data...),
		}
	}
	return *u, nil
}

// UserByID returns users.ErrNotFound for an unknown id.
func (s *Store) UserByID(_ context.Context, id int64) (users.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[id]; ok {
		return *u, nil
	}
	return users.User{}, users.ErrNotFound
}

// UserByEmail looks the email up case-insensitively.
func (s *Store) UserByEmail(ctx context.Context, email string) (users.User, error) {
	s.mu.Lock()
	id, ok := s.byEmail[users.NormalizeEmail(email)]
	s.mu.Unlock()
	if !ok {
		return users.User{}, users.ErrNotFound
	}
	return s.UserByID(ctx, id)
}

// UserByNickname looks the nickname up by its case-folded key.
func (s *Store) UserByNickname(ctx context.Context, nickname string) (users.User, error) {
	s.mu.Lock()
	id, ok := s.byNickname[users.NicknameKey(nickname)]
	s.mu.Unlock()
	if !ok {
		return users.User{}, users.ErrNotFound
	}
	return s.UserByID(ctx, id)
}

// Nicknames returns the nicknames of the players among ids that exist.
func (s *Store) Nicknames(_ context.Context, ids []int64) (map[int64]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int64]string, len(ids))
	for _, id := range ids {
		if u, ok := s.users[id]; ok {
			out[id] = u.Nickname
		}
	}
	return out, nil
}

// SetRole changes the role of the player with that email.
func (s *Store) SetRole(_ context.Context, email string, role users.Role) (users.User, error) {
	if role.IsZero() {
		return users.User{}, errors.New("set role: no role given")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.byEmail[users.NormalizeEmail(email)]
	if !ok {
		return users.User{}, users.ErrNotFound
	}
	u := s.users[id]
	if u.Role != role {
		u.Role = role
		s.changes.Report(ports.Change{Kind: ports.PlayerChanged, UserID: id})
	}
	return *u, nil
}
