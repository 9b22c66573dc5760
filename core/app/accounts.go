package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// Accounts are the use cases of players' accounts: signing up, in and out, and the token
// checks of every request.
type Accounts struct {
	clock    ports.Clock
	users    ports.UserStore
	lookup   ports.AccountLookup
	sessions ports.SessionStore
	tokens   ports.Tokens
	hasher   ports.PasswordHasher
	images   ports.ImageChecker
	throttle ports.Throttle
	settings Settings
	log      *slog.Logger

	dummyHashOnce sync.Once
	dummyHash     string
}

// Settings returns the knobs the accounts run with.
func (a *Accounts) Settings() Settings { return a.settings }

// Player is the signed-in player acting in a use case.
type Player struct {
	ID           int64
	Nickname     string
	Role         users.Role
	TokenVersion int64
}

// IsAdmin reports whether the player may use the admin pages.
func (p Player) IsAdmin() bool { return p.Role == users.RoleAdmin }

// SignUpInput is a registration as submitted; ProfileImage is nil when none was sent.
type SignUpInput struct {
	users.SignUpForm
	ProfileImage []byte
}

// SignUp registers a player. Every field at fault is reported in one *ValidationError;
// a taken email or nickname is users.ErrEmailTaken / users.ErrNicknameTaken. Each valid
// sign-up counts against clientAddr's allowance, whatever its outcome; beyond it the answer
// is *RateLimitedError and nothing is looked up, hashed or stored.
func (a *Accounts) SignUp(ctx context.Context, in SignUpInput, clientAddr string) (users.User, error) {
	fields := in.Validate()
	var image *users.ProfileImage
	if in.ProfileImage != nil {
		msg, err := a.checkImage(ctx, in.ProfileImage, &image)
		if err != nil {
			return users.User{}, err
		}
		if msg != "" {
			if fields == nil {
				fields = users.FieldErrors{}
			}
			fields[users.FieldProfileImage] = msg
		}
	}
	if fields != nil {
		return users.User{}, &ValidationError{Fields: fields}
	}
	if err := a.reserve(ctx, "signup:address:"+clientAddr, a.settings.SignUpAddressLimit, a.settings.SignUpWindow); err != nil {
		return users.User{}, err
	}
	email := users.NormalizeEmail(in.Email)
	// Argon2id is the costly step: a taken email or nickname is refused before it. CreateUser's
	// unique constraints still decide between simultaneous sign-ups.
	if err := a.checkAvailable(ctx, email, in.Nickname); err != nil {
		return users.User{}, err
	}
	hash, err := a.hasher.Hash(in.Password)
	if err != nil {
		return users.User{}, fmt.Errorf("hash password: %w", err)
	}
	return a.users.CreateUser(ctx, users.NewUser{
		Email:        email,
		Nickname:     in.Nickname,
		Phone:        in.Phone,
		PasswordHash: hash,
		ProfileImage: image,
	})
}

// checkAvailable returns users.ErrEmailTaken or users.ErrNicknameTaken (email first, as
// CreateUser does) when either is already registered.
func (a *Accounts) checkAvailable(ctx context.Context, email, nickname string) error {
	_, err := a.users.UserByEmail(ctx, email)
	if err == nil {
		return users.ErrEmailTaken
	}
	if !errors.Is(err, users.ErrNotFound) {
		return err
	}
	_, err = a.users.UserByNickname(ctx, nickname)
	if err == nil {
		return users.ErrNicknameTaken
	}
	if !errors.Is(err, users.ErrNotFound) {
		return err
	}
	return nil
}

// checkImage returns the field message for an image we refuse, or an error when the image
// could not be judged (no decode slot in time: ErrUnavailable).
func (a *Accounts) checkImage(ctx context.Context, data []byte, out **users.ProfileImage) (string, error) {
	if len(data) == 0 {
		return "profile image is empty", nil
	}
	if len(data) > users.MaxProfileImageBytes {
		return "profile image must be at most 1 MiB", nil
	}
	contentType, err := a.images.CheckImage(ctx, data)
	switch {
	case errors.Is(err, ports.ErrImageTooLarge):
		return "profile image has too many pixels: an avatar of up to 2048×2048 fits", nil
	case errors.Is(err, ports.ErrInvalidImage):
		return "profile image must be a PNG, JPEG or WebP image", nil
	case err != nil:
		return "", err
	}
	*out = &users.ProfileImage{ContentType: contentType, Data: data}
	return "", nil
}

// TokenPair is what a successful sign-in hands out.
type TokenPair struct {
	Access           string
	Refresh          string
	AccessExpiresIn  time.Duration
	RefreshExpiresIn time.Duration
	User             users.User
}

