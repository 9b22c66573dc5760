// Package users holds the rules of Boss Raid accounts: who a player is and what a valid
// email, nickname, password and phone look like. It has no I/O.
package users

import (
	"errors"
	"time"
)

// Errors the account rules and the stores report.
var (
	ErrNotFound           = errors.New("player not found")
	ErrEmailTaken         = errors.New("email is already registered")
	ErrNicknameTaken      = errors.New("nickname is already taken")
	ErrInvalidCredentials = errors.New("email or password is incorrect")
)

// Role is what a player may do beyond playing. The zero value is not a role, so a Role
// always comes from one of the constants or ParseRole.
type Role struct{ name string }

var (
	RolePlayer = Role{"player"}
	RoleAdmin  = Role{"admin"}
)

// ParseRole turns a stored role name back into a Role.
func ParseRole(s string) (Role, error) {
	switch s {
	case RolePlayer.name:
		return RolePlayer, nil
	case RoleAdmin.name:
		return RoleAdmin, nil
	}
	return Role{}, errors.New("unknown role " + s)
}

func (r Role) String() string { return r.name }

// IsZero reports whether r was never set.
func (r Role) IsZero() bool { return r.name == "" }

// User is a registered player.
type User struct {
	ID           int64
	Email        string // lower-cased
	Nickname     string // as the player typed it
	Phone        string // "" when not given
	ProfileImage string // storage key of the avatar, "" when none
	PasswordHash string
	Role         Role
	// TokenVersion changes at every sign-out; tokens minted under an older version are dead.
	TokenVersion int64
	TotalScore   int64
	CreatedAt    time.Time
}

// IsAdmin reports whether the player may use the admin pages.
func (u User) IsAdmin() bool { return u.Role == RoleAdmin }

// NewUser is what a store needs to register a player.
type NewUser struct {
	Email        string // already normalized
	Nickname     string
	Phone        string
	PasswordHash string
	ProfileImage *ProfileImage // nil when none
}

// ProfileImage is an avatar already checked to be a PNG, JPEG or WebP image.
type ProfileImage struct {
	ContentType string
	Data        []byte
}

// MaxProfileImageBytes is the largest avatar accepted.
const MaxProfileImageBytes = 1 << 20
