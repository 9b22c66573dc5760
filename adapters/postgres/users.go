package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/lib/pq"

	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// Users is the ports.UserStore on the users and profile_images tables.
type Users struct {
	db    *sql.DB
	stmts *statements
}

// NewUsers returns the player store on db.
func NewUsers(db *sql.DB) *Users { return &Users{db: db, stmts: &statements{db: db}} }

var _ ports.UserStore = (*Users)(nil)

const userColumns = `u.id, u.email, u.nickname, u.phone, coalesce(pi.key, ''), u.password_hash,
	u.role, u.token_version, u.total_score, u.created_at`

const selectUser = `SELECT ` + userColumns + `
	FROM users u LEFT JOIN profile_images pi ON pi.user_id = u.id `

func scanUser(row interface{ Scan(...any) error }) (users.User, error) {
	var ur userRow
	if err := row.Scan(ur.dest()...); err != nil {
		return users.User{}, err
	}
	return ur.user()
}

// userRow receives userColumns.
type userRow struct {
	u    users.User
	role string
}

func (ur *userRow) dest() []any {
	u := &ur.u
	return []any{&u.ID, &u.Email, &u.Nickname, &u.Phone, &u.ProfileImage, &u.PasswordHash,
		&ur.role, &u.TokenVersion, &u.TotalScore, &u.CreatedAt}
}

func (ur *userRow) user() (users.User, error) {
	u := ur.u
	var err error
	if u.Role, err = users.ParseRole(ur.role); err != nil {
		return users.User{}, err
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return u, nil
}

// CreateUser inserts the player and their profile image in one transaction.
func (s *Users) CreateUser(ctx context.Context, nu users.NewUser) (users.User, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	email := users.NormalizeEmail(nu.Email)
	var imageKey string
	if nu.ProfileImage != nil {
		var err error
		if imageKey, err = newImageKey(); err != nil {
			return users.User{}, err
		}
	}
	var u users.User
	err := inTx(ctx, s.db, "create user", func(tx *sql.Tx) error {
		var role string
		err := tx.QueryRowContext(ctx, `
			INSERT INTO users (email, nickname, nickname_key, phone, password_hash)
			VALUES ($1, $2, $3, $4, $5)
			RETURNING id, role, token_version, total_score, created_at`,
			email, nu.Nickname, users.NicknameKey(nu.Nickname), nu.Phone, nu.PasswordHash,
		).Scan(&u.ID, &role, &u.TokenVersion, &u.TotalScore, &u.CreatedAt)
		if err != nil {
			return dbError("create user", err)
		}
		if u.Role, err = users.ParseRole(role); err != nil {
			return err
		}
		if nu.ProfileImage == nil {
			return nil
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO profile_images (key, user_id, content_type, data) VALUES ($1, $2, $3, $4)`,
			imageKey, u.ID, nu.ProfileImage.ContentType, nu.ProfileImage.Data)
		return dbError("save profile image", err)
	})
	if errors.Is(err, users.ErrNicknameTaken) {
		// Both taken: the email is the one to report, whichever index Postgres checked first.
		if _, emailErr := s.UserByEmail(ctx, email); emailErr == nil {
			return users.User{}, users.ErrEmailTaken
		}
	}
	if err != nil {
		return users.User{}, err
	}
	u.Email, u.Nickname, u.Phone, u.PasswordHash = email, nu.Nickname, nu.Phone, nu.PasswordHash
	u.ProfileImage = imageKey
	u.CreatedAt = u.CreatedAt.UTC()
	return u, nil
}

func newImageKey() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("profile image key: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// UserByID returns users.ErrNotFound for an unknown id.
func (s *Users) UserByID(ctx context.Context, id int64) (users.User, error) {
	return s.one(ctx, "user by id", `WHERE u.id = $1`, id)
}

// UserByEmail looks the email up case-insensitively.
func (s *Users) UserByEmail(ctx context.Context, email string) (users.User, error) {
	return s.one(ctx, "user by email", `WHERE u.email = $1`, users.NormalizeEmail(email))
}

// UserByNickname looks the nickname up by its case-folded key.
func (s *Users) UserByNickname(ctx context.Context, nickname string) (users.User, error) {
	return s.one(ctx, "user by nickname", `WHERE u.nickname_key = $1`, users.NicknameKey(nickname))
}

func (s *Users) one(ctx context.Context, op, where string, arg any) (users.User, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	u, err := scanUser(s.stmts.queryRow(ctx, selectUser+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return users.User{}, users.ErrNotFound
	}
	if err != nil {
		return users.User{}, dbError(op, err)
	}
	return u, nil
}

// Nicknames returns the nicknames of the players among ids that exist.
func (s *Users) Nicknames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, `SELECT id, nickname FROM users WHERE id = ANY($1)`, pq.Array(ids))
	if err != nil {
		return nil, dbError("nicknames", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var nickname string
		if err := rows.Scan(&id, &nickname); err != nil {
			return nil, dbError("nicknames", err)
		}
		out[id] = nickname
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("nicknames", err)
	}
	return out, nil
}

// SetRole changes the role of the player with that email.
func (s *Users) SetRole(ctx context.Context, email string, role users.Role) (users.User, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	if role.IsZero() {
		return users.User{}, errors.New("set role: no role given")
	}
	u, err := scanUser(s.db.QueryRowContext(ctx, `
		WITH u AS (UPDATE users SET role = $2 WHERE email = $1 RETURNING *)
		SELECT `+userColumns+` FROM u LEFT JOIN profile_images pi ON pi.user_id = u.id`,
		users.NormalizeEmail(email), role.String()))
	if errors.Is(err, sql.ErrNoRows) {
		return users.User{}, users.ErrNotFound
	}
	if err != nil {
		return users.User{}, dbError("set role", err)
	}
	return u, nil
}
