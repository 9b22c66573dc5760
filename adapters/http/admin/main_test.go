package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	httpserver "github.com/bossraid/bossraid/adapters/http"
	"github.com/bossraid/bossraid/adapters/http/admin"
	"github.com/bossraid/bossraid/adapters/http/session"
	"github.com/bossraid/bossraid/adapters/http/web"
	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/internal/testenv"
)

// redisDB is this package's database in the test Redis (see internal/testenv).
const redisDB = 9

func TestMain(m *testing.M) {
	testenv.Main(m, "admin")
}

// site is a whole Boss Raid instance with the web pages (where admins sign in) and the admin
// pages, over real Postgres and Redis.
type site struct {
	*testenv.Stack
	t testing.TB
}

func newSite(t testing.TB) *site {
	t.Helper()
	return newSiteWith(t, testenv.StackOptions{})
}

// newSiteWith is newSite on a stack built with o (its front doors are the site's).
func newSiteWith(t testing.TB, o testenv.StackOptions) *site {
	t.Helper()
	s := &site{t: t}
	o.RedisDB = redisDB
	o.FrontDoors = func(st *testenv.Stack) []httpserver.FrontDoor {
		sessions := session.New(st.DB, time.Hour, false)
		t.Cleanup(sessions.Close)
		w, err := web.New(web.Config{App: st.App, Events: st.Events, Sessions: sessions, Stop: st.Stop})
		if err != nil {
			t.Fatal(err)
		}
		a, err := admin.New(admin.Config{App: st.App, Queue: st.Queue, Sessions: sessions})
		if err != nil {
			t.Fatal(err)
		}
		return []httpserver.FrontDoor{a, w}
	}
	s.Stack = testenv.NewStack(t, o)
	return s
}

// account is a registered player.
type account struct {
	ID       int64
	Email    string
	Nickname string
}

const password = "Raid_pass1!"

// signUp registers a player through the JSON API.
func (s *site) signUp(nickname string) account {
	s.t.Helper()
	body, _ := json.Marshal(map[string]string{"email": nickname + "@example.com", "nickname": nickname, "password": password})
	resp, err := http.Post(s.URL+"/api/users/signup", "application/json", bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		ID int64 `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		s.t.Fatalf("sign up %s: %d, %v", nickname, resp.StatusCode, err)
	}
	return account{ID: out.ID, Email: nickname + "@example.com", Nickname: nickname}
}

// setRole is what `bossraid admin grant|revoke` does.
func (s *site) setRole(a account, role users.Role) {
	s.t.Helper()
	if _, err := postgres.NewUsers(s.DB).SetRole(context.Background(), a.Email, role); err != nil {
		s.t.Fatal(err)
	}
}

// client is one browser without JavaScript: it keeps cookies, sends same-origin headers on
// forms as browsers do, and does not follow redirects by itself.
type client struct {
	t    testing.TB
	base string
	hc   *http.Client
}

func (s *site) client() *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return &client{t: s.t, base: s.URL, hc: &http.Client{
		Jar:     jar,
		Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// signedIn is a browser signed in as a.
func (s *site) signedIn(a account) *client {
	s.t.Helper()
	c := s.client()
	res := c.post("/signin", url.Values{"email": {a.Email}, "password": {password}})
	if res.status() != http.StatusSeeOther {
		s.t.Fatalf("sign in %s: %d %s", a.Nickname, res.status(), short(res.body))
	}
	c.follow(res) // the welcome flash is shown, and gone
	return c
}

// page is a fetched response with its parsed HTML.
type page struct {
	resp *http.Response
	body string
	doc  *goquery.Document
}

func (p page) status() int { return p.resp.StatusCode }

func (p page) location() string { return p.resp.Header.Get("Location") }

func (p page) text(sel string) string { return strings.TrimSpace(p.doc.Find(sel).Text()) }

// attr is the attribute of the first element sel selects.
func (p page) attr(sel, name string) string {
	v, _ := p.doc.Find(sel).First().Attr(name)
	return v
}

func testid(id string) string { return `[data-testid="` + id + `"]` }

func (c *client) do(req *http.Request) page {
	c.t.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if resp.StatusCode >= 500 {
		c.t.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, short(string(body)))
	}
	return page{resp: resp, body: string(body), doc: doc}
}

func (c *client) get(path string, header ...string) page {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	setHeaders(req, header)
	return c.do(req)
}

// post sends a form the way a browser on this site does (same-origin headers), plus header pairs.
func (c *client) post(path string, form url.Values, header ...string) page {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	setHeaders(req, header)
	return c.do(req)
}

// follow fetches where a redirect points.
func (c *client) follow(p page) page {
	c.t.Helper()
	if p.status() != http.StatusSeeOther {
		c.t.Fatalf("want a 303, got %d: %s", p.status(), short(p.body))
	}
	return c.get(p.location())
}

// ok fetches path and fails unless it answers 200.
func (c *client) ok(path string) page {
	c.t.Helper()
	p := c.get(path)
	if p.status() != http.StatusOK {
		c.t.Fatalf("GET %s: %d %s", path, p.status(), short(p.body))
	}
	return p
}

func setHeaders(req *http.Request, pairs []string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		req.Header.Set(pairs[i], pairs[i+1])
	}
}

// short is the start of the visible text of a body, for failure messages.
func short(body string) string {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	text := body
	if err == nil {
		doc.Find("head, script, style").Remove()
		text = strings.Join(strings.Fields(doc.Text()), " ")
	}
	if len(text) > 600 {
		text = text[:600] + "…"
	}
	return text
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprint("must: ", err))
	}
	return v
}