// SignIn checks the credentials and issues API tokens, revoking the player's earlier refresh
// tokens. Its errors are CheckCredentials'.
func (a *Accounts) SignIn(ctx context.Context, email, password, clientAddr string) (TokenPair, error) {
	u, err := a.CheckCredentials(ctx, email, password, clientAddr)
	if err != nil {
		return TokenPair{}, err
	}
	return a.issueTokens(ctx, u)
}

// CheckCredentials returns the player the email and password belong to, issuing nothing (the
// web sign-in keeps its own session). Unknown email and wrong password both give
// users.ErrInvalidCredentials after about the same work; repeated failures per account or per
// client address give *RateLimitedError, even for the right password.
//
// Each attempt is counted as a failure, for the account and for the address, before the
// password is checked, so simultaneous guesses on any number of instances check at most the
// limit; a right password then resets the account's count and gives the address's back.
func (a *Accounts) CheckCredentials(ctx context.Context, email, password, clientAddr string) (users.User, error) {
	email = users.NormalizeEmail(email)
	accountKey, addressKey := "signin:account:"+email, "signin:address:"+clientAddr
	window := a.settings.SignInWindow
	if err := a.reserve(ctx, accountKey, a.settings.SignInAccountLimit, window); err != nil {
		return users.User{}, err
	}
	if err := a.reserve(ctx, addressKey, a.settings.SignInAddressLimit, window); err != nil {
		a.release(ctx, accountKey)
		return users.User{}, err
	}
	u, ok, err := a.verifyPassword(ctx, email, password)
	if err != nil { // nothing was judged: the attempt does not count
		a.release(ctx, accountKey)
		a.release(ctx, addressKey)
		return users.User{}, err
	}
	if !ok {
		return users.User{}, users.ErrInvalidCredentials
	}
	a.resetFailures(ctx, accountKey)
	a.release(ctx, addressKey)
	return u, nil
}

// verifyPassword reports whether password is that of the player with email; an unknown email
// costs the same hash check and reports false.
func (a *Accounts) verifyPassword(ctx context.Context, email, password string) (users.User, bool, error) {
	u, err := a.users.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, users.ErrNotFound) {
		return users.User{}, false, err
	}
	known := err == nil
	hash := u.PasswordHash
	if !known {
		hash = a.dummyPasswordHash() // same work as for a real account, so timing tells nothing
	}
	ok, err := a.hasher.Verify(password, hash)
	if err != nil {
		return users.User{}, false, fmt.Errorf("verify password: %w", err)
	}
	return u, known && ok, nil
}

func (a *Accounts) dummyPasswordHash() string {
	a.dummyHashOnce.Do(func() {
		h, err := a.hasher.Hash("Dummy-password-1!")
		if err != nil {
			a.log.Error("hash dummy password", "err", err)
		}
		a.dummyHash = h
	})
	return a.dummyHash
}

func (a *Accounts) issueTokens(ctx context.Context, u users.User) (TokenPair, error) {
	now := a.clock.Now()
	refreshID, err := newTokenID()
	if err != nil {
		return TokenPair{}, err
	}
	refreshClaims := ports.TokenClaims{
		Kind: ports.TokenRefresh, UserID: u.ID, Version: u.TokenVersion, ID: refreshID,
		IssuedAt: now, ExpiresAt: now.Add(a.settings.RefreshTokenTTL),
	}
	if err := a.sessions.StartSession(ctx, ports.RefreshToken{
		ID: refreshID, UserID: u.ID, ExpiresAt: refreshClaims.ExpiresAt,
	}); err != nil {
		return TokenPair{}, err
	}
	refresh, err := a.tokens.Sign(refreshClaims)
	if err != nil {
		return TokenPair{}, err
	}
	access, err := a.signAccess(u.ID, u.TokenVersion, now)
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{
		Access: access, Refresh: refresh, User: u,
		AccessExpiresIn: a.settings.AccessTokenTTL, RefreshExpiresIn: a.settings.RefreshTokenTTL,
	}, nil
}

func (a *Accounts) signAccess(userID, version int64, now time.Time) (string, error) {
	id, err := newTokenID()
	if err != nil {
		return "", err
	}
	return a.tokens.Sign(ports.TokenClaims{
		Kind: ports.TokenAccess, UserID: userID, Version: version, ID: id,
		IssuedAt: now, ExpiresAt: now.Add(a.settings.AccessTokenTTL),
	})
}

