package web_test

import (
	"bufio"
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	httpserver "github.com/bossraid/bossraid/adapters/http"
	"github.com/bossraid/bossraid/adapters/http/session"
	"github.com/bossraid/bossraid/adapters/http/web"
	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/users"
)

// Hostile `next` values that a browser would turn into another site (it strips tabs and
// newlines and reads backslashes as slashes).
var hostileNext = []string{
	"/\t/evil.example",
	"/\n/evil.example",
	"/\r\n/evil.example",
	" //evil.example",
	`/\evil.example`,
	"/%2F%2Fevil.example",
	"https://evil.example/",
	"javascript:alert(1)",
}

func TestSignInNeverRedirectsOffTheSite(t *testing.T) {
	s := newSite(t, siteOptions{})
	p := newPlayer()
	signedIn := s.client()
	signedIn.signUp(p)

	for _, next := range hostileNext {
		c := s.client()
		res := c.post("/signin", url.Values{"email": {p.Email}, "password": {p.Password}, "next": {next}})
		if res.status() != http.StatusSeeOther || res.location() != "/" {
			t.Errorf("POST /signin next=%q: %d to %q", next, res.status(), res.location())
		}
		hx := s.client().post("/signin", url.Values{"email": {p.Email}, "password": {p.Password}, "next": {next}}, "HX-Request", "true")
		if got := hx.resp.Header.Get("HX-Redirect"); got != "/" {
			t.Errorf("htmx POST /signin next=%q: HX-Redirect %q", next, got)
		}
		page := signedIn.get("/signin?next=" + url.QueryEscape(next))
		if page.status() != http.StatusSeeOther || page.location() != "/" {
			t.Errorf("GET /signin signed in, next=%q: %d to %q", next, page.status(), page.location())
		}
		form := s.client().get("/signin?next=" + url.QueryEscape(next))
		if v, ok := form.doc.Find(`input[name="next"]`).Attr("value"); ok {
			t.Errorf("sign-in form keeps hostile next=%q as %q", next, v)
		}
	}
}

func TestSignInRedirectAfterAFormStaysOnTheSite(t *testing.T) {
	s := newSite(t, siteOptions{})
	c := s.client()
	cases := map[string]string{
		s.URL + "/ranking":            "/signin?next=%2Franking",
		"https://evil.example/x":      "/signin",
		s.URL + "//evil.example/x":    "/signin",
		"/\t/evil.example":            "/signin",
		s.URL + "/players/%2F%2Fevil": "/signin?next=%2Fplayers%2F%252F%252Fevil",
	}
	for current, want := range cases {
		res := c.post("/raids", url.Values{"level": {"0"}}, "HX-Request", "true", "HX-Current-URL", current)
		if got := res.resp.Header.Get("HX-Redirect"); got != want {
			t.Errorf("HX-Current-URL %q: HX-Redirect %q, want %q", current, got, want)
		}
	}
}

// liveSite serves s's app with a web front door of its own options, through the server's own
// http.Server settings (timeouts included), adjusted by tune.
func liveSite(t *testing.T, s *site, cfg web.Config, tune func(*http.Server)) string {
	t.Helper()
	cfg.App, cfg.Events, cfg.Sessions = s.App, s.Events, s.Sessions
	w, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httpserver.New(httpserver.Config{App: s.App, FrontDoors: []httpserver.FrontDoor{w}})
	ts := httptest.NewUnstartedServer(srv)
	ts.Config = srv.HTTPServer("", 0)
	if tune != nil {
		tune(ts.Config)
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return ts.URL
}

// openStream starts a live stream and returns its response (the caller closes the body).
func openStream(t *testing.T, ctx context.Context, base string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestLiveStreamsAreCappedPerInstance(t *testing.T) {
	s := newSite(t, siteOptions{})
	base := liveSite(t, s, web.Config{MaxStreams: 2}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := openStream(t, ctx, base)
	defer first.Body.Close()
	firstCtx, closeFirst := context.WithCancel(ctx)
	second := openStream(t, firstCtx, base)
	for _, r := range []*http.Response{first, second} {
		if r.StatusCode != http.StatusOK {
			t.Fatalf("a stream within the cap: %d", r.StatusCode)
		}
	}
	refused := openStream(t, ctx, base)
	defer refused.Body.Close()
	if refused.StatusCode != http.StatusServiceUnavailable || refused.Header.Get("Retry-After") == "" {
		t.Fatalf("a stream past the cap: %d, Retry-After %q, want 503 with Retry-After", refused.StatusCode, refused.Header.Get("Retry-After"))
	}
	body, _ := io.ReadAll(refused.Body)
	if !strings.Contains(string(body), "polls") {
		t.Errorf("the refusal does not say what happens: %q", body)
	}
	// A stream that ends frees its slot.
	closeFirst()
	second.Body.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		again := openStream(t, ctx, base)
		again.Body.Close()
		if again.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slot of a closed stream was never freed: %d", again.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Streams outlive the server's read and write timeouts, which bound every other response.
func TestLiveStreamsOutliveTheServerTimeouts(t *testing.T) {
	s := newSite(t, siteOptions{})
	const timeout = 150 * time.Millisecond
	base := liveSite(t, s, web.Config{Heartbeat: 50 * time.Millisecond}, func(hs *http.Server) {
		hs.ReadTimeout, hs.WriteTimeout = timeout, timeout
	})
	resp := openStream(t, context.Background(), base)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	start := time.Now()
	sc := bufio.NewScanner(resp.Body)
	beats := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), ": keep-alive") {
			beats++
		}
		// Twenty heartbeats at 50 ms take at least a second: past both timeouts many times.
		if beats == 20 {
			break
		}
	}
	if beats < 20 {
		t.Fatalf("the stream ended after %d heartbeats (%s; timeouts %s): %v", beats, time.Since(start), timeout, sc.Err())
	}
}

// When the session store (Postgres) fails, pages answer our 503 page with Retry-After, not
// a bare 500.
func TestSessionStoreDownAnswers503Page(t *testing.T) {
	broken, err := sql.Open("postgres", "postgres://postgres@127.0.0.1:1/nothing?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = broken.Close() })
	s := newSite(t, siteOptions{sessionDB: broken})
	p := newPlayer()
	if _, err := s.App.Accounts.SignUp(context.Background(), app.SignUpInput{SignUpForm: users.SignUpForm{Email: p.Email, Nickname: p.Nickname, Password: p.Password}}, "203.0.113.1"); err != nil {
		t.Fatal(err)
	}
	check := func(what string, res page) {
		t.Helper()
		if res.status() != http.StatusServiceUnavailable || res.resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: %d, Retry-After %q, want 503 with Retry-After: %s", what, res.status(), res.resp.Header.Get("Retry-After"), short(res.body))
			return
		}
		if !strings.HasPrefix(res.resp.Header.Get("Content-Type"), "text/html") || res.doc.Find(testid("error-page")).Length() != 1 {
			t.Errorf("%s: the 503 is not the error page: %s", what, short(res.body))
		}
	}
	// Reading a session that a cookie names fails.
	c := s.client()
	u, _ := url.Parse(s.URL)
	c.hc.Jar.SetCookies(u, []*http.Cookie{{Name: session.CookieName, Value: "some-session-token", Path: "/"}})
	check("GET / with a session cookie", c.get("/"))
	check("GET /signin with a session cookie", c.get("/signin"))
	// Saving a new session (a sign-in) fails.
	check("POST /signin", s.client().post("/signin", url.Values{"email": {p.Email}, "password": {p.Password}}))
}
