package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// Guesses sent all at once must not each read a count below the limit and all be checked.
func TestSimultaneousWrongPasswordsCheckAtMostTheLimit(t *testing.T) {
	for name, throttle := range map[string]ports.Throttle{"redis up": nil, "redis down": brokenThrottle{}} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, throttle)
			w.signUp(t, "alice")
			limit := app.DefaultSettings().SignInAccountLimit
			before := w.hasher.verifies.Load()
			var wrong, limited atomic.Int64
			var start, wg sync.WaitGroup
			start.Add(1)
			for i := range 40 {
				wg.Go(func() {
					start.Wait()
					_, err := w.app.Accounts.SignIn(context.Background(), "alice@example.com", "Wrong-pass1!", fmt.Sprintf("192.0.2.%d", 10+i%2))
					switch {
					case errors.Is(err, users.ErrInvalidCredentials):
						wrong.Add(1)
					case errors.Is(err, app.ErrRateLimited):
						limited.Add(1)
					default:
						t.Errorf("guess: %v", err)
					}
				})
			}
			start.Done()
			wg.Wait()
			checked := w.hasher.verifies.Load() - before
			if wrong.Load() != int64(limit) || limited.Load() != int64(40-limit) || checked != int64(limit) {
				t.Fatalf("40 simultaneous guesses: %d wrong, %d rate limited, %d passwords checked; want %d, %d, %d",
					wrong.Load(), limited.Load(), checked, limit, 40-limit, limit)
			}
		})
	}
}

// A right password gives back the address's reservation, and an attempt refused for the
// address does not use up one of the account's.
func TestSignInReservationsAreGivenBack(t *testing.T) {
	w := newWorld(t, nil)
	ctx := context.Background()
	w.signUp(t, "bob")
	s := app.DefaultSettings()
	for range s.SignInAddressLimit + 5 { // right passwords never use the address's allowance up
		if _, err := w.app.Accounts.SignIn(ctx, "bob@example.com", password, "198.51.100.1"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range s.SignInAddressLimit {
		if _, err := w.app.Accounts.SignIn(ctx, fmt.Sprintf("ghost%d@example.com", i), password, "198.51.100.2"); !errors.Is(err, users.ErrInvalidCredentials) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	for range s.SignInAccountLimit + 1 { // refused by the address: nothing counted for bob
		if _, err := w.app.Accounts.SignIn(ctx, "bob@example.com", "Wrong-pass1!", "198.51.100.2"); !errors.Is(err, app.ErrRateLimited) {
			t.Fatalf("from a spent address: %v", err)
		}
	}
	if _, err := w.app.Accounts.SignIn(ctx, "bob@example.com", password, "198.51.100.3"); err != nil {
		t.Fatalf("bob from another address: %v", err)
	}
}

func TestSignUpIsThrottledPerClientAddress(t *testing.T) {
	for name, throttle := range map[string]ports.Throttle{"redis up": nil, "redis down": brokenThrottle{}} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, throttle)
			ctx := context.Background()
			s := app.DefaultSettings()
			form := func(nick string) app.SignUpInput {
				return app.SignUpInput{SignUpForm: users.SignUpForm{Email: nick + "@example.com", Nickname: nick, Password: password}}
			}
			for i := range s.SignUpAddressLimit {
				if _, err := w.app.Accounts.SignUp(ctx, form(fmt.Sprintf("p%d", i)), "203.0.113.5"); err != nil {
					t.Fatalf("sign-up %d: %v", i, err)
				}
			}
			// A duplicate counts too: it is an answer about who is registered.
			hashes := w.hasher.hashes.Load()
			_, err := w.app.Accounts.SignUp(ctx, form("late"), "203.0.113.5")
			rl, ok := errors.AsType[*app.RateLimitedError](err)
			if !ok || rl.RetryAfter <= 0 || rl.RetryAfter > s.SignUpWindow {
				t.Fatalf("sign-up past the limit: %v, want rate limited within %v", err, s.SignUpWindow)
			}
			if _, err := w.store.UserByEmail(ctx, "late@example.com"); !errors.Is(err, users.ErrNotFound) {
				t.Fatalf("a refused sign-up stored a player: %v", err)
			}
			if got := w.hasher.hashes.Load(); got != hashes {
				t.Fatalf("a refused sign-up hashed its password (%d hashes)", got-hashes)
			}
			// Invalid forms are answered without counting, so a typo does not use the allowance up.
			if _, err := w.app.Accounts.SignUp(ctx, form("x"), "203.0.113.6"); !errors.Is(err, app.ErrValidation) {
				t.Fatalf("invalid nickname: %v", err)
			}
			if _, err := w.app.Accounts.SignUp(ctx, form("late"), "203.0.113.6"); err != nil {
				t.Fatalf("another address: %v", err)
			}
			w.clock.Advance(s.SignUpWindow + time.Second)
			if _, err := w.app.Accounts.SignUp(ctx, form("later"), "203.0.113.5"); err != nil {
				t.Fatalf("after the window: %v", err)
			}
		})
	}
}

func TestSimultaneousSignUpsFromOneAddressStopAtTheLimit(t *testing.T) {
	w := newWorld(t, nil)
	limit := app.DefaultSettings().SignUpAddressLimit
	var created, limited atomic.Int64
	var wg sync.WaitGroup
	for i := range 2 * limit {
		wg.Go(func() {
			nick := fmt.Sprintf("rush%d", i)
			_, err := w.app.Accounts.SignUp(context.Background(), app.SignUpInput{SignUpForm: users.SignUpForm{
				Email: nick + "@example.com", Nickname: nick, Password: password,
			}}, "203.0.113.9")
			switch {
			case err == nil:
				created.Add(1)
			case errors.Is(err, app.ErrRateLimited):
				limited.Add(1)
			default:
				t.Errorf("sign-up: %v", err)
			}
		})
	}
	wg.Wait()
	if created.Load() != int64(limit) || limited.Load() != int64(limit) {
		t.Fatalf("%d simultaneous sign-ups: %d created, %d limited; want %d each", 2*limit, created.Load(), limited.Load(), limit)
	}
}

// Argon2id is the costly step of a sign-up; a taken email or nickname is refused before it.
func TestDuplicateSignUpDoesNotHash(t *testing.T) {
	w := newWorld(t, nil)
	ctx := context.Background()
	w.signUp(t, "carol")
	hashes := w.hasher.hashes.Load()
	for _, f := range []struct {
		form users.SignUpForm
		want error
	}{
		{users.SignUpForm{Email: "CAROL@example.com", Nickname: "other", Password: password}, users.ErrEmailTaken},
		{users.SignUpForm{Email: "new@example.com", Nickname: "Carol", Password: password}, users.ErrNicknameTaken},
	} {
		if _, err := w.app.Accounts.SignUp(ctx, app.SignUpInput{SignUpForm: f.form}, "192.0.2.77"); !errors.Is(err, f.want) {
			t.Fatalf("SignUp(%s, %s) = %v, want %v", f.form.Email, f.form.Nickname, err, f.want)
		}
	}
	if got := w.hasher.hashes.Load(); got != hashes {
		t.Fatalf("duplicate sign-ups hashed %d passwords, want none", got-hashes)
	}
}
