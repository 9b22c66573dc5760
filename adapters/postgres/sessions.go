package postgres

import (
	"context"
	"database/sql"
	"errors"

	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// Sessions is the ports.SessionStore on refresh_tokens and users.token_version.
type Sessions struct {
	db *sql.DB
}

// NewSessions returns the refresh token store on db.
func NewSessions(db *sql.DB) *Sessions { return &Sessions{db: db} }

var _ ports.SessionStore = (*Sessions)(nil)

// StartSession records t and revokes the player's earlier refresh tokens.
func (s *Sessions) StartSession(ctx context.Context, t ports.RefreshToken) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return inTx(ctx, s.db, "start session", func(tx *sql.Tx) error {
		// Locking the player makes simultaneous sign-ins take turns, so the last one
		// revokes the others instead of both surviving.
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE`, t.UserID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return users.ErrNotFound
		}
		if err != nil {
			return dbError("start session", err)
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`,
			t.UserID); err != nil {
			return dbError("start session", err)
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO refresh_tokens (id, user_id, expires_at) VALUES ($1, $2, $3)`,
			t.ID, t.UserID, t.ExpiresAt)
		return dbError("start session", err)
	})
}

// RefreshTokenByID returns the stored token, revoked or not.
func (s *Sessions) RefreshTokenByID(ctx context.Context, id string) (ports.RefreshToken, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	var t ports.RefreshToken
	var revoked sql.NullTime
	err := s.db.QueryRowContext(ctx,
		`SELECT id, user_id, expires_at, revoked_at FROM refresh_tokens WHERE id = $1`, id,
	).Scan(&t.ID, &t.UserID, &t.ExpiresAt, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return ports.RefreshToken{}, ports.ErrTokenNotFound
	}
	if err != nil {
		return ports.RefreshToken{}, dbError("refresh token", err)
	}
	t.ExpiresAt = t.ExpiresAt.UTC()
	if revoked.Valid {
		at := revoked.Time.UTC()
		t.RevokedAt = &at
	}
	return t, nil
}

// EndAllSessions moves the player's token version on, revokes every refresh token and takes
// the player out of the raid queue.
func (s *Sessions) EndAllSessions(ctx context.Context, userID int64) (int64, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	var version int64
	err := inTx(ctx, s.db, "end sessions", func(tx *sql.Tx) error {
		// Signing out everywhere takes the player out of the raid queue (the lock first, as
		// every change to the line takes it).
		line, err := lockLine(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := leaveLine(ctx, tx, line, userID); err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx,
			`UPDATE users SET token_version = token_version + 1 WHERE id = $1 RETURNING token_version`,
			userID).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) {
			return users.ErrNotFound
		}
		if err != nil {
			return dbError("end sessions", err)
		}
		_, err = tx.ExecContext(ctx,
			`UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, userID)
		return dbError("end sessions", err)
	})
	if err != nil {
		return 0, err
	}
	return version, nil
}
