package memory

import (
	"context"
	"fmt"

	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

var _ ports.SessionStore = (*Store)(nil)

// StartSession records t and revokes the player's earlier refresh tokens.
func (s *Store) StartSession(_ context.Context, t ports.RefreshToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[t.UserID]; !ok {
		return users.ErrNotFound
	}
	if _, ok := s.tokens[t.ID]; ok {
		return fmt.Errorf("start session: refresh token %q already exists", t.ID)
	}
	s.revokeAll(t.UserID)
	t.ExpiresAt = storedTime(t.ExpiresAt)
	t.RevokedAt = nil
	s.tokens[t.ID] = t
	return nil
}

// revokeAll needs s.mu held.
func (s *Store) revokeAll(userID int64) {
	now := s.now()
	for id, t := range s.tokens {
		if t.UserID == userID && t.RevokedAt == nil {
			t.RevokedAt = &now
			s.tokens[id] = t
		}
	}
}

// RefreshTokenByID returns the stored token, revoked or not.
func (s *Store) RefreshTokenByID(_ context.Context, id string) (ports.RefreshToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[id]
	if !ok {
		return ports.RefreshToken{}, ports.ErrTokenNotFound
	}
	if t.RevokedAt != nil {
		at := *t.RevokedAt
		t.RevokedAt = &at
	}
	return t, nil
}

// EndAllSessions moves the player's token version on and revokes every refresh token.
func (s *Store) EndAllSessions(_ context.Context, userID int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[userID]
	if !ok {
		return 0, users.ErrNotFound
	}
	u.TokenVersion++
	s.revokeAll(userID)
	now := s.now()
	l, _ := s.tidyLine(now)
	s.leaveLine(l, userID, now)
	s.changes.Report(ports.Change{Kind: ports.PlayerChanged, UserID: userID})
	return u.TokenVersion, nil
}
