// Package session keeps web sign-ins in cookie sessions stored in Postgres, so every instance
// behind a load balancer sees the same sessions. The session holds only the player's id and the
// token version it was signed in under: an API sign-out (which moves the version on) ends every
// web session of that player too.
//
// The web pages and the admin pages share one *Manager. Routes that read or change the session
// sit behind Manager.LoadAndSave; streaming routes must not (it buffers the cookie until the first
// write) and read it with Manager.PlayerFromRequest instead.
package session

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/v2"

	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// CookieName is the name of the session cookie.
const CookieName = "bossraid_session"

// Session keys.
const (
	keyPlayerID  = "player_id"
	keyVersion   = "token_version"
	keyFlash     = "flash"
	keyFlashKind = "flash_kind"
	keyAvatar    = "profile_image"
)

// Manager is the scs session manager with the Boss Raid sign-in helpers. Its embedded
// *scs.SessionManager gives LoadAndSave, Load, Put, Get and the rest.
type Manager struct {
	*scs.SessionManager
	store *postgresstore.PostgresStore
}

// New returns sessions kept in the `sessions` table of db for lifetime. The cookie is HttpOnly
// and SameSite=Lax, and Secure when secure is set (serve behind TLS). Tokens are stored hashed,
// so a copy of the table cannot be replayed as cookies. Call Close to stop the expired-session
// cleanup.
func New(db *sql.DB, lifetime time.Duration, secure bool) *Manager {
	store := postgresstore.NewWithCleanupInterval(db, 10*time.Minute)
	sm := scs.New()
	sm.Store = store
	sm.Lifetime = lifetime
	sm.HashTokenInStore = true
	sm.Cookie.Name = CookieName
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = secure
	sm.Cookie.Path = "/"
	sm.Cookie.Persist = true
	m := &Manager{SessionManager: sm, store: store}
	m.OnStoreFailure(func(w http.ResponseWriter, _ *http.Request, _ error) {
		w.Header().Set("Retry-After", strconv.Itoa(int(storeRetry/time.Second)))
		http.Error(w, "The service is temporarily unavailable. Try again in a moment.", http.StatusServiceUnavailable)
	})
	return m
}

// storeRetry is what a client is told to wait when the session store fails.
const storeRetry = 2 * time.Second

// OnStoreFailure sets how LoadAndSave answers when the session store cannot load or save a
// session (Postgres is down): answer gets the error wrapped as ports.ErrUnavailable, so the
// error table makes it a 503. The front door that renders the site's error pages sets it;
// until then the answer is a plain 503 with Retry-After.
func (m *Manager) OnStoreFailure(answer func(w http.ResponseWriter, r *http.Request, err error)) {
	m.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		answer(w, r, storeError(err))
	}
}

// storeError marks a failure of the session store as a dependency being unavailable.
func storeError(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: session store: %w", ports.ErrUnavailable, err)
}

// Close stops the background cleanup of expired sessions.
func (m *Manager) Close() { m.store.StopCleanup() }

// SignIn makes the session the player's: their id, the token version it is valid under and
// their avatar's key (avatars never change, so the header needs no query). The token is
// renewed first, so a token planted before sign-in (session fixation) is worth nothing after it.
func (m *Manager) SignIn(ctx context.Context, u users.User) error {
	if err := m.RenewToken(ctx); err != nil {
		return storeError(err)
	}
	m.Put(ctx, keyPlayerID, u.ID)
	m.Put(ctx, keyVersion, u.TokenVersion)
	m.Put(ctx, keyAvatar, u.ProfileImage)
	return nil
}

// ProfileImage is the storage key of the signed-in player's avatar, "" when none.
func (m *Manager) ProfileImage(ctx context.Context) string {
	return m.GetString(ctx, keyAvatar)
}

// SignOut ends the session: its data is deleted from the store and whatever is put in the
// session afterwards (a flash) goes under a new token.
func (m *Manager) SignOut(ctx context.Context) error {
	return storeError(m.Destroy(ctx))
}

// PlayerID returns who the session says is signed in, without checking it is still valid.
func (m *Manager) PlayerID(ctx context.Context) (id, version int64, ok bool) {
	id, _ = m.Get(ctx, keyPlayerID).(int64)
	version, _ = m.Get(ctx, keyVersion).(int64)
	return id, version, id > 0
}

// Player returns the signed-in player, checked against the database: app.ErrUnauthenticated
// when nobody is signed in or the sign-in was ended elsewhere (API sign-out, sign out
// everywhere); a stale sign-in is then forgotten.
func (m *Manager) Player(ctx context.Context, a *app.Accounts) (app.Player, error) {
	id, version, ok := m.PlayerID(ctx)
	if !ok {
		return app.Player{}, app.ErrUnauthenticated
	}
	p, err := a.PlayerByID(ctx, id, version)
	if errors.Is(err, app.ErrUnauthenticated) {
		m.Remove(ctx, keyPlayerID)
		m.Remove(ctx, keyVersion)
		m.Remove(ctx, keyAvatar)
	}
	return p, err
}

// PlayerFromRequest reads the session cookie of r without LoadAndSave (for streams, which must
// not be buffered) and returns the signed-in player. It never changes the session.
func (m *Manager) PlayerFromRequest(r *http.Request, a *app.Accounts) (app.Player, error) {
	c, err := r.Cookie(m.Cookie.Name)
	if err != nil || c.Value == "" {
		return app.Player{}, app.ErrUnauthenticated
	}
	ctx, err := m.Load(r.Context(), c.Value)
	if err != nil {
		return app.Player{}, storeError(err)
	}
	id, version, ok := m.PlayerID(ctx)
	if !ok {
		return app.Player{}, app.ErrUnauthenticated
	}
	return a.PlayerByID(ctx, id, version)
}

// Flash is a one-time message shown on the next page.
type Flash struct {
	Kind    string // "success", "info" or "error"
	Message string
}

// PutFlash keeps a message for the next page the player sees.
func (m *Manager) PutFlash(ctx context.Context, f Flash) {
	m.Put(ctx, keyFlash, f.Message)
	m.Put(ctx, keyFlashKind, f.Kind)
}

// PopFlash takes the waiting message, if any. Call it before writing the response: it changes
// the session.
func (m *Manager) PopFlash(ctx context.Context) (Flash, bool) {
	if !m.Exists(ctx, keyFlash) {
		return Flash{}, false
	}
	f := Flash{Message: m.PopString(ctx, keyFlash), Kind: m.PopString(ctx, keyFlashKind)}
	return f, f.Message != ""
}
