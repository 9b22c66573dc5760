package session_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/http/session"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/internal/testenv"
)

// redisDB is this package's database in the test Redis, one no other package uses (see internal/testenv).
const redisDB = 12

func TestMain(m *testing.M) {
	testenv.Main(m, "session")
}

// fixture is a real app over Postgres and Redis, sessions in the same Postgres, and a tiny
// server whose routes act on the session.
type fixture struct {
	app      *app.App
	sessions *session.Manager
	srv      *httptest.Server
	user     users.User
	// seen is what the last request's handler learned about the signed-in player.
	seen chan result
}

type result struct {
	player app.Player
	err    error
	flash  string
}

func newFixture(t *testing.T, secure bool) *fixture {
	t.Helper()
	st := testenv.NewStack(t, testenv.StackOptions{RedisDB: redisDB})
	f := &fixture{app: st.App, sessions: session.New(st.DB, time.Hour, secure), seen: make(chan result, 1)}
	t.Cleanup(f.sessions.Close)
	u, err := st.App.Accounts.SignUp(context.Background(), app.SignUpInput{SignUpForm: users.SignUpForm{
		Email: "ses@example.com", Nickname: "ses", Password: "Raid_pass1!",
	}}, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	f.user = u
	mux := http.NewServeMux()
	mux.Handle("POST /signin", f.sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f.sessions.SignIn(r.Context(), f.user); err != nil {
			t.Error(err)
		}
		f.sessions.PutFlash(r.Context(), session.Flash{Kind: "success", Message: "welcome"})
	})))
	mux.Handle("POST /signout", f.sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f.sessions.SignOut(r.Context()); err != nil {
			t.Error(err)
		}
	})))
	mux.Handle("GET /me", f.sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := f.sessions.Player(r.Context(), f.app.Accounts)
		fl, _ := f.sessions.PopFlash(r.Context())
		f.seen <- result{p, err, fl.Message}
	})))
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		p, err := f.sessions.PlayerFromRequest(r, f.app.Accounts)
		f.seen <- result{player: p, err: err}
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// call sends a request with cookie (if any) and returns the session cookie set, if any.
func (f *fixture) call(t *testing.T, method, path string, cookie *http.Cookie) *http.Cookie {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == session.CookieName {
			return c
		}
	}
	return nil
}

func (f *fixture) whoAmI(t *testing.T, path string, cookie *http.Cookie) result {
	t.Helper()
	f.call(t, http.MethodGet, path, cookie)
	return <-f.seen
}

func TestSignInStoresThePlayerUnderANewToken(t *testing.T) {
	f := newFixture(t, true)
	ck := f.call(t, http.MethodPost, "/signin", nil)
	if ck == nil {
		t.Fatal("no session cookie")
	}
	if !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
		t.Errorf("cookie attributes: %+v", ck)
	}
	got := f.whoAmI(t, "/me", ck)
	if got.err != nil || got.player.ID != f.user.ID || got.player.Nickname != "ses" {
		t.Fatalf("signed-in player: %+v, %v", got.player, got.err)
	}
	if got.flash != "welcome" {
		t.Errorf("flash %q", got.flash)
	}
	if again := f.whoAmI(t, "/me", ck); again.flash != "" {
		t.Errorf("flash shown twice: %q", again.flash)
	}
	// Signing in again from a signed-in session gives a new token and kills the old one.
	renewed := f.call(t, http.MethodPost, "/signin", ck)
	if renewed == nil || renewed.Value == ck.Value {
		t.Fatal("the token was not renewed at sign-in")
	}
	if old := f.whoAmI(t, "/me", ck); !errors.Is(old.err, app.ErrUnauthenticated) {
		t.Errorf("the old token still works: %+v %v", old.player, old.err)
	}
	// The stream route reads the same session without LoadAndSave.
	if s := f.whoAmI(t, "/stream", renewed); s.err != nil || s.player.ID != f.user.ID {
		t.Errorf("PlayerFromRequest: %+v %v", s.player, s.err)
	}
	if s := f.whoAmI(t, "/stream", nil); !errors.Is(s.err, app.ErrUnauthenticated) {
		t.Errorf("PlayerFromRequest without a cookie: %v", s.err)
	}
}

func TestSignOutAndSignOutElsewhereEndTheSession(t *testing.T) {
	f := newFixture(t, false)
	ck := f.call(t, http.MethodPost, "/signin", nil)
	if ck.Secure {
		t.Error("cookie Secure although not configured")
	}
	out := f.call(t, http.MethodPost, "/signout", ck)
	if out == nil || out.MaxAge >= 0 {
		t.Errorf("sign-out does not clear the cookie: %+v", out)
	}
	if got := f.whoAmI(t, "/me", ck); !errors.Is(got.err, app.ErrUnauthenticated) {
		t.Errorf("the cookie works after sign-out: %+v", got.player)
	}

	// Signing out everywhere (as the API's sign-out does) ends this web session too.
	ck = f.call(t, http.MethodPost, "/signin", nil)
	p := app.Player{ID: f.user.ID, Nickname: f.user.Nickname, TokenVersion: f.user.TokenVersion}
	if err := f.app.Accounts.SignOutEverywhere(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/me", "/stream"} {
		if got := f.whoAmI(t, path, ck); !errors.Is(got.err, app.ErrUnauthenticated) {
			t.Errorf("%s: session alive after signing out everywhere: %+v", path, got.player)
		}
	}
}
