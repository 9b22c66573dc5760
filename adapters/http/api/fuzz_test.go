package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/bossraid/bossraid/adapters/argon2id"
	httpserver "github.com/bossraid/bossraid/adapters/http"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/internal/wiring"
)

// fuzzRoutes are the JSON routes; {arg} is filled with the fuzzed path argument.
var fuzzRoutes = []struct{ method, path string }{
	{http.MethodPost, "/api/users/signup"},
	{http.MethodPost, "/api/users/signin"},
	{http.MethodPost, "/api/users/signout"},
	{http.MethodPost, "/api/users/token/refresh"},
	{http.MethodGet, "/api/users/search/{arg}"},
	{http.MethodPost, "/api/raids/enter"},
	{http.MethodPatch, "/api/raids/{arg}/end"},
	{http.MethodGet, "/api/raids/status"},
	{http.MethodGet, "/api/raids/ranking"},
}

var fuzzContentTypes = []string{"application/json", "", "text/plain", "application/json; charset=utf-8",
	"multipart/form-data; boundary=fuzz", "application/x-www-form-urlencoded"}

// documentedCodes are the error codes of SPEC.md §2 (and 405 for a wrong method).
var documentedCodes = []string{"validation_failed", "invalid_json", "unauthenticated", "invalid_credentials",
	"forbidden", "not_found", "email_taken", "nickname_taken", "raid_busy", "raid_expired",
	"raid_not_in_progress", "payload_too_large", "unsupported_media_type", "rate_limited", "method_not_allowed"}

// fuzzServer is the whole HTTP handler over the in-memory adapters, with two signed-in players.
type fuzzServer struct {
	h     http.Handler
	app   *app.App
	auths []string // Authorization headers to pick from
}

func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	hasher, err := argon2id.New(argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	if err != nil {
		f.Fatal(err)
	}
	g, err := wiring.Build(wiring.Inputs{
		Settings: app.DefaultSettings(), Boss: raids.DefaultBossData(), Hasher: hasher,
		Secret: []byte("fuzz-secret-key-of-at-least-32-characters"),
	})
	if err != nil {
		f.Fatal(err)
	}
	a := g.App
	ctx := context.Background()
	if _, err := a.Ranking.Rebuild(ctx); err != nil {
		f.Fatal(err)
	}
	s := &fuzzServer{h: httpserver.New(httpserver.Config{App: a, Queue: g.Queue}), app: a, auths: []string{""}}
	for _, nick := range []string{"alice", "bob"} {
		if _, err := a.Accounts.SignUp(ctx, app.SignUpInput{SignUpForm: users.SignUpForm{
			Email: nick + "@example.com", Nickname: nick, Password: "Passw0rd!",
		}}, "192.0.2.1"); err != nil {
			f.Fatal(err)
		}
		pair, err := a.Accounts.SignIn(ctx, nick+"@example.com", "Passw0rd!", "192.0.2.1")
		if err != nil {
			f.Fatal(err)
		}
		s.auths = append(s.auths, "Bearer "+pair.Access, "Bearer "+pair.Refresh)
	}
	s.auths = append(s.auths, "Basic YWxpY2U6UGFzc3cwcmQh", "Bearer ", "bearer "+strings.TrimPrefix(s.auths[1], "Bearer "))
	return s
}

// go test -run '^$' -fuzz FuzzJSONRoutes ./adapters/http/api — any body, content type, path
// argument and Authorization header on any JSON route: never a 5xx, every error in the one
// documented shape, 401 with WWW-Authenticate, and the one-raid rule intact.
func FuzzJSONRoutes(f *testing.F) {
	s := newFuzzServer(f)
	seeds := []struct {
		route, ctype, auth uint8
		arg                string
		body               string
	}{
		{0, 0, 0, "", `{"email":"carol@example.com","nickname":"carol","password":"Passw0rd!","phone":"010-1234-5678"}`},
		{0, 0, 0, "", `{"email":"x@example.com","email":"y@example.com"}`},
		{0, 4, 0, "", "--fuzz\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nz@example.com\r\n--fuzz--\r\n"},
		{1, 0, 0, "", `{"email":"alice@example.com","password":"wrong"}`},
		{1, 3, 0, "", `{"email":"ALICE@example.com","password":"Passw0rd!"}`},
		{2, 0, 1, "", `{"refesh_token":"x"}`},
		{3, 0, 0, "", `{"refresh":"a.b.c"}`},
		{4, 0, 1, "bob?limit=0", ``},
		{4, 0, 1, "%", ``},
		{5, 0, 1, "", `{"level":1}`},
		{5, 0, 3, "", `{"level":1e400}`},
		{6, 0, 1, "1", `{"level":1}`},
		{6, 1, 3, "99999999999999999999", ``},
		{7, 0, 2, "", ``},
		{8, 0, 5, "", ``},
	}
	for _, sd := range seeds {
		f.Add(sd.route, sd.arg, []byte(sd.body), sd.ctype, sd.auth)
	}
	f.Fuzz(func(t *testing.T, route uint8, arg string, body []byte, ctype, auth uint8) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		target := strings.ReplaceAll(r.path, "{arg}", url.PathEscape(arg))
		if strings.Contains(r.path, "search") {
			if nick, query, ok := strings.Cut(arg, "?"); ok { // let the fuzzer reach limit and offset
				target = strings.ReplaceAll(r.path, "{arg}", url.PathEscape(nick)) + "?" + url.PathEscape(query)
			}
		}
		req := httptest.NewRequest(r.method, target, bytes.NewReader(body))
		if ct := fuzzContentTypes[int(ctype)%len(fuzzContentTypes)]; ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if a := s.auths[int(auth)%len(s.auths)]; a != "" {
			req.Header.Set("Authorization", a)
		}
		rec := httptest.NewRecorder()
		s.h.ServeHTTP(rec, req)

		if p := req.URL.Path; path.Clean(p) != p && (rec.Code == http.StatusMovedPermanently || rec.Code == http.StatusPermanentRedirect) {
			return // the router sends unclean paths ("//", "..") to their clean form
		}
		if rec.Code >= 500 {
			t.Fatalf("%s %s → %d %s", r.method, target, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var p struct {
				Code   string `json:"code"`
				Detail string `json:"detail"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || !slices.Contains(documentedCodes, p.Code) || p.Detail == "" {
				t.Fatalf("%s %s → %d with a body outside the error shape: %s", r.method, target, rec.Code, rec.Body)
			}
			if rec.Code == http.StatusUnauthorized && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("401 without WWW-Authenticate: Bearer")
			}
		}
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("%s %s → %d as %q", r.method, target, rec.Code, rec.Header().Get("Content-Type"))
		}
		if _, err := s.app.Raids.Status(context.Background()); err != nil {
			t.Fatalf("status after %s %s: %v", r.method, target, err)
		}
	})
}
