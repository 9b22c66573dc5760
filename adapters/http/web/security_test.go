package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/lib/pq"

	"github.com/bossraid/bossraid/adapters/http/session"
)

// stateChangingRoutes lists every web route that takes an unsafe method, with its path
// variables filled in, straight from the router so a new route cannot be missed.
func stateChangingRoutes(t *testing.T, s *site, raidID string) [][2]string {
	t.Helper()
	vars := regexp.MustCompile(`\{([a-z]+)(:[^}]*)?\}`)
	var routes [][2]string
	for _, route := range s.HTTP.Routes() {
		tpl, m := route.Template, route.Method
		if strings.HasPrefix(tpl, "/api") || strings.HasPrefix(tpl, "/media") ||
			m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions {
			continue
		}
		path := vars.ReplaceAllStringFunc(tpl, func(v string) string {
			if strings.HasPrefix(v, "{id") {
				return raidID
			}
			return "someone"
		})
		routes = append(routes, [2]string{m, path})
	}
	return routes
}

func TestCrossSiteRequestsAreRefusedOnEveryStateChangingRoute(t *testing.T) {
	s := newSite(t, siteOptions{})
	c := s.client()
	c.signUp(newPlayer())
	raid := c.enter(0)
	raidID := strings.TrimPrefix(raid.resp.Request.URL.Path, "/raids/")

	routes := stateChangingRoutes(t, s, raidID)
	var paths []string
	for _, r := range routes {
		paths = append(paths, r[0]+" "+r[1])
	}
	for _, want := range []string{"POST /signup", "POST /signin", "POST /signout", "POST /raids", "POST /raids/" + raidID + "/end"} {
		if !slices.Contains(paths, want) {
			t.Errorf("route %s not found among %v", want, paths)
		}
	}
	crossSite := [][]string{
		{"Origin", "https://evil.example"},
		{"Sec-Fetch-Site", "cross-site"},
		{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"},
	}
	for _, r := range routes {
		for _, headers := range crossSite {
			req, err := http.NewRequest(r[0], s.URL+r[1], strings.NewReader("level=1&email=a%40b.example&password=x"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			setHeaders(req, headers)
			res := c.do(req)
			if res.status() != http.StatusForbidden {
				t.Errorf("%s %s with %v: status %d, want 403", r[0], r[1], headers, res.status())
				continue
			}
			if res.doc.Find(testid("error-page")).Length() != 1 {
				t.Errorf("%s %s: the refusal is not a friendly page", r[0], r[1])
			}
		}
	}
	// Nothing happened: still signed in, still inside the same raid.
	again := c.get(raid.resp.Request.URL.Path)
	if got, _ := again.doc.Find(testid("raid")).Attr("data-status"); got != "in_progress" {
		t.Errorf("the raid changed to %q after refused requests", got)
	}
	// The same requests from this site work.
	if res := c.post("/raids/"+raidID+"/end", nil); res.status() != http.StatusSeeOther {
		t.Errorf("same-origin clear: %d", res.status())
	}
	if res := c.post("/raids", url.Values{"level": {"1"}}, "Sec-Fetch-Site", "same-origin"); res.status() != http.StatusSeeOther {
		t.Errorf("same-origin enter: %d", res.status())
	}
	if res := c.post("/signout", nil); res.status() != http.StatusSeeOther {
		t.Errorf("same-origin sign out: %d", res.status())
	}
}

// sessionCookie is the session cookie a response sets, if any.
func sessionCookie(p page) *http.Cookie {
	for _, ck := range p.resp.Cookies() {
		if ck.Name == session.CookieName {
			return ck
		}
	}
	return nil
}

func TestSessionCookieAttributes(t *testing.T) {
	for _, secure := range []bool{false, true} {
		s := newSite(t, siteOptions{secureCookie: secure})
		c := s.client()
		p := newPlayer()
		res := c.postMultipart("/signup", map[string]string{"email": p.Email, "nickname": p.Nickname, "password": p.Password}, nil)
		ck := sessionCookie(res)
		if ck == nil {
			t.Fatalf("secure=%v: sign-up set no session cookie", secure)
		}
		if !ck.HttpOnly {
			t.Errorf("secure=%v: cookie not HttpOnly", secure)
		}
		if ck.SameSite != http.SameSiteLaxMode {
			t.Errorf("secure=%v: SameSite %v, want Lax", secure, ck.SameSite)
		}
		if ck.Secure != secure {
			t.Errorf("secure=%v: cookie Secure=%v", secure, ck.Secure)
		}
		if ck.Path != "/" {
			t.Errorf("cookie path %q", ck.Path)
		}
		raw := strings.Join(res.resp.Header.Values("Set-Cookie"), "\n")
		if !strings.Contains(raw, "HttpOnly") || !strings.Contains(raw, "SameSite=Lax") {
			t.Errorf("Set-Cookie %q", raw)
		}
	}
}

func TestSessionTokenRenewedAtSignInAndDeadAfterSignOut(t *testing.T) {
	s := newSite(t, siteOptions{})
	p := newPlayer()
	s.client().signUp(p)

	c := s.client()
	// A visitor's session (here: one holding a flash) gets a token before signing in.
	visitor := c.post("/signout", nil)
	before := sessionCookie(visitor)
	if before == nil {
		t.Fatal("no visitor session")
	}
	signedIn := c.post("/signin", url.Values{"email": {p.Email}, "password": {p.Password}})
	after := sessionCookie(signedIn)
	if after == nil || after.Value == before.Value {
		t.Fatalf("the session token was not renewed at sign-in: %v then %v", before, after)
	}
	// The visitor's token (one an attacker could have planted) does not carry the sign-in.
	planted := s.client()
	planted.hc.Jar.SetCookies(mustURL(s.URL), []*http.Cookie{{Name: session.CookieName, Value: before.Value}})
	if got := planted.get("/"); got.doc.Find(testid("viewer")).Length() != 0 {
		t.Error("the pre-sign-in token is signed in")
	}
	if got := c.get("/"); got.text(testid("viewer-name")) != p.Nickname {
		t.Fatal("not signed in with the new token")
	}

	out := c.post("/signout", nil)
	if ck := sessionCookie(out); ck == nil || ck.Value == after.Value {
		t.Errorf("the session token was not renewed at sign-out: %v", ck)
	}
	// The signed-in cookie is refused after sign-out.
	old := s.client()
	old.hc.Jar.SetCookies(mustURL(s.URL), []*http.Cookie{{Name: session.CookieName, Value: after.Value}})
	if got := old.get("/players/" + p.Nickname); got.status() != http.StatusSeeOther || !strings.HasPrefix(got.location(), "/signin") {
		t.Errorf("old cookie after sign-out: %d %q", got.status(), got.location())
	}
	// Tokens are stored hashed: a copy of the table is no set of cookies.
	var n int
	if err := s.DB.QueryRow(`SELECT count(*) FROM sessions WHERE token = ANY($1)`,
		pq.Array([]string{before.Value, after.Value, sessionCookie(out).Value})).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Error("session tokens are stored in clear")
	}
	var stored int
	if err := s.DB.QueryRow(`SELECT count(*) FROM sessions`).Scan(&stored); err != nil || stored == 0 {
		t.Errorf("no sessions stored in Postgres (%v)", err)
	}
}

func mustURL(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	return u
}

func TestSigningOutElsewhereEndsWebSessions(t *testing.T) {
	s := newSite(t, siteOptions{})
	p := newPlayer()
	web1 := s.client()
	web1.signUp(p)
	web2 := s.client()
	web2.post("/signin", url.Values{"email": {p.Email}, "password": {p.Password}})
	if web2.get("/").text(testid("viewer-name")) != p.Nickname {
		t.Fatal("second browser not signed in")
	}

	// An API sign-out ends every session of the player, the web ones included.
	body, _ := json.Marshal(map[string]string{"email": p.Email, "password": p.Password})
	resp, err := http.Post(s.URL+"/api/users/signin", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var tokens struct{ Access, Refresh string }
	_ = json.NewDecoder(resp.Body).Decode(&tokens)
	resp.Body.Close()
	body, _ = json.Marshal(map[string]string{"refresh": tokens.Refresh})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/users/signout", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tokens.Access)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("API sign-out: %d", resp.StatusCode)
	}
	for i, c := range []*client{web1, web2} {
		if got := c.get("/"); got.doc.Find(testid("viewer")).Length() != 0 {
			t.Errorf("browser %d still signed in after the API sign-out", i+1)
		}
	}

	// "Sign out everywhere" from one browser ends the other's session too.
	web1.post("/signin", url.Values{"email": {p.Email}, "password": {p.Password}})
	web2.post("/signin", url.Values{"email": {p.Email}, "password": {p.Password}})
	web1.post("/signout", url.Values{"everywhere": {"1"}})
	if got := web2.get("/"); got.doc.Find(testid("viewer")).Length() != 0 {
		t.Error("the other browser is still signed in after signing out everywhere")
	}
}

func TestPagesSendSecurityHeadersAndNoInlineCode(t *testing.T) {
	s := newSite(t, siteOptions{})
	c := s.client()
	p := newPlayer()
	c.signUp(p)
	raid := c.enter(1).resp.Request.URL.Path
	pages := []string{"/", "/ranking", "/players/" + p.Nickname, raid, "/no-such-page"}
	visitor := s.client()
	for _, path := range pages {
		checkPage(t, c.get(path), path)
	}
	for _, path := range []string{"/", "/signup", "/signin", "/ranking"} {
		checkPage(t, visitor.get(path), "visitor "+path)
	}
}

func checkPage(t *testing.T, p page, name string) {
	t.Helper()
	csp := p.resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "style-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'", "base-uri 'self'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", name, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: CSP allows inline code: %q", name, csp)
	}
	if got := p.resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", name, got)
	}
	if got := p.resp.Header.Get("Referrer-Policy"); got == "" {
		t.Errorf("%s: no Referrer-Policy", name)
	}
	p.doc.Find("script").Each(func(_ int, sc *goquery.Selection) {
		if src, ok := sc.Attr("src"); !ok || src == "" || strings.TrimSpace(sc.Text()) != "" {
			t.Errorf("%s: inline script %q", name, sc.Text())
		}
	})
	if p.doc.Find("style").Length() > 0 || p.doc.Find("[style]").Length() > 0 {
		t.Errorf("%s: inline style", name)
	}
	p.doc.Find("*").Each(func(_ int, el *goquery.Selection) {
		for _, a := range el.Nodes[0].Attr {
			if strings.HasPrefix(a.Key, "on") || strings.HasPrefix(a.Key, "hx-on") {
				t.Errorf("%s: inline event handler %s=%q", name, a.Key, a.Val)
			}
		}
	})
	cfg, _ := p.doc.Find(`meta[name="htmx-config"]`).Attr("content")
	if !strings.Contains(cfg, `"includeIndicatorStyles":false`) {
		t.Errorf("%s: htmx would inject a style element: %q", name, cfg)
	}
}
