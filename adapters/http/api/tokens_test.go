package api_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/jwt"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/internal/testenv"
	"github.com/bossraid/bossraid/ports"
)

func (e *env) refresh(token string) response {
	e.t.Helper()
	return e.postJSON("/api/users/token/refresh", "", map[string]string{"refresh": token})
}

func (e *env) signOut(access string, body any) response {
	e.t.Helper()
	return e.postJSON("/api/users/signout", access, body)
}

// refreshed trades p's refresh token for a new access token.
func (e *env) refreshed(refresh string) string {
	e.t.Helper()
	return str(e.t, e.expect(e.refresh(refresh), http.StatusOK)["access"])
}

// requireDead checks that an access token no longer opens any protected route.
func (e *env) requireDead(access string) {
	e.t.Helper()
	for _, path := range []string{"/api/raids/status", "/api/raids/ranking"} {
		e.problem(e.get(path, access), http.StatusUnauthorized, "unauthenticated")
	}
}

func TestSignOut(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})

	t.Run("kills every token of the player at once", func(t *testing.T) {
		e := e.sub(t)
		p := e.newPlayer("Leaver")
		bystander := e.newPlayer("Stayer")
		// Other access tokens of the same player: minted from the refresh token, and from an
		// earlier sign-in (a new sign-in revokes refresh tokens, not access tokens).
		earlier := *p
		e.signIn(&earlier)
		e.signIn(p)
		fromRefresh := e.refreshed(p.Refresh)
		for _, tok := range []string{earlier.Access, p.Access, fromRefresh} {
			e.expect(e.get("/api/raids/status", tok), http.StatusOK)
		}

		m := e.expect(e.signOut(p.Access, map[string]string{"refresh": p.Refresh}), http.StatusOK)
		requireKeys(t, m, "detail")
		if strings.TrimSpace(str(t, m["detail"])) == "" {
			t.Fatal("empty detail")
		}
		for _, tok := range []string{p.Access, earlier.Access, fromRefresh} {
			e.requireDead(tok)
		}
		e.problem(e.refresh(p.Refresh), http.StatusUnauthorized, "unauthenticated")
		e.problem(e.refresh(earlier.Refresh), http.StatusUnauthorized, "unauthenticated")
		// The dead access token cannot sign out again either.
		e.problem(e.signOut(p.Access, map[string]string{"refresh": p.Refresh}), http.StatusUnauthorized, "unauthenticated")
		// Nobody else was signed out.
		e.expect(e.get("/api/raids/status", bystander.Access), http.StatusOK)
		e.refreshed(bystander.Refresh)

		// A fresh sign-in works, and signing out with the old (revoked) refresh token of the
		// same player is fine again.
		old, oldAccess := p.Refresh, p.Access
		e.signIn(p)
		e.expect(e.get("/api/raids/status", p.Access), http.StatusOK)
		e.requireDead(oldAccess) // a new sign-in does not bring the old tokens back
		e.problem(e.refresh(old), http.StatusUnauthorized, "unauthenticated")
		e.expect(e.signOut(p.Access, map[string]string{"refresh": old}), http.StatusOK)
		e.requireDead(p.Access)
		e.problem(e.refresh(p.Refresh), http.StatusUnauthorized, "unauthenticated")
	})

	t.Run("the misspelt refesh_token of the original", func(t *testing.T) {
		e := e.sub(t)
		p := e.newPlayer("Misspeller")
		e.expect(e.signOut(p.Access, map[string]string{"refesh_token": p.Refresh}), http.StatusOK)
		e.requireDead(p.Access)
		e.problem(e.refresh(p.Refresh), http.StatusUnauthorized, "unauthenticated")
	})

	t.Run("refused", func(t *testing.T) {
		e := e.sub(t)
		p := e.newPlayer("Holder")
		q := e.newPlayer("Other")
		cases := []struct {
			name   string
			body   any
			status int
			code   string
			field  string
		}{
			{"another player's refresh token", map[string]string{"refresh": q.Refresh}, 400, "validation_failed", "refresh"},
			{"another player's, misspelt", map[string]string{"refesh_token": q.Refresh}, 400, "validation_failed", "refresh"},
			{"missing refresh", map[string]string{}, 400, "validation_failed", "refresh"},
			{"empty refresh", map[string]string{"refresh": ""}, 400, "validation_failed", "refresh"},
			{"blank refresh", map[string]string{"refresh": "   "}, 400, "validation_failed", "refresh"},
			{"an access token", map[string]string{"refresh": p.Access}, 400, "validation_failed", "refresh"},
			{"garbage", map[string]string{"refresh": "not.a.token"}, 400, "validation_failed", "refresh"},
			{"number", `{"refresh": 5}`, 400, "validation_failed", "refresh"},
			{"unknown field", `{"refresh_token": "x"}`, 400, "validation_failed", "refresh_token"},
			{"malformed", `{"refresh": `, 400, "invalid_json", ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.sub(t)
				m := e.problem(e.signOut(p.Access, tc.body), tc.status, tc.code)
				if tc.field != "" {
					requireFields(t, m, tc.field)
				}
			})
		}
		// None of that signed anybody out.
		e.expect(e.get("/api/raids/status", p.Access), http.StatusOK)
		e.expect(e.get("/api/raids/status", q.Access), http.StatusOK)
		e.refreshed(p.Refresh)
		e.refreshed(q.Refresh)
	})
}