func newTokenID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("token id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// reserve counts one attempt for key before the work it guards, refusing with
// *RateLimitedError once key has limit attempts in its window.
func (a *Accounts) reserve(ctx context.Context, key string, limit int, window time.Duration) error {
	ok, resetIn, err := a.throttle.Reserve(ctx, key, limit, window)
	if err != nil {
		return err
	}
	if !ok {
		return &RateLimitedError{RetryAfter: max(resetIn, time.Second)}
	}
	return nil
}

// release gives back an attempt that turned out not to count.
func (a *Accounts) release(ctx context.Context, key string) {
	if err := a.throttle.Release(ctx, key); err != nil {
		a.log.Warn("throttle unavailable, attempt not released", "key", key, "err", err)
	}
}

func (a *Accounts) resetFailures(ctx context.Context, key string) {
	if err := a.throttle.Reset(ctx, key); err != nil {
		a.log.Warn("throttle unavailable", "err", err)
	}
}

// Authenticate turns an access token into the acting player. Anything wrong with the token,
// including a sign-out since it was issued, is ErrUnauthenticated.
func (a *Accounts) Authenticate(ctx context.Context, accessToken string) (Player, error) {
	claims, err := a.tokens.Verify(accessToken, ports.TokenAccess)
	if err != nil {
		return Player{}, ErrUnauthenticated
	}
	if !a.clock.Now().Before(claims.ExpiresAt) {
		return Player{}, ErrUnauthenticated
	}
	return a.PlayerByID(ctx, claims.UserID, claims.Version)
}

// PlayerByID returns the player if their token version is still version; a session that
// outlived a sign-out or a deleted account is ErrUnauthenticated.
func (a *Accounts) PlayerByID(ctx context.Context, id, version int64) (Player, error) {
	u, err := a.lookup.AccountByID(ctx, id)
	if errors.Is(err, users.ErrNotFound) {
		return Player{}, ErrUnauthenticated
	}
	if err != nil {
		return Player{}, err
	}
	if u.TokenVersion != version {
		return Player{}, ErrUnauthenticated
	}
	return Player{ID: u.ID, Nickname: u.Nickname, Role: u.Role, TokenVersion: u.TokenVersion}, nil
}

// AccessToken is a freshly minted access token.
type AccessToken struct {
	Token     string
	ExpiresIn time.Duration
}

// RefreshAccess trades a valid refresh token for a new access token. Anything wrong with
// the refresh token is ErrUnauthenticated; an empty one is a *ValidationError.
func (a *Accounts) RefreshAccess(ctx context.Context, refreshToken string) (AccessToken, error) {
	if strings.TrimSpace(refreshToken) == "" {
		return AccessToken{}, Invalid("refresh", "refresh is required")
	}
	now := a.clock.Now()
	claims, err := a.tokens.Verify(refreshToken, ports.TokenRefresh)
	if err != nil || !now.Before(claims.ExpiresAt) {
		return AccessToken{}, ErrUnauthenticated
	}
	stored, err := a.sessions.RefreshTokenByID(ctx, claims.ID)
	if errors.Is(err, ports.ErrTokenNotFound) {
		return AccessToken{}, ErrUnauthenticated
	}
	if err != nil {
		return AccessToken{}, err
	}
	if stored.RevokedAt != nil || stored.UserID != claims.UserID || !now.Before(stored.ExpiresAt) {
		return AccessToken{}, ErrUnauthenticated
	}
	p, err := a.PlayerByID(ctx, claims.UserID, claims.Version)
	if err != nil {
		return AccessToken{}, err
	}
	access, err := a.signAccess(p.ID, p.TokenVersion, now)
	if err != nil {
		return AccessToken{}, err
	}
	return AccessToken{Token: access, ExpiresIn: a.settings.AccessTokenTTL}, nil
}

// SignOut ends every session of the player: all refresh tokens and all access tokens stop
// working at once. refreshToken must be one of the player's own (revoked ones included, so
// signing out twice is fine); another player's is a *ValidationError.
func (a *Accounts) SignOut(ctx context.Context, p Player, refreshToken string) error {
	if strings.TrimSpace(refreshToken) == "" {
		return Invalid("refresh", "refresh is required")
	}
	claims, err := a.tokens.Verify(refreshToken, ports.TokenRefresh)
	if err != nil {
		return Invalid("refresh", "refresh is not a valid refresh token")
	}
	if claims.UserID != p.ID {
		return Invalid("refresh", "refresh token belongs to another player")
	}
	return a.SignOutEverywhere(ctx, p)
}

// SignOutEverywhere kills every token and session of the player.
func (a *Accounts) SignOutEverywhere(ctx context.Context, p Player) error {
	_, err := a.sessions.EndAllSessions(ctx, p.ID)
	return err
}
