package api_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/internal/testenv"
)

func signInBody(email, password string) map[string]string {
	return map[string]string{"email": email, "password": password}
}

func TestSignIn(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})
	p := e.signUp("Signer")

	t.Run("success shape", func(t *testing.T) {
		e := e.sub(t)
		r := e.postJSON("/api/users/signin", "", signInBody(p.Email, p.Password))
		m := e.expect(r, http.StatusOK)
		requireKeys(t, m, "access", "refresh", "token_type", "expires_in")
		// Tokens must not be cached (RFC 6749 §5.1).
		if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Fatalf("Cache-Control %q on a token answer", cc)
		}
		if m["token_type"] != "Bearer" {
			t.Fatalf("token_type %v", m["token_type"])
		}
		if got := integer(t, m["expires_in"]); got != int64(app.DefaultSettings().AccessTokenTTL/time.Second) {
			t.Fatalf("expires_in %d, want %v in seconds", got, app.DefaultSettings().AccessTokenTTL)
		}
		access, refresh := str(t, m["access"]), str(t, m["refresh"])
		if access == "" || refresh == "" || access == refresh {
			t.Fatalf("tokens %q %q", access, refresh)
		}
		// The access token works on a protected route; the refresh token does not.
		e.expect(e.get("/api/raids/status", access), http.StatusOK)
		e.problem(e.get("/api/raids/status", refresh), http.StatusUnauthorized, "unauthenticated")
	})

	t.Run("email in any case", func(t *testing.T) {
		e := e.sub(t)
		e.expect(e.postJSON("/api/users/signin", "", signInBody(" "+strings.ToUpper(p.Email)+" ", p.Password)), http.StatusOK)
	})

	t.Run("unknown email and wrong password look the same", func(t *testing.T) {
		e := e.sub(t)
		wrong := e.problem(e.postJSON("/api/users/signin", "", signInBody(p.Email, "Wrong_pass1!")), http.StatusUnauthorized, "invalid_credentials")
		unknown := e.problem(e.postJSON("/api/users/signin", "", signInBody("nobody@example.com", p.Password)), http.StatusUnauthorized, "invalid_credentials")
		if fmt.Sprint(wrong) != fmt.Sprint(unknown) {
			t.Fatalf("wrong password %v, unknown email %v: the answers tell them apart", wrong, unknown)
		}
		if _, ok := wrong["errors"]; ok {
			t.Fatalf("invalid credentials name a field: %v", wrong)
		}
		// The password is case-sensitive.
		e.problem(e.postJSON("/api/users/signin", "", signInBody(p.Email, strings.ToUpper(p.Password))), http.StatusUnauthorized, "invalid_credentials")
	})

	t.Run("missing fields", func(t *testing.T) {
		e := e.sub(t)
		requireFields(t, e.problem(e.postJSON("/api/users/signin", "", map[string]string{}), http.StatusBadRequest, "validation_failed"), "email", "password")
		requireFields(t, e.problem(e.postJSON("/api/users/signin", "", map[string]string{"email": p.Email}), http.StatusBadRequest, "validation_failed"), "password")
		requireFields(t, e.problem(e.postJSON("/api/users/signin", "", map[string]string{"password": p.Password}), http.StatusBadRequest, "validation_failed"), "email")
		requireFields(t, e.problem(e.postJSON("/api/users/signin", "", `{"email":"a@b.com","password":"x","remember":true}`), http.StatusBadRequest, "validation_failed"), "remember")
		requireFields(t, e.problem(e.postJSON("/api/users/signin", "", `{"email":"a@b.com","password":12345678}`), http.StatusBadRequest, "validation_failed"), "password")
		e.problem(e.postJSON("/api/users/signin", "", `{"email":`), http.StatusBadRequest, "invalid_json")
		e.problem(e.must(request{Method: http.MethodPost, Path: "/api/users/signin", ContentType: "text/plain", Body: jsonBytes(t, signInBody(p.Email, p.Password))}), http.StatusUnsupportedMediaType, "unsupported_media_type")
		e.problem(e.postJSON("/api/users/signin", "", `{"email":"`+strings.Repeat("a", 70_000)+`"}`), http.StatusRequestEntityTooLarge, "payload_too_large")
	})

	t.Run("a new sign-in revokes the earlier refresh tokens", func(t *testing.T) {
		e := e.sub(t)
		first := *p
		e.signIn(&first)
		e.expect(e.postJSON("/api/users/token/refresh", "", map[string]string{"refresh": first.Refresh}), http.StatusOK)
		second := *p
		e.signIn(&second)
		e.problem(e.postJSON("/api/users/token/refresh", "", map[string]string{"refresh": first.Refresh}), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.postJSON("/api/users/token/refresh", "", map[string]string{"refresh": second.Refresh}), http.StatusOK)
	})
}