// tamper returns token with one character of its part (0 header, 1 payload, 2 signature) changed.
func tamper(t testing.TB, token string, part int) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWS", token)
	}
	s := []byte(parts[part])
	i := len(s) / 2
	if s[i] == 'A' {
		s[i] = 'B'
	} else {
		s[i] = 'A'
	}
	parts[part] = string(s)
	return strings.Join(parts, ".")
}

// withClaim returns token with its payload member changed, keeping the old signature.
func withClaim(t testing.TB, token, from, to string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(payload), from, to, 1)
	if changed == string(payload) {
		t.Fatalf("%q not in payload %s", from, payload)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(changed))
	return strings.Join(parts, ".")
}

// foreignToken is a well-formed token for p signed with another key.
func foreignToken(t testing.TB, p *player, kind ports.TokenKind) string {
	t.Helper()
	tokens, err := jwt.New(jwt.DeriveKey([]byte("some-other-secret-key-of-at-least-32-characters"), jwt.TokensPurpose))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s, err := tokens.Sign(ports.TokenClaims{Kind: kind, UserID: p.ID, Version: 1, ID: "0123456789abcdef0123456789abcdef", IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokenRefresh(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})
	p := e.newPlayer("Refresher")

	t.Run("success shape", func(t *testing.T) {
		e := e.sub(t)
		r := e.refresh(p.Refresh)
		m := e.expect(r, http.StatusOK)
		requireKeys(t, m, "access", "token_type", "expires_in")
		if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Fatalf("Cache-Control %q on a token answer", cc)
		}
		if m["token_type"] != "Bearer" || integer(t, m["expires_in"]) != int64(app.DefaultSettings().AccessTokenTTL/time.Second) {
			t.Fatalf("token_type %v, expires_in %v", m["token_type"], m["expires_in"])
		}
		access := str(t, m["access"])
		if access == p.Access || access == p.Refresh {
			t.Fatal("the new access token is an old token")
		}
		e.expect(e.get("/api/raids/status", access), http.StatusOK)
		// The refresh token stays usable: it is not re-issued.
		e.refreshed(p.Refresh)
	})

	t.Run("refused", func(t *testing.T) {
		e := e.sub(t)
		cases := []struct {
			name   string
			body   any
			status int
			code   string
		}{
			{"access token", map[string]string{"refresh": p.Access}, 401, "unauthenticated"},
			{"forged signature", map[string]string{"refresh": tamper(t, p.Refresh, 2)}, 401, "unauthenticated"},
			{"forged payload", map[string]string{"refresh": withClaim(t, p.Refresh, `"typ":"refresh"`, `"typ":"refresh" `)}, 401, "unauthenticated"},
			{"forged kind", map[string]string{"refresh": withClaim(t, p.Access, `"typ":"access"`, `"typ":"refresh"`)}, 401, "unauthenticated"},
			{"signed with another key", map[string]string{"refresh": foreignToken(t, p, ports.TokenRefresh)}, 401, "unauthenticated"},
			{"no signature", map[string]string{"refresh": strings.Join(strings.Split(p.Refresh, ".")[:2], ".") + "."}, 401, "unauthenticated"},
			{"alg none", map[string]string{"refresh": base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + strings.Split(p.Refresh, ".")[1] + "."}, 401, "unauthenticated"},
			{"malformed", map[string]string{"refresh": "malformed"}, 401, "unauthenticated"},
			{"three dots", map[string]string{"refresh": "a.b.c"}, 401, "unauthenticated"},
			{"very long", map[string]string{"refresh": strings.Repeat("a", 10_000)}, 401, "unauthenticated"},
			{"missing", map[string]string{}, 400, "validation_failed"},
			{"empty", map[string]string{"refresh": ""}, 400, "validation_failed"},
			{"misspelt name is for signout only", map[string]string{"refesh_token": p.Refresh}, 400, "validation_failed"},
			{"wrong type", `{"refresh": ["x"]}`, 400, "validation_failed"},
			{"malformed JSON", `{"refresh"`, 400, "invalid_json"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.sub(t)
				m := e.problem(e.postJSON("/api/users/token/refresh", "", tc.body), tc.status, tc.code)
				if tc.status == 400 && tc.code == "validation_failed" && fieldErrors(t, m) == nil {
					t.Fatalf("no field named in %v", m)
				}
			})
		}
		e.problem(e.must(request{Method: http.MethodPost, Path: "/api/users/token/refresh", ContentType: "text/plain", Body: jsonBytes(t, map[string]string{"refresh": p.Refresh})}), http.StatusUnsupportedMediaType, "unsupported_media_type")
		// The genuine token still works after all that.
		e.refreshed(p.Refresh)
	})

	t.Run("revoked by sign-out", func(t *testing.T) {
		e := e.sub(t)
		q := e.newPlayer("Revoked")
		e.expect(e.signOut(q.Access, map[string]string{"refresh": q.Refresh}), http.StatusOK)
		e.problem(e.refresh(q.Refresh), http.StatusUnauthorized, "unauthenticated")
	})
}

