package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

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
// a taken email or nickname is users.ErrEmailTaken / users.ErrNicknameTaken.
func (a *App) SignUp(ctx context.Context, in SignUpInput) (users.User, error) {
	fields := in.Validate()
	var image *users.ProfileImage
	if in.ProfileImage != nil {
		if msg := a.checkImage(in.ProfileImage, &image); msg != "" {
			if fields == nil {
				fields = users.FieldErrors{}
			}
			fields[users.FieldProfileImage] = msg
		}
	}
	if fields != nil {
		return users.User{}, &ValidationError{Fields: fields}
	}
	hash, err := a.Hasher.Hash(in.Password)
	if err != nil {
		return users.User{}, fmt.Errorf("hash password: %w", err)
	}
	return a.Users.CreateUser(ctx, users.NewUser{
		Email:        users.NormalizeEmail(in.Email),
		Nickname:     in.Nickname,
		Phone:        in.Phone,
		PasswordHash: hash,
		ProfileImage: image,
	})
}

func (a *App) checkImage(data []byte, out **users.ProfileImage) string {
	if len(data) == 0 {
		return "profile image is empty"
	}
	if len(data) > users.MaxProfileImageBytes {
		return "profile image must be at most 1 MiB"
	}
	contentType, err := a.Images.CheckImage(data)
	if err != nil {
		return "profile image must be a PNG, JPEG or WebP image"
	}
	*out = &users.ProfileImage{ContentType: contentType, Data: data}
	return ""
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
func (a *App) SignIn(ctx context.Context, email, password, clientAddr string) (TokenPair, error) {
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
func (a *App) CheckCredentials(ctx context.Context, email, password, clientAddr string) (users.User, error) {
	email = users.NormalizeEmail(email)
	accountKey, addressKey := "signin:account:"+email, "signin:address:"+clientAddr
	if err := a.checkThrottle(ctx, accountKey, a.settings.SignInAccountLimit); err != nil {
		return users.User{}, err
	}
	if err := a.checkThrottle(ctx, addressKey, a.settings.SignInAddressLimit); err != nil {
		return users.User{}, err
	}
	u, err := a.Users.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, users.ErrNotFound) {
		return users.User{}, err
	}
	hash := u.PasswordHash
	if errors.Is(err, users.ErrNotFound) {
		hash = a.dummyPasswordHash() // same work as for a real account, so timing tells nothing
	}
	ok, verr := a.Hasher.Verify(password, hash)
	if verr != nil {
		return users.User{}, fmt.Errorf("verify password: %w", verr)
	}
	if err != nil || !ok {
		a.addFailure(ctx, accountKey)
		a.addFailure(ctx, addressKey)
		return users.User{}, users.ErrInvalidCredentials
	}
	a.resetFailures(ctx, accountKey)
	return u, nil
}

func (a *App) dummyPasswordHash() string {
	a.dummyHashOnce.Do(func() {
		h, err := a.Hasher.Hash("Dummy-password-1!")
		if err != nil {
			a.Logger.Error("hash dummy password", "err", err)
		}
		a.dummyHash = h
	})
	return a.dummyHash
}

func (a *App) issueTokens(ctx context.Context, u users.User) (TokenPair, error) {
	now := a.Clock.Now()
	refreshID, err := newTokenID()
	if err != nil {
		return TokenPair{}, err
	}
	refreshClaims := ports.TokenClaims{
		Kind: ports.TokenRefresh, UserID: u.ID, Version: u.TokenVersion, ID: refreshID,
		IssuedAt: now, ExpiresAt: now.Add(a.settings.RefreshTokenTTL),
	}
	if err := a.Sessions.StartSession(ctx, ports.RefreshToken{
		ID: refreshID, UserID: u.ID, ExpiresAt: refreshClaims.ExpiresAt,
	}); err != nil {
		return TokenPair{}, err
	}
	refresh, err := a.Tokens.Sign(refreshClaims)
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

func (a *App) signAccess(userID, version int64, now time.Time) (string, error) {
	id, err := newTokenID()
	if err != nil {
		return "", err
	}
	return a.Tokens.Sign(ports.TokenClaims{
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

// checkThrottle refuses when key has used up its failures. The throttle is Redis; while it is
// unreachable the process-local one keeps counting, so an outage does not open the gates.
func (a *App) checkThrottle(ctx context.Context, key string, limit int) error {
	count, resetIn, err := a.Throttle.Failures(ctx, key)
	if err != nil {
		a.Logger.Warn("throttle unavailable, counting locally", "err", err)
		count, resetIn, err = a.LocalThrottle.Failures(ctx, key)
		if err != nil {
			return err
		}
	}
	if count >= limit {
		return &RateLimitedError{RetryAfter: max(resetIn, time.Second)}
	}
	return nil
}

func (a *App) addFailure(ctx context.Context, key string) {
	if err := a.Throttle.AddFailure(ctx, key, a.settings.SignInWindow); err != nil {
		a.Logger.Warn("throttle unavailable, counting locally", "err", err)
		_ = a.LocalThrottle.AddFailure(ctx, key, a.settings.SignInWindow)
	}
}

func (a *App) resetFailures(ctx context.Context, key string) {
	if err := a.Throttle.Reset(ctx, key); err != nil {
		a.Logger.Warn("throttle unavailable", "err", err)
	}
	_ = a.LocalThrottle.Reset(ctx, key)
}

// Authenticate turns an access token into the acting player. Anything wrong with the token,
// including a sign-out since it was issued, is ErrUnauthenticated.
func (a *App) Authenticate(ctx context.Context, accessToken string) (Player, error) {
	claims, ok := a.tokens.get(accessToken)
	if !ok {
		var err error
		if claims, err = a.Tokens.Verify(accessToken, ports.TokenAccess); err != nil {
			return Player{}, ErrUnauthenticated
		}
		a.tokens.put(accessToken, claims)
	}
	if !a.Clock.Now().Before(claims.ExpiresAt) {
		return Player{}, ErrUnauthenticated
	}
	return a.PlayerByID(ctx, claims.UserID, claims.Version)
}

// PlayerByID returns the player if their token version is still version; a session that
// outlived a sign-out or a deleted account is ErrUnauthenticated.
func (a *App) PlayerByID(ctx context.Context, id, version int64) (Player, error) {
	u, ok := a.hot.player(id)
	if !ok {
		gen, _ := a.hot.generation()
		var err error
		u, err = a.Users.UserByID(ctx, id)
		if errors.Is(err, users.ErrNotFound) {
			return Player{}, ErrUnauthenticated
		}
		if err != nil {
			return Player{}, err
		}
		a.hot.storePlayer(gen, u)
		a.nicknames.Store(u.ID, u.Nickname)
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
func (a *App) RefreshAccess(ctx context.Context, refreshToken string) (AccessToken, error) {
	if strings.TrimSpace(refreshToken) == "" {
		return AccessToken{}, Invalid("refresh", "refresh is required")
	}
	now := a.Clock.Now()
	claims, err := a.Tokens.Verify(refreshToken, ports.TokenRefresh)
	if err != nil || !now.Before(claims.ExpiresAt) {
		return AccessToken{}, ErrUnauthenticated
	}
	stored, err := a.Sessions.RefreshTokenByID(ctx, claims.ID)
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
func (a *App) SignOut(ctx context.Context, p Player, refreshToken string) error {
	if strings.TrimSpace(refreshToken) == "" {
		return Invalid("refresh", "refresh is required")
	}
	claims, err := a.Tokens.Verify(refreshToken, ports.TokenRefresh)
	if err != nil {
		return Invalid("refresh", "refresh is not a valid refresh token")
	}
	if claims.UserID != p.ID {
		return Invalid("refresh", "refresh token belongs to another player")
	}
	return a.SignOutEverywhere(ctx, p)
}

// SignOutEverywhere kills every token and session of the player.
func (a *App) SignOutEverywhere(ctx context.Context, p Player) error {
	_, err := a.Sessions.EndAllSessions(ctx, p.ID)
	a.hot.forgetPlayer(p.ID) // other instances hear of it from the change feed
	return err
}

// nickname returns a player's nickname, from memory when seen before.
func (a *App) nickname(ctx context.Context, id int64) (string, error) {
	if n, ok := a.nicknames.Load(id); ok {
		return n.(string), nil
	}
	got, err := a.Users.Nicknames(ctx, []int64{id})
	if err != nil {
		return "", err
	}
	if n, ok := got[id]; ok {
		a.nicknames.Store(id, n)
	}
	return got[id], nil
}