func TestSignInThrottleDefaults(t *testing.T) {
	d := app.DefaultSettings()
	if d.SignInAccountLimit != 10 || d.SignInAddressLimit != 100 || d.SignInWindow != 15*time.Minute {
		t.Fatalf("default throttling %d per account, %d per address in %v; SPEC says 10, 100, 15m",
			d.SignInAccountLimit, d.SignInAddressLimit, d.SignInWindow)
	}
}

// retryAfter checks a 429 and returns its Retry-After.
func retryAfter(e *env, r response) time.Duration {
	e.t.Helper()
	e.problem(r, http.StatusTooManyRequests, "rate_limited")
	n, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || n < 1 {
		e.t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	return time.Duration(n) * time.Second
}

// The default limits of SPEC.md, through HTTP: every request comes from 127.0.0.1.
func TestSignInThrottleAccount(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})
	limit := app.DefaultSettings().SignInAccountLimit
	p := e.signUp("Throttled")
	other := e.signUp("Bystander")
	fail := func(n int) {
		e.t.Helper()
		for i := range n {
			// Any case of the email is the same account.
			email := p.Email
			if i%2 == 1 {
				email = strings.ToUpper(email)
			}
			e.problem(e.postJSON("/api/users/signin", "", signInBody(email, fmt.Sprintf("Wrong_pass%d!", i))), http.StatusUnauthorized, "invalid_credentials")
		}
	}
	ok := func() { e.t.Helper(); e.signIn(p) }

	// Failures below the limit, then a success, reset the count: twice over.
	fail(limit - 1)
	ok()
	fail(limit - 1)
	ok()
	// The limit is reached: now even the right password is refused.
	fail(limit)
	for _, pw := range []string{p.Password, "Wrong_pass!1"} {
		wait := retryAfter(e, e.postJSON("/api/users/signin", "", signInBody(p.Email, pw)))
		if wait > app.DefaultSettings().SignInWindow {
			t.Fatalf("Retry-After %v is longer than the window", wait)
		}
		if wait < app.DefaultSettings().SignInWindow-time.Minute {
			t.Fatalf("Retry-After %v: the window of %v has just started", wait, app.DefaultSettings().SignInWindow)
		}
	}
	retryAfter(e, e.postJSON("/api/users/signin", "", signInBody(strings.ToUpper(p.Email), p.Password)))
	// Another account from the same address is not affected.
	e.signIn(other)
}

func TestSignInThrottleAddress(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})
	limit := app.DefaultSettings().SignInAddressLimit
	p := e.signUp("Victim")
	// Failures spread over many unknown accounts, none of which reaches the account limit.
	for i := range limit {
		e.problem(e.postJSON("/api/users/signin", "", signInBody(fmt.Sprintf("ghost%d@example.com", i%20), "Wrong_pass1!")), http.StatusUnauthorized, "invalid_credentials")
	}
	retryAfter(e, e.postJSON("/api/users/signin", "", signInBody(p.Email, p.Password)))
	retryAfter(e, e.postJSON("/api/users/signin", "", signInBody("ghost99@example.com", "Wrong_pass1!")))
}

func TestSignInThrottleSmallLimits(t *testing.T) {
	s := app.DefaultSettings()
	s.SignInAccountLimit, s.SignInAddressLimit, s.SignInWindow = 2, 5, 2*time.Second
	e := newEnv(t, testenv.StackOptions{Settings: &s})
	a, b := e.signUp("Alpha"), e.signUp("Bravo")
	for range 2 {
		e.problem(e.postJSON("/api/users/signin", "", signInBody(a.Email, "Wrong_pass1!")), http.StatusUnauthorized, "invalid_credentials")
	}
	if wait := retryAfter(e, e.postJSON("/api/users/signin", "", signInBody(a.Email, a.Password))); wait > s.SignInWindow {
		t.Fatalf("Retry-After %v beyond the %v window", wait, s.SignInWindow)
	}
	// Two more failures on b and one unknown: the address has 5.
	for _, email := range []string{b.Email, b.Email, "nobody@example.com"} {
		e.problem(e.postJSON("/api/users/signin", "", signInBody(email, "Wrong_pass1!")), http.StatusUnauthorized, "invalid_credentials")
	}
	retryAfter(e, e.postJSON("/api/users/signin", "", signInBody("fresh@example.com", "Wrong_pass1!")))
	retryAfter(e, e.postJSON("/api/users/signin", "", signInBody(b.Email, b.Password)))
	// The window passes: everyone may try again.
	time.Sleep(s.SignInWindow + 300*time.Millisecond)
	e.signIn(a)
	e.signIn(b)
}