func TestTokensExpire(t *testing.T) {
	s := app.DefaultSettings()
	// Token times are kept to the second, so 2 s leaves at least 1 s of life after signing.
	s.AccessTokenTTL, s.RefreshTokenTTL = 2*time.Second, 2*time.Second
	e := newEnv(t, testenv.StackOptions{Settings: &s})
	p := e.newPlayer("Mayfly")
	m := e.expect(e.postJSON("/api/users/signin", "", signInBody(p.Email, p.Password)), http.StatusOK)
	if integer(t, m["expires_in"]) != 2 {
		t.Fatalf("expires_in %v, want 2", m["expires_in"])
	}
	p.Access, p.Refresh = str(t, m["access"]), str(t, m["refresh"])
	e.expect(e.get("/api/raids/status", p.Access), http.StatusOK)
	fresh := e.refreshed(p.Refresh)
	time.Sleep(s.RefreshTokenTTL + 100*time.Millisecond)
	e.problem(e.refresh(p.Refresh), http.StatusUnauthorized, "unauthenticated")
	e.requireDead(p.Access)
	e.requireDead(fresh)
}

func TestProtectedRoutesNeedBearer(t *testing.T) {
	e := newEnv(t, testenv.StackOptions{})
	p := e.newPlayer("Gatekeeper")
	raidID := e.enterOK(p, 0)
	routes := []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/api/users/signout", map[string]string{"refresh": p.Refresh}},
		{http.MethodGet, searchPath(p.Nickname, ""), nil},
		{http.MethodPost, "/api/raids/enter", map[string]int{"level": 0}},
		{http.MethodPatch, endPath(raidID), map[string]int{"level": 0}},
		{http.MethodPatch, endPath(999_999), nil},
		{http.MethodGet, "/api/raids/status", nil},
		{http.MethodGet, "/api/raids/ranking", nil},
	}
	headers := []struct{ name, auth string }{
		{"none", ""},
		{"empty bearer", "Bearer"},
		{"bearer and spaces", "Bearer    "},
		{"garbage", "Bearer garbage"},
		{"basic", "Basic " + base64.StdEncoding.EncodeToString([]byte(p.Email+":"+p.Password))},
		{"token scheme", "Token " + p.Access},
		{"no scheme", p.Access},
		{"refresh token", "Bearer " + p.Refresh},
		{"forged signature", "Bearer " + tamper(t, p.Access, 2)},
		{"forged subject", "Bearer " + withClaim(t, p.Access, `"sub":"`, `"sub":"1`)},
		{"another key", "Bearer " + foreignToken(t, p, ports.TokenAccess)},
		{"two tokens", "Bearer " + p.Access + " " + p.Access},
	}
	for _, rt := range routes {
		for _, h := range headers {
			t.Run(rt.method+" "+rt.path+"/"+h.name, func(t *testing.T) {
				e := e.sub(t)
				req := request{Method: rt.method, Path: rt.path, Auth: h.auth}
				if rt.body != nil {
					req.ContentType, req.Body = "application/json", jsonBytes(t, rt.body)
				}
				r := e.must(req)
				e.problem(r, http.StatusUnauthorized, "unauthenticated")
				if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
				}
			})
		}
	}
	// Nothing above changed anything: the raid is still in progress and p still signed in.
	st := e.expect(e.get("/api/raids/status", p.Access), http.StatusOK)
	if st["can_enter"] != false || id(t, st["raid_history_id"]) != raidID {
		t.Fatalf("status after refused requests: %v", st)
	}
	// The scheme name is case-insensitive (RFC 9110).
	e.expect(e.must(request{Method: http.MethodGet, Path: "/api/raids/status", Auth: "bearer " + p.Access}), http.StatusOK)
}
