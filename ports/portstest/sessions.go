package portstest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// SessionHarness is an empty player store and the session store beside it.
type SessionHarness struct {
	Users    ports.UserStore
	Sessions ports.SessionStore
}

// RunSessionStore checks a ports.SessionStore.
func RunSessionStore(t *testing.T, newHarness func(t *testing.T) SessionHarness) {
	ctx := context.Background()
	expiry := time.Now().Add(7 * 24 * time.Hour).UTC().Truncate(time.Microsecond)

	t.Run("a refresh token is stored as given", func(t *testing.T) {
		h := newHarness(t)
		p := NewPlayer(t, h.Users, "Hero")
		if err := h.Sessions.StartSession(ctx, ports.RefreshToken{ID: "tok-1", UserID: p.ID, ExpiresAt: expiry}); err != nil {
			t.Fatalf("StartSession: %v", err)
		}
		got, err := h.Sessions.RefreshTokenByID(ctx, "tok-1")
		if err != nil {
			t.Fatalf("RefreshTokenByID: %v", err)
		}
		if got.ID != "tok-1" || got.UserID != p.ID || !got.ExpiresAt.Equal(expiry) || got.RevokedAt != nil {
			t.Fatalf("RefreshTokenByID = %+v", got)
		}
		if _, err := h.Sessions.RefreshTokenByID(ctx, "nope"); !errors.Is(err, ports.ErrTokenNotFound) {
			t.Fatalf("unknown token: got %v, want ErrTokenNotFound", err)
		}
	})

	t.Run("a new session revokes the player's earlier ones only", func(t *testing.T) {
		h := newHarness(t)
		p, other := NewPlayer(t, h.Users, "Hero"), NewPlayer(t, h.Users, "Other")
		startSession(t, h.Sessions, "other-1", other.ID, expiry)
		startSession(t, h.Sessions, "hero-1", p.ID, expiry)
		startSession(t, h.Sessions, "hero-2", p.ID, expiry)
		requireRevoked(t, h.Sessions, "hero-1", true)
		requireRevoked(t, h.Sessions, "hero-2", false)
		requireRevoked(t, h.Sessions, "other-1", false)
		if got, _ := h.Users.UserByID(ctx, p.ID); got.TokenVersion != p.TokenVersion {
			t.Fatalf("signing in changed the token version from %d to %d", p.TokenVersion, got.TokenVersion)
		}
	})

	t.Run("ending all sessions revokes every token and moves the version on", func(t *testing.T) {
		h := newHarness(t)
		p, other := NewPlayer(t, h.Users, "Hero"), NewPlayer(t, h.Users, "Other")
		startSession(t, h.Sessions, "other-1", other.ID, expiry)
		startSession(t, h.Sessions, "hero-1", p.ID, expiry)
		v, err := h.Sessions.EndAllSessions(ctx, p.ID)
		if err != nil {
			t.Fatalf("EndAllSessions: %v", err)
		}
		if v <= p.TokenVersion {
			t.Fatalf("version went from %d to %d", p.TokenVersion, v)
		}
		if got, _ := h.Users.UserByID(ctx, p.ID); got.TokenVersion != v {
			t.Fatalf("stored version %d, returned %d", got.TokenVersion, v)
		}
		requireRevoked(t, h.Sessions, "hero-1", true)
		requireRevoked(t, h.Sessions, "other-1", false)

		again, err := h.Sessions.EndAllSessions(ctx, p.ID)
		if err != nil || again <= v {
			t.Fatalf("second EndAllSessions = %d, %v; want a version above %d", again, err, v)
		}
		if _, err := h.Sessions.EndAllSessions(ctx, p.ID+1000); !errors.Is(err, users.ErrNotFound) {
			t.Fatalf("unknown player: got %v, want users.ErrNotFound", err)
		}
	})

	t.Run("simultaneous sign-ins leave one live token", func(t *testing.T) {
		h := newHarness(t)
		p := NewPlayer(t, h.Users, "Hero")
		const n = 10
		errs := make([]error, n)
		Simultaneously(n, func(i int) {
			errs[i] = h.Sessions.StartSession(ctx, ports.RefreshToken{ID: fmt.Sprintf("race-%d", i), UserID: p.ID, ExpiresAt: expiry})
		})
		live := 0
		for i, err := range errs {
			if err != nil {
				t.Fatalf("StartSession %d: %v", i, err)
			}
			tok, err := h.Sessions.RefreshTokenByID(ctx, fmt.Sprintf("race-%d", i))
			if err != nil {
				t.Fatalf("RefreshTokenByID: %v", err)
			}
			if tok.RevokedAt == nil {
				live++
			}
		}
		if live != 1 {
			t.Fatalf("%d live tokens after %d simultaneous sign-ins, want 1", live, n)
		}
	})
}

func startSession(t *testing.T, s ports.SessionStore, id string, userID int64, expiry time.Time) {
	t.Helper()
	if err := s.StartSession(context.Background(), ports.RefreshToken{ID: id, UserID: userID, ExpiresAt: expiry}); err != nil {
		t.Fatalf("StartSession(%s): %v", id, err)
	}
}

func requireRevoked(t *testing.T, s ports.SessionStore, id string, revoked bool) {
	t.Helper()
	tok, err := s.RefreshTokenByID(context.Background(), id)
	if err != nil {
		t.Fatalf("RefreshTokenByID(%s): %v", id, err)
	}
	if (tok.RevokedAt != nil) != revoked {
		t.Fatalf("token %s revoked at %v, want revoked=%v", id, tok.RevokedAt, revoked)
	}
}
